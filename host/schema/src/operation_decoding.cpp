// The decoder of portable operations: the bytes come from a plugin, so nothing in them is
// trusted; every length is checked against what is left before anything is read or allocated.
#include <migrator/schema/operation_decoding.hpp>
#include <utility>

namespace migrator {

namespace {

using encoding::DefaultChange;
using encoding::OperationCode;

constexpr std::uint32_t last_code = static_cast<std::uint32_t>(OperationCode::drop_enum);
constexpr auto last_kind = static_cast<std::uint8_t>(schema::TypeKind::enumeration);

/// Reads the fields of one operation in order; each read names what it reads for the error.
class Reader {
public:
    Reader(const unsigned char* data, std::size_t size) : data_(data), size_(size) {}

    /// The encoding version the rest is read in (version 2's Type has the labels field).
    void set_version(std::uint32_t version) { version_ = version; }

    [[noreturn]] void fail(const std::string& why) const {
        throw OperationDecodingError("the revision sent a malformed portable operation (" +
                                     std::to_string(size_) + " bytes): " + why);
    }

    void need(std::size_t bytes, const char* what) const {
        if (size_ - position_ < bytes)
            fail(std::string("it ends at byte ") + std::to_string(size_) + " in the middle of " +
                 what);
    }

    std::uint8_t byte(const char* what) {
        need(1, what);
        return data_[position_++];
    }

    bool flag(const char* what) {
        const auto value = byte(what);
        if (value > 1)
            fail(std::string(what) + " at byte " + std::to_string(position_ - 1) + " is " +
                 std::to_string(value) + ", not 0 or 1");
        return value == 1;
    }

    std::uint32_t u32(const char* what) {
        need(4, what);
        std::uint32_t value = 0;
        for (int i = 0; i < 4; ++i)
            value |= static_cast<std::uint32_t>(data_[position_ + i]) << (8 * i);
        position_ += 4;
        return value;
    }

    std::int32_t number(const char* what) {
        const std::uint32_t value = u32(what);
        return value <= 0x7fffffffu ? static_cast<std::int32_t>(value)
                                    : -static_cast<std::int32_t>(~value) - 1;
    }

    /// A list's entry count; each entry takes at least `min_entry_size` bytes, so a count the
    /// bytes left cannot hold is refused before anything is reserved.
    std::size_t count(const char* what, std::size_t min_entry_size) {
        const std::size_t at = position_;
        const std::size_t value = u32(what);
        if (value > encoding::max_list_size)
            fail(std::string(what) + " at byte " + std::to_string(at) + " counts " +
                 std::to_string(value) + " entries, more than the " +
                 std::to_string(encoding::max_list_size) + " allowed");
        if (value > (size_ - position_) / min_entry_size)
            fail(std::string(what) + " at byte " + std::to_string(at) + " counts " +
                 std::to_string(value) + " entries, more than the " +
                 std::to_string(size_ - position_) + " bytes left can hold");
        return value;
    }

    std::string text(const char* what) {
        const std::size_t at = position_;
        const std::size_t length = u32(what);
        if (length > encoding::max_text_size)
            fail(std::string(what) + " at byte " + std::to_string(at) + " is " +
                 std::to_string(length) + " bytes long, more than the " +
                 std::to_string(encoding::max_text_size) + " allowed");
        if (length > size_ - position_)
            fail(std::string(what) + " at byte " + std::to_string(at) + " is " +
                 std::to_string(length) + " bytes long, past the end of the operation");
        std::string value(reinterpret_cast<const char*>(data_ + position_), length);
        if (value.find('\0') != std::string::npos)
            fail(std::string(what) + " at byte " + std::to_string(at) + " contains a NUL byte");
        position_ += length;
        return value;
    }

    std::vector<std::string> names(const char* what) {
        std::vector<std::string> values(count(what, 4));
        for (auto& value : values) value = text(what);
        return values;
    }

    schema::Type type() {
        const std::size_t at = position_;
        const auto kind = byte("a type's kind");
        if (kind > last_kind)
            fail("the type kind at byte " + std::to_string(at) + " is " + std::to_string(kind) +
                 ", which this migrator does not know");
        schema::Type value;
        value.kind = static_cast<schema::TypeKind>(kind);
        value.length = number("a type's length");
        value.precision = number("a type's precision");
        value.scale = number("a type's scale");
        value.sql = text("a type's SQL text");
        if (version_ >= 2) value.values = names("an enumeration's labels");
        if (value.kind == schema::TypeKind::enumeration && value.values.empty())
            fail("the enumeration type at byte " + std::to_string(at) + " has no labels");
        return value;
    }

    schema::Column column() {
        schema::Column value;
        value.name = text("a column name");
        value.type = type();
        value.nullable = flag("a column's nullable flag");
        if (flag("a column's default flag")) value.default_sql = text("a column default");
        value.autoincrement = flag("a column's autoincrement flag");
        return value;
    }

    schema::ColumnChange change() {
        schema::ColumnChange value;
        if (flag("a column change's type flag")) value.new_type = type();
        if (flag("a column change's nullable flag"))
            value.new_nullable = flag("a column change's nullable value");
        const std::size_t at = position_;
        switch (byte("a column change's default")) {
            case static_cast<std::uint8_t>(DefaultChange::keep):
                break;
            case static_cast<std::uint8_t>(DefaultChange::drop):
                value.new_default = std::optional<std::string>();
                break;
            case static_cast<std::uint8_t>(DefaultChange::set):
                value.new_default = std::optional<std::string>(text("a column change's default"));
                break;
            default:
                fail("the default change at byte " + std::to_string(at) +
                     " is none of 0 (keep), 1 (drop), 2 (set)");
        }
        return value;
    }

    schema::UniqueConstraint unique() {
        schema::UniqueConstraint value;
        value.name = text("a unique constraint's name");
        value.columns = names("a unique constraint's columns");
        return value;
    }

    schema::ForeignKey foreign_key() {
        schema::ForeignKey value;
        value.name = text("a foreign key's name");
        value.columns = names("a foreign key's columns");
        value.referred_table = text("a foreign key's referred table");
        value.referred_columns = names("a foreign key's referred columns");
        value.on_delete = text("a foreign key's ON DELETE action");
        value.on_update = text("a foreign key's ON UPDATE action");
        return value;
    }

    schema::Index index() {
        schema::Index value;
        value.name = text("an index name");
        value.table = text("an index's table");
        value.columns = names("an index's columns");
        value.unique = flag("an index's unique flag");
        return value;
    }

    schema::Table table() {
        schema::Table value;
        value.name = text("a table name");
        // The smallest column: name, kind, 3 numbers, SQL text, 3 flags.
        value.columns.resize(count("a table's columns", 4 + 1 + 12 + 4 + 3));
        for (auto& c : value.columns) c = column();
        value.primary_key_columns = names("a table's primary key");
        value.unique_constraints.resize(count("a table's unique constraints", 8));
        for (auto& u : value.unique_constraints) u = unique();
        value.foreign_keys.resize(count("a table's foreign keys", 24));
        for (auto& k : value.foreign_keys) k = foreign_key();
        return value;
    }

    void finish() const {
        if (position_ != size_)
            fail(std::to_string(size_ - position_) + " bytes follow its last field, at byte " +
                 std::to_string(position_));
    }

private:
    const unsigned char* data_;
    std::size_t size_;
    std::size_t position_ = 0;
    std::uint32_t version_ = 1;
};

}  // namespace

std::string operation_name(OperationCode code) {
    switch (code) {
        case OperationCode::create_table:
            return "create_table";
        case OperationCode::drop_table:
            return "drop_table";
        case OperationCode::rename_table:
            return "rename_table";
        case OperationCode::add_column:
            return "add_column";
        case OperationCode::drop_column:
            return "drop_column";
        case OperationCode::rename_column:
            return "rename_column";
        case OperationCode::alter_column:
            return "alter_column";
        case OperationCode::create_index:
            return "create_index";
        case OperationCode::drop_index:
            return "drop_index";
        case OperationCode::create_unique_constraint:
            return "create_unique_constraint";
        case OperationCode::drop_unique_constraint:
            return "drop_unique_constraint";
        case OperationCode::create_foreign_key:
            return "create_foreign_key";
        case OperationCode::drop_foreign_key:
            return "drop_foreign_key";
        case OperationCode::create_enum:
            return "create_enum";
        case OperationCode::drop_enum:
            return "drop_enum";
    }
    return "operation " + std::to_string(static_cast<std::uint32_t>(code));
}

Operation decode_operation(const void* data, std::size_t size) {
    Reader reader(static_cast<const unsigned char*>(data), size);
    if (data == nullptr && size != 0) reader.fail("its bytes are missing (a null pointer)");
    if (size > encoding::max_operation_size)
        reader.fail("it is larger than the " + std::to_string(encoding::max_operation_size) +
                    " bytes allowed");
    Operation op;
    op.encoding_version = reader.u32("the encoding version");
    if (op.encoding_version == 0 || op.encoding_version > encoding::version)
        throw OperationDecodingError(
            "the revision sent a portable operation in encoding version " +
            std::to_string(op.encoding_version) + ", and this migrator reads versions 1 to " +
            std::to_string(encoding::version) + ": upgrade migrator to run this revision");
    reader.set_version(op.encoding_version);
    const std::uint32_t code = reader.u32("the operation code");
    if (code == 0 || code > last_code)
        throw OperationDecodingError("the revision sent a portable operation with code " +
                                     std::to_string(code) +
                                     ", which this migrator does not know (it knows 1 to " +
                                     std::to_string(last_code) + "): upgrade migrator");
    op.code = static_cast<OperationCode>(code);
    switch (op.code) {
        case OperationCode::create_table:
            op.table_definition = reader.table();
            op.table = op.table_definition.name;
            break;
        case OperationCode::drop_table:
            op.table = reader.text("the table name");
            break;
        case OperationCode::rename_table:
            op.table = reader.text("the table name");
            op.new_name = reader.text("the new table name");
            break;
        case OperationCode::add_column:
            op.table = reader.text("the table name");
            op.column_definition = reader.column();
            op.column = op.column_definition.name;
            break;
        case OperationCode::drop_column:
            op.table = reader.text("the table name");
            op.column = reader.text("the column name");
            break;
        case OperationCode::rename_column:
            op.table = reader.text("the table name");
            op.column = reader.text("the column name");
            op.new_name = reader.text("the new column name");
            break;
        case OperationCode::alter_column:
            op.table = reader.text("the table name");
            op.column = reader.text("the column name");
            op.change = reader.change();
            break;
        case OperationCode::create_index:
            op.index = reader.index();
            op.table = op.index.table;
            op.index_name = op.index.name;
            break;
        case OperationCode::drop_index:
            op.table = reader.text("the table name");
            op.index_name = reader.text("the index name");
            break;
        case OperationCode::create_unique_constraint:
        case OperationCode::drop_unique_constraint:
            op.table = reader.text("the table name");
            op.unique = reader.unique();
            break;
        case OperationCode::create_foreign_key:
        case OperationCode::drop_foreign_key:
            op.table = reader.text("the table name");
            op.foreign_key = reader.foreign_key();
            break;
        case OperationCode::create_enum:
            op.type = reader.type();
            if (op.type.kind != schema::TypeKind::enumeration)
                reader.fail("create_enum carries a type that is not an enumeration");
            break;
        case OperationCode::drop_enum:
            op.type.kind = schema::TypeKind::enumeration;
            op.type.sql = reader.text("the enumeration's name");
            break;
    }
    reader.finish();
    return op;
}

}  // namespace migrator
