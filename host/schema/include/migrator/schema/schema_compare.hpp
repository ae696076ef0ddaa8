// The declared schema (a schema.sql file, or SQLAlchemy models) against a database: introspect both
// sides, list the changes that turn one into the other.
#ifndef MIGRATOR_SCHEMA_COMPARE_HPP
#define MIGRATOR_SCHEMA_COMPARE_HPP

#include <filesystem>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <migrator/schema.hpp>
#include <optional>
#include <string>
#include <vector>

namespace migrator {

/// One difference between two schemas, as the change that removes it: what to do to the
/// database's schema so that it becomes the declared one.
struct SchemaChange {
    enum class Kind {
        add_table,
        drop_table,
        add_column,
        drop_column,
        alter_column,
        add_index,
        drop_index,
        add_unique_constraint,
        drop_unique_constraint,
        add_foreign_key,
        drop_foreign_key,
        /// The table's primary key columns differ; old_table and new_table are both set (the
        /// whole table on each side). Last, so that the kinds before it keep their values.
        alter_primary_key,
    };
    Kind kind;
    std::string table;
    std::optional<schema::Table> old_table, new_table;     ///< add_table: new; drop_table: old
    std::optional<schema::Column> old_column, new_column;  ///< add: new; drop: old; alter: both
    std::optional<schema::Index> old_index, new_index;
    std::optional<schema::UniqueConstraint> old_unique, new_unique;
    std::optional<schema::ForeignKey> old_foreign_key, new_foreign_key;

    /// One line for people, e.g. "added column invoice.note (TEXT)": what the declared schema
    /// has that the database has not, or the other way round.
    std::string describe() const;
};

/// The kind's name as it reads in JSON ("add_column", ...).
const char* kind_name(SchemaChange::Kind kind);

/// What turns `database` into `declared`, in an order that can be applied as is: drop FKs,
/// indexes and uniques that go away first, then drop/alter/add columns (and change primary
/// keys), add tables in foreign-key dependency order, drop tables (dependents first), then add
/// uniques/FKs/indexes. Deterministic: sorted by table, then name, within each group.
///
/// Foreign keys compare with ForeignKey::same_as (names aside: SQLite loses them), unique
/// constraints by their columns, indexes by name, table, columns and uniqueness (a changed index
/// is a drop and an add), columns by name, then type, nullability, default and autoincrement.
/// A new table's indexes are add_index changes after it; its foreign keys and uniques come with
/// it, except a foreign key closing a cycle between new tables, which is an add_foreign_key after
/// both. Column order and CHECK constraints are not compared (the model has neither). Pure.
std::vector<SchemaChange> diff_schemas(const schema::Schema& database,
                                       const schema::Schema& declared);

/// The application's schema in `db` (introspection.hpp through a HostSession), migrator's own
/// version and history tables left out. Throws DatabaseError with the database's message.
schema::Schema introspect_database(Database& db);

/// The schema `schema_sql` declares, introspected the same way on a scratch database of the
/// kind `url` names: SQLite, a fresh in-memory database; PostgreSQL, a `migrator_scratch_<hex>`
/// schema created on a connection of its own to the database `url` names (the compared database
/// itself, or a writable one like it, e.g. a standby's primary: check --scratch-url) inside one
/// transaction that is always rolled back, so that no scratch schema outlives the call (nor
/// migrator, killed). `options` as for open_database (its version table names are left out on
/// this side too). Throws ConfigError naming the file when it does not exist, cannot be read, or
/// fails on the scratch database ("schema file ... failed on the scratch database: <message>"),
/// or ends the scratch transaction itself; DatabaseError when the scratch database cannot be
/// opened, is a hot standby (nothing can be created there), or the scratch schema cannot be
/// created.
schema::Schema declared_schema(const DatabaseUrl& url, const DatabaseOptions& options,
                               const std::filesystem::path& schema_sql);

/// Where the declared schema comes from: an SQL file in the database's dialect, or a team's
/// SQLAlchemy models (models_schema.hpp), whose SQL for that dialect is read as a file's is.
struct DeclaredSchemaSource {
    std::filesystem::path file;  ///< the schema file; unused when `models` is set
    std::string models;          ///< MODULE:ATTRIBUTE of a SQLAlchemy MetaData, or ""
    /// For messages: "schema file PATH" or "the models MODULE:ATTRIBUTE".
    std::string describe() const;
};

/// declared_schema() of the file, or of the SQL that models_schema_sql() prints for the models
/// in `url`'s dialect (its errors, ConfigError, before any database is opened); messages name
/// the source as DeclaredSchemaSource::describe() does.
schema::Schema declared_schema(const DatabaseUrl& url, const DatabaseOptions& options,
                               const DeclaredSchemaSource& source);

}  // namespace migrator

#endif  // MIGRATOR_SCHEMA_COMPARE_HPP
