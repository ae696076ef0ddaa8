// End to end: offline mode (`--sql`) prints the SQL a run would execute and touches nothing.
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("upgrade head --sql prints the expected script for the dialect and touches nothing",
          "[e2e][offline]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    const auto result = sandbox.migrator({"upgrade", "head", "--sql"});
    REQUIRE(result.exit_code == 0);
    CHECK(without_checksums(result.out) ==
          expected_file("offline_upgrade_chain." + backend + ".sql"));
    // Progress and the summary go to stderr, so stdout is a script and nothing else.
    CHECK_THAT(result.err, Contains("[3/3] Running upgrade b2b2b2b2b2b2 -> c3c3c3c3c3c3"));
    CHECK_THAT(result.err, Contains("nothing was run"));
    CHECK(!sandbox.touched());

    SECTION("the script, applied by hand, brings the database to head") {
        sandbox.execute_script(result.out);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"c3c3c3c3c3c3"});
        CHECK(sandbox.has_index("ix_item_name"));
        CHECK(sandbox.migrator({"current"}).out == "c3c3c3c3c3c3 (head)\n");
        // Its history rows carry the plugins' checksums, so check finds nothing wrong.
        const auto check = sandbox.migrator({"check"});
        CHECK(check.exit_code == 0);
        CHECK(sandbox.column("SELECT count(*) FROM migrator_version_history") ==
              std::vector<std::string>{"3"});

        SECTION("and downgrade FROM:TO --sql takes it back down") {
            const auto down = sandbox.migrator({"downgrade", "head:a1a1", "--sql"});
            REQUIRE(down.exit_code == 0);
            CHECK_THAT(down.out, Contains("DROP INDEX ix_item_name;"));
            CHECK_THAT(down.out, Contains("ALTER TABLE item DROP COLUMN price;"));
            CHECK_THAT(down.out, !Contains("DROP TABLE item"));
            sandbox.execute_script(down.out);
            CHECK(sandbox.version_rows() == std::vector<std::string>{"a1a1a1a1a1a1"});
            CHECK(!sandbox.has_column("item", "price"));
        }
    }
}

TEST_CASE("offline runs start from base or from the start of a FROM:TO range", "[e2e][offline]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    SECTION("upgrade FROM:TO starts after FROM") {
        const auto result = sandbox.migrator({"upgrade", "a1a1:b2b2", "--sql"});
        REQUIRE(result.exit_code == 0);
        CHECK_THAT(result.out, Contains("ALTER TABLE item ADD COLUMN price"));
        CHECK_THAT(result.out, !Contains("CREATE TABLE item"));
        CHECK_THAT(result.out, !Contains("ix_item_name"));
        CHECK_THAT(result.out, Contains("DELETE FROM \"migrator_version\" WHERE version_num = "
                                        "'a1a1a1a1a1a1';"));
    }
    SECTION("upgrade +1 from base is the first revision") {
        const auto result = sandbox.migrator({"upgrade", "+1", "--sql"});
        REQUIRE(result.exit_code == 0);
        CHECK_THAT(result.out, Contains("CREATE TABLE item"));
        CHECK_THAT(result.out, !Contains("price"));
    }
    SECTION("--single-transaction wraps every step in one BEGIN ... COMMIT") {
        const auto result = sandbox.migrator({"upgrade", "head", "--sql", "--single-transaction"});
        REQUIRE(result.exit_code == 0);
        const auto lines = lines_of(result.out);
        CHECK(std::count(lines.begin(), lines.end(), "BEGIN;") == 1);
        CHECK(std::count(lines.begin(), lines.end(), "COMMIT;") == 1);
    }
    SECTION("downgrade --sql without a starting revision is refused") {
        const auto result = sandbox.migrator({"downgrade", "base", "--sql"});
        CHECK(result.exit_code == 2);
        CHECK_THAT(result.err, Contains("FROM:TO"));
        CHECK(result.out.empty());
    }
    SECTION("stamp --sql prints the version-row change alone") {
        const auto result = sandbox.migrator({"stamp", "b2b2", "--sql"});
        REQUIRE(result.exit_code == 0);
        CHECK_THAT(result.out, Contains("INSERT INTO \"migrator_version\" (version_num) VALUES "
                                        "('b2b2b2b2b2b2');"));
        CHECK_THAT(result.out, Contains("'stamp'"));
        CHECK_THAT(result.out, !Contains("ALTER TABLE"));
    }
    CHECK(!sandbox.touched());
}

TEST_CASE("offline runs name the version table schema and open no connection", "[e2e][offline]") {
    // Nothing listens on port 1: a connection attempt would fail the command.
    const auto result =
        run_process({MIGRATOR_BIN, "--url", "postgresql://deploy:s3cret@127.0.0.1:1/app",
                     "--versions-dir", fixture_dir("chain").string(), "--version-table-schema",
                     "meta", "upgrade", "head", "--sql"},
                    Sandbox::clean_environment());
    REQUIRE(result.exit_code == 0);
    CHECK_THAT(result.out, StartsWith("-- migrator upgrade base -> head --sql (postgresql)\n"
                                      "CREATE SCHEMA IF NOT EXISTS \"meta\";\n"));
    CHECK_THAT(result.out, Contains("INSERT INTO \"meta\".\"migrator_version\""));
    CHECK_THAT(result.out + result.err, !Contains("s3cret"));
}

TEST_CASE("a revision that queries offline gets an error it can test for", "[e2e][offline]") {
    SECTION("one that catches OfflineQueryError carries on") {
        Sandbox sandbox("sqlite", fixture_dir("chain"));
        const auto result = sandbox.migrator({"upgrade", "head", "--sql"});
        REQUIRE(result.exit_code == 0);
        CHECK_THAT(result.err, Contains("item row count unknown offline"));
    }
    SECTION("one that does not fails the run, naming the revision, and the script is disowned") {
        const std::string backend = GENERATE(from_range(all_backends()));
        Sandbox sandbox(backend, fixture_dir("offline_query"));
        const auto result = sandbox.migrator({"upgrade", "head", "--sql"});
        CHECK(result.exit_code == 1);
        CHECK_THAT(result.err, Contains("q2q2q2q2q2q2 (count items) failed: cannot run a query "
                                        "in offline mode (--sql)"));
        CHECK_THAT(result.err, Contains("do not apply it"));
        CHECK(!sandbox.touched());
    }
}
