// End to end: command-line mistakes get one sentence naming the word, the closest known name and
// the commands (status 2, nothing run); both programs answer --version; --json is refused where a
// command has no JSON output instead of being ignored.
#include <migrator/plugin_abi.h>

#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// The first line of `text`.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

TEST_CASE("a mistyped command or option names the word and the closest one", "[e2e][cli]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));

    SECTION("a command") {
        for (const auto& [typed, meant] : std::vector<std::pair<std::string, std::string>>{
                 {"upgrad", "upgrade"}, {"histroy", "history"}, {"down", "downgrade"}}) {
            const auto result = sandbox.migrator({typed, "head"});
            INFO(result.err);
            CHECK(result.exit_code == 2);
            CHECK(first_line(result.err) ==
                  "error: unknown command '" + typed + "'; did you mean '" + meant + "'?");
            CHECK_THAT(result.err, Contains("Commands: history, current, heads"));
            CHECK(result.out.empty());
        }
        // Nothing close: the sentence and the list, no guess.
        const auto result = sandbox.migrator({"frobnicate"});
        CHECK(result.exit_code == 2);
        CHECK(first_line(result.err) == "error: unknown command 'frobnicate'");
        CHECK_THAT(result.err, Contains("upgrade, downgrade"));
    }
    SECTION("an option of a command") {
        const auto result = sandbox.migrator({"upgrade", "head", "--sqll"});
        INFO(result.err);
        CHECK(result.exit_code == 2);
        CHECK(first_line(result.err) ==
              "error: unknown option '--sqll' for 'upgrade'; did you mean '--sql'?");
        CHECK_FALSE(sandbox.touched());  // nothing ran
    }
    SECTION("an argument a command does not take") {
        const auto result = sandbox.migrator({"history", "extra"});
        CHECK(result.exit_code == 2);
        CHECK(first_line(result.err) == "error: unexpected argument 'extra' for 'history'");
    }
    SECTION("no command, or a command without its argument, prints the usage") {
        const auto none = sandbox.migrator({});
        CHECK(none.exit_code == 2);
        CHECK_THAT(none.err, StartsWith("error: no command given. Commands: history"));

        const auto upgrade = sandbox.migrator({"upgrade"});
        INFO(upgrade.err);
        CHECK(upgrade.exit_code == 2);
        CHECK(first_line(upgrade.err) == "error: upgrade: target is required");
        CHECK_THAT(upgrade.err, Contains("Usage: migrator upgrade [OPTIONS] target"));
    }
    SECTION("a duration that is not a number of seconds") {
        const auto result = sandbox.migrator({"--lock-timeout", "abc", "upgrade", "head"});
        CHECK(result.exit_code == 2);
        CHECK(first_line(result.err) ==
              "error: --lock-timeout: 'abc' is not a number of seconds (0 or more)");
        CHECK_FALSE(sandbox.touched());  // nothing ran
    }
}

TEST_CASE("the --json flag is refused where a command has no JSON output", "[e2e][cli]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    for (const auto& command :
         std::vector<std::vector<std::string>>{{"--json", "stamp", "head"},
                                               {"resolve", "a1", "--applied", "--json"},
                                               {"accept-edit", "a1", "--json"}}) {
        const auto result = sandbox.migrator(command);
        INFO(result.err);
        CHECK(result.exit_code == 2);
        CHECK_THAT(result.err, StartsWith("error: --json is not available for '"));
        CHECK_THAT(result.err,
                   Contains("it is for history, current, heads, branches, show, check, log, "
                            "releases, upgrade, downgrade and converge"));
    }
    CHECK_FALSE(sandbox.touched());  // nothing ran
}

TEST_CASE("scaffold answers --version and mistyped commands as migrator does", "[e2e][cli]") {
    ScratchProject project;
    const auto version = project.scaffold({"--version"});
    CHECK(version.exit_code == 0);
    CHECK_THAT(version.out, StartsWith("scaffold 0."));
    CHECK_THAT(version.out, Contains("plugin-api " MIGRATOR_PLUGIN_API_VERSION));

    const auto typo = project.scaffold({"nwe", "add email"});
    CHECK(typo.exit_code == 2);
    CHECK(first_line(typo.err) == "error: unknown command 'nwe'; did you mean 'new'?");
    CHECK_THAT(typo.err, Contains("Commands: new, merge, release, init"));

    const auto option = project.scaffold({"new", "zqzq", "--raw-sq"});
    CHECK(option.exit_code == 2);
    CHECK(first_line(option.err) ==
          "error: unknown option '--raw-sq' for 'new'; did you mean '--raw-sql'?");
    CHECK(project.folders_named("zqzq").empty());
}
