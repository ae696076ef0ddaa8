// The PostgreSQL backend (libpqxx 6): version and history tables, transactions, advisory locks.
#include "postgresql_database.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <migrator/errors.hpp>
#include <pqxx/pqxx>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "sql_database.hpp"

namespace migrator::detail {
namespace {

// Back-off between attempts at the migration lock: quick at first, then no busier than 1/s.
constexpr std::chrono::milliseconds first_lock_retry{50};
constexpr std::chrono::milliseconds longest_lock_retry{1000};

std::string trim(std::string_view text) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && space(text.front())) text.remove_prefix(1);
    while (!text.empty() && space(text.back())) text.remove_suffix(1);
    return std::string(text);
}

std::string first_line(std::string_view text) {
    const std::string trimmed = trim(text);
    return trim(std::string_view(trimmed).substr(0, trimmed.find('\n')));
}

// libpq starts a server message with its severity ("ERROR:  "); the sentence is what users need.
std::string server_message(std::string_view text) {
    std::string line = first_line(text);
    const std::size_t colon = line.find(":  ");
    if (colon != std::string::npos && colon > 0 &&
        std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                    [](char c) { return c >= 'A' && c <= 'Z'; }))
        line.erase(0, colon + 3);
    // Terse libpq messages end in the statement position, which means nothing without the SQL.
    constexpr std::string_view position = " at character ";
    const std::size_t at = line.rfind(position);
    if (at != std::string::npos && line.size() > at + position.size() &&
        line.find_first_not_of("0123456789", at + position.size()) == std::string::npos)
        line.erase(at);
    return line;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    for (std::size_t pos = text.find(from); pos != std::string::npos;
         pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
}

// libpq's keyword/value syntax: single quotes, with ' and \ escaped by a backslash.
std::string conninfo_value(std::string_view value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    out += '\'';
    return out;
}

std::string conninfo_of(const DatabaseUrl& url) {
    std::map<std::string, std::string> options;
    if (!url.host.empty()) options["host"] = url.host;
    if (url.port) options["port"] = std::to_string(*url.port);
    if (!url.user.empty()) options["user"] = url.user;
    if (!url.password.empty()) options["password"] = url.password;
    if (!url.database.empty()) options["dbname"] = url.database;
    // Query parameters are libpq options as psycopg2 passes them (sslmode, host=/socket/dir, ...);
    // like libpq's own URI parsing, they win over the URL's parts.
    for (const auto& [key, value] : url.query) {
        if (!is_plain_identifier(key))
            throw DatabaseError("query parameter '" + key + "' in database URL " + url.masked() +
                                " is not a libpq connection option name");
        options[key] = value;
    }
    options.emplace("application_name", "migrator");
    // libpq waits forever by default; a deploy should fail on an unreachable server instead.
    options.emplace("connect_timeout", "10");
    std::string conninfo;
    for (const auto& [key, value] : options) {
        if (!conninfo.empty()) conninfo += ' ';
        conninfo += key + '=' + conninfo_value(value);
    }
    return conninfo;
}

/// One line for a failed connection; libpq's text can span lines and, in principle, echo options.
std::string connection_failure(const DatabaseUrl& url, std::string_view libpq_message) {
    std::string line = first_line(libpq_message);
    replace_all(line, url.password, "***");
    return "cannot connect to PostgreSQL at " + url.masked() + ": " + mask_password(line);
}

// Stable across runs, builds and platforms (unlike std::hash), so every migrator agrees on it.
std::uint64_t fnv1a_64(std::string_view text) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    return hash;
}

std::string describe_duration(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
}

class PostgresqlDatabase final : public SqlDatabase {
public:
    PostgresqlDatabase(const DatabaseUrl& url, const DatabaseOptions& options)
        : SqlDatabase(options, url.masked()) {
        if (!options.version_schema.empty() && !is_plain_identifier(options.version_schema))
            throw DatabaseError("version table schema '" + options.version_schema +
                                "' is not a plain SQL identifier; use at most 63 letters, digits "
                                "and '_', starting with a letter or '_'");
        const std::string conninfo = conninfo_of(url);
        try {
            connection_ = std::make_unique<pqxx::connection>(conninfo);
        } catch (const pqxx::pqxx_exception& e) {
            throw DatabaseError(connection_failure(url, e.base().what()));
        }
        // Notices ("relation already exists, skipping") would otherwise reach stderr.
        quiet_notices_ = std::make_unique<pqxx::quiet_errorhandler>(*connection_);
        // libpqxx 6 silently reconnects a broken connection, which would drop the open
        // transaction and the advisory lock and run the next statements outside both.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        connection_->inhibit_reactivation(true);
#pragma GCC diagnostic pop
        // Terse: the primary message alone, so errors stay one line.
        connection_->set_verbosity(pqxx::connection_base::terse);

        std::optional<std::string> current_schema;
        translate_errors("cannot open PostgreSQL database " + describe(), [&] {
            // The read commands must not change anything, like SQLite's read-only open.
            read_only_ = options.read_only;
            if (options.read_only) run("SET default_transaction_read_only = on");
            // Session settings, sent with the query below rather than in round trips of their own.
            std::string settings;
            if (options.statement_timeout.count() > 0)
                settings +=
                    "SET statement_timeout = " + std::to_string(options.statement_timeout.count()) +
                    "; ";
            // A migrator that dies in the middle of a long statement (kill -9, a crash,
            // --step-timeout) must not leave its backend running it, transaction and migration
            // lock held, until the statement ends: PostgreSQL 14+ can check the client every
            // second while it executes, where the user may set it and nobody has.
            if (!options.read_only)
                settings +=
                    "SELECT set_config(name, '1000', false) FROM pg_settings WHERE name = "
                    "'client_connection_check_interval' AND context = 'user' AND setting = '0'; ";
            const pqxx::result names =
                run(settings + "SELECT current_database(), current_schema()");
            database_name_ = names[0][0].c_str();
            if (!names[0][1].is_null()) current_schema = names[0][1].c_str();
        });
        if (!options.version_schema.empty()) {
            schema_ = options.version_schema;
            create_schema_ = true;
        } else if (current_schema) {
            schema_ = *current_schema;
        } else {
            throw DatabaseError(describe() +
                                " has no current schema (no schema on its search_path exists); "
                                "create one or choose the version table schema explicitly");
        }
        quoted_schema_ = quote_identifier(schema_);
        set_schema_prefix(quoted_schema_ + ".");
        lock_key_ = static_cast<std::int64_t>(
            fnv1a_64(database_name_ + "\n" + schema_ + "\n" + names().version));
    }

    ~PostgresqlDatabase() override { unlock_migrations(); }

    PostgresqlDatabase(const PostgresqlDatabase&) = delete;
    PostgresqlDatabase& operator=(const PostgresqlDatabase&) = delete;

    std::string dialect() const override { return "postgresql"; }

    void lock_migrations(std::chrono::milliseconds timeout) override {
        // Advisory locks nest per session; holding it once is what unlock_migrations() undoes.
        if (locked_) return;
        const std::string context = "cannot take the migration lock on " + describe();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::chrono::steady_clock::duration pause = first_lock_retry;
        for (;;) {
            const bool taken = translate_errors(context, [&] {
                return run_params("SELECT pg_try_advisory_lock($1)", lock_key_)[0][0].as<bool>();
            });
            if (taken) {
                locked_ = true;
                return;
            }
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) break;
            std::this_thread::sleep_for(std::min(pause, deadline - now));
            pause = std::min<std::chrono::steady_clock::duration>(pause * 2, longest_lock_retry);
        }
        const std::string holder = translate_errors(context, [&] { return lock_holder(); });
        throw LockError("another migrator holds the migration lock on " + describe() + " (" +
                        holder + "); waited " + describe_duration(timeout) +
                        "; try again later or raise --lock-timeout");
    }

    void unlock_migrations() noexcept override {
        if (!locked_) return;
        locked_ = false;
        try {
            run_params("SELECT pg_advisory_unlock($1)", lock_key_);
        } catch (const std::exception&) {
            // Nothing to report: this runs on failure paths and in the destructor, and the
            // server releases a session's advisory locks when its connection closes anyway.
        }
    }

    bool version_rows_locked() const override { return locked_; }

    // BEGIN is not sent on its own: it goes in front of the transaction's first statement (see
    // run()), which saves a round trip per step.
    void begin() override {
        if (in_transaction_)
            throw DatabaseError("cannot start a transaction on " + describe() +
                                ": one is already open");
        in_transaction_ = true;
        begin_pending_ = true;
        transaction_failed_ = false;
    }

    void commit() override {
        const std::string context = "cannot commit the transaction on " + describe();
        if (!in_transaction_) throw DatabaseError(context + ": no transaction is open");
        // PostgreSQL answers COMMIT of a failed transaction with a silent ROLLBACK; the caller
        // must hear that nothing was committed.
        if (transaction_failed_) {
            rollback();
            throw DatabaseError(context +
                                ": a statement in it failed, so PostgreSQL rolled it back");
        }
        // Whatever COMMIT answers, the transaction is over.
        in_transaction_ = false;
        if (begin_pending_) {  // nothing ran in it: nothing to commit
            begin_pending_ = false;
            return;
        }
        translate_errors(context, [&] { run("COMMIT"); });
    }

    void rollback() noexcept override {
        if (!in_transaction_) return;
        in_transaction_ = false;
        transaction_failed_ = false;
        if (begin_pending_) {
            begin_pending_ = false;
            return;
        }
        try {
            run("ROLLBACK");
        } catch (const std::exception&) {
            // A failure path must not replace its own error; a connection that cannot even roll
            // back has lost the transaction on the server already.
        }
    }

    // Plugin SQL errors carry only PostgreSQL's sentence: the runner adds the revision and URL.
    void execute(const std::string& sql) override {
        translate_errors({}, [&] { run(sql); });
    }

    void query(const std::string& sql, const RowCallback& on_row) override {
        fetch(sql, {}, on_row);
    }

protected:
    std::int64_t run(const std::string& sql, const std::vector<SqlValue>& params) override {
        return translate_errors(
            {}, [&] { return static_cast<std::int64_t>(run_values(sql, params).affected_rows()); });
    }

    std::vector<std::string> fetch(const std::string& sql, const std::vector<SqlValue>& params,
                                   const RowCallback& on_row) override {
        const pqxx::result rows = translate_errors({}, [&] { return run_values(sql, params); });
        std::vector<std::string> columns;
        for (pqxx::row::size_type i = 0; i < rows.columns(); ++i)
            columns.emplace_back(rows.column_name(i));
        std::vector<std::optional<std::string>> values(columns.size());
        if (!on_row) return columns;
        for (const auto& row : rows) {
            std::size_t i = 0;
            for (const auto& field : row)
                values[i++] =
                    field.is_null() ? std::nullopt : std::optional<std::string>(field.c_str());
            if (!on_row(columns, values)) break;
        }
        return columns;
    }

    // One statement (data-modifying CTEs) where the shared layer sends three: the version-row
    // DELETE and INSERT and the history INSERT, with the same check that every removed row was
    // there. Only rows that change are touched, so no row is deleted and inserted at once.
    std::int64_t record_step(const std::vector<std::string>& remove,
                             const std::vector<std::string>& add,
                             const HistoryRecord& record) override {
        std::vector<std::string> gone, coming;
        for (const auto& head : remove)
            if (std::find(add.begin(), add.end(), head) == add.end()) gone.push_back(head);
        for (const auto& head : add)
            if (std::find(remove.begin(), remove.end(), head) == remove.end())
                coming.push_back(head);
        std::vector<SqlValue> params;
        const auto placeholders = [&](const std::vector<std::string>& heads,
                                      const char* separator) {
            std::string list;
            for (const auto& head : heads) {
                list += (list.empty() ? "" : separator) + std::string("?");
                params.emplace_back(head);
            }
            return list;
        };
        std::string sql = "WITH ";
        if (!gone.empty())
            sql += "removed AS (DELETE FROM " + qualified_version() + " WHERE version_num IN (" +
                   placeholders(gone, ", ") + ") RETURNING version_num), ";
        if (!coming.empty())
            sql += "added AS (INSERT INTO " + qualified_version() + " (version_num) VALUES (" +
                   placeholders(coming, "), (") + ")), ";
        for (auto& value : history_values(record)) params.push_back(std::move(value));
        // Data-modifying CTEs run whether or not the final SELECT reads them.
        sql += "logged AS (" + history_insert() + ") SELECT (SELECT id FROM logged)" +
               (gone.empty() ? "" : ", (SELECT string_agg(version_num, ',') FROM removed)");
        std::int64_t id = 0;
        std::vector<std::string> removed;
        translate_errors(heads_context(), [&] {
            const pqxx::result result = run_values(sql, params);
            id = result[0][0].as<std::int64_t>();
            if (!gone.empty() && !result[0][1].is_null()) {
                std::istringstream list(result[0][1].c_str());
                for (std::string head; std::getline(list, head, ',');) removed.push_back(head);
            }
        });
        for (const auto& head : gone)
            if (std::find(removed.begin(), removed.end(), head) == removed.end())
                throw heads_changed(head);
        return id;
    }

    bool table_exists(const std::string& name) override {
        return translate_errors({}, [&] {
            return run_params("SELECT to_regclass($1) IS NOT NULL",
                              quoted_schema_ + "." + quote_identifier(name))[0][0]
                .as<bool>();
        });
    }

    void create_schema() override {
        if (create_schema_ &&
            run_params("SELECT to_regnamespace($1) IS NULL", quoted_schema_)[0][0].as<bool>())
            run("CREATE SCHEMA IF NOT EXISTS " + quoted_schema_);
    }

private:
    /// What to fix when an SQLSTATE says the server cannot store anything (disk full, a
    /// read-only transaction or standby) rather than that the SQL is wrong; empty otherwise.
    std::string storage_fix(const std::string& sqlstate) const {
        if (sqlstate == "53100")
            return "the disk of the PostgreSQL server at " + describe() +
                   " is full: free space on it, then run again";
        // A read command's own read-only session (read_only_) is no fault of the server's.
        if (sqlstate == "25006" && !read_only_)
            return "the PostgreSQL server at " + describe() +
                   " only allows reading (a standby, or default_transaction_read_only): connect "
                   "to the primary with a role allowed to write";
        return {};
    }

    /// Runs `action`, turning a libpqxx error into a DatabaseError: `context` (may be empty)
    /// followed by PostgreSQL's primary message.
    template <typename Action>
    auto translate_errors(const std::string& context, Action&& action) -> decltype(action()) {
        try {
            return std::forward<Action>(action)();
        } catch (const pqxx::broken_connection& e) {
            transaction_failed_ = in_transaction_;
            throw DatabaseError("lost the connection to PostgreSQL at " + describe() + ": " +
                                first_line(e.what()));
        } catch (const pqxx::pqxx_exception& e) {
            // Any error inside a transaction aborts it on the server.
            transaction_failed_ = in_transaction_;
            const std::string message = server_message(e.base().what());
            const std::string text = context.empty() ? message : context + ": " + message;
            if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e.base()))
                if (const std::string fix = storage_fix(sql->sqlstate()); !fix.empty())
                    throw DatabaseStorageError(text + "; " + fix);
            throw DatabaseError(text);
        }
    }

    // A nontransaction sends nothing of its own: statements run on the session as they are, so
    // BEGIN/COMMIT above drive the real transaction and several statements can go in one string.
    pqxx::result run(const std::string& sql) {
        pqxx::nontransaction work(*connection_);
        pqxx::result result = work.exec(begin_pending_ ? "BEGIN; " + sql : sql);
        begin_pending_ = false;
        work.commit();
        return result;
    }

    /// Sends a pending BEGIN before a statement with parameters, which cannot share a message.
    void flush_begin() {
        if (begin_pending_) run("BEGIN");
    }

    template <typename... Args>
    pqxx::result run_params(const std::string& sql, Args&&... args) {
        flush_begin();
        pqxx::nontransaction work(*connection_);
        pqxx::result result = work.exec_params(sql, std::forward<Args>(args)...);
        work.commit();
        return result;
    }

    /// A statement of the shared layer: `?` placeholders, parameters sent as untyped text.
    pqxx::result run_values(const std::string& sql, const std::vector<SqlValue>& params) {
        if (params.empty()) return run(sql);
        std::vector<std::string> texts;
        texts.reserve(params.size());
        for (const auto& param : params) texts.push_back(sql_text(param));
        flush_begin();
        pqxx::nontransaction work(*connection_);
        pqxx::result result =
            work.exec_params(numbered_placeholders(sql), pqxx::prepare::make_dynamic_params(texts));
        work.commit();
        return result;
    }

    /// Who holds the lock, from pg_locks: a bigint advisory key shows as classid = its high
    /// 32 bits, objid = its low 32 bits, objsubid = 1.
    std::string lock_holder() {
        const auto key = static_cast<std::uint64_t>(lock_key_);
        const pqxx::result holder = run_params(
            "SELECT l.pid, a.application_name, a.usename,"
            " CASE WHEN a.client_addr IS NOT NULL THEN host(a.client_addr)"
            " WHEN a.client_port = -1 THEN 'local socket' END,"
            " to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.classid = $1::oid AND l.objid = $2::oid AND l.pid <> pg_backend_pid()"
            " LIMIT 1",
            std::to_string(key >> 32), std::to_string(key & 0xffffffffULL));
        if (holder.empty()) return "its holder has just released it or is not visible to this user";
        const auto text = [&](int column) {
            const pqxx::field field = holder[0][column];
            return field.is_null() ? std::string("unknown") : std::string(field.c_str());
        };
        return "pid " + text(0) + ", application '" + text(1) + "', user " + text(2) + ", client " +
               text(3) + ", since " + text(4);
    }

    std::string database_name_;
    std::string schema_;
    bool create_schema_ = false;
    std::string quoted_schema_;
    std::int64_t lock_key_ = 0;
    bool locked_ = false;
    bool read_only_ = false;  ///< opened for a read command: migrator set the session read-only
    bool in_transaction_ = false;
    bool begin_pending_ = false;  ///< begin() was called and BEGIN not sent yet
    bool transaction_failed_ = false;
    std::unique_ptr<pqxx::connection> connection_;
    // Declared after the connection so that it is unregistered before the connection closes.
    std::unique_ptr<pqxx::quiet_errorhandler> quiet_notices_;
};

}  // namespace

std::unique_ptr<Database> open_postgresql_database(const DatabaseUrl& url,
                                                   const DatabaseOptions& options) {
    return std::make_unique<PostgresqlDatabase>(url, options);
}

}  // namespace migrator::detail

// The module's entry point, found with dlsym by open_database (see postgresql_database.hpp).
extern "C" __attribute__((visibility("default"))) migrator::Database*
MIGRATOR_POSTGRESQL_BACKEND_ENTRY(const migrator::DatabaseUrl& url,
                                  const migrator::DatabaseOptions& options) {
    return migrator::detail::open_postgresql_database(url, options).release();
}
