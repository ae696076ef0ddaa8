// The host's decoder of portable operations (plugin-api/operation_encoding.md): the bytes a
// revision hands to run_operation, read as untrusted input into schema values.
#ifndef MIGRATOR_OPERATION_DECODING_HPP
#define MIGRATOR_OPERATION_DECODING_HPP

#include <cstddef>
#include <cstdint>
#include <migrator/common/errors.hpp>
#include <migrator/operation_encoding.hpp>
#include <migrator/schema.hpp>
#include <string>

namespace migrator {

/// A portable operation the host cannot read: truncated, too large, of an unknown encoding
/// version or operation code, or with a field out of range. what() is one sentence.
class OperationDecodingError : public Error {
public:
    using Error::Error;
};

/// One decoded operation. Which fields hold what depends on `code` (operation_encoding.md):
/// `table` is the table operated on (rename_table: its current name), `column` the column
/// (rename_column: its current name), `new_name` the name after a rename, `index_name` the index
/// drop_index drops; the schema values hold the definitions create_table, add_column,
/// alter_column, create_index and the constraint operations carry.
struct Operation {
    std::uint32_t encoding_version = 0;
    encoding::OperationCode code = encoding::OperationCode::create_table;
    std::string table;
    std::string column;
    std::string new_name;
    std::string index_name;
    schema::Table table_definition;
    schema::Column column_definition;
    schema::ColumnChange change;
    schema::Index index;
    schema::UniqueConstraint unique;
    schema::ForeignKey foreign_key;
    schema::Type type;  ///< create_enum: the enumeration; drop_enum: its name in `sql`
};

/// The operation's name as a revision calls it ("create_table"), or "operation <n>" for a code
/// this host does not know.
std::string operation_name(encoding::OperationCode code);

/// Decodes `size` bytes at `data`, checking every length against the bytes there are and the
/// limits of operation_encoding.hpp, and rejecting trailing bytes. Throws OperationDecodingError.
Operation decode_operation(const void* data, std::size_t size);

}  // namespace migrator

#endif  // MIGRATOR_OPERATION_DECODING_HPP
