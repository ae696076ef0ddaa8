// Revision 3e0e4c7a4a0b: add status to invoice
//
// Revises: 27c6a30d7c24
// Create Date: 2026-11-23 10:30:02
#include <migrator/revision.hpp>

#include <string>

MIGRATOR_REVISION(MIGRATOR_REVISION_ID("3e0e4c7a4a0b")
                  MIGRATOR_DOWN_REVISION("27c6a30d7c24")
                  MIGRATOR_MESSAGE("add status to invoice")
                  MIGRATOR_CREATE_DATE("2026-11-23 10:30:02"));

void upgrade(migrator::Context& ctx) {
    ctx.execute("ALTER TABLE invoice ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'open'");
    // A data migration rides in the same transaction: invoices issued more than 90 days ago
    // are taken to be settled.
    const char* cutoff = ctx.dialect() == "postgresql" ? "CURRENT_DATE - 90" : "date('now', '-90 days')";
    ctx.execute(std::string("UPDATE invoice SET status = 'paid' WHERE issued_on < ") + cutoff);
    // Offline (--sql) there is no database to count in: the SQL above is all the script needs.
    if (ctx.offline()) return;
    const auto open = ctx.scalar("SELECT count(*) FROM invoice WHERE status = 'open'");
    ctx.log(open.value_or("0") + " open invoices");
}

void downgrade(migrator::Context& ctx) { ctx.execute("ALTER TABLE invoice DROP COLUMN status"); }
