// End to end: shell completion. The programs answer `__complete` from their own command-line
// definition (commands, options, the versions directory's revision ids), and the bash and zsh
// scripts of host/completion/ turn that into the shells' candidates.
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

const std::string completion_dir = std::string(MIGRATOR_SOURCE_DIR) + "/host/completion";

std::vector<std::string> complete(const char* program, const std::vector<std::string>& words) {
    std::vector<std::string> argv{program, "__complete"};
    argv.insert(argv.end(), words.begin(), words.end());
    const auto result = run_process(argv);
    REQUIRE(result.exit_code == 0);
    return lines_of(result.out);
}

/// The environment in which a shell finds this build's programs by name.
std::map<std::string, std::string> with_programs_on_path() {
    const char* path = std::getenv("PATH");
    return {{"PATH", std::string(MIGRATOR_BUILD_DIR) + "/bin:" + (path ? path : "/usr/bin:/bin")}};
}

/// What bash's completion offers for `line` (the words typed; the last one being completed).
std::vector<std::string> bash_candidates(const std::vector<std::string>& line) {
    std::string words;
    for (const auto& word : line) words += " '" + word + "'";
    const std::string script = "source '" + completion_dir + "/migrator.bash'; COMP_WORDS=(" +
                               words + "); COMP_CWORD=" + std::to_string(line.size() - 1) +
                               "; _migrator_complete; printf '%s\\n' \"${COMPREPLY[@]}\"";
    const auto result = run_process({"/bin/bash", "-c", script}, with_programs_on_path());
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return lines_of(result.out);
}

/// What zsh's completion function adds for `line`, compadd and _files stood in for by functions
/// that print what they were given.
std::vector<std::string> zsh_candidates(const std::vector<std::string>& line) {
    std::string words;
    for (const auto& word : line) words += " '" + word + "'";
    const std::string script =
        "compadd() { shift; print -rl -- \"$@\"; }; _files() { print -r -- FILES; }; words=(" +
        words + "); CURRENT=" + std::to_string(line.size()) + "; source '" + completion_dir +
        "/_migrator'";
    const auto result = run_process({"/usr/bin/zsh", "-fc", script}, with_programs_on_path());
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return lines_of(result.out);
}

bool holds(const std::vector<std::string>& items, const std::string& item) {
    return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

TEST_CASE("migrator and scaffold answer __complete from their own command line",
          "[e2e][completion]") {
    CHECK(complete(MIGRATOR_BIN, {"upg"}) == std::vector<std::string>{"upgrade"});
    const auto commands = complete(MIGRATOR_BIN, {""});
    for (const char* command : {"history", "upgrade", "log", "accept-edit", "edit", "init"})
        CHECK(holds(commands, command));
    CHECK(complete(MIGRATOR_BIN, {"upgrade", "--si"}) ==
          std::vector<std::string>{"--single-transaction"});
    // Global options fall through to commands.
    CHECK(holds(complete(MIGRATOR_BIN, {"upgrade", "--versions"}), "--versions-dir"));
    // A revision argument offers head, heads, base, the ids and the labels of the versions
    // directory named on the line (either spelling).
    const std::string branched = fixture_dir("branched").string();
    const auto revisions = complete(MIGRATOR_BIN, {"--versions-dir", branched, "upgrade", ""});
    for (const char* name : {"head", "heads", "base", "a", "c1", "d2", "c1branch"})
        CHECK(holds(revisions, name));
    CHECK(complete(MIGRATOR_BIN, {"show", "--versions-dir=" + branched, "c"}) ==
          std::vector<std::string>{"c1", "c2", "c1branch", "c2branch"});
    // Release targets where a command moves the database, and only there.
    const std::string releases = fixture_dir("release_3").string();
    CHECK(complete(MIGRATOR_BIN, {"--versions-dir", releases, "downgrade", "@"}) ==
          std::vector<std::string>{"@1.0", "@2.0", "@3.0"});
    CHECK(complete(MIGRATOR_BIN, {"--versions-dir", releases, "show", "@"}).empty());
    CHECK(holds(commands, "converge"));
    CHECK(holds(commands, "releases"));
    // After an option that takes a value, nothing: the shell offers files.
    CHECK(complete(MIGRATOR_BIN, {"--versions-dir", ""}).empty());
    // A versions directory that cannot be read offers no revisions, and no error.
    CHECK(complete(MIGRATOR_BIN, {"--versions-dir", "/nonexistent", "upgrade", "h"}).empty());
    CHECK(complete(SCAFFOLD_BIN, {"ke"}) == std::vector<std::string>{"keygen"});
    CHECK(holds(complete(SCAFFOLD_BIN, {"new", "--"}), "--autogenerate"));
}

TEST_CASE("the bash and zsh completion scripts offer what the programs answer",
          "[e2e][completion]") {
    const std::string branched = fixture_dir("branched").string();
    SECTION("bash") {
        CHECK(bash_candidates({"migrator", "downg"}) == std::vector<std::string>{"downgrade"});
        CHECK(bash_candidates({"scaffold", "si"}) == std::vector<std::string>{"sign"});
        CHECK(bash_candidates({"migrator", "--versions-dir", branched, "upgrade", "d"}) ==
              std::vector<std::string>{"d1", "d2"});
        // Nothing from the program: file names.
        const auto files = bash_candidates({"migrator", "--config", MIGRATOR_SOURCE_DIR "/READ"});
        CHECK(files == std::vector<std::string>{MIGRATOR_SOURCE_DIR "/README.md"});
    }
    SECTION("zsh") {
        CHECK(zsh_candidates({"migrator", "downg"}) == std::vector<std::string>{"downgrade"});
        CHECK(zsh_candidates({"migrator", "--versions-dir", branched, "upgrade", "d"}) ==
              std::vector<std::string>{"d1", "d2"});
        CHECK(zsh_candidates({"migrator", "upgrade", ""}).size() > 3);
        CHECK(zsh_candidates({"migrator", "--config", ""}) == std::vector<std::string>{"FILES"});
    }
}
