// Revision 27c6a30d7c24: create invoice
//
// Revises: 1975ea83b712
// Create Date: 2026-11-21 14:03:10
#include <migrator/revision.hpp>

#include <string>

MIGRATOR_REVISION(MIGRATOR_REVISION_ID("27c6a30d7c24")
                  MIGRATOR_DOWN_REVISION("1975ea83b712")
                  MIGRATOR_MESSAGE("create invoice")
                  MIGRATOR_CREATE_DATE("2026-11-21 14:03:10"));

void upgrade(migrator::Context& ctx) {
    const std::string key =
        ctx.dialect() == "postgresql" ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
    ctx.execute("CREATE TABLE invoice ("
                "  id " + key + ","
                "  account_id BIGINT NOT NULL REFERENCES account (id),"
                "  amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),"
                "  issued_on DATE NOT NULL)");
}

void downgrade(migrator::Context& ctx) { ctx.execute("DROP TABLE invoice"); }
