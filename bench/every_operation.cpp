// A revision that uses every portable operation (those of the fixtures o1, o2 and o3 together):
// bench/run builds it beside a raw-SQL revision to print what compiling and linking one revision
// costs, and how big its plugin is, at the default build type.
#include <migrator/operations.hpp>

MIGRATOR_REVISION(MIGRATOR_REVISION_ID("0be0be0be0be") MIGRATOR_DOWN_REVISION("")
                      MIGRATOR_MESSAGE("every operation")
                          MIGRATOR_CREATE_DATE("2026-03-01 10:00:00"));

using namespace migrator::schema;

namespace {

ForeignKey to_client(const char* name, const char* column, const char* on_delete) {
    return ForeignKey::make(name, {column}, "client", {"id"}, on_delete);
}
UniqueConstraint email() { return UniqueConstraint::make("uq_client_email", {"email"}); }

}  // namespace

void upgrade(migrator::Context& ctx) {
    migrator::Operations op(ctx);
    op.create_table(Table("customer")
                        .column(Column("id", Type::integer()).auto_increment())
                        .column(Column("name", Type::varchar(80)).not_null())
                        .column(Column("email", Type::text()))
                        .primary_key({"id"}));
    op.create_table(Table("invoice")
                        .column(Column("id", Type::integer()).auto_increment())
                        .column(Column("customer_id", Type::integer()).not_null())
                        .column(Column("number", Type::varchar(20)).not_null())
                        .column(Column("total", Type::numeric(10, 2)).not_null().default_value("0"))
                        .column(Column("issued", Type::date()))
                        .column(Column("paid", Type::boolean()).default_value("FALSE"))
                        .column(Column("extra", Type::json()))
                        .column(Column("scan", Type::blob()))
                        .column(Column("ratio", Type::real()))
                        .column(Column("amount", Type::double_precision()))
                        .column(Column("big", Type::big_integer()))
                        .column(Column("created", Type::timestamp()))
                        .primary_key({"id"})
                        .unique(UniqueConstraint::make("uq_invoice_number", {"number"}))
                        .foreign_key(ForeignKey::make("fk_invoice_customer", {"customer_id"},
                                                      "customer", {"id"})));
    op.create_index(Index("ix_invoice_customer_number", "invoice", {"customer_id", "number"}));
    op.create_index(Index("ux_invoice_number", "invoice", {"number"}).make_unique());
    op.execute("INSERT INTO customer (id, name, email) VALUES (1, 'ann', 'ann@example.com')");

    op.rename_table("customer", "client");
    op.add_column("invoice", Column("note", Type::text()));
    op.rename_column("invoice", "note", "memo");
    op.add_column("invoice",
                  Column("legacy", Type::varchar(10)).not_null().default_value("'none'"));

    op.alter_column("invoice", "total", ColumnChange().type(Type::numeric(12, 2)));
    op.alter_column("invoice", "memo", ColumnChange().nullable(false).default_value("''"));
    op.add_column("invoice", Column("approver_id", Type::integer()));
    op.create_foreign_key("invoice", to_client("fk_invoice_approver", "approver_id", "SET NULL"));
    op.create_unique_constraint("client", email());
    op.drop_column("invoice", "legacy");
}

void downgrade(migrator::Context& ctx) {
    migrator::Operations op(ctx);
    op.drop_unique_constraint("client", email());
    op.drop_foreign_key("invoice", to_client("fk_invoice_approver", "approver_id", "SET NULL"));
    op.drop_column("invoice", "approver_id");
    op.alter_column("invoice", "memo", ColumnChange().nullable(true).drop_default());
    op.alter_column("invoice", "total", ColumnChange().type(Type::numeric(10, 2)));
    op.drop_column("invoice", "memo");
    op.rename_table("client", "customer");
    op.drop_index("invoice", "ux_invoice_number");
    op.drop_index("invoice", "ix_invoice_customer_number");
    op.drop_table("invoice");
    op.drop_table("customer");
}
