// migrator SQL text per dialect: quoting and the portable types, pure functions over schema.hpp.
// Header-only and standard-library-only; operations.hpp and introspection.hpp build on it, and
// tests compare its text without a database.
#ifndef MIGRATOR_SQL_HPP
#define MIGRATOR_SQL_HPP

#include <migrator/schema.hpp>
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

/// `name` as a double-quoted identifier, inner quotes doubled: "order", "a""b".
inline std::string quote_identifier(std::string_view name) {
    std::string quoted = "\"";
    for (char c : name) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + "\"";
}

/// `text` as a single-quoted string literal, inner quotes doubled: 'it''s'. Both dialects read
/// backslashes literally (PostgreSQL with standard_conforming_strings, its default).
inline std::string quote_literal(std::string_view text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'') quoted += '\'';
        quoted += c;
    }
    return quoted + "'";
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

/// The type as the dialect declares it (see the type table in README.md). SQLite keeps declared
/// type text verbatim, so each portable type has one spelling that parse_type reads back.
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
    }
    throw std::invalid_argument("unknown schema::TypeKind " +
                                std::to_string(static_cast<int>(type.kind)));
}

/// render_type for a dialect named as Context::dialect() names it.
inline std::string render_type(std::string_view dialect, const schema::Type& type) {
    return render_type(dialect_of(dialect), type);
}

}  // namespace migrator::sql

#endif  // MIGRATOR_SQL_HPP
