// migrator SQL text per dialect: quoting and the portable types, pure functions over schema.hpp.
// Host-only (a revision never compiles it: its operations cross the boundary as data); the
// portable operations (schema_operations.hpp) and introspection build on it, and tests compare
// its text without a database.
#ifndef MIGRATOR_SQL_HPP
#define MIGRATOR_SQL_HPP

#include <algorithm>
#include <cctype>
#include <migrator/common/sql_quoting.hpp>
#include <migrator/schema.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace migrator::sql {

/// The dialects migrator renders for, as Context::dialect() names them.
enum class Dialect { sqlite, postgresql };

/// The dialect named "sqlite" or "postgresql"; throws std::invalid_argument for any other name.
inline Dialect dialect_of(std::string_view name) {
    if (name == "sqlite") return Dialect::sqlite;
    if (name == "postgresql") return Dialect::postgresql;
    throw std::invalid_argument(
        "migrator renders SQL for the dialects sqlite and postgresql, not '" + std::string(name) +
        "'");
}

/// Quoted identifiers separated by ", ": "a", "b".
inline std::string quote_list(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) {
        if (!text.empty()) text += ", ";
        text += quote_identifier(name);
    }
    return text;
}

/// A table name as SQL. On PostgreSQL a name with a dot is schema-qualified ("s"."t"), as
/// introspection reports a foreign key to a table in another schema; on SQLite it is one name.
inline std::string table_reference(Dialect dialect, std::string_view name) {
    const auto dot = name.find('.');
    if (dialect == Dialect::postgresql && dot != std::string_view::npos)
        return quote_identifier(name.substr(0, dot)) + "." + quote_identifier(name.substr(dot + 1));
    return quote_identifier(name);
}

/// The type as the dialect declares it (see the type table in docs/writing-revisions.md). SQLite
/// keeps declared type text verbatim, so each portable type has one spelling that parse_type reads
/// back.
inline std::string render_type(Dialect dialect, const schema::Type& type) {
    using schema::TypeKind;
    const bool pg = dialect == Dialect::postgresql;
    switch (type.kind) {
        case TypeKind::integer:
            return pg ? "integer" : "INTEGER";
        case TypeKind::big_integer:
            return pg ? "bigint" : "BIGINT";
        case TypeKind::text:
            return pg ? "text" : "TEXT";
        case TypeKind::varchar: {
            const std::string name = pg ? "varchar" : "VARCHAR";
            return type.length > 0 ? name + "(" + std::to_string(type.length) + ")" : name;
        }
        case TypeKind::boolean:
            return pg ? "boolean" : "BOOLEAN";
        case TypeKind::real:
            return pg ? "real" : "REAL";
        case TypeKind::double_precision:
            return pg ? "double precision" : "DOUBLE PRECISION";
        case TypeKind::numeric: {
            const std::string name = pg ? "numeric" : "NUMERIC";
            if (type.precision <= 0) return name;
            return name + "(" + std::to_string(type.precision) + "," + std::to_string(type.scale) +
                   ")";
        }
        case TypeKind::date:
            return pg ? "date" : "DATE";
        case TypeKind::timestamp:
            return pg ? "timestamp" : "TIMESTAMP";
        case TypeKind::blob:
            return pg ? "bytea" : "BLOB";
        case TypeKind::json:
            return pg ? "json" : "JSON";
        case TypeKind::raw:
            return type.sql;
        case TypeKind::small_integer:
            return pg ? "smallint" : "SMALLINT";
        case TypeKind::time:
            return pg ? "time" : "TIME";
        case TypeKind::timestamp_tz:
            return pg ? "timestamp with time zone" : "TIMESTAMP WITH TIME ZONE";
        case TypeKind::uuid:
            // SQLite has no uuid: SQLAlchemy's Uuid stores 32 hex digits there.
            return pg ? "uuid" : "CHAR(32)";
        case TypeKind::enumeration: {
            if (pg) return quote_identifier(type.sql);
            // SQLAlchemy's Enum on a database without enum types: VARCHAR of the longest label,
            // counted in characters.
            std::size_t longest = 0;
            for (const auto& label : type.values) {
                std::size_t characters = 0;
                for (unsigned char c : label) characters += (c & 0xC0u) != 0x80u;
                longest = std::max(longest, characters);
            }
            return "VARCHAR(" + std::to_string(longest) + ")";
        }
    }
    throw std::invalid_argument("unknown schema::TypeKind " +
                                std::to_string(static_cast<int>(type.kind)));
}

/// render_type for a dialect named as Context::dialect() names it.
inline std::string render_type(std::string_view dialect, const schema::Type& type) {
    return render_type(dialect_of(dialect), type);
}

/// PostgreSQL: the statement that creates the enum type of `type` (TypeKind::enumeration) unless
/// a type of its name exists, one statement that runs online and in an offline script alike.
/// Throws std::invalid_argument for an enumeration without labels.
inline std::string create_enum_sql(const schema::Type& type) {
    if (type.values.empty())
        throw std::invalid_argument("enumeration " + type.sql + " has no labels");
    std::string labels;
    for (const auto& label : type.values)
        labels += (labels.empty() ? "" : ", ") + quote_literal(label);
    const std::string create =
        "CREATE TYPE " + quote_identifier(type.sql) + " AS ENUM (" + labels + ")";
    // A dollar quote no label or name can end: the tag is refused inside them.
    if (create.find("$migrator$") != std::string::npos)
        throw std::invalid_argument("enumeration " + type.sql + " contains $migrator$");
    return "DO $migrator$ BEGIN " + create +
           "; EXCEPTION WHEN duplicate_object THEN NULL; END $migrator$";
}

/// PostgreSQL: DROP TYPE IF EXISTS for the enum type `name`.
inline std::string drop_enum_sql(std::string_view name) {
    return "DROP TYPE IF EXISTS " + quote_identifier(name);
}

namespace detail {

inline std::string upper_ascii(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

inline bool contains(const std::vector<std::string>& names, const std::string& name) {
    for (const auto& candidate : names)
        if (candidate == name) return true;
    return false;
}

/// " ON DELETE CASCADE" for a known action, "" for none or NO ACTION; throws
/// std::invalid_argument for anything else, so no stray text reaches the SQL.
inline std::string action_clause(const char* event, const std::string& action) {
    const std::string upper = upper_ascii(action);
    if (upper.empty() || upper == "NO ACTION") return {};
    if (upper == "CASCADE" || upper == "SET NULL" || upper == "SET DEFAULT" || upper == "RESTRICT")
        return std::string(" ON ") + event + " " + upper;
    throw std::invalid_argument("foreign key action '" + action +
                                "' is none of CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION");
}

}  // namespace detail

/// One column as CREATE TABLE and ADD COLUMN write it: "name" TYPE [NOT NULL] [DEFAULT expr].
/// An autoincrement column is an identity column on PostgreSQL (GENERATED BY DEFAULT AS
/// IDENTITY); on SQLite it is the rowid alias, `INTEGER NOT NULL PRIMARY KEY`, which
/// create_table_sql allows only as the table's whole primary key. Throws std::invalid_argument
/// for an autoincrement column with a default.
inline std::string column_definition(Dialect dialect, const schema::Column& column) {
    if (column.autoincrement && column.default_sql)
        throw std::invalid_argument("column " + column.name +
                                    " is autoincrement and has a default; it can only be one");
    std::string text = quote_identifier(column.name);
    if (column.autoincrement && dialect == Dialect::sqlite) {
        // SQLite's integers are 64-bit; only the exact type name INTEGER makes the rowid alias.
        const auto kind = column.type.kind;
        if (kind != schema::TypeKind::integer && kind != schema::TypeKind::big_integer)
            throw std::invalid_argument(
                "SQLite autoincrements only an integer primary key, and "
                "column " +
                column.name + " is " + render_type(dialect, column.type));
        return text + " INTEGER NOT NULL PRIMARY KEY";
    }
    const std::string type = render_type(dialect, column.type);
    if (!type.empty()) text += " " + type;
    if (column.autoincrement) text += " GENERATED BY DEFAULT AS IDENTITY";
    if (!column.nullable) text += " NOT NULL";
    if (column.default_sql) text += " DEFAULT " + *column.default_sql;
    return text;
}

/// [CONSTRAINT "name"] UNIQUE ("a", "b")
inline std::string unique_clause(const schema::UniqueConstraint& constraint) {
    const std::string name = constraint.name.empty()
                                 ? std::string()
                                 : "CONSTRAINT " + quote_identifier(constraint.name) + " ";
    return name + "UNIQUE (" + quote_list(constraint.columns) + ")";
}

/// [CONSTRAINT "name"] FOREIGN KEY ("a") REFERENCES "t" ("id") [ON DELETE ...] [ON UPDATE ...];
/// no referred columns: the referred table's primary key.
inline std::string foreign_key_clause(Dialect dialect, const schema::ForeignKey& key) {
    std::string text =
        key.name.empty() ? std::string() : "CONSTRAINT " + quote_identifier(key.name) + " ";
    text += "FOREIGN KEY (" + quote_list(key.columns) + ") REFERENCES " +
            table_reference(dialect, key.referred_table);
    if (!key.referred_columns.empty()) text += " (" + quote_list(key.referred_columns) + ")";
    return text + detail::action_clause("DELETE", key.on_delete) +
           detail::action_clause("UPDATE", key.on_update);
}

/// CREATE TABLE with its columns, primary key, unique constraints and foreign keys. Primary key
/// columns are NOT NULL on both dialects (PostgreSQL's rule). Throws std::invalid_argument for
/// a table SQLite cannot have: an autoincrement column that is not its whole primary key.
inline std::string create_table_sql(Dialect dialect, const schema::Table& table) {
    std::vector<std::string> parts;
    bool inline_key = false;
    for (auto column : table.columns) {
        if (detail::contains(table.primary_key_columns, column.name)) column.nullable = false;
        if (column.autoincrement && dialect == Dialect::sqlite) {
            if (table.primary_key_columns != std::vector<std::string>{column.name})
                throw std::invalid_argument(
                    "SQLite autoincrements only a table's whole primary key (INTEGER PRIMARY KEY), "
                    "and column " +
                    table.name + "." + column.name + " is not the primary key of " + table.name);
            inline_key = true;
        }
        parts.push_back(column_definition(dialect, column));
    }
    if (!table.primary_key_columns.empty() && !inline_key)
        parts.push_back("PRIMARY KEY (" + quote_list(table.primary_key_columns) + ")");
    for (const auto& unique : table.unique_constraints) parts.push_back(unique_clause(unique));
    for (const auto& key : table.foreign_keys) parts.push_back(foreign_key_clause(dialect, key));
    std::string text = "CREATE TABLE " + quote_identifier(table.name) + " (";
    for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + parts[i];
    return text + ")";
}

inline std::string drop_table_sql(const std::string& table) {
    return "DROP TABLE " + quote_identifier(table);
}

inline std::string rename_table_sql(const std::string& from, const std::string& to) {
    return "ALTER TABLE " + quote_identifier(from) + " RENAME TO " + quote_identifier(to);
}

/// ALTER TABLE ... ADD COLUMN; on SQLite only for a column sqlite_adds_in_place accepts.
inline std::string add_column_sql(Dialect dialect, const std::string& table,
                                  const schema::Column& column) {
    return "ALTER TABLE " + quote_identifier(table) + " ADD COLUMN " +
           column_definition(dialect, column);
}

inline std::string drop_column_sql(const std::string& table, const std::string& column) {
    return "ALTER TABLE " + quote_identifier(table) + " DROP COLUMN " + quote_identifier(column);
}

inline std::string rename_column_sql(const std::string& table, const std::string& from,
                                     const std::string& to) {
    return "ALTER TABLE " + quote_identifier(table) + " RENAME COLUMN " + quote_identifier(from) +
           " TO " + quote_identifier(to);
}

/// PostgreSQL's ALTER TABLE for a column change, "" when the change changes nothing. A new type
/// converts with USING "column"::type, so every explicit cast works, not only the implicit
/// ones. SQLite has no such statement (Operations rebuilds the table): std::invalid_argument.
inline std::string alter_column_sql(Dialect dialect, const std::string& table,
                                    const std::string& column, const schema::ColumnChange& change) {
    if (dialect != Dialect::postgresql)
        throw std::invalid_argument(
            "SQLite cannot alter a column in place; Operations rebuilds "
            "the table instead");
    const std::string target = "ALTER COLUMN " + quote_identifier(column);
    std::vector<std::string> parts;
    if (change.new_default && !*change.new_default) parts.push_back(target + " DROP DEFAULT");
    if (change.new_type) {
        const std::string type = render_type(dialect, *change.new_type);
        parts.push_back(target + " TYPE " + type + " USING " + quote_identifier(column) +
                        "::" + type);
    }
    if (change.new_nullable)
        parts.push_back(target + (*change.new_nullable ? " DROP NOT NULL" : " SET NOT NULL"));
    if (change.new_default && *change.new_default)
        parts.push_back(target + " SET DEFAULT " + **change.new_default);
    if (parts.empty()) return {};
    std::string text = "ALTER TABLE " + quote_identifier(table) + " ";
    for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + parts[i];
    return text;
}

inline std::string create_index_sql(const schema::Index& index) {
    return std::string(index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") +
           quote_identifier(index.name) + " ON " + quote_identifier(index.table) + " (" +
           quote_list(index.columns) + ")";
}

inline std::string drop_index_sql(const std::string& name) {
    return "DROP INDEX " + quote_identifier(name);
}

/// PostgreSQL: ALTER TABLE ... ADD [CONSTRAINT "name"] UNIQUE (...).
inline std::string add_unique_constraint_sql(const std::string& table,
                                             const schema::UniqueConstraint& constraint) {
    return "ALTER TABLE " + quote_identifier(table) + " ADD " + unique_clause(constraint);
}

/// PostgreSQL: ALTER TABLE ... ADD [CONSTRAINT "name"] FOREIGN KEY (...) REFERENCES ...
inline std::string add_foreign_key_sql(Dialect dialect, const std::string& table,
                                       const schema::ForeignKey& key) {
    return "ALTER TABLE " + quote_identifier(table) + " ADD " + foreign_key_clause(dialect, key);
}

/// PostgreSQL: ALTER TABLE ... DROP CONSTRAINT "name".
inline std::string drop_constraint_sql(const std::string& table, const std::string& name) {
    return "ALTER TABLE " + quote_identifier(table) + " DROP CONSTRAINT " + quote_identifier(name);
}

/// Whether SQLite's ALTER TABLE ADD COLUMN can add the column: not a key (autoincrement), and
/// not NOT NULL without a default, nor with a default SQLite refuses there (CURRENT_TIME,
/// CURRENT_DATE, CURRENT_TIMESTAMP, an expression in parentheses). Otherwise the table is rebuilt.
inline bool sqlite_adds_in_place(const schema::Column& column) {
    if (column.autoincrement) return false;
    if (!column.default_sql) return column.nullable;
    const std::string value = detail::upper_ascii(*column.default_sql);
    if (value.rfind("CURRENT_", 0) == 0 || value.rfind('(', 0) == 0) return false;
    return column.nullable || value != "NULL";
}

/// What a SQLite table rebuild needs to know, gathered from the database by Operations.
struct TableRebuild {
    /// A table re-created from its own CREATE TABLE text around the rebuild, because it has a
    /// foreign key into the rebuilt table with an ON DELETE action (SQLite would apply it to its
    /// rows when the old table is dropped), or into another such table.
    struct Dependant {
        std::string name;
        std::string create_sql;
        std::vector<std::string> columns;
        std::vector<std::string> index_sql;    ///< its CREATE INDEX statements
        std::vector<std::string> trigger_sql;  ///< its CREATE TRIGGER statements
        std::optional<std::string> sequence;   ///< its sqlite_sequence value (AUTOINCREMENT)
    };
    schema::Table table;                   ///< the new definition, under the table's name
    std::vector<std::string> old_columns;  ///< every column of the table as it is now
    std::vector<std::string> index_sql;    ///< CREATE INDEX statements to run again
    std::vector<std::string> trigger_sql;  ///< CREATE TRIGGER statements to run again
    std::vector<Dependant> dependants;     ///< parents before children
};

/// The name of the table holding a table's rows during a rebuild.
inline std::string rebuild_holding_table(const std::string& table) {
    return "_migrator_tmp_" + table;
}

/// The statements of a SQLite table rebuild, run in the revision's transaction: copy the rows
/// out into holding tables (typeless columns, so no value is converted), drop the dependants and
/// the table, create the new table under its own name, copy the rows back (columns of the new
/// definition that the old table had), re-create the dependants, drop the holding tables, and
/// run the indexes and triggers again. The caller switches PRAGMA defer_foreign_keys on first:
/// dropping the table counts the rows of other tables that point into it as violations, and
/// inserting the same keys into the new table under the same name counts them off again.
/// (Alembic's order, create the new table under a temporary name and rename it, leaves them
/// counted, and the COMMIT fails.)
inline std::vector<std::string> sqlite_rebuild_sql(const TableRebuild& rebuild) {
    std::vector<std::string> statements;
    const auto copy = [&](const std::string& to, const std::vector<std::string>& to_columns,
                          const std::string& from, const std::vector<std::string>& from_columns) {
        statements.push_back("INSERT INTO " + quote_identifier(to) + " (" + quote_list(to_columns) +
                             ") SELECT " + quote_list(from_columns) + " FROM " +
                             quote_identifier(from));
    };
    const auto hold = [&](const std::string& table, const std::vector<std::string>& columns) {
        const std::string holding = rebuild_holding_table(table);
        statements.push_back("CREATE TABLE " + quote_identifier(holding) + " (" +
                             quote_list(columns) + ")");
        copy(holding, columns, table, columns);
    };
    hold(rebuild.table.name, rebuild.old_columns);
    for (const auto& dependant : rebuild.dependants) hold(dependant.name, dependant.columns);
    for (auto it = rebuild.dependants.rbegin(); it != rebuild.dependants.rend(); ++it)
        statements.push_back(drop_table_sql(it->name));
    statements.push_back(drop_table_sql(rebuild.table.name));

    statements.push_back(create_table_sql(Dialect::sqlite, rebuild.table));
    std::vector<std::string> kept;
    for (const auto& column : rebuild.table.columns)
        if (detail::contains(rebuild.old_columns, column.name)) kept.push_back(column.name);
    if (!kept.empty())
        copy(rebuild.table.name, kept, rebuild_holding_table(rebuild.table.name), kept);
    for (const auto& dependant : rebuild.dependants) {
        statements.push_back(dependant.create_sql);
        copy(dependant.name, dependant.columns, rebuild_holding_table(dependant.name),
             dependant.columns);
    }
    statements.push_back(drop_table_sql(rebuild_holding_table(rebuild.table.name)));
    for (const auto& dependant : rebuild.dependants)
        statements.push_back(drop_table_sql(rebuild_holding_table(dependant.name)));

    statements.insert(statements.end(), rebuild.index_sql.begin(), rebuild.index_sql.end());
    statements.insert(statements.end(), rebuild.trigger_sql.begin(), rebuild.trigger_sql.end());
    for (const auto& dependant : rebuild.dependants) {
        statements.insert(statements.end(), dependant.index_sql.begin(), dependant.index_sql.end());
        statements.insert(statements.end(), dependant.trigger_sql.begin(),
                          dependant.trigger_sql.end());
        if (!dependant.sequence) continue;
        // Re-inserting the rows sets the counter to the highest id left; keep the old one.
        const std::string name = quote_literal(dependant.name);
        statements.push_back("UPDATE sqlite_sequence SET seq = max(seq, " + *dependant.sequence +
                             ") WHERE name = " + name);
        statements.push_back(
            "INSERT INTO sqlite_sequence (name, seq) SELECT " + name + ", " + *dependant.sequence +
            " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = " + name + ")");
    }
    return statements;
}

/// The first word of a CREATE TABLE text that names something a rebuild from the portable model
/// would lose (CHECK, COLLATE, GENERATED/AS, AUTOINCREMENT, WITHOUT ROWID, DEFERRABLE, ON
/// CONFLICT), "" if there is none. Quoted names, strings and comments are skipped.
inline std::string sqlite_feature_lost_in_rebuild(std::string_view create_sql) {
    static const char* const lost[] = {"CHECK",         "COLLATE", "GENERATED",  "AS",
                                       "AUTOINCREMENT", "WITHOUT", "DEFERRABLE", "CONFLICT"};
    std::size_t i = 0;
    const auto skip_to = [&](char close) {
        for (++i; i < create_sql.size(); ++i) {
            if (create_sql[i] != close) continue;
            // A doubled quote is one quote inside the name or string.
            if (i + 1 < create_sql.size() && create_sql[i + 1] == close && close != ']') {
                ++i;
                continue;
            }
            break;
        }
        ++i;
    };
    while (i < create_sql.size()) {
        const char c = create_sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            skip_to(c);
        } else if (c == '[') {
            skip_to(']');
        } else if (c == '-' && i + 1 < create_sql.size() && create_sql[i + 1] == '-') {
            while (i < create_sql.size() && create_sql[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < create_sql.size() && create_sql[i + 1] == '*') {
            const auto end = create_sql.find("*/", i + 2);
            i = end == std::string_view::npos ? create_sql.size() : end + 2;
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            const std::size_t start = i;
            while (
                i < create_sql.size() &&
                (std::isalnum(static_cast<unsigned char>(create_sql[i])) || create_sql[i] == '_'))
                ++i;
            const std::string word = detail::upper_ascii(create_sql.substr(start, i - start));
            for (const char* name : lost)
                if (word == name) return word;
        } else {
            ++i;
        }
    }
    return {};
}

}  // namespace migrator::sql

#endif  // MIGRATOR_SQL_HPP
