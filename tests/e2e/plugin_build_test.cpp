// End to end: what migrator_add_revision builds — one exported symbol, the source's SHA-256.
#include <catch2/catch.hpp>
#include <sstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

/// The `.so` files of a versions directory.
std::vector<fs::path> plugins_in(const fs::path& dir) {
    std::vector<fs::path> plugins;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".so") plugins.push_back(entry.path());
    return plugins;
}

}  // namespace

TEST_CASE("a revision plugin exports nothing but its entry point", "[e2e][build]") {
    const auto plugins = plugins_in(shipped_versions_dir());
    REQUIRE(plugins.size() >= 3);
    for (const auto& plugin : plugins) {
        INFO(plugin.string());
        const auto nm = run_process({"/usr/bin/nm", "-D", "--defined-only", plugin.string()});
        REQUIRE(nm.exit_code == 0);
        std::vector<std::string> symbols;
        for (const auto& line : lines_of(nm.out)) {
            std::istringstream fields(line);
            std::string address, type, name;
            fields >> address >> type >> name;
            symbols.push_back(name);
        }
        CHECK(symbols == std::vector<std::string>{"migrator_plugin_entry"});
    }
}

TEST_CASE("a revision plugin carries the SHA-256 of its source file", "[e2e][build]") {
    Sandbox sandbox("sqlite", shipped_versions_dir());
    const fs::path source = fs::path(MIGRATOR_SOURCE_DIR) / "revisions" /
                            "3e0e4c7a4a0b_add_status_to_invoice" /
                            "3e0e4c7a4a0b_add_status_to_invoice.cpp";
    const auto digest = run_process({MIGRATOR_CMAKE_COMMAND, "-E", "sha256sum", source.string()});
    REQUIRE(digest.exit_code == 0);
    const std::string expected = digest.out.substr(0, 64);

    const auto show = sandbox.migrator({"show", "3e0e4c7a4a0b"});
    REQUIRE(show.exit_code == 0);
    CHECK_THAT(show.out, Contains("Source SHA-256: " + expected + "\n"));
}
