// Revision 1975ea83b712: create account
//
// Revises: <base>
// Create Date: 2026-11-20 09:12:44
#include <migrator/revision.hpp>

#include <string>

MIGRATOR_REVISION(MIGRATOR_REVISION_ID("1975ea83b712")
                  MIGRATOR_DOWN_REVISION("")
                  MIGRATOR_MESSAGE("create account")
                  MIGRATOR_CREATE_DATE("2026-11-20 09:12:44"));

void upgrade(migrator::Context& ctx) {
    // One revision serves both databases: only the key column's type differs.
    const std::string key =
        ctx.dialect() == "postgresql" ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
    ctx.execute("CREATE TABLE account ("
                "  id " + key + ","
                "  name VARCHAR(100) NOT NULL,"
                "  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
}

void downgrade(migrator::Context& ctx) { ctx.execute("DROP TABLE account"); }
