// Revision ae1027a6acf2: index invoice by account
//
// Revises: 3e0e4c7a4a0b
// Create Date: 2026-11-24 16:45:51
#include <migrator/revision.hpp>

MIGRATOR_REVISION(MIGRATOR_REVISION_ID("ae1027a6acf2")
                  MIGRATOR_DOWN_REVISION("3e0e4c7a4a0b")
                  MIGRATOR_MESSAGE("index invoice by account")
                  MIGRATOR_CREATE_DATE("2026-11-24 16:45:51"));

void upgrade(migrator::Context& ctx) {
    ctx.execute("CREATE INDEX ix_invoice_account_id ON invoice (account_id, issued_on)");
}

void downgrade(migrator::Context& ctx) { ctx.execute("DROP INDEX ix_invoice_account_id"); }
