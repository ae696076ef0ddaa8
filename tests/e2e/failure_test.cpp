// End to end: a revision that fails leaves the database exactly at the revision before it.
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("a failing revision in the middle of upgrade head stops at the revision before it",
          "[e2e][failure]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("failing"));
    const auto result = sandbox.migrator({"upgrade", "head"});

    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains("f3f3f3f3f3f3"));
    CHECK_THAT(result.err, Contains("no_such_table"));
    CHECK_THAT(result.err, Contains("the database is at b2b2b2b2b2b2"));
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.out, Contains("[3/4] Running upgrade b2b2b2b2b2b2 -> f3f3f3f3f3f3"));
    CHECK_THAT(result.out, Contains("FAILED"));
    CHECK_THAT(result.out, !Contains("d4d4d4d4d4d4"));

    // Version table, history table and schema agree: b2 is the last completed revision.
    CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
    CHECK(sandbox.tables() == std::set<std::string>{"item"});
    CHECK(sandbox.has_column("item", "price"));
    CHECK(sandbox.column("SELECT count(*) FROM item") == std::vector<std::string>{"0"});
    CHECK(sandbox.column("SELECT revision || ' ' || success FROM migrator_version_history "
                         "ORDER BY id") ==
          std::vector<std::string>{"a1a1a1a1a1a1 1", "b2b2b2b2b2b2 1", "f3f3f3f3f3f3 0"});
    CHECK_THAT(sandbox.column("SELECT error FROM migrator_version_history WHERE success = 0").at(0),
               Contains("no_such_table"));

    SECTION("running it again fails the same way and changes nothing") {
        const auto again = sandbox.migrator({"upgrade", "head"});
        CHECK(again.exit_code == 1);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
        CHECK(sandbox.tables() == std::set<std::string>{"item"});
    }
    SECTION("current reports the last completed revision") {
        CHECK(sandbox.migrator({"current"}).out == "b2b2b2b2b2b2\n");
    }
}

TEST_CASE("a revision that throws is rolled back and its message reported", "[e2e][failure]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("throwing"));
    const auto result = sandbox.migrator({"upgrade", "head"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains("t2t2t2t2t2t2 (throws) failed: price table is missing its "
                                    "currency column"));
    CHECK(sandbox.version_rows() == std::vector<std::string>{"a1a1a1a1a1a1"});
    CHECK(sandbox.tables() == std::set<std::string>{"item"});
}

TEST_CASE("upgrade +1 runs exactly one revision and loads exactly one plugin", "[e2e][failure]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    const auto log = sandbox.dir() / "loads.log";
    const auto result =
        sandbox.migrator({"upgrade", "+1"}, {{"MIGRATOR_TEST_LOAD_LOG", log.string()}});
    REQUIRE(result.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"a1a1a1a1a1a1"});
    CHECK(lines_of(read_file(log)) == std::vector<std::string>{"a1a1a1a1a1a1"});
}
