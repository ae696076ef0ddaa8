// End to end: bad input gets one clear sentence on stderr and a documented exit status.
#include <migrator/plugin_abi.h>

#include <catch2/catch.hpp>
#include <string>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("unknown and ambiguous revisions are two different errors", "[e2e][errors]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, shipped_versions_dir());
    const auto unknown = sandbox.migrator({"upgrade", "fff"});
    CHECK(unknown.exit_code == 3);
    CHECK_THAT(unknown.err, Contains("fff"));
    CHECK(lines_of(unknown.err).size() == 1);

    Sandbox prefixes(backend, fixture_dir("prefixes"));
    const auto ambiguous = prefixes.migrator({"upgrade", "a1a1"});
    CHECK(ambiguous.exit_code == 3);
    CHECK_THAT(ambiguous.err, Contains("a1a1a1a1a1a1"));
    CHECK_THAT(ambiguous.err, Contains("a1a1a1a1ffff"));
    CHECK(lines_of(ambiguous.err).size() == 1);
    CHECK(ambiguous.err != unknown.err);
    CHECK_FALSE(prefixes.touched());  // a refused command creates nothing

    const auto unique = prefixes.migrator({"upgrade", "a1a1a1a1f"});
    CHECK(unique.exit_code == 0);
    CHECK(prefixes.version_rows() == std::vector<std::string>{"a1a1a1a1ffff"});
}

TEST_CASE("relative targets that walk off the history are refused", "[e2e][errors]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, shipped_versions_dir());
    const auto too_far = sandbox.migrator({"upgrade", "+5"});
    CHECK(too_far.exit_code == 3);
    CHECK(lines_of(too_far.err).size() == 1);
    REQUIRE(sandbox.migrator({"upgrade", "+1"}).exit_code == 0);
    const auto below_base = sandbox.migrator({"downgrade", "-2"});
    CHECK(below_base.exit_code == 3);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"1975ea83b712"});
}

TEST_CASE("database URL problems name the URL with the password masked", "[e2e][errors]") {
    Sandbox sandbox("sqlite", shipped_versions_dir());
    const std::vector<std::string> base{MIGRATOR_BIN, "--versions-dir",
                                        shipped_versions_dir().string()};
    const std::map<std::string, std::string> clean{{"MIGRATOR_DATABASE_URL", ""},
                                                   {"SQLALCHEMY_DATABASE_URL", ""}};

    SECTION("no URL at all") {
        auto argv = base;
        argv.push_back("current");
        const auto result = run_process(argv, clean);
        CHECK(result.exit_code == 5);
        CHECK_THAT(result.err, Contains("MIGRATOR_DATABASE_URL"));
    }
    SECTION("an unsupported scheme") {
        auto argv = base;
        argv.insert(argv.end(), {"--url", "mysql://app:s3cret@db.example/app", "current"});
        const auto result = run_process(argv, clean);
        CHECK(result.exit_code == 5);
        CHECK_THAT(result.err, Contains("mysql"));
        CHECK_THAT(result.err, !Contains("s3cret"));
    }
    SECTION("the URL comes from SQLALCHEMY_DATABASE_URL when nothing else is set") {
        auto argv = base;
        argv.insert(argv.end(), {"upgrade", "+1"});
        auto env = clean;
        env["SQLALCHEMY_DATABASE_URL"] = sandbox.url();
        REQUIRE(run_process(argv, env).exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"1975ea83b712"});
    }
    SECTION("MIGRATOR_DATABASE_URL wins over SQLALCHEMY_DATABASE_URL") {
        auto argv = base;
        argv.insert(argv.end(), {"upgrade", "+1"});
        auto env = clean;
        env["MIGRATOR_DATABASE_URL"] = sandbox.url();
        env["SQLALCHEMY_DATABASE_URL"] = "mysql://nobody@nowhere/none";
        REQUIRE(run_process(argv, env).exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"1975ea83b712"});
    }
}

TEST_CASE(
    "a URL with a bad port, a control character or raw non-ASCII is refused before any "
    "connection",
    "[e2e][errors]") {
    Sandbox sandbox("sqlite", shipped_versions_dir());
    const std::string dir = sandbox.dir().string();
    std::string url;
    std::string expected;
    SECTION("a percent-encoded NUL in the file name") {
        url = "sqlite:///" + dir + "/app.db%00.bak";
        expected = "error: the file name in database URL " + url +
                   " holds the control character %00, which no database name, file name or "
                   "setting may contain; remove it";
    }
    SECTION("a port that is not a number") {
        url = "postgresql://app:s3cret@127.0.0.1:5a/x";
        expected =
            "error: port '5a' in database URL postgresql://app:***@127.0.0.1:5a/x is not a "
            "number; a port is a number from 1 to 65535";
    }
    SECTION("raw non-ASCII") {
        url = "sqlite:///" + dir + "/caf\xc3\xa9.db";
        expected = "error: malformed database URL " + url +
                   "; it contains the non-ASCII character '\xc3\xa9', which must be "
                   "percent-encoded as its UTF-8 bytes (%C3%A9)";
    }
    const auto result = run_process({MIGRATOR_BIN, "--url", url, "--versions-dir",
                                     shipped_versions_dir().string(), "upgrade", "head"},
                                    Sandbox::clean_environment(), dir);
    CHECK(result.exit_code == 5);
    CHECK(result.err == expected + "\n");
    CHECK(fs::directory_iterator(sandbox.dir()) == fs::directory_iterator());
}

TEST_CASE("a missing versions directory is named", "[e2e][errors]") {
    Sandbox sandbox("sqlite", "/nonexistent/versions");
    const auto result = sandbox.migrator({"history"});
    CHECK(result.exit_code == 4);
    CHECK_THAT(result.err, Contains("/nonexistent/versions"));
}

TEST_CASE("a bad command line is a usage error", "[e2e][errors]") {
    CHECK(run_process({MIGRATOR_BIN, "frobnicate"}).exit_code == 2);
    CHECK(run_process({MIGRATOR_BIN, "upgrade"}).exit_code == 2);
    const auto version = run_process({MIGRATOR_BIN, "--version"});
    CHECK(version.exit_code == 0);
    CHECK_THAT(version.out,
               Contains("plugin ABI 1 to " + std::to_string(MIGRATOR_ABI_VERSION) +
                        ", plugin-api " MIGRATOR_PLUGIN_API_VERSION ", " MIGRATOR_PLATFORM));
}
