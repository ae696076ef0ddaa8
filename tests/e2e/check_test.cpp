// End to end: `migrator check` compares the database with the versions directory.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("check passes for a database at head whose revisions match their plugins",
          "[e2e][check]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
    const auto result = sandbox.migrator({"check"});
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.out, Contains("OK: "));
    CHECK_THAT(result.out, Contains("is at c3c3c3c3c3c3 (head); 3 applied revisions match"));
    const auto json = sandbox.migrator({"check", "--json"});
    CHECK(json.exit_code == 0);
    CHECK(boost::json::parse(json.out).at("ok").as_bool());
    CHECK(json_kinds(json.out, "problems").empty());
}

TEST_CASE("check finds a revision whose plugin was rebuilt from an edited source", "[e2e][check]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
    // The same chain, but b2's plugin built from a source edited after it was applied.
    sandbox.set_versions_dir(fixture_dir("edited"));
    const auto result = sandbox.migrator({"check"});
    CHECK(result.exit_code == 8);
    CHECK_THAT(result.out, Contains("problem: revision b2b2b2b2b2b2 (add price to item) was "
                                    "applied from source SHA-256"));
    CHECK_THAT(result.out, Contains("its source was edited after it was applied"));
    CHECK_THAT(result.out, !Contains("a1a1a1a1a1a1"));
    CHECK_THAT(result.err, Contains("check found 1 problem"));
    CHECK(json_kinds(sandbox.migrator({"check", "--json"}).out, "problems") ==
          std::vector<std::string>{"checksum_mismatch"});
}

TEST_CASE("check finds an applied revision that no plugin provides", "[e2e][check]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
    // The deployed database is ahead of this versions directory (a1, b2 only).
    ScratchDir older;
    for (const char* plugin : {"a1_create_item.so", "b2_add_price.so"})
        fs::copy_file(fixture_dir("chain") / plugin, older.path() / plugin);
    sandbox.set_versions_dir(older.path());
    const auto result = sandbox.migrator({"check", "--json"});
    CHECK(result.exit_code == 8);
    const auto kinds = json_kinds(result.out, "problems");
    // Ahead, not behind: no "upgrade heads" advice, but the way back with the plugin the run that
    // applied c3 stored.
    CHECK(kinds == std::vector<std::string>{"missing_plugin"});
    const auto text = sandbox.migrator({"check"}).out;
    CHECK_THAT(text, Contains("is at c3c3c3c3c3c3, which the versions directory " +
                              older.path().string() + " does not know: an unreleased build "
                              "applied it and stored its plugin there; to undo it with the "
                              "downgrades stored there, run `migrator downgrade b2b2b2b2b2b2 "
                              "--stored-downgrades`"));
    // Without a stored plugin (a database from before plugins were stored), what it always said.
    sandbox.execute_script("DELETE FROM migrator_version_plugins;");
    CHECK_THAT(sandbox.migrator({"check"}).out,
               Contains("the database is at revision c3c3c3c3c3c3, which no plugin in"));
}

TEST_CASE("check reports several heads", "[e2e][check]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("branched"));
    REQUIRE(sandbox.migrator({"upgrade", "heads"}).exit_code == 0);
    const auto result = sandbox.migrator({"check"});
    CHECK(result.exit_code == 8);
    CHECK_THAT(result.out, Contains("has 2 heads (d1, d2)"));
    CHECK(json_kinds(sandbox.migrator({"check", "--json"}).out, "problems") ==
          std::vector<std::string>{"multiple_heads"});
}

TEST_CASE("check reports a database below head, as a warning with --allow-pending",
          "[e2e][check]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    bool at_base = false;
    SECTION("at base") { at_base = true; }
    SECTION("one revision in") { REQUIRE(sandbox.migrator({"upgrade", "+1"}).exit_code == 0); }
    const auto strict = sandbox.migrator({"check"});
    CHECK(strict.exit_code == 8);
    CHECK_THAT(strict.out, Contains("not at the head revision(s) c3c3c3c3c3c3 (head)"));
    const auto lenient = sandbox.migrator({"check", "--allow-pending", "--json"});
    CHECK(lenient.exit_code == 0);
    CHECK(json_kinds(lenient.out, "problems").empty());
    CHECK(json_kinds(lenient.out, "warnings") == std::vector<std::string>{"not_at_head"});
    // check only reads: a database at base is not created by it.
    if (at_base) CHECK(!sandbox.touched());
}
