// migrator schema model: tables, columns, portable types, keys and indexes, as plain values.
// One definition for both sides: revisions build them for the portable operations (operations.hpp
// encodes them for the host), the host's introspection returns them and its schema diff compares
// them. Declarations only: every body lives in the plugin-api support library (src/schema.cpp),
// so a revision compiles none of the containers' code.
#ifndef MIGRATOR_SCHEMA_HPP
#define MIGRATOR_SCHEMA_HPP

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace migrator::schema {

/// Column names as a revision writes them: {"customer_id", "number"}.
using Names = std::initializer_list<std::string_view>;

/// The portable type set; `raw` carries a dialect-specific type as written. The values are part
/// of the operation encoding (plugin-api/operation_encoding.md): only ever append.
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
    small_integer,
    time,          ///< a time of day, without time zone
    timestamp_tz,  ///< a timestamp with time zone (PostgreSQL's timestamptz)
    uuid,
    enumeration,  ///< one of `values`; PostgreSQL: the enum type named `sql`
};

/// A column type: a portable kind with its parameters, rendered per dialect by the host.
struct Type {
    TypeKind kind = TypeKind::text;
    int length = 0;     ///< varchar(length)
    int precision = 0;  ///< numeric(precision, scale)
    int scale = 0;
    std::string sql;  ///< TypeKind::raw: the type as the dialect writes it; enumeration: its name
    std::vector<std::string> values;  ///< TypeKind::enumeration: its labels, in order

    Type();
    ~Type();
    Type(const Type&);
    Type(Type&&) noexcept;
    Type& operator=(const Type&);
    Type& operator=(Type&&) noexcept;

    static Type integer();
    static Type big_integer();
    static Type text();
    static Type varchar(int length);
    static Type boolean();
    static Type real();
    static Type double_precision();
    static Type numeric(int precision, int scale);
    static Type date();
    static Type timestamp();
    static Type blob();
    static Type json();
    static Type small_integer();
    static Type time();
    static Type timestamp_tz();
    /// PostgreSQL's uuid; SQLite: CHAR(32), as SQLAlchemy's Uuid.
    static Type uuid();
    /// An enumeration of `labels` named `type_name`: on PostgreSQL the enum type of that name,
    /// which create_table, add_column and alter_column create when it does not exist yet (and
    /// Operations::drop_enum drops); on SQLite VARCHAR of the longest label, as SQLAlchemy's Enum.
    static Type enumeration(std::string_view type_name, Names labels);
    static Type enumeration(std::string_view type_name, const std::vector<std::string>& labels);
    /// A type outside the portable set, passed to the database as written (e.g. "uuid").
    static Type raw(std::string_view sql_text);
    /// A type of the given kind and parameters.
    static Type of(TypeKind kind, int length = 0, int precision = 0, int scale = 0);

    friend bool operator==(const Type& a, const Type& b);
    friend bool operator!=(const Type& a, const Type& b) { return !(a == b); }
};

/// The portable spelling of a type, for people ("VARCHAR(20)", "NUMERIC(10, 2)"); a raw type
/// as written. What a dialect's SQL says is the host's sql::render_type.
std::string portable_name(const Type& type);

/// One column. `default_sql` is an SQL expression as the dialect writes it ("0", "'new'",
/// "CURRENT_TIMESTAMP"), not a value.
struct Column {
    std::string name;
    Type type;
    bool nullable = true;
    std::optional<std::string> default_sql;
    /// SQLite: the INTEGER PRIMARY KEY rowid alias; PostgreSQL: an identity (or serial) column.
    bool autoincrement = false;

    Column();
    ~Column();
    Column(const Column&);
    Column(Column&&) noexcept;
    Column& operator=(const Column&);
    Column& operator=(Column&&) noexcept;
    Column(std::string_view column_name, const Type& column_type);

    Column& not_null();
    Column& default_value(std::string_view sql_expression);
    Column& auto_increment();

    friend bool operator==(const Column& a, const Column& b);
    friend bool operator!=(const Column& a, const Column& b) { return !(a == b); }
};

/// What alter_column changes: each part left unset stays as it is.
struct ColumnChange {
    std::optional<Type> new_type;
    std::optional<bool> new_nullable;
    /// Set to std::nullopt inside to drop the default.
    std::optional<std::optional<std::string>> new_default;

    ColumnChange();
    ~ColumnChange();
    ColumnChange(const ColumnChange&);
    ColumnChange(ColumnChange&&) noexcept;
    ColumnChange& operator=(const ColumnChange&);
    ColumnChange& operator=(ColumnChange&&) noexcept;

    ColumnChange& type(const Type& t);
    ColumnChange& nullable(bool allow_null);
    ColumnChange& default_value(std::string_view sql_expression);
    ColumnChange& drop_default();
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

    ForeignKey();
    ~ForeignKey();
    ForeignKey(const ForeignKey&);
    ForeignKey(ForeignKey&&) noexcept;
    ForeignKey& operator=(const ForeignKey&);
    ForeignKey& operator=(ForeignKey&&) noexcept;
    /// ForeignKey{"fk_a_t", {"t_id"}, "t", {"id"}, "CASCADE", ""}, as make() below.
    ForeignKey(std::string_view key_name, Names key_columns, std::string_view referred,
               Names referred_key, std::string_view delete_action = {},
               std::string_view update_action = {});

    /// A foreign key in one expression: ForeignKey::make("fk_a_t", {"t_id"}, "t", {"id"},
    /// "CASCADE"). Empty referred columns mean the referred table's primary key.
    static ForeignKey make(std::string_view key_name, Names key_columns, std::string_view referred,
                           Names referred_key, std::string_view delete_action = {},
                           std::string_view update_action = {});
    /// The same with the columns in vectors.
    static ForeignKey make(std::string_view key_name, const std::vector<std::string>& key_columns,
                           std::string_view referred, const std::vector<std::string>& referred_key,
                           std::string_view delete_action = {},
                           std::string_view update_action = {});

    /// Same constraint, names aside (SQLite does not keep foreign key names).
    bool same_as(const ForeignKey& other) const;
};

/// A UNIQUE constraint declared with the table (not a unique index). `name` may be empty.
struct UniqueConstraint {
    std::string name;
    std::vector<std::string> columns;

    UniqueConstraint();
    ~UniqueConstraint();
    UniqueConstraint(const UniqueConstraint&);
    UniqueConstraint(UniqueConstraint&&) noexcept;
    UniqueConstraint& operator=(const UniqueConstraint&);
    UniqueConstraint& operator=(UniqueConstraint&&) noexcept;
    /// UniqueConstraint{"uq_t_a", {"a"}}, as make() below.
    UniqueConstraint(std::string_view constraint_name, Names names);

    /// A unique constraint in one expression: UniqueConstraint::make("uq_t_a", {"a"}).
    static UniqueConstraint make(std::string_view constraint_name, Names names);
    /// The same with the columns in a vector.
    static UniqueConstraint make(std::string_view constraint_name,
                                 const std::vector<std::string>& names);
};

/// An index created with CREATE [UNIQUE] INDEX (not one backing a key or UNIQUE constraint).
struct Index {
    std::string name;
    std::string table;
    std::vector<std::string> columns;
    bool unique = false;

    Index();
    ~Index();
    Index(const Index&);
    Index(Index&&) noexcept;
    Index& operator=(const Index&);
    Index& operator=(Index&&) noexcept;
    Index(std::string_view index_name, std::string_view table_name, Names index_columns);
    Index(std::string_view index_name, std::string_view table_name,
          const std::vector<std::string>& index_columns);

    Index& make_unique();
};

/// A table: columns in order, its primary key (column names, empty for none), and the
/// constraints declared with it.
struct Table {
    std::string name;
    std::vector<Column> columns;
    std::vector<std::string> primary_key_columns;
    std::vector<UniqueConstraint> unique_constraints;
    std::vector<ForeignKey> foreign_keys;

    Table();
    ~Table();
    Table(const Table&);
    Table(Table&&) noexcept;
    Table& operator=(const Table&);
    Table& operator=(Table&&) noexcept;
    explicit Table(std::string_view table_name);

    Table& column(const Column& c);
    Table& primary_key(Names column_names);
    Table& primary_key(const std::vector<std::string>& column_names);
    Table& unique(const UniqueConstraint& constraint);
    Table& foreign_key(const ForeignKey& key);

    /// The named column, or nullptr.
    const Column* find_column(std::string_view column_name) const;
};

/// A whole schema as introspection sees it: the application's tables and their indexes, each
/// list sorted by name (migrator's own version and history tables excluded).
struct Schema {
    std::vector<Table> tables;
    std::vector<Index> indexes;

    Schema();
    ~Schema();
    Schema(const Schema&);
    Schema(Schema&&) noexcept;
    Schema& operator=(const Schema&);
    Schema& operator=(Schema&&) noexcept;

    /// The named table, or nullptr.
    const Table* find_table(std::string_view table_name) const;
};

}  // namespace migrator::schema

#endif  // MIGRATOR_SCHEMA_HPP
