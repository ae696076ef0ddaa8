// End to end: graph commands read metadata without loading plugins; bad plugin files are named.
#include <catch2/catch.hpp>
#include <fstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("a plugin whose static initializer aborts does not disturb the graph commands",
          "[e2e][discovery]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("static_abort"));
    const auto log = sandbox.dir() / "loads.log";
    const std::map<std::string, std::string> env{{"MIGRATOR_TEST_LOAD_LOG", log.string()}};

    REQUIRE(sandbox.migrator({"upgrade", "b2b2"}, env).exit_code == 0);
    CHECK(lines_of(read_file(log)) == std::vector<std::string>{"a1a1a1a1a1a1", "b2b2b2b2b2b2"});
    fs::remove(log);

    const auto history = sandbox.migrator({"history"}, env);
    CHECK(history.exit_code == 0);
    CHECK_THAT(history.out, Contains("b2b2b2b2b2b2 -> e3e3e3e3e3e3 (head), aborts when loaded"));
    const auto heads = sandbox.migrator({"heads"}, env);
    CHECK(heads.exit_code == 0);
    CHECK(heads.out == "e3e3e3e3e3e3 (head)\n");
    const auto current = sandbox.migrator({"current"}, env);
    CHECK(current.exit_code == 0);
    CHECK(current.out == "b2b2b2b2b2b2\n");
    const auto show = sandbox.migrator({"show", "e3e3"}, env);
    CHECK(show.exit_code == 0);
    CHECK_THAT(show.out, Contains("aborts when loaded"));
    // None of them loaded any plugin: no static initializer ran.
    CHECK_FALSE(fs::exists(log));
}

TEST_CASE("files that are not plugins are refused with their name", "[e2e][discovery]") {
    ScratchDir versions;
    fs::copy_file(fixture_dir("chain") / "a1_create_item.so", versions.path() / "a1.so");
    Sandbox sandbox("sqlite", versions.path());

    SECTION("files without the .so suffix are ignored") {
        std::ofstream(versions.path() / "README.txt") << "release notes\n";
        const auto result = sandbox.migrator({"history"});
        CHECK(result.exit_code == 0);
        CHECK(result.out == "<base> -> a1a1a1a1a1a1 (head), create item\n");
    }
    SECTION("garbage") {
        std::ofstream(versions.path() / "garbage.so") << "this is not an ELF file at all";
        const auto result = sandbox.migrator({"history"});
        CHECK(result.exit_code == 4);
        CHECK_THAT(result.err, Contains((versions.path() / "garbage.so").string()));
        CHECK(lines_of(result.err).size() == 1);
    }
    SECTION("an empty file") {
        std::ofstream(versions.path() / "empty.so");
        const auto result = sandbox.migrator({"heads"});
        CHECK(result.exit_code == 4);
        CHECK_THAT(result.err, Contains("empty.so"));
    }
    SECTION("a truncated plugin") {
        const auto size = fs::file_size(versions.path() / "a1.so");
        fs::copy_file(versions.path() / "a1.so", versions.path() / "cut.so");
        fs::resize_file(versions.path() / "cut.so", size / 3);
        const auto result = sandbox.migrator({"upgrade", "head"});
        CHECK(result.exit_code == 4);
        CHECK_THAT(result.err, Contains("cut.so"));
        CHECK_FALSE(sandbox.touched());
    }
    SECTION("a shared library without metadata") {
        fs::copy_file(fixture_dir("not_a_plugin") / "not_a_plugin.so",
                      versions.path() / "not_a_plugin.so");
        const auto result = sandbox.migrator({"history"});
        CHECK(result.exit_code == 4);
        CHECK_THAT(result.err, Contains("not_a_plugin.so"));
    }
}

TEST_CASE("a plugin built for a newer ABI is refused naming both versions, before anything runs",
          "[e2e][discovery]") {
    Sandbox sandbox("sqlite", fixture_dir("wrong_abi"));
    // LLVM's pass-plugin check: the file, the version it was built for, the versions accepted.
    const std::string sentence = "plugin file " +
                                 (fixture_dir("wrong_abi") / "w1_wrong_abi.so").string() +
                                 " was built for plugin ABI version 99, but this migrator "
                                 "supports versions 1 to 2; rebuild it\n";
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"upgrade", "head"}, {"verify"}, {"history"}, {"show", "head"}}) {
        CAPTURE(command.front());
        const auto result = sandbox.migrator(command);
        CHECK(result.exit_code == 4);
        CHECK_THAT(result.err, Contains(sentence));
    }
    CHECK_FALSE(sandbox.touched());
}

TEST_CASE("a plugin whose entry point contradicts its metadata section is refused",
          "[e2e][discovery]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("mismatch"));
    CHECK(sandbox.migrator({"history"}).exit_code == 0);  // the section alone is consistent
    const auto result = sandbox.migrator({"upgrade", "head"});
    CHECK(result.exit_code == 4);
    CHECK_THAT(result.err, Contains("m1_metadata_mismatch.so"));
    CHECK_FALSE(sandbox.touched());  // not even the version tables
}

TEST_CASE("verify checks a versions directory without a database", "[e2e][discovery]") {
    Sandbox shipped("sqlite", shipped_versions_dir());
    const auto ok = shipped.migrator({"verify"});
    CHECK(ok.exit_code == 0);
    CHECK_THAT(ok.out, Contains("OK: 4 revision plugins"));
    CHECK_THAT(ok.out, Contains("ae1027a6acf2 (head)"));
    CHECK_FALSE(shipped.touched());

    Sandbox branched("sqlite", fixture_dir("branched"));
    const auto two_heads = branched.migrator({"verify"});
    CHECK(two_heads.exit_code == 3);
    CHECK_THAT(two_heads.err, Contains("2 heads (d1, d2)"));
    CHECK(branched.migrator({"verify", "--allow-multiple-heads"}).exit_code == 0);

    Sandbox wrong("sqlite", fixture_dir("wrong_abi"));
    const auto refused = wrong.migrator({"verify"});
    CHECK(refused.exit_code == 4);
    CHECK_THAT(refused.err, Contains("w1_wrong_abi.so"));
}
