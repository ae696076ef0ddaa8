// The database behind one interface: version table, history table, transactions, plugin SQL.
#ifndef MIGRATOR_DB_HPP
#define MIGRATOR_DB_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <migrator/db/database_url.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// How to open a database.
struct DatabaseOptions {
    std::string version_table = "migrator_version";  ///< Alembic-compatible: version_num rows
    /// For read commands: never create a file or a table. A connection that is not read-only
    /// refuses a hot standby (PostgreSQL in recovery) when it opens, before anything is written.
    bool read_only = false;
    /// The migrator command that opens the database ("upgrade"), named in messages; may be empty.
    std::string command;
    /// Schema holding the version and history tables (PostgreSQL); empty = the connection's
    /// current schema. SQLite has no schemas and refuses a non-empty value.
    std::string version_schema;
    /// The schema the revisions run in (PostgreSQL), such as a tenant's when each tenant has a
    /// schema: it is the whole search_path of every statement, holds the version and history
    /// tables unless version_schema names another, and is created by the first write if it does
    /// not exist. Empty: the connection's own search_path. SQLite and offline SQL refuse it.
    std::string search_schema;
    /// A statement that runs longer fails as an ordinary SQL error saying the statement timeout
    /// was hit (PostgreSQL: the session's statement_timeout; SQLite: the statement is
    /// interrupted). Zero: no limit (PostgreSQL: the server's own setting stays).
    std::chrono::milliseconds statement_timeout{0};
    /// Receives a sentence about something the backend did on its own that the user should know
    /// (SQLite: it rolled back a transaction a stopped run left); empty: such sentences are
    /// dropped.
    std::function<void(const std::string&)> warn;
};

/// What a history row records.
enum class HistoryDirection {
    upgrade,
    downgrade,
    stamp,        ///< the version rows set without running a revision
    resolve,      ///< a dirty step resolved by hand
    accept_edit,  ///< an applied revision's edited source accepted
};

/// The text the history table stores and commands print for `direction`: "upgrade", "downgrade",
/// "stamp", "resolve", "accept-edit".
const char* history_direction_name(HistoryDirection direction);

/// The direction history_direction_name names `text`; std::nullopt for any other text.
std::optional<HistoryDirection> history_direction_named(std::string_view text);

/// One row of the history table: one step that ran, successfully or not.
struct HistoryRecord {
    std::int64_t id = 0;  ///< the row's id, set by read_history (0 in a record to write)
    std::string revision;
    HistoryDirection direction = HistoryDirection::upgrade;
    std::vector<std::string> heads_before;  ///< the version rows before the step
    std::vector<std::string> heads_after;   ///< the version rows after it (if it succeeded)
    std::string started_at;                 ///< UTC, ISO 8601
    double duration_ms = 0;
    bool success = false;
    std::string source_sha256;
    std::string error;  ///< the failure message, empty on success
    /// A non-transactional step that started and has not been seen to finish: while such a row
    /// exists the database is dirty and upgrade/downgrade refuse to run (see `migrator resolve`).
    bool dirty = false;
    std::string run_by;    ///< set by read_history; the backend fills it in when writing
    std::string run_host;  ///< set by read_history; the backend fills it in when writing
};

/// A revision's plugin as the run that applied it stored it in the database, so that a migrator
/// of an older release, whose versions directory lacks the revision, can undo it (`downgrade
/// --stored-downgrades`). One row per applied revision: a downgrade of the revision removes it.
struct StoredPlugin {
    std::string revision;
    std::string file_name;  ///< its file name in the versions directory it was loaded from
    /// The file's bytes: empty for a plugin no signature file listed (none is stored then), and
    /// as read_stored_plugins gives it.
    std::string image;
    std::uint64_t size = 0;   ///< how many bytes are stored
    std::string file_sha256;  ///< the digest its integrity seal records; empty when not stored
    /// SHA-256 of the text of the signature file that lists it (stored once, beside the plugins,
    /// for all the plugins it lists); empty when no signature file listed it.
    std::string signatures_sha256;
    /// The oldest release holding the revision, per the releases file of the migrator that
    /// applied it; empty when no release held it yet.
    std::string release;
    std::string stored_at;  ///< UTC, ISO 8601
};

/// Receives one result row: values are text, std::nullopt for NULL.
using RowCallback = std::function<bool(const std::vector<std::string>& columns,
                                       const std::vector<std::optional<std::string>>& values)>;

/// A connection to one database. Every method throws DatabaseError with a sentence naming the
/// database (URL with the password masked) and the statement's problem.
class Database {
public:
    virtual ~Database() = default;

    /// "sqlite" or "postgresql"; what plugins see as the dialect.
    virtual std::string dialect() const = 0;
    /// The URL, password masked, for messages.
    virtual std::string describe() const = 0;
    /// True when the server is a hot standby (PostgreSQL in recovery: a streaming or log-shipping
    /// replica): it answers reads, and no transaction there can write. Only a read-only
    /// connection (DatabaseOptions::read_only) ever opens on one.
    virtual bool hot_standby() const { return false; }

    /// Creates the version table and the history table (`<version_table>_history`) if missing.
    virtual void ensure_version_tables() = 0;
    /// The version rows (current heads), sorted; empty when the table does not exist yet.
    virtual std::vector<std::string> read_heads() = 0;
    /// Alembic's version rows, sorted, when the database has Alembic's own version table
    /// (`alembic_version`, where the version tables live) and not the configured one: a database
    /// Alembic manages that migrator has not adopted. std::nullopt otherwise (also when the
    /// configured table is alembic_version, and offline).
    virtual std::optional<std::vector<std::string>> unadopted_alembic_heads() {
        return std::nullopt;
    }
    /// Inside a transaction: deletes the `remove` rows and inserts the `add` rows.
    virtual void replace_heads(const std::vector<std::string>& remove,
                               const std::vector<std::string>& add) = 0;
    /// Appends one history row (inside the current transaction if one is open) and returns its
    /// id (0 for the offline SQL backend, which has no rows to update).
    virtual std::int64_t record_history(const HistoryRecord& record) = 0;
    /// Inside a transaction, once a step has run: replace_heads(remove, add) then
    /// record_history(record), with the same checks; returns the history row's id. A backend may
    /// send both as one statement (PostgreSQL does: one round trip instead of three).
    virtual std::int64_t record_step(const std::vector<std::string>& remove,
                                     const std::vector<std::string>& add,
                                     const HistoryRecord& record) {
        replace_heads(remove, add);
        return record_history(record);
    }
    /// Rewrites the outcome of history row `id` (heads_after, duration_ms, success, error, dirty)
    /// from `record`.
    virtual void update_history(std::int64_t id, const HistoryRecord& record) = 0;
    /// Every history row (with `dirty_only`, only the rows marking the database dirty), oldest
    /// first; empty when the history table does not exist yet. Reads tables written by older
    /// migrator versions too (missing columns take their defaults).
    virtual std::vector<HistoryRecord> read_history(bool dirty_only) = 0;

    /// Inside the step's transaction: stores (replaces) the plugin of an applied revision, and,
    /// when `signatures_text` is not empty, that text as the signature file
    /// plugin.signatures_sha256 names, unless one is stored under that name already.
    virtual void store_plugin(const StoredPlugin& plugin, const std::string& signatures_text) = 0;
    /// Inside the step's transaction: removes the stored plugins of `revisions` (those not stored
    /// are no error), and every stored signature file no stored plugin names any more. Returns how
    /// many plugins were removed.
    virtual std::size_t forget_stored_plugins(const std::vector<std::string>& revisions) = 0;
    /// Every stored plugin, by revision id, without its bytes (`image` empty). Empty when there is
    /// no table of them yet.
    virtual std::vector<StoredPlugin> read_stored_plugins() = 0;
    /// The bytes of the plugin stored for `revision`; empty when none is stored.
    virtual std::string read_stored_image(const std::string& revision) = 0;
    /// The stored signature file whose text has SHA-256 `sha256`; empty when there is none.
    virtual std::string read_stored_signatures(const std::string& sha256) = 0;

    /// The tables migrator itself keeps here (the version table, the history table and the
    /// tables of stored plugins), by
    /// their unquoted names: what a comparison of the application's schema leaves out.
    virtual std::vector<std::string> migrator_tables() const = 0;

    /// True for the offline SQL backend (`--sql`): statements are printed, nothing is read.
    virtual bool offline() const { return false; }
    /// Offline: writes `text` as an SQL comment line into the script. Online: nothing.
    virtual void annotate(const std::string& text) { (void)text; }

    /// Takes the lock that serialises whole migrator runs on this database (PostgreSQL: a
    /// session advisory lock keyed on database, schema and version table, where the connection
    /// keeps its server session; through a transaction-mode pooler nothing, since a session lock
    /// there would outlive the run; SQLite: nothing). Retries with back-off for up to `timeout`,
    /// then throws LockError naming the session that holds it. Held until unlock_migrations() or
    /// the connection ends. `timeout` also bounds begin()'s wait for the step lock.
    /// Correctness never rests on it: every write transaction takes a lock of its own, see begin().
    virtual void lock_migrations(std::chrono::milliseconds timeout) = 0;
    /// Releases the lock taken by lock_migrations(), if any; never throws.
    virtual void unlock_migrations() noexcept = 0;

    /// Starts a write transaction that excludes every other migrator's write transaction on the
    /// same version table until it ends (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction
    /// advisory lock, waited for up to the lock timeout, then LockError). Version rows read
    /// inside it are the truth until it commits, whatever pooler sits in between: the runner
    /// re-reads them in each step's transaction before running the step.
    virtual void begin() = 0;
    virtual void commit() = 0;
    /// Rolls back the open transaction; never throws (used on failure paths).
    virtual void rollback() noexcept = 0;

    /// Runs one or more statements of plugin SQL.
    virtual void execute(const std::string& sql) = 0;
    /// Runs one query; `on_row` returns false to stop early.
    virtual void query(const std::string& sql, const RowCallback& on_row) = 0;
};

/// Opens the database a URL names. Throws DatabaseError (masked URL) when it cannot be opened or
/// its dialect has no backend yet.
std::unique_ptr<Database> open_database(const DatabaseUrl& url, const DatabaseOptions& options);

/// Throws DatabaseError with one sentence naming the setting that adopts it when `db` is a
/// database Alembic manages and migrator has not adopted (Database::unadopted_alembic_heads):
/// going on with migrator's own version table would run every revision again beside Alembic's.
/// What both programs do before reading version rows, unless the version table was chosen.
void refuse_unadopted_alembic(Database& db);

/// The offline backend for `--sql`: opens no connection; every statement that would run (version
/// table creation, revision SQL, version-row and history changes, BEGIN/COMMIT) is written to
/// `out` as SQL text for the URL's dialect, and read_heads() answers `start_heads`, then whatever
/// the statements written so far left. query() throws DatabaseError (there is nothing to read).
/// Throws DatabaseError for a dialect without a backend.
std::unique_ptr<Database> open_offline_database(const DatabaseUrl& url,
                                                const DatabaseOptions& options,
                                                std::vector<std::string> start_heads,
                                                std::ostream& out);

}  // namespace migrator

#endif  // MIGRATOR_DB_HPP
