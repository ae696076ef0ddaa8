// The portable operations of a revision (operations.hpp): each call encoded as data and handed to
// the host through Context::run_operation, which renders and runs it.
#include <migrator/operation_encoding.hpp>
#include <migrator/operations.hpp>

namespace migrator {

namespace {

using encoding::OperationCode;
using encoding::OperationWriter;
using encoding::version_for;

void send(Context& ctx, const OperationWriter& writer, CallSite site) {
    ctx.run_operation(writer.bytes().data(), writer.bytes().size(), site);
}

}  // namespace

void Operations::create_table(const schema::Table& table, CallSite site) {
    send(ctx_, OperationWriter(OperationCode::create_table, version_for(table)).table(table), site);
}

void Operations::drop_table(std::string_view table, CallSite site) {
    send(ctx_, OperationWriter(OperationCode::drop_table).text(table), site);
}

void Operations::rename_table(std::string_view from, std::string_view to, CallSite site) {
    send(ctx_, OperationWriter(OperationCode::rename_table).text(from).text(to), site);
}

void Operations::add_column(std::string_view table, const schema::Column& column, CallSite site) {
    send(ctx_,
         OperationWriter(OperationCode::add_column, version_for(column)).text(table).column(column),
         site);
}

void Operations::drop_column(std::string_view table, std::string_view column, CallSite site) {
    send(ctx_, OperationWriter(OperationCode::drop_column).text(table).text(column), site);
}

void Operations::rename_column(std::string_view table, std::string_view from, std::string_view to,
                               CallSite site) {
    send(ctx_, OperationWriter(OperationCode::rename_column).text(table).text(from).text(to), site);
}

void Operations::alter_column(std::string_view table, std::string_view column,
                              const schema::ColumnChange& change, CallSite site) {
    send(ctx_,
         OperationWriter(OperationCode::alter_column, version_for(change))
             .text(table)
             .text(column)
             .change(change),
         site);
}

void Operations::create_index(const schema::Index& index, CallSite site) {
    send(ctx_, OperationWriter(OperationCode::create_index).index(index), site);
}

void Operations::drop_index(std::string_view table, std::string_view name, CallSite site) {
    send(ctx_, OperationWriter(OperationCode::drop_index).text(table).text(name), site);
}

void Operations::create_unique_constraint(std::string_view table,
                                          const schema::UniqueConstraint& constraint,
                                          CallSite site) {
    send(ctx_,
         OperationWriter(OperationCode::create_unique_constraint).text(table).unique(constraint),
         site);
}

void Operations::drop_unique_constraint(std::string_view table,
                                        const schema::UniqueConstraint& constraint, CallSite site) {
    send(ctx_,
         OperationWriter(OperationCode::drop_unique_constraint).text(table).unique(constraint),
         site);
}

void Operations::create_foreign_key(std::string_view table, const schema::ForeignKey& key,
                                    CallSite site) {
    send(ctx_, OperationWriter(OperationCode::create_foreign_key).text(table).foreign_key(key),
         site);
}

void Operations::drop_foreign_key(std::string_view table, const schema::ForeignKey& key,
                                  CallSite site) {
    send(ctx_, OperationWriter(OperationCode::drop_foreign_key).text(table).foreign_key(key), site);
}

void Operations::create_enum(const schema::Type& enumeration, CallSite site) {
    send(ctx_, OperationWriter(OperationCode::create_enum, 2).type(enumeration), site);
}

void Operations::drop_enum(std::string_view type_name, CallSite site) {
    send(ctx_, OperationWriter(OperationCode::drop_enum).text(type_name), site);
}

}  // namespace migrator
