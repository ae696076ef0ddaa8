// Fuzz target: portable operations as a plugin sends them (plugin-api/operation_encoding.md),
// decoded, written back, and rendered for both dialects over an offline host.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <migrator/common/errors.hpp>
#include <migrator/operation_encoding.hpp>
#include <migrator/revision.hpp>
#include <migrator/schema/operation_decoding.hpp>
#include <migrator/schema/schema_operations.hpp>
#include <stdexcept>
#include <string>

namespace {

/// The bytes a decoded operation is written back as: the encoding has one spelling for each
/// operation, so a decoded input must come back byte for byte.
std::string encode(const migrator::Operation& op) {
    using migrator::encoding::OperationCode;
    migrator::encoding::OperationWriter w(op.code, op.encoding_version);
    switch (op.code) {
        case OperationCode::create_table:
            w.table(op.table_definition);
            break;
        case OperationCode::drop_table:
            w.text(op.table);
            break;
        case OperationCode::rename_table:
            w.text(op.table).text(op.new_name);
            break;
        case OperationCode::add_column:
            w.text(op.table).column(op.column_definition);
            break;
        case OperationCode::drop_column:
            w.text(op.table).text(op.column);
            break;
        case OperationCode::rename_column:
            w.text(op.table).text(op.column).text(op.new_name);
            break;
        case OperationCode::alter_column:
            w.text(op.table).text(op.column).change(op.change);
            break;
        case OperationCode::create_index:
            w.index(op.index);
            break;
        case OperationCode::drop_index:
            w.text(op.table).text(op.index_name);
            break;
        case OperationCode::create_unique_constraint:
        case OperationCode::drop_unique_constraint:
            w.text(op.table).unique(op.unique);
            break;
        case OperationCode::create_foreign_key:
        case OperationCode::drop_foreign_key:
            w.text(op.table).foreign_key(op.foreign_key);
            break;
        case OperationCode::create_enum:
            w.type(op.type);
            break;
        case OperationCode::drop_enum:
            w.text(op.type.sql);
            break;
    }
    return w.bytes();
}

/// An offline host: statements are counted, queries fail as the offline backend's do.
struct OfflineHost {
    static int execute(void*, const char* sql) { return sql != nullptr ? MIGRATOR_OK : 1; }
    static int query(void*, const char*, migrator_row_fn, void*) { return MIGRATOR_ERROR; }
    static const char* last_error(void*) { return "cannot run a query in offline mode"; }
    static void log(void*, int, const char*) {}
};

void render(const migrator::Operation& op, const char* dialect) {
    migrator_host host{MIGRATOR_ABI_VERSION,
                       sizeof(migrator_host),
                       nullptr,
                       dialect,
                       1,
                       &OfflineHost::execute,
                       &OfflineHost::query,
                       &OfflineHost::last_error,
                       &OfflineHost::log,
                       nullptr,
                       nullptr};
    migrator::Context ctx(&host);
    try {
        migrator::SchemaOperations(ctx).run(op);
    } catch (const migrator::SqlError&) {
        // A rebuild offline, or a lookup the offline host cannot answer.
    } catch (const std::invalid_argument&) {
        // A definition the dialect cannot have: refused with a sentence, as intended.
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    migrator::Operation op;
    try {
        op = migrator::decode_operation(data, size);
    } catch (const migrator::OperationDecodingError&) {
        return 0;
    }
    const std::string again = encode(op);
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) std::abort();
    render(op, "sqlite");
    render(op, "postgresql");
    return 0;
}
