// The host side of the portable operations: renders each decoded operation for the session's
// dialect and runs it through a Context over the host's own session, rebuilding a SQLite table
// where SQLite cannot alter it in place (Alembic's batch mode).
#ifndef MIGRATOR_SCHEMA_OPERATIONS_HPP
#define MIGRATOR_SCHEMA_OPERATIONS_HPP

#include <functional>
#include <migrator/revision.hpp>
#include <migrator/schema.hpp>
#include <migrator/schema/operation_decoding.hpp>
#include <migrator/schema/sql.hpp>
#include <set>
#include <string>
#include <vector>

namespace migrator {

/// The portable operations over one Context (Alembic's `op`), as the host runs them for a
/// revision. Every method throws SqlError with the database's message, std::invalid_argument
/// for a definition the dialect cannot have, and OfflineQueryError for a SQLite table rebuild in
/// an offline run (a rebuild must read the table); every other operation only writes SQL through
/// ctx.execute, so `--sql` shows it.
class SchemaOperations {
public:
    /// Throws std::invalid_argument if the context's dialect is neither sqlite nor postgresql.
    explicit SchemaOperations(Context& ctx);

    /// Runs one decoded operation (decode_operation).
    void run(const Operation& operation);

    /// CREATE TABLE with columns, primary key, unique constraints and foreign keys.
    void create_table(const schema::Table& table);
    void drop_table(const std::string& table);
    void rename_table(const std::string& from, const std::string& to);
    /// ADD COLUMN; SQLite rebuilds the table for a column ADD COLUMN refuses (autoincrement, NOT
    /// NULL without a default, a CURRENT_* or parenthesised default). An autoincrement column
    /// becomes the primary key of a SQLite table that has none.
    void add_column(const std::string& table, const schema::Column& column);
    /// DROP COLUMN, with the indexes, unique constraints and foreign keys of the table that use
    /// the column (PostgreSQL drops them too; SQLite rebuilds the table without them).
    void drop_column(const std::string& table, const std::string& column);
    /// RENAME COLUMN on both dialects (SQLite 3.25+ renames it in indexes and keys as well).
    void rename_column(const std::string& table, const std::string& from, const std::string& to);
    /// Changes a column's type, nullability and/or default; parts left unset stay. PostgreSQL
    /// converts the values with USING column::type; SQLite rebuilds the table, converting them
    /// by its type affinity. A change that changes nothing runs nothing.
    void alter_column(const std::string& table, const std::string& column,
                      const schema::ColumnChange& change);
    /// CREATE [UNIQUE] INDEX on one or more columns.
    void create_index(const schema::Index& index);
    /// DROP INDEX; the index's table plays no part in the SQL.
    void drop_index(const std::string& name);
    /// ADD UNIQUE (PostgreSQL); SQLite rebuilds the table with the constraint.
    void create_unique_constraint(const std::string& table,
                                  const schema::UniqueConstraint& constraint);
    /// DROP CONSTRAINT by name on PostgreSQL (a constraint without a name is looked up by its
    /// columns, online only); SQLite rebuilds the table without the constraint on those columns.
    void drop_unique_constraint(const std::string& table,
                                const schema::UniqueConstraint& constraint);
    /// ADD FOREIGN KEY (PostgreSQL); SQLite rebuilds the table with the key.
    void create_foreign_key(const std::string& table, const schema::ForeignKey& key);
    /// DROP CONSTRAINT by name on PostgreSQL (a key without a name is looked up by its columns
    /// and referred table, online only); SQLite rebuilds the table without the key on the same
    /// columns into the same table.
    void drop_foreign_key(const std::string& table, const schema::ForeignKey& key);

    /// PostgreSQL: creates the enum type unless it exists; SQLite: nothing.
    void create_enum(const schema::Type& enumeration);
    /// PostgreSQL: drops the enum type if it exists; SQLite: nothing.
    void drop_enum(const std::string& name);

private:
    /// PostgreSQL: creates, before a statement that uses them, the enum types of `types` that
    /// do not exist yet (as SQLAlchemy creates a table's enum types with it).
    void create_enums_of(const std::vector<const schema::Type*>& types);
    using Pick = std::function<std::string(const schema::Table&)>;
    std::string find_existing(const std::string& table, const char* what, const Pick& pick);
    std::vector<std::string> first_column(const std::string& sql) const;
    std::vector<std::string> sqlite_schema_sql(const char* type, const std::string& table,
                                               const std::set<std::string>& skip = {}) const;
    std::vector<sql::TableRebuild::Dependant> sqlite_dependants(const std::string& table) const;
    void rebuild(const std::string& table, const std::string& operation,
                 const std::function<void(schema::Table&)>& change);
    void check_foreign_keys(const std::string& table, const std::string& operation) const;
    void undo_rebuild() const noexcept;

    Context& ctx_;
    sql::Dialect dialect_;
};

}  // namespace migrator

#endif  // MIGRATOR_SCHEMA_OPERATIONS_HPP
