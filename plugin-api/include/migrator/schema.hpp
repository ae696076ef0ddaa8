// migrator schema model: tables, columns, portable types, keys and indexes, as plain values.
// Header-only and standard-library-only: revisions build them for the portable operations
// (operations.hpp), introspection (introspection.hpp) returns them, the host diffs them.
#ifndef MIGRATOR_SCHEMA_HPP
#define MIGRATOR_SCHEMA_HPP

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace migrator::schema {

/// The portable type set; `raw` carries a dialect-specific type as written.
enum class TypeKind {
    integer,
    big_integer,
    text,
    varchar,
    boolean,
    real,
    double_precision,
    numeric,
    date,
    timestamp,
    blob,
    json,
    raw,
};

/// A column type: a portable kind with its parameters, rendered per dialect by operations.hpp.
struct Type {
    TypeKind kind = TypeKind::text;
    int length = 0;     ///< varchar(length)
    int precision = 0;  ///< numeric(precision, scale)
    int scale = 0;
    std::string sql;  ///< TypeKind::raw: the type as the dialect writes it

    static Type integer() { return of(TypeKind::integer); }
    static Type big_integer() { return of(TypeKind::big_integer); }
    static Type text() { return of(TypeKind::text); }
    static Type varchar(int length) { return of(TypeKind::varchar, length); }
    static Type boolean() { return of(TypeKind::boolean); }
    static Type real() { return of(TypeKind::real); }
    static Type double_precision() { return of(TypeKind::double_precision); }
    static Type numeric(int precision, int scale) {
        return of(TypeKind::numeric, 0, precision, scale);
    }
    static Type date() { return of(TypeKind::date); }
    static Type timestamp() { return of(TypeKind::timestamp); }
    static Type blob() { return of(TypeKind::blob); }
    static Type json() { return of(TypeKind::json); }
    /// A type outside the portable set, passed to the database as written (e.g. "uuid").
    static Type raw(std::string sql_text) {
        Type t = of(TypeKind::raw);
        t.sql = std::move(sql_text);
        return t;
    }
    /// A type of the given kind and parameters.
    static Type of(TypeKind kind, int length = 0, int precision = 0, int scale = 0) {
        Type t;
        t.kind = kind;
        t.length = length;
        t.precision = precision;
        t.scale = scale;
        return t;
    }

    friend bool operator==(const Type& a, const Type& b) {
        return a.kind == b.kind && a.length == b.length && a.precision == b.precision &&
               a.scale == b.scale && a.sql == b.sql;
    }
    friend bool operator!=(const Type& a, const Type& b) { return !(a == b); }
};

/// The portable spelling of a type, for people ("VARCHAR(20)", "NUMERIC(10, 2)"); a raw type
/// as written. What a dialect's SQL says is sql.hpp's render_type.
inline std::string portable_name(const Type& type) {
    switch (type.kind) {
        case TypeKind::integer:
            return "INTEGER";
        case TypeKind::big_integer:
            return "BIGINT";
        case TypeKind::text:
            return "TEXT";
        case TypeKind::varchar:
            return "VARCHAR(" + std::to_string(type.length) + ")";
        case TypeKind::boolean:
            return "BOOLEAN";
        case TypeKind::real:
            return "REAL";
        case TypeKind::double_precision:
            return "DOUBLE PRECISION";
        case TypeKind::numeric:
            return "NUMERIC(" + std::to_string(type.precision) + ", " + std::to_string(type.scale) +
                   ")";
        case TypeKind::date:
            return "DATE";
        case TypeKind::timestamp:
            return "TIMESTAMP";
        case TypeKind::blob:
            return "BLOB";
        case TypeKind::json:
            return "JSON";
        case TypeKind::raw:
            return type.sql;
    }
    return type.sql;
}

/// One column. `default_sql` is an SQL expression as the dialect writes it ("0", "'new'",
/// "CURRENT_TIMESTAMP"), not a value.
struct Column {
    std::string name;
    Type type;
    bool nullable = true;
    std::optional<std::string> default_sql;
    /// SQLite: the INTEGER PRIMARY KEY rowid alias; PostgreSQL: an identity (or serial) column.
    bool autoincrement = false;

    Column() = default;
    Column(std::string column_name, Type column_type)
        : name(std::move(column_name)), type(std::move(column_type)) {}
    Column& not_null() {
        nullable = false;
        return *this;
    }
    Column& default_value(std::string sql_expression) {
        default_sql = std::move(sql_expression);
        return *this;
    }
    Column& auto_increment() {
        autoincrement = true;
        return *this;
    }

    friend bool operator==(const Column& a, const Column& b) {
        return a.name == b.name && a.type == b.type && a.nullable == b.nullable &&
               a.default_sql == b.default_sql && a.autoincrement == b.autoincrement;
    }
    friend bool operator!=(const Column& a, const Column& b) { return !(a == b); }
};

/// What alter_column changes: each part left unset stays as it is.
struct ColumnChange {
    std::optional<Type> new_type;
    std::optional<bool> new_nullable;
    /// Set to std::nullopt inside to drop the default.
    std::optional<std::optional<std::string>> new_default;

    ColumnChange& type(Type t) {
        new_type = std::move(t);
        return *this;
    }
    ColumnChange& nullable(bool allow_null) {
        new_nullable = allow_null;
        return *this;
    }
    ColumnChange& default_value(std::string sql_expression) {
        new_default = std::optional<std::string>(std::move(sql_expression));
        return *this;
    }
    ColumnChange& drop_default() {
        new_default = std::optional<std::string>();
        return *this;
    }
};

/// A foreign key. `name` may be empty (the database picks one; SQLite does not report it).
/// `on_delete`/`on_update` are the SQL actions ("CASCADE", "SET NULL", ...), empty for the
/// default (NO ACTION).
struct ForeignKey {
    std::string name;
    std::vector<std::string> columns;
    std::string referred_table;
    std::vector<std::string> referred_columns;
    std::string on_delete;
    std::string on_update;

    /// A foreign key in one expression: ForeignKey::make("fk_a_t", {"t_id"}, "t", {"id"},
    /// "CASCADE"). Empty referred columns mean the referred table's primary key.
    static ForeignKey make(std::string key_name, std::vector<std::string> key_columns,
                           std::string referred, std::vector<std::string> referred_key,
                           std::string delete_action = "", std::string update_action = "") {
        ForeignKey key;
        key.name = std::move(key_name);
        key.columns = std::move(key_columns);
        key.referred_table = std::move(referred);
        key.referred_columns = std::move(referred_key);
        key.on_delete = std::move(delete_action);
        key.on_update = std::move(update_action);
        return key;
    }

    /// Same constraint, names aside (SQLite does not keep foreign key names).
    bool same_as(const ForeignKey& other) const {
        return columns == other.columns && referred_table == other.referred_table &&
               referred_columns == other.referred_columns && on_delete == other.on_delete &&
               on_update == other.on_update;
    }
};

/// A UNIQUE constraint declared with the table (not a unique index). `name` may be empty.
struct UniqueConstraint {
    std::string name;
    std::vector<std::string> columns;

    /// A unique constraint in one expression: UniqueConstraint::make("uq_t_a", {"a"}).
    static UniqueConstraint make(std::string constraint_name, std::vector<std::string> names) {
        UniqueConstraint constraint;
        constraint.name = std::move(constraint_name);
        constraint.columns = std::move(names);
        return constraint;
    }
};

/// An index created with CREATE [UNIQUE] INDEX (not one backing a key or UNIQUE constraint).
struct Index {
    std::string name;
    std::string table;
    std::vector<std::string> columns;
    bool unique = false;

    Index() = default;
    Index(std::string index_name, std::string table_name, std::vector<std::string> index_columns)
        : name(std::move(index_name)),
          table(std::move(table_name)),
          columns(std::move(index_columns)) {}
    Index& make_unique() {
        unique = true;
        return *this;
    }
};

/// A table: columns in order, its primary key (column names, empty for none), and the
/// constraints declared with it.
struct Table {
    std::string name;
    std::vector<Column> columns;
    std::vector<std::string> primary_key_columns;
    std::vector<UniqueConstraint> unique_constraints;
    std::vector<ForeignKey> foreign_keys;

    Table() = default;
    explicit Table(std::string table_name) : name(std::move(table_name)) {}
    Table& column(Column c) {
        columns.push_back(std::move(c));
        return *this;
    }
    Table& primary_key(std::vector<std::string> column_names) {
        primary_key_columns = std::move(column_names);
        return *this;
    }
    Table& unique(UniqueConstraint constraint) {
        unique_constraints.push_back(std::move(constraint));
        return *this;
    }
    Table& foreign_key(ForeignKey key) {
        foreign_keys.push_back(std::move(key));
        return *this;
    }

    /// The named column, or nullptr.
    const Column* find_column(const std::string& column_name) const {
        for (const auto& c : columns)
            if (c.name == column_name) return &c;
        return nullptr;
    }
};

/// A whole schema as introspection sees it: the application's tables and their indexes, each
/// list sorted by name (migrator's own version and history tables excluded).
struct Schema {
    std::vector<Table> tables;
    std::vector<Index> indexes;

    const Table* find_table(const std::string& table_name) const {
        for (const auto& t : tables)
            if (t.name == table_name) return &t;
        return nullptr;
    }
};

}  // namespace migrator::schema

#endif  // MIGRATOR_SCHEMA_HPP
