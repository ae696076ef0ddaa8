// The host-side parts of the schema model (schema.hpp): a whole Schema and the portable type
// names people read. An object file of its own, so a revision's plugin never links it in.
#include <migrator/schema.hpp>

namespace migrator::schema {

std::string portable_name(const Type& type) {
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
        case TypeKind::small_integer:
            return "SMALLINT";
        case TypeKind::time:
            return "TIME";
        case TypeKind::timestamp_tz:
            return "TIMESTAMP WITH TIME ZONE";
        case TypeKind::uuid:
            return "UUID";
        case TypeKind::enumeration: {
            std::string text = "ENUM " + type.sql + " (";
            for (std::size_t i = 0; i < type.values.size(); ++i)
                text += (i ? ", '" : "'") + type.values[i] + "'";
            return text + ")";
        }
    }
    return type.sql;
}

Schema::Schema() = default;
Schema::~Schema() = default;
Schema::Schema(const Schema&) = default;
Schema::Schema(Schema&&) noexcept = default;
Schema& Schema::operator=(const Schema&) = default;
Schema& Schema::operator=(Schema&&) noexcept = default;

const Table* Schema::find_table(std::string_view table_name) const {
    for (const auto& t : tables)
        if (t.name == table_name) return &t;
    return nullptr;
}

}  // namespace migrator::schema
