// The writer of the operation encoding (operation_encoding.md): little-endian integers and
// length-prefixed texts, the same bytes on every platform.
#include <algorithm>
#include <migrator/operation_encoding.hpp>
#include <stdexcept>

namespace migrator::encoding {

std::uint32_t version_for(const schema::Column& column) {
    return column.type.kind == schema::TypeKind::enumeration ? 2 : 1;
}

std::uint32_t version_for(const schema::Table& table) {
    std::uint32_t needed = 1;
    for (const auto& column : table.columns) needed = std::max(needed, version_for(column));
    return needed;
}

std::uint32_t version_for(const schema::ColumnChange& change) {
    return change.new_type && change.new_type->kind == schema::TypeKind::enumeration ? 2 : 1;
}

OperationWriter::OperationWriter(OperationCode code, std::uint32_t encoding_version)
    : version_(encoding_version) {
    u32(encoding_version);
    u32(static_cast<std::uint32_t>(code));
}

void OperationWriter::u32(std::uint32_t value) {
    for (int shift = 0; shift < 32; shift += 8)
        bytes_ += static_cast<char>((value >> shift) & 0xffu);
    if (bytes_.size() > max_operation_size)
        throw std::length_error("the operation is larger than the host accepts (16 MiB)");
}

OperationWriter& OperationWriter::byte(std::uint8_t value) {
    bytes_ += static_cast<char>(value);
    return *this;
}

OperationWriter& OperationWriter::flag(bool value) { return byte(value ? 1 : 0); }

OperationWriter& OperationWriter::number(std::int32_t value) {
    u32(static_cast<std::uint32_t>(value));
    return *this;
}

OperationWriter& OperationWriter::count(std::size_t value) {
    if (value > max_list_size)
        throw std::length_error("a list of " + std::to_string(value) +
                                " entries is longer than the host accepts (4096)");
    u32(static_cast<std::uint32_t>(value));
    return *this;
}

OperationWriter& OperationWriter::text(std::string_view value) {
    if (value.size() > max_text_size)
        throw std::length_error("a name or expression of " + std::to_string(value.size()) +
                                " bytes is longer than the host accepts (1 MiB)");
    u32(static_cast<std::uint32_t>(value.size()));
    bytes_.append(value.data(), value.size());
    if (bytes_.size() > max_operation_size)
        throw std::length_error("the operation is larger than the host accepts (16 MiB)");
    return *this;
}

OperationWriter& OperationWriter::names(const std::vector<std::string>& values) {
    count(values.size());
    for (const auto& value : values) text(value);
    return *this;
}

OperationWriter& OperationWriter::type(const schema::Type& value) {
    byte(static_cast<std::uint8_t>(value.kind));
    number(value.length).number(value.precision).number(value.scale);
    text(value.sql);
    if (version_ >= 2) return names(value.values);
    if (!value.values.empty())
        throw std::invalid_argument("an enumeration type needs encoding version 2");
    return *this;
}

OperationWriter& OperationWriter::column(const schema::Column& value) {
    text(value.name).type(value.type).flag(value.nullable).flag(value.default_sql.has_value());
    if (value.default_sql) text(*value.default_sql);
    return flag(value.autoincrement);
}

OperationWriter& OperationWriter::change(const schema::ColumnChange& value) {
    flag(value.new_type.has_value());
    if (value.new_type) type(*value.new_type);
    flag(value.new_nullable.has_value());
    if (value.new_nullable) flag(*value.new_nullable);
    if (!value.new_default) return byte(static_cast<std::uint8_t>(DefaultChange::keep));
    if (!*value.new_default) return byte(static_cast<std::uint8_t>(DefaultChange::drop));
    return byte(static_cast<std::uint8_t>(DefaultChange::set)).text(**value.new_default);
}

OperationWriter& OperationWriter::unique(const schema::UniqueConstraint& value) {
    return text(value.name).names(value.columns);
}

OperationWriter& OperationWriter::foreign_key(const schema::ForeignKey& value) {
    text(value.name).names(value.columns).text(value.referred_table);
    return names(value.referred_columns).text(value.on_delete).text(value.on_update);
}

OperationWriter& OperationWriter::index(const schema::Index& value) {
    return text(value.name).text(value.table).names(value.columns).flag(value.unique);
}

OperationWriter& OperationWriter::table(const schema::Table& value) {
    text(value.name).count(value.columns.size());
    for (const auto& c : value.columns) column(c);
    names(value.primary_key_columns).count(value.unique_constraints.size());
    for (const auto& u : value.unique_constraints) unique(u);
    count(value.foreign_keys.size());
    for (const auto& k : value.foreign_keys) foreign_key(k);
    return *this;
}

}  // namespace migrator::encoding
