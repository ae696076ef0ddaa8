// The parts of the schema model (schema.hpp) the host uses and a revision does not: assignment,
// comparison and the vector overloads. An object file of its own, so a plugin leaves it out.
#include <migrator/schema.hpp>

namespace migrator::schema {

Type& Type::operator=(const Type&) = default;
Type& Type::operator=(Type&&) noexcept = default;
Column& Column::operator=(const Column&) = default;
Column& Column::operator=(Column&&) noexcept = default;
ColumnChange& ColumnChange::operator=(const ColumnChange&) = default;
ColumnChange& ColumnChange::operator=(ColumnChange&&) noexcept = default;
ForeignKey& ForeignKey::operator=(const ForeignKey&) = default;
ForeignKey& ForeignKey::operator=(ForeignKey&&) noexcept = default;
UniqueConstraint& UniqueConstraint::operator=(const UniqueConstraint&) = default;
UniqueConstraint& UniqueConstraint::operator=(UniqueConstraint&&) noexcept = default;
Index& Index::operator=(const Index&) = default;
Index& Index::operator=(Index&&) noexcept = default;
Table& Table::operator=(const Table&) = default;
Table& Table::operator=(Table&&) noexcept = default;

bool operator==(const Type& a, const Type& b) {
    return a.kind == b.kind && a.length == b.length && a.precision == b.precision &&
           a.scale == b.scale && a.sql == b.sql && a.values == b.values;
}

bool operator==(const Column& a, const Column& b) {
    return a.name == b.name && a.type == b.type && a.nullable == b.nullable &&
           a.default_sql == b.default_sql && a.autoincrement == b.autoincrement;
}

ForeignKey ForeignKey::make(std::string_view key_name, const std::vector<std::string>& key_columns,
                            std::string_view referred, const std::vector<std::string>& referred_key,
                            std::string_view delete_action, std::string_view update_action) {
    ForeignKey key;
    key.name = std::string(key_name);
    key.columns = key_columns;
    key.referred_table = std::string(referred);
    key.referred_columns = referred_key;
    key.on_delete = std::string(delete_action);
    key.on_update = std::string(update_action);
    return key;
}

bool ForeignKey::same_as(const ForeignKey& other) const {
    return columns == other.columns && referred_table == other.referred_table &&
           referred_columns == other.referred_columns && on_delete == other.on_delete &&
           on_update == other.on_update;
}

UniqueConstraint UniqueConstraint::make(std::string_view constraint_name,
                                        const std::vector<std::string>& names) {
    UniqueConstraint constraint;
    constraint.name = std::string(constraint_name);
    constraint.columns = names;
    return constraint;
}

Index::Index(std::string_view index_name, std::string_view table_name,
             const std::vector<std::string>& index_columns)
    : name(index_name), table(table_name), columns(index_columns) {}

Table& Table::primary_key(const std::vector<std::string>& column_names) {
    primary_key_columns = column_names;
    return *this;
}

const Column* Table::find_column(std::string_view column_name) const {
    for (const auto& c : columns)
        if (c.name == column_name) return &c;
    return nullptr;
}

}  // namespace migrator::schema
