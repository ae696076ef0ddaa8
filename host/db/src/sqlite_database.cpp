// The SQLite backend (SQLiteCpp): version and history tables, write transactions, plugin SQL.
#include "sqlite_database.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <migrator/common/errors.hpp>
#include <utility>

#include "sql_database.hpp"
#include "sqlite_statement_timeout.hpp"

namespace migrator::detail {
namespace {

// Long enough for another runner's migration step to finish, short enough to report a stuck one.
constexpr int busy_timeout_ms = 30'000;

/// What to fix when SQLite failed because of where the database is stored rather than because of
/// the SQL (a read-only file, directory or mount, a full disk, an I/O error); empty otherwise.
std::string storage_problem(const SQLite::Exception& e, const std::string& file) {
    switch (e.getErrorCode() & 0xff) {
        case SQLITE_READONLY:
            if (e.getExtendedErrorCode() == SQLITE_READONLY_ROLLBACK)
                return file + " holds an interrupted transaction (" + file +
                       "-journal) that must be rolled back before it can be read, and this user "
                       "cannot write it: run migrator once as a user who can write the file and "
                       "its directory";
            if (e.getExtendedErrorCode() == SQLITE_READONLY_DIRECTORY)
                return "the directory of " + file +
                       " is read-only, so SQLite cannot create the database's journal in it: "
                       "make the directory writable by this user (on a file system mounted "
                       "read-write)";
            return file +
                   " is read-only: make the file and its directory writable by this user (on a "
                   "file system mounted read-write)";
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
            return "cannot open " + file +
                   " or create its journal beside it: make the file and its directory readable "
                   "and writable by this user (on a file system mounted read-write)";
        case SQLITE_FULL:
            return "the disk holding " + file + " is full: free space on it, then run again";
        case SQLITE_IOERR:
            return "a disk I/O error occurred on " + file +
                   ": check the disk and its file system (a full or read-only one can cause "
                   "this), then run again";
        default:
            return {};
    }
}

/// Refuses a path that exists and is not a regular file: SQLite would block forever opening a
/// FIFO, and fail late and obscurely on a directory, socket or device.
void refuse_unless_regular_file(const std::string& file) {
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::file_status status = fs::status(file, error);
    if (error || !fs::exists(status) || fs::is_regular_file(status)) return;
    const char* kind = fs::is_directory(status)        ? "a directory"
                       : fs::is_fifo(status)           ? "a FIFO (named pipe)"
                       : fs::is_socket(status)         ? "a socket"
                       : fs::is_character_file(status) ? "a character device"
                       : fs::is_block_file(status)     ? "a block device"
                                                       : "not a regular file";
    throw DatabaseError("SQLite database " + file + " is " + kind +
                        ", not a database file; point the URL at a database file, or at a path "
                        "where migrator may create one");
}

/// Whether `journal` starts as a rollback journal SQLite must play back: it exists and its first
/// byte is not zero (a transaction writes the header only before it changes the database file,
/// and its end deletes or zeroes it).
bool journal_needs_playback(const std::string& journal) {
    std::ifstream in(journal, std::ios::binary);
    char first = 0;
    return in.get(first) && first != 0;
}

class SqliteDatabase final : public SqlDatabase {
public:
    SqliteDatabase(const DatabaseUrl& url, const DatabaseOptions& options)
        : SqlDatabase(options, url.masked()),
          statement_timeout_(options.statement_timeout),
          file_(url.database) {
        if (!options.version_schema.empty())
            throw DatabaseError("SQLite has no schemas: drop the version table schema option ('" +
                                options.version_schema + "') for " + describe());
        if (!options.search_schema.empty())
            throw DatabaseError("SQLite has no schemas: schema '" + options.search_schema +
                                "' cannot be a target in " + describe());
        const int flags = options.read_only ? SQLite::OPEN_READONLY
                                            : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE;
        const std::string& file = url.database;
        if (url.is_sqlite_memory()) {
            open(file, flags);
            return;
        }
        refuse_unless_regular_file(file);
        std::error_code ignored;
        // A command that only reads, or fails before writing, must create nothing: until the
        // first write an empty in-memory database stands in for a missing file.
        if (!std::filesystem::exists(file, ignored)) {
            if (!options.read_only) deferred_file_ = file;
            open(":memory:", flags);
            return;
        }
        // A writer that was stopped mid-transaction leaves a hot journal, which the next reader
        // must roll back before it reads; a read-only connection cannot, and SQLite then refuses
        // to read at all. Reading commands open such a file read-write (never creating it).
        const std::string journal = file + "-journal";
        const bool journal_left = journal_needs_playback(journal);
        const bool recover =
            options.read_only && (journal_left || std::filesystem::exists(file + "-wal", ignored));
        open(file, recover ? SQLite::OPEN_READWRITE : flags);
        // Still there: a live writer holds it, so it was not SQLite's to roll back.
        if (journal_left && !journal_needs_playback(journal) && options.warn)
            options.warn("rolled back an interrupted transaction left in " + journal);
    }

    std::string dialect() const override { return "sqlite"; }

    void ensure_version_tables() override {
        create_deferred_file();
        SqlDatabase::ensure_version_tables();
    }

    // SQLite serialises writers itself: every step is a BEGIN IMMEDIATE transaction that waits
    // for the writer before it, then re-reads the version rows. The lock timeout becomes that
    // wait's limit.
    void lock_migrations(std::chrono::milliseconds timeout) override {
        lock_timeout_ = timeout;
        db_->setBusyTimeout(static_cast<int>(timeout.count()));
    }
    void unlock_migrations() noexcept override {}

    void begin() override {
        create_deferred_file();
        // IMMEDIATE takes the write lock now, so concurrent runners queue here (up to the busy
        // timeout) and each re-reads the version rows only once it holds the lock.
        try {
            db_->exec("BEGIN IMMEDIATE");
        } catch (const SQLite::Exception& e) {
            if (e.getErrorCode() == SQLITE_BUSY)
                throw LockError("another migrator (or another writer) kept " + describe() +
                                " locked for longer than the lock timeout (" +
                                std::to_string(lock_timeout_.count()) +
                                " ms); try again later or raise --lock-timeout");
            throw_translated("cannot start a write transaction on " + describe(), e);
        }
        in_transaction_ = true;
    }

    void commit() override {
        require_open_transaction();
        in_transaction_ = false;
        translate_errors("cannot commit the transaction on " + describe(),
                         [&] { db_->exec("COMMIT"); });
    }

    void rollback() noexcept override {
        in_transaction_ = false;
        // The raw C API: this runs on failure paths, where a second exception would hide the first.
        sqlite3* handle = db_->getHandle();
        if (sqlite3_get_autocommit(handle) == 0)
            sqlite3_exec(handle, "ROLLBACK", nullptr, nullptr, nullptr);
    }

    // Plugin SQL errors carry only SQLite's sentence: the runner adds the revision and the URL.
    void execute(const std::string& sql) override {
        // Outside a transaction too (a non-transactional revision), a write creates the file.
        create_deferred_file();
        require_open_transaction();
        translate_errors({}, [&] { db_->exec(sql); });
    }

    void query(const std::string& sql, const RowCallback& on_row) override {
        fetch(sql, {}, on_row);
    }

protected:
    std::int64_t run(const std::string& sql, const std::vector<SqlValue>& params) override {
        require_open_transaction();
        return translate_errors({}, [&] {
            SQLite::Statement statement(*db_, sql);
            bind_all(statement, params);
            return static_cast<std::int64_t>(statement.exec());
        });
    }

    std::vector<std::string> fetch(const std::string& sql, const std::vector<SqlValue>& params,
                                   const RowCallback& on_row) override {
        require_open_transaction();
        SQLite::Statement statement =
            translate_errors({}, [&] { return SQLite::Statement(*db_, sql); });
        translate_errors({}, [&] { bind_all(statement, params); });
        const int count = statement.getColumnCount();
        std::vector<std::string> columns;
        for (int i = 0; i < count; ++i) columns.emplace_back(statement.getColumnName(i));
        std::vector<std::optional<std::string>> values(columns.size());
        while (translate_errors({}, [&] { return statement.executeStep(); })) {
            for (int i = 0; i < count; ++i) {
                const SQLite::Column column = statement.getColumn(i);
                values[static_cast<std::size_t>(i)] =
                    column.isNull() ? std::nullopt : std::optional<std::string>(column.getString());
            }
            if (on_row && !on_row(columns, values)) break;
        }
        return columns;
    }

    bool table_exists(const std::string& name) override {
        return translate_errors({}, [&] {
            SQLite::Statement lookup(
                *db_,
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE");
            lookup.bind(1, name);
            return lookup.executeStep();
        });
    }

private:
    /// Runs `action`, turning a SQLite error into a DatabaseError: `context` (may be empty)
    /// followed by SQLite's own sentence, or by what to fix when the storage is at fault.
    template <typename Action>
    auto translate_errors(const std::string& context, Action&& action) -> decltype(action()) {
        try {
            return std::forward<Action>(action)();
        } catch (const SQLite::Exception& e) {
            throw_translated(context, e);
        }
    }

    [[noreturn]] void throw_translated(const std::string& context,
                                       const SQLite::Exception& e) const {
        const std::string prefix = context.empty() ? std::string() : context + ": ";
        // Busy means another writer held the database for the whole lock timeout.
        if (e.getErrorCode() == SQLITE_BUSY)
            throw LockError(prefix + e.what() +
                            " (another writer held it for longer than the lock "
                            "timeout; try again later or raise --lock-timeout)");
        const std::string problem = storage_problem(e, file_);
        if (!problem.empty())
            throw DatabaseStorageError(prefix + problem + " (SQLite: " + e.what() + ")");
        std::string message = prefix + e.what();
        if (e.getErrorCode() == SQLITE_INTERRUPT) message += sqlite_interrupt_explanation;
        throw DatabaseError(message);
    }

    void open(const std::string& file, int flags) {
        translate_errors("cannot open SQLite database " + file, [&] {
            db_ = std::make_unique<SQLite::Database>(file, flags, busy_timeout_ms);
            statement_timeout_.watch(db_->getHandle());
            db_->exec("PRAGMA foreign_keys=ON");
            // SQLite reads the file lazily; touching the schema here reports a file that is not
            // a database at open time instead of in the middle of a migration.
            SQLite::Statement probe(*db_, "SELECT count(*) FROM sqlite_master");
            probe.executeStep();
        });
    }

    /// The first write creates the database file that the constructor found missing.
    void create_deferred_file() {
        if (deferred_file_.empty()) return;
        open(deferred_file_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db_->setBusyTimeout(static_cast<int>(lock_timeout_.count()));
        deferred_file_.clear();
    }

    /// After some errors (an interrupted INSERT, a full disk, out of memory) SQLite rolls the
    /// whole transaction back by itself. A revision that caught such an error and carried on
    /// would then run its remaining statements, and migrator its version-row change, each in a
    /// transaction of its own, half-applying the revision: refuse every statement until the
    /// runner rolls back.
    void require_open_transaction() {
        if (in_transaction_ && sqlite3_get_autocommit(db_->getHandle()) != 0)
            throw DatabaseError(
                "SQLite rolled the transaction back after an earlier error in it, so nothing more "
                "may run in it (a revision must not carry on after an SQL error it caught)");
    }

    static void bind_all(SQLite::Statement& statement, const std::vector<SqlValue>& params) {
        int index = 1;
        for (const auto& param : params) {
            if (const auto* text = std::get_if<std::string>(&param))
                statement.bind(index, *text);
            else if (const auto* integer = std::get_if<std::int64_t>(&param))
                statement.bind(index, *integer);
            else if (const auto* bytes = std::get_if<SqlBytes>(&param))
                statement.bind(index, bytes->bytes.data(), static_cast<int>(bytes->bytes.size()));
            else
                statement.bind(index, std::get<double>(param));
            ++index;
        }
    }

    SqliteStatementTimeout statement_timeout_;  ///< declared before db_: outlives the handle
    std::unique_ptr<SQLite::Database> db_;
    bool in_transaction_ = false;  ///< begin() ran and neither commit() nor rollback() since
    std::chrono::milliseconds lock_timeout_{busy_timeout_ms};
    std::string file_;           ///< the database file as the URL names it, for messages
    std::string deferred_file_;  ///< the file to create on the first write, if it was missing
};

}  // namespace

std::unique_ptr<Database> open_sqlite_database(const DatabaseUrl& url,
                                               const DatabaseOptions& options) {
    return std::make_unique<SqliteDatabase>(url, options);
}

}  // namespace migrator::detail
