// The PostgreSQL backend (libpqxx 6): version and history tables, transactions, advisory locks.
#include "postgresql_database.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <migrator/common/errors.hpp>
#include <pqxx/pqxx>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "backend_module.hpp"
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

// What a server session reports of an address (host() of an inet), the IPv4-mapped IPv6 prefix
// of a dual-stack socket taken off, for the same text on both ends.
constexpr const char* server_address_text = "regexp_replace(host(%s), '^::ffff:', '')";

std::string unmapped(std::string address) {
    if (address.rfind("::ffff:", 0) == 0 && address.find('.') != std::string::npos)
        address.erase(0, 7);
    return address;
}

/// The address and port of a TCP socket address as text; false for any other family.
bool address_and_port(const sockaddr_storage& address, std::string& host, unsigned& port) {
    char text[INET6_ADDRSTRLEN] = {0};
    if (address.ss_family == AF_INET) {
        const auto& in = reinterpret_cast<const sockaddr_in&>(address);
        if (inet_ntop(AF_INET, &in.sin_addr, text, sizeof text) == nullptr) return false;
        port = ntohs(in.sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
        if (inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text) == nullptr) return false;
        port = ntohs(in6.sin6_port);
    } else {
        return false;
    }
    host = unmapped(text);
    return true;
}

/// The parent of process `pid`, from /proc; 0 when it cannot be read (another pid namespace).
pid_t parent_of(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last
    // ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(text.substr(close + 1));
    std::string state;
    pid_t parent = 0;
    rest >> state >> parent;
    return parent;
}

/// An SQL condition that is true only when the server session running it is the one at the other
/// end of `socket`: then session state (an advisory lock, a SET) stays with this connection. A
/// pooler (PgBouncer in transaction mode), a proxy or NAT in between makes it false, and so does
/// anything this cannot prove, which only costs the run-wide lock (see lock_migrations).
/// TCP: the session's client and server addresses and ports are this socket's two ends.
/// Unix socket: the peer that accepted the connection (SO_PEERCRED: the postmaster) is the
/// parent of the backend the server named (`backend_pid`).
std::string same_session_condition(int socket, int backend_pid) {
    sockaddr_storage local{}, peer{};
    socklen_t local_size = sizeof local, peer_size = sizeof peer;
    if (getsockname(socket, reinterpret_cast<sockaddr*>(&local), &local_size) != 0 ||
        getpeername(socket, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0)
        return "false";
    if (local.ss_family == AF_UNIX) {
        ucred credentials{};
        socklen_t size = sizeof credentials;
        if (getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) return "false";
        return credentials.pid > 0 && backend_pid > 0 && parent_of(backend_pid) == credentials.pid
                   ? "true"
                   : "false";
    }
    std::string local_host, peer_host;
    unsigned local_port = 0, peer_port = 0;
    if (!address_and_port(local, local_host, local_port) ||
        !address_and_port(peer, peer_host, peer_port))
        return "false";
    char client[80], server[80];
    std::snprintf(client, sizeof client, server_address_text, "inet_client_addr()");
    std::snprintf(server, sizeof server, server_address_text, "inet_server_addr()");
    // Addresses from inet_ntop hold only hex digits, dots and colons: safe inside quotes.
    return "(inet_client_port() IS NOT DISTINCT FROM " + std::to_string(local_port) +
           " AND inet_server_port() IS NOT DISTINCT FROM " + std::to_string(peer_port) + " AND " +
           client + " IS NOT DISTINCT FROM '" + local_host + "' AND " + server +
           " IS NOT DISTINCT FROM '" + peer_host + "')";
}

class PostgresqlDatabase final : public SqlDatabase {
public:
    PostgresqlDatabase(const DatabaseUrl& url, const DatabaseOptions& options)
        : SqlDatabase(options, url.masked()) {
        if (!options.version_schema.empty() && !is_plain_identifier(options.version_schema))
            throw DatabaseError("version table schema '" + options.version_schema +
                                "' is not a plain SQL identifier; use at most 63 letters, digits "
                                "and '_', starting with a letter or '_'");
        if (!options.search_schema.empty() && !is_plain_identifier(options.search_schema))
            throw DatabaseError("schema '" + options.search_schema + "' of " + url.masked() +
                                " is not a plain SQL identifier; use at most 63 letters, digits "
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

        read_only_ = options.read_only;
        std::optional<std::string> current_schema;
        translate_errors("cannot open PostgreSQL database " + describe(), [&] {
            // Session settings go with the query below rather than in round trips of their own,
            // and only where this connection keeps its server session: through a pooler they
            // would stay on a server connection that other clients get next.
            const std::string direct =
                same_session_condition(connection_->sock(), connection_->backendpid());
            std::string sql =
                "SELECT current_database(), current_schema(), d.direct, "
                "current_setting('lock_timeout'), pg_is_in_recovery()";
            // The read commands must not change anything, like SQLite's read-only open.
            if (options.read_only)
                sql +=
                    ", CASE WHEN d.direct THEN "
                    "set_config('default_transaction_read_only', 'on', false) END";
            // A target schema is the whole search_path: a tenant's revisions see only its
            // tables. (current_schema() above is not used then.)
            if (!options.search_schema.empty())
                sql += ", CASE WHEN d.direct THEN set_config('search_path', " +
                       sql::quote_literal(sql::quote_identifier(options.search_schema)) +
                       ", false) END";
            if (options.statement_timeout.count() > 0)
                sql += ", CASE WHEN d.direct THEN set_config('statement_timeout', '" +
                       std::to_string(options.statement_timeout.count()) + "', false) END";
            // A migrator that dies in the middle of a long statement (kill -9, a crash,
            // --step-timeout) must not leave its backend running it, transaction and migration
            // lock held, until the statement ends: PostgreSQL 14+ can check the client every
            // second while it executes, where the user may set it and nobody has. Read-only
            // connections too: check --schema's scratch transaction runs the user's schema file.
            sql +=
                ", CASE WHEN d.direct THEN (SELECT set_config(name, '1000', false) FROM "
                "pg_settings WHERE name = 'client_connection_check_interval' AND context = "
                "'user' AND setting = '0') END";
            const pqxx::result names = run(sql + " FROM (SELECT " + direct + " AS direct) d");
            database_name_ = names[0][0].c_str();
            if (!names[0][1].is_null()) current_schema = names[0][1].c_str();
            same_session_ = names[0][2].as<bool>();
            server_lock_timeout_ = names[0][3].c_str();
            hot_standby_ = names[0][4].as<bool>();
        });
        // Refused before anything is written: on a standby the first write of a plan would fail
        // halfway through it ("cannot execute CREATE TABLE in a read-only transaction").
        if (hot_standby_ && !options.read_only)
            throw DatabaseError(
                describe() + " is a hot standby (a read-only replica in recovery): " +
                (options.command.empty() ? std::string("migrator") : options.command) +
                " cannot write there; run it against the primary");
        if (!same_session_ && options.statement_timeout.count() > 0)
            transaction_settings_ = "; SET LOCAL statement_timeout = " +
                                    std::to_string(options.statement_timeout.count());
        if (!same_session_ && !options.search_schema.empty())
            transaction_settings_ +=
                "; SET LOCAL search_path TO " + sql::quote_identifier(options.search_schema);
        if (!options.version_schema.empty()) {
            schema_ = options.version_schema;
            create_schema_ = true;
        } else if (!options.search_schema.empty()) {
            schema_ = options.search_schema;
            create_schema_ = true;
        } else if (current_schema) {
            schema_ = *current_schema;
        } else {
            throw DatabaseError(describe() +
                                " has no current schema (no schema on its search_path exists); "
                                "create one or choose the version table schema explicitly");
        }
        quoted_schema_ = sql::quote_identifier(schema_);
        set_schema_prefix(quoted_schema_ + ".");
        lock_key_ = static_cast<std::int64_t>(
            fnv1a_64(database_name_ + "\n" + schema_ + "\n" + names().version));
    }

    // Two locks on the same key, (database, schema, version table):
    // - the run-wide lock, a session advisory lock on the bigint key, taken by lock_migrations()
    //   only where the connection keeps its server session (a fleet then waits for whole runs);
    // - the step lock, a transaction advisory lock on the same key as two int4 halves (another
    //   lock: pg_locks objsubid 2 instead of 1), which every write transaction takes first (see
    //   begin()). A transaction keeps one server session even through PgBouncer in transaction
    //   mode, so the step lock, and the version rows the runner re-reads under it, prove the
    //   right to apply a step whatever the connection path; and it ends with its transaction.

    ~PostgresqlDatabase() override { unlock_migrations(); }

    PostgresqlDatabase(const PostgresqlDatabase&) = delete;
    PostgresqlDatabase& operator=(const PostgresqlDatabase&) = delete;

    std::string dialect() const override { return "postgresql"; }

    bool hot_standby() const override { return hot_standby_; }

    void lock_migrations(std::chrono::milliseconds timeout) override {
        lock_wait_ = timeout;
        // Advisory locks nest per session; holding it once is what unlock_migrations() undoes.
        if (locked_) return;
        // Through a pooler a session lock would stay on whichever server connection took it,
        // after this run and into other clients' hands: the step lock alone serialises there.
        if (!same_session_) return;
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
        throw lock_wait_failed(session_lock);
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
                              quoted_schema_ + "." + sql::quote_identifier(name))[0][0]
                .as<bool>();
        });
    }

    void exclusively(const std::function<void()>& action) override {
        begin();
        try {
            action();
            commit();
        } catch (...) {
            rollback();
            throw;
        }
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
        const bool opening = begin_pending_;
        // Sent or not, the BEGIN is no longer pending: a failure below leaves a transaction open
        // (and aborted) on the server, which rollback() must end.
        begin_pending_ = false;
        try {
            pqxx::nontransaction work(*connection_);
            pqxx::result result = work.exec(opening ? opening_statements() + sql : sql);
            work.commit();
            return result;
        } catch (const pqxx::sql_error& e) {
            // 55P03 lock_not_available: the step lock, which the opening statements wait for.
            if (!opening || e.sqlstate() != "55P03") throw;
        }
        rollback();
        throw lock_wait_failed(step_lock);
    }

    /// What a write transaction starts with: BEGIN, then the step lock, waited for up to the
    /// lock timeout (then the server's own lock_timeout again, for the revision's statements).
    /// READ COMMITTED whatever the session's default, so that each later statement, and the
    /// version rows the runner reads next, sees what the previous holder of the lock committed.
    /// A read-only connection writes no version rows: a plain BEGIN, after which the caller may
    /// still SET TRANSACTION READ WRITE (check --schema's scratch transaction does).
    std::string opening_statements() const {
        if (read_only_) return "BEGIN" + transaction_settings_ + "; ";
        const auto key = static_cast<std::uint64_t>(lock_key_);
        // lock_timeout 0 means no limit to PostgreSQL; a zero --lock-timeout means "try once".
        const auto wait = std::max<std::chrono::milliseconds::rep>(lock_wait_.count(), 1);
        return "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = " +
               std::to_string(wait) + "; SELECT pg_advisory_xact_lock(" +
               std::to_string(static_cast<std::int32_t>(key >> 32)) + ", " +
               std::to_string(static_cast<std::int32_t>(key & 0xffffffffULL)) +
               "); SET LOCAL lock_timeout = " + sql::quote_literal(server_lock_timeout_) +
               transaction_settings_ + "; ";
    }

    /// Sends a pending BEGIN before a statement with parameters, which cannot share a message.
    void flush_begin() {
        if (begin_pending_) run("SELECT 1");
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

    static constexpr int session_lock = 1;  ///< pg_locks objsubid of the bigint key
    static constexpr int step_lock = 2;     ///< pg_locks objsubid of the two-int4 key

    /// The LockError of a wait for `lock` (session_lock or step_lock) that timed out.
    LockError lock_wait_failed(int lock) {
        const std::string holder = translate_errors(
            "cannot take the migration lock on " + describe(), [&] { return lock_holder(lock); });
        return LockError("another migrator holds the migration lock on " + describe() + " (" +
                         holder + "); waited " + describe_duration(lock_wait_) +
                         "; try again later or raise --lock-timeout");
    }

    /// Who holds `lock`, from pg_locks: both keys show as classid = the key's high 32 bits,
    /// objid = its low 32 bits; objsubid tells the bigint key (1) from the int4 pair (2).
    std::string lock_holder(int lock) {
        const auto key = static_cast<std::uint64_t>(lock_key_);
        const pqxx::result holder = run_params(
            "SELECT l.pid, a.application_name, a.usename,"
            " CASE WHEN a.client_addr IS NOT NULL THEN host(a.client_addr)"
            " WHEN a.client_port = -1 THEN 'local socket' END,"
            " to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = $3"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND l.classid = $1::oid AND l.objid = $2::oid AND l.pid <> pg_backend_pid()"
            " LIMIT 1",
            std::to_string(key >> 32), std::to_string(key & 0xffffffffULL), lock);
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
    /// The server session at the other end is this connection's own (no pooler in between).
    bool same_session_ = false;
    bool read_only_ = false;    ///< opened for a read command (a session read-only where direct)
    bool hot_standby_ = false;  ///< the server was in recovery when the connection opened
    std::chrono::milliseconds lock_wait_{std::chrono::seconds(60)};  ///< set by lock_migrations
    std::string server_lock_timeout_ = "0";  ///< lock_timeout as the session had it
    std::string transaction_settings_;  ///< SET LOCALs each transaction needs (pooled sessions)
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

// The module's handshake, which open_database checks before it calls anything else here (see
// backend_module.hpp).
extern "C" __attribute__((visibility("default"))) const migrator_backend_handshake*
MIGRATOR_BACKEND_INFO_ENTRY() {
    static const migrator_backend_handshake info =
        migrator::detail::backend_info_of_this_build(MIGRATOR_PROJECT_VERSION);
    return &info;
}

// The module's entry point, found with dlsym by open_database (see postgresql_database.hpp).
extern "C" __attribute__((visibility("default"))) migrator::Database*
MIGRATOR_POSTGRESQL_BACKEND_ENTRY(const migrator::DatabaseUrl& url,
                                  const migrator::DatabaseOptions& options) {
    return migrator::detail::open_postgresql_database(url, options).release();
}
