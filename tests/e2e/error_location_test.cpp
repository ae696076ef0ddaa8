// End to end: a failing statement's error points at the revision's source line and shows the
// statement, for raw SQL, queries, portable operations (the SQL migrator rendered) and offline
// runs, on both backends.
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("a failing statement's error names the source line and the statement", "[e2e][failure]") {
    const std::string backend = GENERATE(from_range(all_backends()));

    SECTION("raw SQL") {
        Sandbox sandbox(backend, fixture_dir("failing"));
        const auto result = sandbox.migrator({"upgrade", "head"});
        INFO(result.err);
        CHECK(result.exit_code == 1);
        // f3_bad_sql.cpp line 15: ctx.execute("ALTER TABLE no_such_table ADD COLUMN x INTEGER")
        CHECK_THAT(result.err,
                   Contains("upgrade of revision f3f3f3f3f3f3 (fails halfway) failed: ") &&
                       Contains(" (at f3_bad_sql.cpp:15, in `ALTER TABLE no_such_table ADD "
                                "COLUMN x INTEGER`); it was rolled back"));
        CHECK(lines_of(result.err).size() == 1);
        // The run history keeps the same message.
        CHECK_THAT(sandbox.migrator({"log", "--failed"}).out, Contains("at f3_bad_sql.cpp:15"));
    }
    SECTION("a portable operation: its line, and the statement migrator rendered for it") {
        Sandbox sandbox(backend, fixture_dir("operation_fails"));
        const auto result = sandbox.migrator({"upgrade", "head"});
        INFO(result.err);
        CHECK(result.exit_code == 1);
        // o5_operation_fails.cpp line 14: op.rename_table("no_such_table", "still_missing")
        CHECK_THAT(result.err, Contains("(in `ALTER TABLE") && Contains("no_such_table") &&
                                   Contains("(at o5_operation_fails.cpp:14)"));
    }
    SECTION("a query offline") {
        Sandbox sandbox(backend, fixture_dir("offline_query"));
        const auto result = sandbox.migrator({"upgrade", "head", "--sql"});
        CHECK(result.exit_code == 1);
        CHECK_THAT(result.err, Contains("cannot run a query in offline mode (--sql)") &&
                                   Contains("(at q2_queries.cpp:10, in `SELECT count(*) FROM "
                                            "item`)"));
    }
}
