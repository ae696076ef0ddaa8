// The SQLite backend (SQLiteCpp): version and history tables, write transactions, plugin SQL.
#include "sqlite_database.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <filesystem>
#include <migrator/errors.hpp>
#include <utility>

#include "sqlite_statement_timeout.hpp"
#include "version_tables.hpp"

namespace migrator::detail {
namespace {

// Long enough for another runner's migration step to finish, short enough to report a stuck one.
constexpr int busy_timeout_ms = 30'000;

/// Runs `action`, turning a SQLite error into a DatabaseError: `context` (may be empty) followed
/// by SQLite's own sentence.
template <typename Action>
decltype(auto) translate_errors(const std::string& context, Action&& action) {
    try {
        return std::forward<Action>(action)();
    } catch (const SQLite::Exception& e) {
        std::string message = context.empty() ? std::string(e.what()) : context + ": " + e.what();
        // Busy means another writer held the database for the whole lock timeout.
        if (e.getErrorCode() == SQLITE_BUSY)
            throw LockError(message +
                            " (another writer held it for longer than the lock "
                            "timeout; try again later or raise --lock-timeout)");
        if (e.getErrorCode() == SQLITE_INTERRUPT) message += sqlite_interrupt_explanation;
        throw DatabaseError(message);
    }
}

class SqliteDatabase final : public Database {
public:
    SqliteDatabase(const DatabaseUrl& url, const DatabaseOptions& options)
        : description_(url.masked()),
          names_(version_table_names(options.version_table)),
          run_by_(current_user_name()),
          run_host_(current_host_name()),
          statement_timeout_(options.statement_timeout) {
        if (!options.version_schema.empty())
            throw DatabaseError("SQLite has no schemas: drop the version table schema option ('" +
                                options.version_schema + "') for " + description_);
        std::string file = url.database;
        std::error_code ignored;
        // A command that only reads, or fails before writing, must create nothing: until the
        // first write an empty in-memory database stands in for a missing file.
        if (!url.is_sqlite_memory() && !std::filesystem::exists(file, ignored)) {
            if (!options.read_only) deferred_file_ = file;
            file = ":memory:";
        }
        open(file, options.read_only ? SQLite::OPEN_READONLY
                                     : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    }

    std::string dialect() const override { return "sqlite"; }
    std::string describe() const override { return description_; }

    void ensure_version_tables() override {
        // Once ensured, the per-step re-read of the version rows skips the existence check.
        tables_ensured_ = true;
        create_deferred_file();
        translate_errors("cannot create the version tables in " + description_, [&] {
            db_->exec("CREATE TABLE IF NOT EXISTS " + names_.quoted_version +
                      " (version_num VARCHAR(32) NOT NULL, CONSTRAINT " +
                      names_.quoted_primary_key + " PRIMARY KEY (version_num))");
            db_->exec("CREATE TABLE IF NOT EXISTS " + names_.quoted_history +
                      " (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                      " revision VARCHAR(32) NOT NULL,"
                      " direction VARCHAR(16) NOT NULL,"
                      " heads_before TEXT NOT NULL,"
                      " heads_after TEXT NOT NULL,"
                      " started_at VARCHAR(40) NOT NULL,"
                      " duration_ms REAL NOT NULL,"
                      " success INTEGER NOT NULL,"
                      " source_sha256 VARCHAR(64) NOT NULL,"
                      " error TEXT NOT NULL,"
                      " run_by TEXT NOT NULL,"
                      " run_host TEXT NOT NULL)");
        });
    }

    std::vector<std::string> read_heads() override {
        return translate_errors(
            "cannot read version table " + names_.version + " of " + description_, [&] {
                std::vector<std::string> heads;
                if (!tables_ensured_ && !version_table_exists()) return heads;
                SQLite::Statement rows(*db_, "SELECT version_num FROM " + names_.quoted_version +
                                                 " ORDER BY version_num");
                while (rows.executeStep()) heads.push_back(rows.getColumn(0).getString());
                return heads;
            });
    }

    void replace_heads(const std::vector<std::string>& remove,
                       const std::vector<std::string>& add) override {
        const std::string context =
            "cannot update version table " + names_.version + " of " + description_;
        for (const auto& head : remove) {
            const int deleted = translate_errors(context, [&] {
                SQLite::Statement del(
                    *db_, "DELETE FROM " + names_.quoted_version + " WHERE version_num = ?");
                del.bind(1, head);
                return del.exec();
            });
            if (deleted == 0)
                throw DatabaseError(context + ": revision " + head +
                                    " is no longer a current head; another migrator run may have "
                                    "changed the database, so check it with `migrator current`");
        }
        for (const auto& head : add)
            translate_errors(context, [&] {
                SQLite::Statement insert(
                    *db_, "INSERT INTO " + names_.quoted_version + " (version_num) VALUES (?)");
                insert.bind(1, head);
                insert.exec();
            });
    }

    void record_history(const HistoryRecord& record) override {
        translate_errors("cannot write history table " + names_.history + " of " + description_,
                         [&] {
                             SQLite::Statement insert(
                                 *db_, "INSERT INTO " + names_.quoted_history +
                                           " (revision, direction, heads_before, heads_after,"
                                           " started_at, duration_ms, success, source_sha256,"
                                           " error, run_by, run_host)"
                                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
                             insert.bind(1, record.revision);
                             insert.bind(2, record.direction);
                             insert.bind(3, record.heads_before);
                             insert.bind(4, record.heads_after);
                             insert.bind(5, record.started_at);
                             insert.bind(6, record.duration_ms);
                             insert.bind(7, record.success ? 1 : 0);
                             insert.bind(8, record.source_sha256);
                             insert.bind(9, record.error);
                             insert.bind(10, run_by_);
                             insert.bind(11, run_host_);
                             insert.exec();
                         });
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
                throw LockError("another migrator (or another writer) kept " + description_ +
                                " locked for longer than the lock timeout (" +
                                std::to_string(lock_timeout_.count()) +
                                " ms); try again later or raise --lock-timeout");
            throw DatabaseError("cannot start a write transaction on " + description_ + ": " +
                                e.what());
        }
    }

    void commit() override {
        translate_errors("cannot commit the transaction on " + description_,
                         [&] { db_->exec("COMMIT"); });
    }

    void rollback() noexcept override {
        // The raw C API: this runs on failure paths, where a second exception would hide the first.
        sqlite3* handle = db_->getHandle();
        if (sqlite3_get_autocommit(handle) == 0)
            sqlite3_exec(handle, "ROLLBACK", nullptr, nullptr, nullptr);
    }

    // Plugin SQL errors carry only SQLite's sentence: the runner adds the revision and the URL.
    void execute(const std::string& sql) override {
        translate_errors({}, [&] { db_->exec(sql); });
    }

    void query(const std::string& sql, const RowCallback& on_row) override {
        SQLite::Statement statement =
            translate_errors({}, [&] { return SQLite::Statement(*db_, sql); });
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
            if (!on_row(columns, values)) break;
        }
    }

private:
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

    bool version_table_exists() {
        SQLite::Statement lookup(
            *db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE");
        lookup.bind(1, names_.version);
        return lookup.executeStep();
    }

    std::string description_;
    bool tables_ensured_ = false;  ///< ensure_version_tables() ran on this connection
    VersionTableNames names_;
    std::string run_by_;
    std::string run_host_;
    SqliteStatementTimeout statement_timeout_;  ///< declared before db_: outlives the handle
    std::unique_ptr<SQLite::Database> db_;
    std::chrono::milliseconds lock_timeout_{busy_timeout_ms};
    std::string deferred_file_;  ///< the file to create on the first write, if it was missing
};

}  // namespace

std::unique_ptr<Database> open_sqlite_database(const DatabaseUrl& url,
                                               const DatabaseOptions& options) {
    return std::make_unique<SqliteDatabase>(url, options);
}

}  // namespace migrator::detail
