// The bodies of the schema model (schema.hpp) a revision builds values with, compiled once into
// the plugin-api support library instead of into every revision that builds a table. What only
// the host uses (assignment, comparison, the vector overloads) is in schema_values.cpp.
#include <migrator/schema.hpp>
#include <utility>

namespace migrator::schema {

namespace {

std::vector<std::string> names_of(Names names) {
    std::vector<std::string> out;
    out.reserve(names.size());
    for (std::string_view name : names) out.emplace_back(name);
    return out;
}

}  // namespace

Type::Type() = default;
Type::~Type() = default;
Type::Type(const Type&) = default;
Type::Type(Type&&) noexcept = default;

Type Type::integer() { return of(TypeKind::integer); }
Type Type::big_integer() { return of(TypeKind::big_integer); }
Type Type::text() { return of(TypeKind::text); }
Type Type::varchar(int length) { return of(TypeKind::varchar, length); }
Type Type::boolean() { return of(TypeKind::boolean); }
Type Type::real() { return of(TypeKind::real); }
Type Type::double_precision() { return of(TypeKind::double_precision); }
Type Type::numeric(int precision, int scale) { return of(TypeKind::numeric, 0, precision, scale); }
Type Type::date() { return of(TypeKind::date); }
Type Type::timestamp() { return of(TypeKind::timestamp); }
Type Type::blob() { return of(TypeKind::blob); }
Type Type::json() { return of(TypeKind::json); }
Type Type::small_integer() { return of(TypeKind::small_integer); }
Type Type::time() { return of(TypeKind::time); }
Type Type::timestamp_tz() { return of(TypeKind::timestamp_tz); }
Type Type::uuid() { return of(TypeKind::uuid); }

Type Type::enumeration(std::string_view type_name, Names labels) {
    return enumeration(type_name, std::vector<std::string>(labels.begin(), labels.end()));
}

Type Type::enumeration(std::string_view type_name, const std::vector<std::string>& labels) {
    Type t = of(TypeKind::enumeration);
    t.sql = std::string(type_name);
    t.values = labels;
    return t;
}

Type Type::raw(std::string_view sql_text) {
    Type t = of(TypeKind::raw);
    t.sql = std::string(sql_text);
    return t;
}

Type Type::of(TypeKind kind, int length, int precision, int scale) {
    Type t;
    t.kind = kind;
    t.length = length;
    t.precision = precision;
    t.scale = scale;
    return t;
}

Column::Column() = default;
Column::~Column() = default;
Column::Column(const Column&) = default;
Column::Column(Column&&) noexcept = default;

Column::Column(std::string_view column_name, const Type& column_type)
    : name(column_name), type(column_type) {}

Column& Column::not_null() {
    nullable = false;
    return *this;
}

Column& Column::default_value(std::string_view sql_expression) {
    default_sql = std::string(sql_expression);
    return *this;
}

Column& Column::auto_increment() {
    autoincrement = true;
    return *this;
}

ColumnChange::ColumnChange() = default;
ColumnChange::~ColumnChange() = default;
ColumnChange::ColumnChange(const ColumnChange&) = default;
ColumnChange::ColumnChange(ColumnChange&&) noexcept = default;

ColumnChange& ColumnChange::type(const Type& t) {
    new_type.emplace(t);
    return *this;
}

ColumnChange& ColumnChange::nullable(bool allow_null) {
    new_nullable = allow_null;
    return *this;
}

ColumnChange& ColumnChange::default_value(std::string_view sql_expression) {
    new_default = std::optional<std::string>(std::string(sql_expression));
    return *this;
}

ColumnChange& ColumnChange::drop_default() {
    new_default = std::optional<std::string>();
    return *this;
}

ForeignKey::ForeignKey() = default;
ForeignKey::~ForeignKey() = default;
ForeignKey::ForeignKey(const ForeignKey&) = default;
ForeignKey::ForeignKey(ForeignKey&&) noexcept = default;

ForeignKey::ForeignKey(std::string_view key_name, Names key_columns, std::string_view referred,
                       Names referred_key, std::string_view delete_action,
                       std::string_view update_action)
    : name(key_name),
      columns(names_of(key_columns)),
      referred_table(referred),
      referred_columns(names_of(referred_key)),
      on_delete(delete_action),
      on_update(update_action) {}

ForeignKey ForeignKey::make(std::string_view key_name, Names key_columns, std::string_view referred,
                            Names referred_key, std::string_view delete_action,
                            std::string_view update_action) {
    return ForeignKey(key_name, key_columns, referred, referred_key, delete_action, update_action);
}

UniqueConstraint::UniqueConstraint() = default;
UniqueConstraint::~UniqueConstraint() = default;
UniqueConstraint::UniqueConstraint(const UniqueConstraint&) = default;
UniqueConstraint::UniqueConstraint(UniqueConstraint&&) noexcept = default;

UniqueConstraint::UniqueConstraint(std::string_view constraint_name, Names names)
    : name(constraint_name), columns(names_of(names)) {}

UniqueConstraint UniqueConstraint::make(std::string_view constraint_name, Names names) {
    return UniqueConstraint(constraint_name, names);
}

Index::Index() = default;
Index::~Index() = default;
Index::Index(const Index&) = default;
Index::Index(Index&&) noexcept = default;

Index::Index(std::string_view index_name, std::string_view table_name, Names index_columns)
    : name(index_name), table(table_name), columns(names_of(index_columns)) {}

Index& Index::make_unique() {
    unique = true;
    return *this;
}

Table::Table() = default;
Table::~Table() = default;
Table::Table(const Table&) = default;
Table::Table(Table&&) noexcept = default;

Table::Table(std::string_view table_name) : name(table_name) {}

Table& Table::column(const Column& c) {
    columns.push_back(c);
    return *this;
}

Table& Table::primary_key(Names column_names) {
    primary_key_columns = names_of(column_names);
    return *this;
}

Table& Table::unique(const UniqueConstraint& constraint) {
    unique_constraints.push_back(constraint);
    return *this;
}

Table& Table::foreign_key(const ForeignKey& key) {
    foreign_keys.push_back(key);
    return *this;
}

}  // namespace migrator::schema
