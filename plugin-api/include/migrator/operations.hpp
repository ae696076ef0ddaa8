// migrator portable schema operations (Alembic's `op`): each call is encoded as data
// (operation_encoding.md) and handed to the host, which renders it for the database's dialect,
// rebuilds a SQLite table where it must, and runs it, so offline --sql prints it too. No SQL text
// here: a fix in rendering reaches every plugin without a rebuild. Bodies in src/operations.cpp.
#ifndef MIGRATOR_OPERATIONS_HPP
#define MIGRATOR_OPERATIONS_HPP

#include <migrator/revision.hpp>
#include <migrator/schema.hpp>
#include <string_view>

namespace migrator {

/// The portable operations, bound to one Context (Alembic's `op`). Every method throws SqlError
/// with the host's message: the database's error, a definition the dialect cannot have, or, for
/// a SQLite table rebuild in an offline run, that a rebuild must read the table. Operations that
/// need no rebuild only write SQL, so `--sql` shows them.
class Operations {
public:
    explicit Operations(Context& ctx) : ctx_(ctx) {}

    /// CREATE TABLE with columns, primary key, unique constraints and foreign keys.
    void create_table(const schema::Table& table, CallSite site = {});
    void drop_table(std::string_view table, CallSite site = {});
    void rename_table(std::string_view from, std::string_view to, CallSite site = {});

    /// ADD COLUMN; SQLite rebuilds the table for a column ADD COLUMN refuses (autoincrement, NOT
    /// NULL without a default, a CURRENT_* or parenthesised default). An autoincrement column
    /// becomes the primary key of a SQLite table that has none.
    void add_column(std::string_view table, const schema::Column& column, CallSite site = {});

    /// DROP COLUMN, with the indexes, unique constraints and foreign keys of the table that use
    /// the column (PostgreSQL drops them too; SQLite rebuilds the table without them).
    void drop_column(std::string_view table, std::string_view column, CallSite site = {});

    /// RENAME COLUMN on both dialects (SQLite 3.25+ renames it in indexes and keys as well).
    void rename_column(std::string_view table, std::string_view from, std::string_view to,
                       CallSite site = {});

    /// Changes a column's type, nullability and/or default; parts left unset stay. PostgreSQL
    /// converts the values with USING column::type; SQLite rebuilds the table, converting them
    /// by its type affinity. A change that changes nothing runs nothing.
    void alter_column(std::string_view table, std::string_view column,
                      const schema::ColumnChange& change, CallSite site = {});

    /// CREATE [UNIQUE] INDEX on one or more columns.
    void create_index(const schema::Index& index, CallSite site = {});
    /// DROP INDEX; `table` names the table the index is on.
    void drop_index(std::string_view table, std::string_view name, CallSite site = {});

    /// ADD UNIQUE (PostgreSQL); SQLite rebuilds the table with the constraint.
    void create_unique_constraint(std::string_view table,
                                  const schema::UniqueConstraint& constraint, CallSite site = {});

    /// DROP CONSTRAINT by name on PostgreSQL (a constraint without a name is looked up by its
    /// columns, online only); SQLite, which keeps no names, rebuilds the table without the
    /// constraint on the same columns.
    void drop_unique_constraint(std::string_view table, const schema::UniqueConstraint& constraint,
                                CallSite site = {});

    /// ADD FOREIGN KEY (PostgreSQL); SQLite rebuilds the table with the key.
    void create_foreign_key(std::string_view table, const schema::ForeignKey& key,
                            CallSite site = {});

    /// DROP CONSTRAINT by name on PostgreSQL (a key without a name is looked up by its columns
    /// and referred table, online only); SQLite rebuilds the table without the key on the same
    /// columns into the same table.
    void drop_foreign_key(std::string_view table, const schema::ForeignKey& key,
                          CallSite site = {});

    /// PostgreSQL: creates the enum type of `enumeration` (Type::enumeration) unless a type of
    /// that name exists; SQLite: nothing (an enumeration is a VARCHAR there).
    void create_enum(const schema::Type& enumeration, CallSite site = {});
    /// PostgreSQL: DROP TYPE IF EXISTS, for the enum type no column uses any more (drop_table
    /// leaves it, as Alembic does); SQLite: nothing.
    void drop_enum(std::string_view type_name, CallSite site = {});

    /// Raw SQL, the escape hatch: runs as written, on every dialect.
    void execute(std::string_view sql, CallSite site = {}) { ctx_.execute(sql, site); }

private:
    Context& ctx_;
};

}  // namespace migrator

#endif  // MIGRATOR_OPERATIONS_HPP
