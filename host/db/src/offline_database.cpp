// The offline backend (`--sql`): no connection; every statement is printed as SQL for a dialect.
#include <algorithm>
#include <migrator/common/errors.hpp>
#include <migrator/common/terminal_text.hpp>
#include <migrator/db/db.hpp>
#include <ostream>
#include <set>
#include <utility>

#include "sql_database.hpp"

namespace migrator::detail {
namespace {

/// `sql` with each `?` replaced by the literal of the next parameter.
std::string with_literals(const std::string& sql, const std::vector<SqlValue>& params) {
    std::string out;
    std::size_t next = 0;
    for (char c : sql) {
        if (c == '?' && next < params.size())
            out += sql_literal(params[next++]);
        else
            out += c;
    }
    return out;
}

/// `sql` ending in exactly one ';' (trailing white space dropped), then a newline.
std::string as_statement(std::string sql) {
    while (!sql.empty() &&
           (sql.back() == ' ' || sql.back() == '\n' || sql.back() == '\t' || sql.back() == '\r'))
        sql.pop_back();
    if (sql.empty()) return {};
    if (sql.back() != ';') sql += ';';
    return sql + "\n";
}

class OfflineDatabase final : public SqlDatabase {
public:
    OfflineDatabase(const DatabaseUrl& url, const DatabaseOptions& options,
                    std::vector<std::string> start_heads, std::ostream& out)
        : SqlDatabase(options, url.masked()),
          dialect_(url.dialect),
          heads_(std::move(start_heads)),
          out_(out) {
        if (dialect_ != "sqlite" && dialect_ != "postgresql")
            throw DatabaseError("database URL " + url.masked() + " names dialect '" + dialect_ +
                                "', which migrator does not support; use sqlite:// or "
                                "postgresql://");
        if (!options.search_schema.empty())
            throw DatabaseError("offline SQL (--sql) does not run in a target schema ('" +
                                options.search_schema + "'); run it per database");
        if (!options.version_schema.empty()) {
            if (dialect_ == "sqlite")
                throw DatabaseError(
                    "SQLite has no schemas: drop the version table schema option ('" +
                    options.version_schema + "') for " + describe());
            if (!is_plain_identifier(options.version_schema))
                throw DatabaseError("version table schema '" + options.version_schema +
                                    "' is not a plain SQL identifier; use at most 63 letters, "
                                    "digits and '_', starting with a letter or '_'");
            quoted_schema_ = sql::quote_identifier(options.version_schema);
            set_schema_prefix(quoted_schema_ + ".");
        }
        std::sort(heads_.begin(), heads_.end());
    }

    std::string dialect() const override { return dialect_; }
    bool offline() const override { return true; }

    std::vector<std::string> read_heads() override { return heads_; }

    void replace_heads(const std::vector<std::string>& remove,
                       const std::vector<std::string>& add) override {
        SqlDatabase::replace_heads(remove, add);
        std::set<std::string> rows(heads_.begin(), heads_.end());
        for (const auto& head : remove) rows.erase(head);
        rows.insert(add.begin(), add.end());
        heads_.assign(rows.begin(), rows.end());
    }

    // The row is written by the SQL, not now: its time and user are the database's when the
    // script runs, so the same plan always prints the same text.
    std::int64_t record_history(const HistoryRecord& record) override {
        const std::string now = dialect_ == "postgresql"
                                    ? "to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                                      "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
                                    : "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
        const std::string user = dialect_ == "postgresql" ? "current_user" : "'offline SQL'";
        after_begin_ = false;
        blank_ = false;
        out_ << "INSERT INTO " << qualified_history() << " (" << history_columns << ") VALUES ("
             << sql_literal(record.revision) << ", "
             << sql_literal(std::string(history_direction_name(record.direction))) << ", "
             << sql_literal(stored_heads(record.heads_before)) << ", "
             << sql_literal(stored_heads(record.heads_after)) << ", " << now << ", 0, "
             << (record.success ? 1 : 0) << ", " << sql_literal(record.source_sha256) << ", "
             << sql_literal(record.error) << ", " << user << ", 'offline SQL', 0);\n";
        return 0;
    }

    void update_history(std::int64_t, const HistoryRecord&) override {}
    std::vector<HistoryRecord> read_history(bool) override { return {}; }

    // Offline scripts store no plugins: the database they are applied to keeps none for them.
    void store_plugin(const StoredPlugin&, const std::string&) override {}
    std::size_t forget_stored_plugins(const std::vector<std::string>&) override { return 0; }
    std::vector<StoredPlugin> read_stored_plugins() override { return {}; }
    std::string read_stored_image(const std::string&) override { return {}; }
    std::string read_stored_signatures(const std::string&) override { return {}; }

    void lock_migrations(std::chrono::milliseconds) override {}
    void unlock_migrations() noexcept override {}

    void ensure_version_tables() override {
        SqlDatabase::ensure_version_tables();
        blank_line();
    }

    void begin() override {
        blank_line();
        out_ << "BEGIN;\n";
        after_begin_ = true;
    }
    void commit() override {
        out_ << "COMMIT;\n";
        blank_line();
    }
    // A failed offline run exits non-zero; its partial script is not meant to be applied.
    void rollback() noexcept override {}

    void execute(const std::string& sql) override { print(as_statement(sql)); }

    // A step's comment opens its block: right after its BEGIN, or after a blank line.
    void annotate(const std::string& text) override {
        if (!after_begin_) blank_line();
        // A line break in a revision message must not end the comment and start SQL.
        print("-- " + printable(text) + "\n");
    }

    void query(const std::string& sql, const RowCallback&) override {
        throw DatabaseError(
            "cannot run a query in offline mode (--sql): no database is connected, so '" +
            sql.substr(0, 60) + (sql.size() > 60 ? "...'" : "'") +
            " has no rows to return; a revision can test ctx.offline() and skip its queries");
    }

protected:
    std::int64_t run(const std::string& sql, const std::vector<SqlValue>& params) override {
        print(as_statement(with_literals(sql, params)));
        return 1;  // the rows the statement will change are there when the script runs
    }

    std::vector<std::string> fetch(const std::string& sql, const std::vector<SqlValue>&,
                                   const RowCallback& on_row) override {
        query(sql, on_row);
        return {};
    }

    // Nothing is known to exist: the script creates what it needs with IF NOT EXISTS.
    bool table_exists(const std::string&) override { return false; }

    void create_schema() override {
        if (!quoted_schema_.empty()) print("CREATE SCHEMA IF NOT EXISTS " + quoted_schema_ + ";\n");
    }

private:
    void print(const std::string& text) {
        if (text.empty()) return;
        out_ << text;
        blank_ = false;
        after_begin_ = false;
    }

    /// Separates blocks of the script by one empty line.
    void blank_line() {
        if (!blank_) out_ << '\n';
        blank_ = true;
        after_begin_ = false;
    }

    std::string dialect_;
    std::vector<std::string> heads_;
    std::ostream& out_;
    std::string quoted_schema_;
    bool blank_ = false;        ///< the script ends with an empty line
    bool after_begin_ = false;  ///< the script ends with BEGIN
};

}  // namespace
}  // namespace migrator::detail

namespace migrator {

std::unique_ptr<Database> open_offline_database(const DatabaseUrl& url,
                                                const DatabaseOptions& options,
                                                std::vector<std::string> start_heads,
                                                std::ostream& out) {
    return std::make_unique<detail::OfflineDatabase>(url, options, std::move(start_heads), out);
}

}  // namespace migrator
