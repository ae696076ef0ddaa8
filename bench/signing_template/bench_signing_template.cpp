// The template revision of bench/signing: every copy of it (migrator_bench_revision_set clones)
// is a valid, distinct revision whose upgrade and downgrade may run any number of times.
#include <migrator/revision.hpp>

MIGRATOR_REVISION(MIGRATOR_REVISION_ID("000000000002") MIGRATOR_DOWN_REVISION("000000000001")
                      MIGRATOR_MESSAGE("bench signing template: one revision copied many times")
                          MIGRATOR_CREATE_DATE("2026-01-01 10:00:00"));

void upgrade(migrator::Context& ctx) {
    ctx.execute("CREATE TABLE IF NOT EXISTS bench_signing (n INTEGER)");
    ctx.execute("INSERT INTO bench_signing (n) VALUES (1)");
}

void downgrade(migrator::Context& ctx) { ctx.execute("DELETE FROM bench_signing WHERE n = 1"); }
