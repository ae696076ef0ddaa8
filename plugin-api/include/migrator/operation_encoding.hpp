// migrator operation encoding: the bytes a portable operation crosses the plugin boundary as
// (plugin-api/operation_encoding.md). The writer runs in the plugin (operations.cpp); the host's
// decoder (host/schema/src/operation_decoding.cpp) reads the same layout. Not for revisions.
#ifndef MIGRATOR_OPERATION_ENCODING_HPP
#define MIGRATOR_OPERATION_ENCODING_HPP

#include <cstdint>
#include <migrator/schema.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace migrator::encoding {

/// The newest encoding version this plugin-api writes; the host decodes every version up to its
/// own. An operation is written in the oldest version that holds it: version 2 only when it
/// carries an enumeration type (whose labels version 1 has no field for), so that a revision
/// that uses none runs on hosts that read version 1.
inline constexpr std::uint32_t version = 2;

/// Limits the host enforces on an operation (and the writer on what it writes).
inline constexpr std::size_t max_operation_size = 16u << 20;  ///< bytes of one operation
inline constexpr std::size_t max_text_size = 1u << 20;        ///< bytes of one name or expression
inline constexpr std::size_t max_list_size = 4096;            ///< entries of one list

/// What an operation does; the values are part of the encoding: only ever append.
enum class OperationCode : std::uint32_t {
    create_table = 1,
    drop_table = 2,
    rename_table = 3,
    add_column = 4,
    drop_column = 5,
    rename_column = 6,
    alter_column = 7,
    create_index = 8,
    drop_index = 9,
    create_unique_constraint = 10,
    drop_unique_constraint = 11,
    create_foreign_key = 12,
    drop_foreign_key = 13,
    create_enum = 14,
    drop_enum = 15,
};

/// The encoding version an operation carrying these types needs: 2 when one is an enumeration.
std::uint32_t version_for(const schema::Table& table);
std::uint32_t version_for(const schema::Column& column);
std::uint32_t version_for(const schema::ColumnChange& change);

/// What ColumnChange::new_default says, as one byte.
enum class DefaultChange : std::uint8_t { keep = 0, drop = 1, set = 2 };

/// Writes one operation: the header (version, code) at construction, then its fields in the
/// order operation_encoding.md lists them. Throws std::length_error past a limit above.
class OperationWriter {
public:
    explicit OperationWriter(OperationCode code, std::uint32_t encoding_version = 1);

    OperationWriter& byte(std::uint8_t value);
    OperationWriter& flag(bool value);
    OperationWriter& number(std::int32_t value);
    OperationWriter& count(std::size_t value);
    OperationWriter& text(std::string_view value);
    OperationWriter& names(const std::vector<std::string>& values);
    OperationWriter& type(const schema::Type& value);
    OperationWriter& column(const schema::Column& value);
    OperationWriter& change(const schema::ColumnChange& value);
    OperationWriter& unique(const schema::UniqueConstraint& value);
    OperationWriter& foreign_key(const schema::ForeignKey& value);
    OperationWriter& index(const schema::Index& value);
    OperationWriter& table(const schema::Table& value);

    /// The operation written so far.
    const std::string& bytes() const { return bytes_; }

private:
    void u32(std::uint32_t value);
    std::uint32_t version_;
    std::string bytes_;
};

}  // namespace migrator::encoding

#endif  // MIGRATOR_OPERATION_ENCODING_HPP
