// End to end: the seed workflow of README.md on the shipped revisions and a real SQLite file.
#include <catch2/catch.hpp>
#include <regex>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

const std::vector<std::string> shipped_newest_first{
    "3e0e4c7a4a0b -> ae1027a6acf2 (head), index invoice by account",
    "27c6a30d7c24 -> 3e0e4c7a4a0b, add status to invoice",
    "1975ea83b712 -> 27c6a30d7c24, create invoice",
    "<base> -> 1975ea83b712, create account",
};

}  // namespace

TEST_CASE("history lists the shipped revisions newest first, as Alembic does", "[e2e][workflow]") {
    Sandbox sandbox("sqlite", shipped_versions_dir());
    const auto result = sandbox.migrator({"history"});
    REQUIRE(result.exit_code == 0);
    CHECK(lines_of(result.out) == shipped_newest_first);
    CHECK_FALSE(sandbox.touched());  // a read command creates no database
}

TEST_CASE("the README workflow moves the database up and down the chain", "[e2e][workflow]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, shipped_versions_dir());

    SECTION("current on a new database prints nothing and creates nothing") {
        const auto result = sandbox.migrator({"current"});
        CHECK(result.exit_code == 0);
        CHECK(result.out.empty());
        CHECK_FALSE(sandbox.touched());
    }

    auto up = sandbox.migrator({"upgrade", "head"});
    REQUIRE(up.exit_code == 0);
    CHECK_THAT(up.out, Contains("[1/4] Running upgrade  -> 1975ea83b712, create account"));
    CHECK_THAT(up.out,
               Contains("[4/4] Running upgrade 3e0e4c7a4a0b -> ae1027a6acf2, index invoice"));
    CHECK_THAT(up.out, Contains("      0 open invoices"));  // a revision's log line
    CHECK_THAT(up.out, Contains(" ms"));
    CHECK(sandbox.version_rows() == std::vector<std::string>{"ae1027a6acf2"});
    CHECK(sandbox.tables() == std::set<std::string>{"account", "invoice"});
    const auto schema_at_head = sandbox.schema();

    auto current = sandbox.migrator({"current"});
    CHECK(current.exit_code == 0);
    CHECK(current.out == "ae1027a6acf2 (head)\n");

    SECTION("upgrade head again has nothing to do and says so") {
        const auto again = sandbox.migrator({"upgrade", "head"});
        CHECK(again.exit_code == 0);
        CHECK_THAT(again.out, Contains("Nothing to do"));
        CHECK_THAT(again.out, Contains("ae1027a6acf2 (head)"));
    }

    SECTION("downgrade -1 then upgrade +1") {
        const auto down = sandbox.migrator({"downgrade", "-1"});
        REQUIRE(down.exit_code == 0);
        CHECK_THAT(down.out, Contains("Running downgrade ae1027a6acf2 -> 3e0e4c7a4a0b"));
        CHECK(sandbox.version_rows() == std::vector<std::string>{"3e0e4c7a4a0b"});
        CHECK_FALSE(sandbox.has_index("ix_invoice_account_id"));
        const auto up_one = sandbox.migrator({"upgrade", "+1"});
        REQUIRE(up_one.exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"ae1027a6acf2"});
        CHECK(sandbox.schema() == schema_at_head);
    }

    SECTION("downgrade base, then upgrade to a unique prefix returns the same schema") {
        const auto down = sandbox.migrator({"downgrade", "base"});
        REQUIRE(down.exit_code == 0);
        CHECK_THAT(down.out, Contains("[4/4] Running downgrade 1975ea83b712 -> , create account"));
        CHECK(sandbox.version_rows().empty());
        CHECK(sandbox.tables().empty());
        CHECK(sandbox.migrator({"current"}).out.empty());

        const auto up_prefix = sandbox.migrator({"upgrade", "ae10"});
        REQUIRE(up_prefix.exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"ae1027a6acf2"});
        CHECK(sandbox.schema() == schema_at_head);
    }

    SECTION("upgrade to a revision in the middle, then the rest") {
        REQUIRE(sandbox.migrator({"downgrade", "27c6"}).exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"27c6a30d7c24"});
        CHECK_FALSE(sandbox.has_column("invoice", "status"));
        REQUIRE(sandbox.migrator({"upgrade", "27c6a30d7c24+1"}).exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"3e0e4c7a4a0b"});
    }

    SECTION("every step is in the history table") {
        const auto rows = sandbox.column(
            "SELECT revision || ' ' || direction || ' ' || success || ' ' || length(source_sha256) "
            "FROM migrator_version_history ORDER BY id");
        CHECK(rows ==
              std::vector<std::string>{"1975ea83b712 upgrade 1 64", "27c6a30d7c24 upgrade 1 64",
                                       "3e0e4c7a4a0b upgrade 1 64", "ae1027a6acf2 upgrade 1 64"});
    }
}

TEST_CASE("each step's history row says when it started, in UTC to the millisecond",
          "[e2e][workflow]") {
    for (const auto& backend : all_backends()) {
        Sandbox sandbox(backend, shipped_versions_dir());
        REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
        const auto started =
            sandbox.column("SELECT started_at FROM migrator_version_history ORDER BY id");
        REQUIRE(started.size() == 4);
        for (const auto& text : started) {
            INFO(backend << ": " << text);
            CHECK(std::regex_match(
                text, std::regex("20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
                                 "\\.[0-9]{3}Z")));
        }
        CHECK(started.front() <= started.back());
    }
}

TEST_CASE("heads and show describe revisions without a database", "[e2e][workflow]") {
    Sandbox sandbox("sqlite", shipped_versions_dir());
    const auto heads = sandbox.migrator({"heads"});
    CHECK(heads.exit_code == 0);
    CHECK(heads.out == "ae1027a6acf2 (head)\n");

    const auto show = sandbox.migrator({"show", "3e0e"});
    REQUIRE(show.exit_code == 0);
    CHECK_THAT(show.out, Contains("Rev: 3e0e4c7a4a0b\n"));
    CHECK_THAT(show.out, Contains("Parent: 27c6a30d7c24\n"));
    CHECK_THAT(
        show.out,
        Contains("Path: " +
                 (shipped_versions_dir() / "3e0e4c7a4a0b_add_status_to_invoice.so").string()));
    CHECK_THAT(show.out, Contains("add status to invoice"));
    CHECK_FALSE(sandbox.touched());
}

TEST_CASE("stamp sets the version table without running any revision", "[e2e][workflow]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, shipped_versions_dir());
    const auto result = sandbox.migrator({"stamp", "3e0e4c7a4a0b"});
    REQUIRE(result.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"3e0e4c7a4a0b"});
    CHECK(sandbox.tables().empty());
    REQUIRE(sandbox.migrator({"stamp", "base"}).exit_code == 0);
    CHECK(sandbox.version_rows().empty());

    SECTION("rows naming revisions no plugin provides need --purge") {
        REQUIRE(sandbox.migrator({"stamp", "ae10"}).exit_code == 0);
        const std::vector<std::string> elsewhere{
            MIGRATOR_BIN, "--url", sandbox.url(), "--versions-dir", fixture_dir("chain").string(),
            "stamp",      "a1a1"};
        const auto refused = run_process(elsewhere, Sandbox::clean_environment());
        CHECK(refused.exit_code == 3);
        CHECK_THAT(refused.err, Contains("ae1027a6acf2"));
        CHECK_THAT(refused.err, Contains("--purge"));
        CHECK(sandbox.version_rows() == std::vector<std::string>{"ae1027a6acf2"});
        auto purge = elsewhere;
        purge.push_back("--purge");
        REQUIRE(run_process(purge, Sandbox::clean_environment()).exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"a1a1a1a1a1a1"});
    }
    SECTION("several revisions, one implied by another, leave one row per head") {
        REQUIRE(sandbox.migrator({"stamp", "1975", "27c6"}).exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"27c6a30d7c24"});
    }
}

TEST_CASE("an Alembic-style version table name can be chosen", "[e2e][workflow]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, shipped_versions_dir());
    REQUIRE(sandbox.migrator({"--version-table", "alembic_version", "upgrade", "+2"}).exit_code ==
            0);
    CHECK(sandbox.version_rows("alembic_version") == std::vector<std::string>{"27c6a30d7c24"});
    CHECK(sandbox.migrator({"--version-table", "alembic_version", "current"}).out ==
          "27c6a30d7c24\n");
}
