// End to end: the plugin ABI keeps its promise. A plugin built against the frozen version-1
// headers and one built by clang run in today's gcc-built host; a plugin of another platform and a
// stale PostgreSQL backend module are refused with a sentence naming them (a plugin of a newer
// ABI: discovery_test.cpp).
#include <migrator/plugin_abi.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

std::string bytes_of(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Copies the sealed plugin `source` to `target`, moved to ELF machine `machine` (e_machine, a
/// little-endian field at offset 18 of the x86-64 and AArch64 plugins this suite builds), and
/// seals it again as the build does: a plugin as a build for that machine would have left it.
void copy_for_machine(const fs::path& source, const fs::path& target, std::uint16_t machine) {
    std::string bytes = bytes_of(source);
    const std::size_t seal = bytes.rfind("\nmigrator-seal-v1 sha256:");
    REQUIRE(seal != std::string::npos);
    REQUIRE(bytes.at(5) == 1);  // little-endian
    bytes.resize(seal);
    bytes.at(18) = static_cast<char>(machine & 0xff);
    bytes.at(19) = static_cast<char>(machine >> 8);
    {
        std::ofstream out(target, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        REQUIRE(out.good());
    }
    const auto sealed =
        run_process({MIGRATOR_CMAKE_COMMAND, "-DPLUGIN=" + target.string(), "-P",
                     std::string(MIGRATOR_SOURCE_DIR) + "/plugin-api/cmake/seal_plugin.cmake"});
    REQUIRE(sealed.exit_code == 0);
}

}  // namespace

TEST_CASE("a plugin built against the frozen version-1 headers runs in today's host",
          "[e2e][abi]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("abi_v1"));

    const auto show = sandbox.migrator({"show", "v1v1v1v1v1v1"});
    CHECK(show.exit_code == 0);
    CHECK_THAT(show.out, Contains("Plugin: ABI 1, plugin-api before 0.2, " MIGRATOR_PLATFORM "\n"));
    const auto verify = sandbox.migrator({"verify"});
    CHECK(verify.exit_code == 0);
    CHECK_THAT(verify.out, Contains("OK: 1 revision plugins in ") && Contains("(plugin ABI 1)"));

    const auto upgrade = sandbox.migrator({"upgrade", "head"});
    INFO(upgrade.err);
    REQUIRE(upgrade.exit_code == 0);
    // execute wrote the rows, query read them back through the ABI-1 row callback, log printed.
    CHECK_THAT(upgrade.out, Contains("v1 plugin on " + backend + " read 1:first, 2:second"));
    CHECK(sandbox.tables() == std::set<std::string>{"v1_item"});
    CHECK(sandbox.version_rows() == std::vector<std::string>{"v1v1v1v1v1v1"});

    const auto downgrade = sandbox.migrator({"downgrade", "base"});
    INFO(downgrade.err);
    REQUIRE(downgrade.exit_code == 0);
    CHECK_THAT(downgrade.out, Contains("v1 plugin drops 2 rows: 1:first, 2:second"));
    CHECK(sandbox.tables().empty());
    CHECK(sandbox.version_rows().empty());
}

TEST_CASE("a plugin built with clang runs in the gcc-built host", "[e2e][abi]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("clang"));
    const auto upgrade = sandbox.migrator({"upgrade", "head"});
    INFO(upgrade.err);
    REQUIRE(upgrade.exit_code == 0);
    CHECK_THAT(upgrade.out, Contains("clang 14 plugin counted 3 rows"));
    CHECK(sandbox.tables() == std::set<std::string>{"clang_item"});
    const auto downgrade = sandbox.migrator({"downgrade", "base"});
    INFO(downgrade.err);
    REQUIRE(downgrade.exit_code == 0);
    CHECK_THAT(downgrade.out, Contains("clang plugin drops one,two,three"));
    CHECK(sandbox.tables().empty());
}

TEST_CASE("show says which plugin ABI, plugin-api and platform a revision was built for",
          "[e2e][abi]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    const auto show = sandbox.migrator({"show", "a1a1a1a1a1a1"});
    CHECK(show.exit_code == 0);
    CHECK_THAT(show.out,
               Contains("Plugin: ABI " + std::to_string(MIGRATOR_ABI_VERSION) +
                        ", plugin-api " MIGRATOR_PLUGIN_API_VERSION ", " MIGRATOR_PLATFORM "\n"));
    const auto json = sandbox.migrator({"show", "a1a1a1a1a1a1", "--json"});
    REQUIRE(json.exit_code == 0);
    const auto revision = boost::json::parse(json.out).at("revisions").at(0).as_object();
    CHECK(revision.at("plugin_abi").as_int64() == MIGRATOR_ABI_VERSION);
    CHECK(revision.at("plugin_api").as_string() == MIGRATOR_PLUGIN_API_VERSION);
    CHECK(revision.at("platform").as_string() == MIGRATOR_PLATFORM);

    Sandbox v1("sqlite", fixture_dir("abi_v1"));
    const auto v1_json = v1.migrator({"show", "v1v1", "--json"});
    REQUIRE(v1_json.exit_code == 0);
    const auto old = boost::json::parse(v1_json.out).at("revisions").at(0).as_object();
    CHECK(old.at("plugin_abi").as_int64() == 1);
    CHECK(old.at("plugin_api").is_null());
    CHECK(old.at("platform").as_string() == MIGRATOR_PLATFORM);

    const auto verify = sandbox.migrator({"verify"});
    CHECK(verify.exit_code == 0);
    CHECK_THAT(verify.out,
               Contains("OK: 3 revision plugins in ") &&
                   Contains("(plugin ABI " + std::to_string(MIGRATOR_ABI_VERSION) + ")"));
}

TEST_CASE("a plugin built for another platform is refused by verify, history and upgrade",
          "[e2e][abi]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    ScratchDir versions;
    for (const char* stem : {"a1_create_item", "b2_add_price", "c3_index_name"})
        fs::copy_file(fixture_dir("chain") / (std::string(stem) + ".so"),
                      versions.path() / (std::string(stem) + ".so"));
    // An AArch64 build of b2 (or, on AArch64, an x86-64 one).
    const bool on_aarch64 = std::string(MIGRATOR_PLATFORM).rfind("aarch64", 0) == 0;
    const fs::path foreign = versions.path() / "b2_add_price.so";
    fs::remove(foreign);
    copy_for_machine(fixture_dir("chain") / "b2_add_price.so", foreign, on_aarch64 ? 62 : 183);
    const std::string sentence = "plugin file " + foreign.string() + " was built for " +
                                 (on_aarch64 ? "x86_64-elf64-le" : "aarch64-elf64-le") +
                                 ", but this migrator runs on " MIGRATOR_PLATFORM
                                 "; rebuild it on this platform\n";

    Sandbox sandbox(backend, versions.path());
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"verify"}, {"history"}, {"upgrade", "head"}}) {
        CAPTURE(command.front());
        const auto result = sandbox.migrator(command);
        CHECK(result.exit_code == 4);
        CHECK_THAT(result.err, Contains(sentence));
        CHECK(result.out.empty());
    }
    CHECK_FALSE(sandbox.touched());
}

TEST_CASE("a stale PostgreSQL backend module is refused with a sentence naming it", "[e2e][abi]") {
    // An installation tree: bin/migrator and the module it finds in ../lib/migrator/.
    ScratchDir tree;
    fs::create_directories(tree.path() / "bin");
    fs::create_directories(tree.path() / "lib" / "migrator");
    const fs::path program = tree.path() / "bin" / "migrator";
    fs::copy_file(MIGRATOR_BIN, program);
    const fs::path module = tree.path() / "lib" / "migrator" / "postgresql_backend.so";
    // Nothing listens on port 1: a module that passes the handshake fails to connect instead.
    const auto run = [&] {
        return run_process({program.string(), "--url", "postgresql://nobody@127.0.0.1:1/nowhere",
                            "--versions-dir", fixture_dir("chain").string(), "current"},
                           Sandbox::clean_environment());
    };
    const std::string subject = "the PostgreSQL support module " + module.string();
    const std::string fix = "; reinstall migrator, or rebuild it with its lib/ folder\n";

    SECTION("this build's own module passes the handshake") {
        fs::copy_file(fs::path(MIGRATOR_BUILD_DIR) / "lib/migrator/postgresql_backend.so", module);
        const auto result = run();
        CHECK(result.exit_code == 5);
        CHECK_THAT(result.err, !Contains("support module"));
        CHECK_THAT(result.err, Contains("127.0.0.1"));
    }
    SECTION("a module without the handshake, as migrator 0.1 built it") {
        fs::copy_file(fixture_dir("stale_backend/1") / "postgresql_backend.so", module);
        const auto result = run();
        CHECK(result.exit_code == 5);
        CHECK_THAT(result.err, Contains(subject + " is stale: it has no migrator_backend_info "
                                                  "handshake, so it was built by a migrator older "
                                                  "than this one (") &&
                                   Contains(fix));
    }
    SECTION("a module of another migrator version") {
        fs::copy_file(fixture_dir("stale_backend/2") / "postgresql_backend.so", module);
        const auto result = run();
        CHECK(result.exit_code == 5);
        CHECK_THAT(result.err,
                   Contains(subject + " was built for migrator 0.1.9, but this is migrator ") &&
                       Contains(fix));
    }
    SECTION("a module with another layout of the types that cross") {
        fs::copy_file(fixture_dir("stale_backend/3") / "postgresql_backend.so", module);
        const auto result = run();
        CHECK(result.exit_code == 5);
        CHECK_THAT(result.err, Contains(subject + " was built with another layout of "
                                                  "migrator::DatabaseOptions (") &&
                                   Contains(fix));
    }
}
