// End to end: transaction modes — per revision, --single-transaction, and non-transactional
// revisions with the dirty state they leave when they fail, and `migrator resolve`.
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("a run with --single-transaction is rolled back whole when one revision fails",
          "[e2e][transactions]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("failing"));
    const auto result = sandbox.migrator({"upgrade", "head", "--single-transaction"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains("f3f3f3f3f3f3"));
    CHECK_THAT(result.err, Contains("the whole run (--single-transaction) was rolled back and the "
                                    "database is at base"));
    CHECK(lines_of(result.err).size() == 1);
    // a1 and b2 succeeded inside the run's transaction and went with it.
    CHECK(sandbox.version_rows().empty());
    CHECK(sandbox.tables().empty());
    // The failure itself is recorded, after the rollback.
    CHECK(sandbox.column("SELECT revision || ' ' || success FROM migrator_version_history") ==
          std::vector<std::string>{"f3f3f3f3f3f3 0"});

    SECTION("from a later start it returns to that start") {
        REQUIRE(sandbox.migrator({"upgrade", "a1a1"}).exit_code == 0);
        const auto again = sandbox.migrator({"upgrade", "head", "--single-transaction"});
        CHECK(again.exit_code == 1);
        CHECK_THAT(again.err, Contains("the database is at a1a1a1a1a1a1"));
        CHECK(sandbox.version_rows() == std::vector<std::string>{"a1a1a1a1a1a1"});
        CHECK(!sandbox.has_column("item", "price"));
    }
}

TEST_CASE("a run with --single-transaction applies a healthy chain in one go",
          "[e2e][transactions]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    const auto up = sandbox.migrator({"upgrade", "head", "--single-transaction"});
    REQUIRE(up.exit_code == 0);
    CHECK_THAT(up.out, Contains("[3/3] Running upgrade"));
    CHECK(sandbox.version_rows() == std::vector<std::string>{"c3c3c3c3c3c3"});
    CHECK(sandbox.column("SELECT count(*) FROM migrator_version_history WHERE success = 1") ==
          std::vector<std::string>{"3"});
    const auto down = sandbox.migrator({"downgrade", "base", "--single-transaction"});
    REQUIRE(down.exit_code == 0);
    CHECK(sandbox.version_rows().empty());
    CHECK(sandbox.tables().empty());
}

TEST_CASE("a non-transactional revision runs outside a transaction", "[e2e][transactions]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("nontransactional"));
    // On PostgreSQL, CREATE INDEX CONCURRENTLY fails inside a transaction block.
    const auto up = sandbox.migrator({"upgrade", "head"});
    REQUIRE(up.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"n3n3n3n3n3n3"});
    CHECK(sandbox.has_index("ix_item_price"));
    CHECK(sandbox.column("SELECT revision || ' ' || success || ' ' || dirty FROM "
                         "migrator_version_history ORDER BY id") ==
          std::vector<std::string>{"a1a1a1a1a1a1 1 0", "b2b2b2b2b2b2 1 0", "n3n3n3n3n3n3 1 0"});
    CHECK(sandbox.migrator({"check"}).exit_code == 0);

    SECTION("and back") {
        REQUIRE(sandbox.migrator({"downgrade", "-1"}).exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
        CHECK(!sandbox.has_index("ix_item_price"));
    }
    SECTION("but not inside --single-transaction") {
        REQUIRE(sandbox.migrator({"downgrade", "base"}).exit_code == 0);
        const auto refused = sandbox.migrator({"upgrade", "head", "--single-transaction"});
        CHECK(refused.exit_code == 2);
        CHECK_THAT(refused.err, Contains("revision n3n3n3n3n3n3 (index item price concurrently) "
                                         "is non-transactional"));
        CHECK(sandbox.version_rows().empty());
        CHECK(sandbox.tables().empty());
    }
}

TEST_CASE("a failed non-transactional revision marks the database dirty until it is resolved",
          "[e2e][transactions]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const std::string how = GENERATE(as<std::string>{}, "fails", "crashes");
    Sandbox sandbox(backend, fixture_dir("nontransactional"));
    REQUIRE(sandbox.migrator({"upgrade", "b2b2"}).exit_code == 0);
    const auto failed = sandbox.migrator(
        {"upgrade", "head"},
        {{how == "fails" ? "MIGRATOR_TEST_N3_FAIL" : "MIGRATOR_TEST_N3_ABORT", "1"}});
    if (how == "fails") {
        CHECK(failed.exit_code == 1);
        CHECK_THAT(failed.err, Contains("n3n3n3n3n3n3 (index item price concurrently) failed: n3 "
                                        "failed halfway"));
        CHECK_THAT(failed.err, Contains("the database is marked dirty at revision n3n3n3n3n3n3"));
        CHECK_THAT(failed.err, Contains("migrator resolve n3n3n3n3n3n3 --applied"));
    } else {
        CHECK(failed.exit_code == 128 + 6);  // SIGABRT: migrator died with the plugin
    }
    // What it did before failing stays: it ran outside a transaction.
    CHECK(sandbox.tables() == std::set<std::string>{"item", "n3_partial"});
    CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
    CHECK(sandbox.column("SELECT revision FROM migrator_version_history WHERE dirty = 1") ==
          std::vector<std::string>{"n3n3n3n3n3n3"});

    // Every later run refuses, naming the revision and what happened.
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"upgrade", "head"}, {"downgrade", "base"}, {"stamp", "a1a1"}}) {
        const auto refused = sandbox.migrator(command);
        CHECK(refused.exit_code == 9);
        CHECK_THAT(refused.err, Contains("is dirty: the non-transactional upgrade of revision "
                                         "n3n3n3n3n3n3"));
        CHECK_THAT(refused.err, Contains("migrator resolve n3n3n3n3n3n3"));
        CHECK(lines_of(refused.err).size() == 1);
    }
    CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
    const auto check = sandbox.migrator({"check"});
    CHECK(check.exit_code == 8);
    CHECK_THAT(check.out, Contains("the database is dirty"));

    SECTION("resolve --rolled-back after undoing its changes: the next run applies it") {
        sandbox.execute_script("DROP TABLE n3_partial");
        const auto resolved = sandbox.migrator({"resolve", "n3n3", "--rolled-back"});
        REQUIRE(resolved.exit_code == 0);
        CHECK_THAT(resolved.out, Contains("as rolled back"));
        CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
        const auto up = sandbox.migrator({"upgrade", "head"});
        REQUIRE(up.exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"n3n3n3n3n3n3"});
        CHECK(sandbox.has_index("ix_item_price"));
        CHECK(sandbox.migrator({"check"}).exit_code == 0);
    }
    SECTION("resolve --applied after completing it by hand: the database is at it") {
        sandbox.execute_script("CREATE INDEX ix_item_price ON item (price)");
        const auto resolved = sandbox.migrator({"resolve", "n3n3n3n3n3n3", "--applied"});
        REQUIRE(resolved.exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"n3n3n3n3n3n3"});
        CHECK(sandbox.migrator({"upgrade", "head"}).out.find("Nothing to do") != std::string::npos);
        CHECK(sandbox.column("SELECT direction FROM migrator_version_history ORDER BY id DESC") ==
              std::vector<std::string>{"resolve", "upgrade", "upgrade", "upgrade"});
        REQUIRE(sandbox.migrator({"downgrade", "-1"}).exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
    }
    SECTION("resolve needs a state and the dirty revision") {
        CHECK(sandbox.migrator({"resolve", "n3n3"}).exit_code == 2);
        const auto other = sandbox.migrator({"resolve", "a1a1", "--applied"});
        CHECK(other.exit_code == 2);
        CHECK_THAT(other.err, Contains("dirty for revision n3n3n3n3n3n3, not for a1a1a1a1a1a1"));
        CHECK(sandbox.migrator({"upgrade", "head"}).exit_code == 9);
    }
}

TEST_CASE("resolve on a clean database is refused", "[e2e][transactions]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
    const auto result = sandbox.migrator({"resolve", "c3c3", "--applied"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("is not dirty: there is nothing to resolve"));
}

TEST_CASE("a revision that carries on after an error that ended its transaction applies nothing",
          "[e2e][transactions]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("swallowing"));
    // The timeout ends the statement with an error the revision catches; the database has
    // rolled the transaction back (SQLite) or refuses more statements in it (PostgreSQL).
    const auto result = sandbox.migrator({"upgrade", "head", "--statement-timeout", "1"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains("upgrade of revision w2w2w2w2w2w2 (swallows an error) failed"));
    CHECK_THAT(result.err, Contains("the database is at a1a1a1a1a1a1"));
    CHECK_THAT(result.out, Contains("ignoring: "));
    CHECK(sandbox.version_rows() == std::vector<std::string>{"a1a1a1a1a1a1"});
    CHECK(sandbox.tables() == std::set<std::string>{"item"});
}
