// The portable operations of a revision (operations.hpp): each call encoded as data and handed to
// the host through Context::run_operation, which renders and runs it.
#include <migrator/operation_encoding.hpp>
#include <migrator/operations.hpp>

namespace migrator {

namespace {

using encoding::OperationCode;
using encoding::OperationWriter;

void send(Context& ctx, const OperationWriter& writer) {
    ctx.run_operation(writer.bytes().data(), writer.bytes().size());
}

}  // namespace

void Operations::create_table(const schema::Table& table) {
    send(ctx_, OperationWriter(OperationCode::create_table).table(table));
}

void Operations::drop_table(std::string_view table) {
    send(ctx_, OperationWriter(OperationCode::drop_table).text(table));
}

void Operations::rename_table(std::string_view from, std::string_view to) {
    send(ctx_, OperationWriter(OperationCode::rename_table).text(from).text(to));
}

void Operations::add_column(std::string_view table, const schema::Column& column) {
    send(ctx_, OperationWriter(OperationCode::add_column).text(table).column(column));
}

void Operations::drop_column(std::string_view table, std::string_view column) {
    send(ctx_, OperationWriter(OperationCode::drop_column).text(table).text(column));
}

void Operations::rename_column(std::string_view table, std::string_view from, std::string_view to) {
    send(ctx_, OperationWriter(OperationCode::rename_column).text(table).text(from).text(to));
}

void Operations::alter_column(std::string_view table, std::string_view column,
                              const schema::ColumnChange& change) {
    send(ctx_,
         OperationWriter(OperationCode::alter_column).text(table).text(column).change(change));
}

void Operations::create_index(const schema::Index& index) {
    send(ctx_, OperationWriter(OperationCode::create_index).index(index));
}

void Operations::drop_index(std::string_view table, std::string_view name) {
    send(ctx_, OperationWriter(OperationCode::drop_index).text(table).text(name));
}

void Operations::create_unique_constraint(std::string_view table,
                                          const schema::UniqueConstraint& constraint) {
    send(ctx_,
         OperationWriter(OperationCode::create_unique_constraint).text(table).unique(constraint));
}

void Operations::drop_unique_constraint(std::string_view table,
                                        const schema::UniqueConstraint& constraint) {
    send(ctx_,
         OperationWriter(OperationCode::drop_unique_constraint).text(table).unique(constraint));
}

void Operations::create_foreign_key(std::string_view table, const schema::ForeignKey& key) {
    send(ctx_, OperationWriter(OperationCode::create_foreign_key).text(table).foreign_key(key));
}

void Operations::drop_foreign_key(std::string_view table, const schema::ForeignKey& key) {
    send(ctx_, OperationWriter(OperationCode::drop_foreign_key).text(table).foreign_key(key));
}

}  // namespace migrator
