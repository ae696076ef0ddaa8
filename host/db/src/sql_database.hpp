// The version and history tables written once, as SQL, for every backend (SQLite, PostgreSQL,
// offline SQL text) over two primitives each backend provides: run a statement, fetch rows.
#ifndef MIGRATOR_DB_SQL_DATABASE_HPP
#define MIGRATOR_DB_SQL_DATABASE_HPP

#include <cstdint>
#include <functional>
#include <migrator/common/errors.hpp>
#include <migrator/db/db.hpp>
#include <string>
#include <variant>
#include <vector>

#include "version_tables.hpp"

namespace migrator::detail {

/// Bytes bound as a BLOB (SQLite) or BYTEA (PostgreSQL) parameter.
struct SqlBytes {
    std::string bytes;
};

/// A statement parameter.
using SqlValue = std::variant<std::string, std::int64_t, double, SqlBytes>;

/// A Database whose version-table and history-table methods are plain SQL with `?` placeholders.
/// A backend derives from it, provides run() and fetch(), and says where the tables live.
class SqlDatabase : public Database {
public:
    std::string describe() const override { return description_; }
    void ensure_version_tables() override;
    std::vector<std::string> read_heads() override;
    std::optional<std::vector<std::string>> unadopted_alembic_heads() override;
    void replace_heads(const std::vector<std::string>& remove,
                       const std::vector<std::string>& add) override;
    std::int64_t record_history(const HistoryRecord& record) override;
    void update_history(std::int64_t id, const HistoryRecord& record) override;
    std::vector<HistoryRecord> read_history(bool dirty_only) override;
    void store_plugin(const StoredPlugin& plugin, const std::string& signatures_text) override;
    std::size_t forget_stored_plugins(const std::vector<std::string>& revisions) override;
    std::vector<StoredPlugin> read_stored_plugins() override;
    std::string read_stored_image(const std::string& revision) override;
    std::string read_stored_signatures(const std::string& sha256) override;
    std::vector<std::string> migrator_tables() const override {
        return {names_.version, names_.history, names_.plugins, names_.signed_files};
    }

protected:
    /// Validates the version table name (throws DatabaseError); `description` is the masked URL.
    SqlDatabase(const DatabaseOptions& options, std::string description);

    /// Where the tables live: "" (the connection's default) or a quoted schema followed by '.'.
    void set_schema_prefix(const std::string& quoted_schema_dot);
    /// The version rows of the table `quoted_table` (quoted, schema-qualified), sorted.
    std::vector<std::string> version_rows(const std::string& quoted_table);

    /// Runs one statement, `?` placeholders bound to `params` in order; returns the number of
    /// rows it changed. Throws DatabaseError carrying the database's own message (no context).
    virtual std::int64_t run(const std::string& sql, const std::vector<SqlValue>& params) = 0;
    /// Runs one query like run() and calls `on_row` per row (values as text); returns the
    /// result's column names, also when there is no row.
    virtual std::vector<std::string> fetch(const std::string& sql,
                                           const std::vector<SqlValue>& params,
                                           const RowCallback& on_row) = 0;
    /// Whether a table of this (unquoted) name exists where the version tables live.
    virtual bool table_exists(const std::string& name) = 0;
    /// Creates the schema that holds the tables, if the backend has one to create.
    virtual void create_schema() {}
    /// Runs `action` (creating the tables) so that no other migrator creates them at the same
    /// time: PostgreSQL runs it in a transaction holding the step lock, since runners through a
    /// pooler share no run-wide lock and the loser of a CREATE race fails on the catalog. By
    /// default it runs as it is.
    virtual void exclusively(const std::function<void()>& action) { action(); }

    const VersionTableNames& names() const { return names_; }
    const std::string& qualified_version() const { return qualified_version_; }
    const std::string& qualified_history() const { return qualified_history_; }
    const std::string& run_by() const { return run_by_; }
    /// "cannot update version table T of URL", and the error replace_heads throws when the row
    /// of `head` is not there to remove.
    std::string heads_context() const;
    DatabaseError heads_changed(const std::string& head) const;
    /// The statement record_history runs (`?` placeholders, RETURNING id) and its parameters.
    std::string history_insert() const;
    std::vector<SqlValue> history_values(const HistoryRecord& record) const;
    const std::string& run_host() const { return run_host_; }

private:
    bool has_column(const std::string& qualified_table, const std::string& column);

    std::string description_;
    VersionTableNames names_;
    std::string schema_prefix_;  ///< "" or a quoted schema and a dot: where the tables live
    std::string qualified_version_;
    std::string qualified_history_;
    std::string qualified_plugins_;
    std::string qualified_signed_;
    std::string run_by_;
    std::string run_host_;
    bool tables_ensured_ = false;  ///< ensure_version_tables() ran: no existence checks needed
};

/// The history table's columns after `id`, in the order record_history writes them.
inline constexpr const char* history_columns =
    "revision, direction, heads_before, heads_after, started_at, duration_ms, success,"
    " source_sha256, error, run_by, run_host, dirty";

/// Version rows as the history table's heads_before and heads_after columns store them: joined by
/// commas, "" for none.
std::string stored_heads(const std::vector<std::string>& heads);

/// The version rows of a heads_before or heads_after column (stored_heads' text).
std::vector<std::string> heads_of_stored(const std::string& text);

/// The direction of a history row as its direction column stores it. Throws DatabaseError,
/// naming `history` (the table, for the message), for a text no migrator writes.
HistoryDirection stored_direction(const std::string& text, const std::string& history);

/// `sql` with each `?` replaced by PostgreSQL's `$1`, `$2`, ... (our own statements never hold a
/// `?` inside a literal).
std::string numbered_placeholders(const std::string& sql);

/// A value as an SQL literal: text in single quotes (quotes doubled), numbers as they are.
std::string sql_literal(const SqlValue& value);

/// A value as text, the way PostgreSQL receives untyped parameters.
std::string sql_text(const SqlValue& value);

}  // namespace migrator::detail

#endif  // MIGRATOR_DB_SQL_DATABASE_HPP
