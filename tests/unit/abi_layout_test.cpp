// The plugin ABI's promise, checked: every field, size and constant a plugin of ABI 1 relies on is
// where the frozen version-1 header put it, the host accepts ABI 1, and a row callback's return
// value means what the serving plugin's ABI says.
#include "abi_layout.hpp"

#include <migrator/plugin_abi.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/schema/host_session.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

std::string text_of(const fs::path& file) {
    std::ifstream in(file);
    REQUIRE(in.good());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Every metadata-key macro a header defines, as its whole #define line
/// ("#define MIGRATOR_MESSAGE(text) \"message=\" text \"\\n\"").
std::set<std::string> metadata_key_macros(const std::string& header_text) {
    static const std::regex key_macro(R"(#define MIGRATOR_[A-Z_]+\([a-z]*\) "[a-z_]+=[^\n]*)");
    std::set<std::string> lines;
    for (auto it = std::sregex_iterator(header_text.begin(), header_text.end(), key_macro);
         it != std::sregex_iterator(); ++it)
        lines.insert(it->str());
    return lines;
}

void check_same_fields(const std::vector<abi_layout::Field>& v1,
                       const std::vector<abi_layout::Field>& now) {
    REQUIRE(now.size() == v1.size());
    for (std::size_t i = 0; i < v1.size(); ++i) {
        CAPTURE(v1[i].name);
        CHECK(now[i].name == v1[i].name);
        CHECK(now[i].offset == v1[i].offset);
        CHECK(now[i].size == v1[i].size);
        CHECK(now[i].type == v1[i].type);
    }
}

}  // namespace

TEST_CASE("Every field of the version-1 structs is where the frozen v1 header put it", "[abi]") {
    const abi_layout::Layout v1 = abi_layout::frozen_v1();
    const abi_layout::Layout now = abi_layout::current();
    REQUIRE(v1.abi_version == 1);
    SECTION("migrator_host: the v1 fields unchanged, later ones only appended after them") {
        check_same_fields(v1.host, now.host);
        CHECK(now.host_size >= v1.host_size);
        CHECK(abi_layout::current_first_v2_host_field() >= v1.host_size);
    }
    SECTION("migrator_plugin: the v1 fields unchanged") {
        check_same_fields(v1.plugin, now.plugin);
        CHECK(now.plugin_size >= v1.plugin_size);
    }
    SECTION("the function pointer types: row callback, step, entry point") {
        CHECK(now.row_fn == v1.row_fn);
        CHECK(now.step_fn == v1.step_fn);
        CHECK(now.entry_fn == v1.entry_fn);
    }
}

TEST_CASE("The constants a version-1 plugin was compiled with keep their values", "[abi]") {
    const abi_layout::Layout v1 = abi_layout::frozen_v1();
    const abi_layout::Layout now = abi_layout::current();
    CHECK(now.ok == v1.ok);
    CHECK(now.error == v1.error);
    CHECK(now.log_info == v1.log_info);
    CHECK(now.log_warning == v1.log_warning);
    CHECK(now.metadata_section == v1.metadata_section);
    CHECK(now.metadata_magic == v1.metadata_magic);
    CHECK(now.entry_symbol == v1.entry_symbol);
    CHECK(now.seal_magic == v1.seal_magic);
    // A version-1 plugin's row callback returned 0 for "next row" and 1 for "stop".
    CHECK(MIGRATOR_ROW_NEXT == 0);
    CHECK(MIGRATOR_ROW_STOP == 1);
}

TEST_CASE("The host accepts every plugin ABI version from 1 to its own", "[abi]") {
    REQUIRE(MIGRATOR_ABI_VERSION >= 2);
    for (unsigned abi = 1; abi <= MIGRATOR_ABI_VERSION; ++abi) {
        CAPTURE(abi);
        const auto revision = migrator::parse_metadata(
            "migrator-revision\nabi=" + std::to_string(abi) + "\nid=a\ndown=\nmessage=m\n", "x.so");
        CHECK(revision.abi == abi);
    }
    CHECK_THROWS_WITH(migrator::parse_metadata(
                          "migrator-revision\nabi=" + std::to_string(MIGRATOR_ABI_VERSION + 1) +
                              "\nid=a\ndown=\nmessage=m\n",
                          "x.so"),
                      Contains("plugin file x.so was built for plugin ABI version " +
                               std::to_string(MIGRATOR_ABI_VERSION + 1) +
                               ", but this migrator supports versions 1 to " +
                               std::to_string(MIGRATOR_ABI_VERSION) + "; rebuild it"));
}

TEST_CASE("The metadata keys a version-1 plugin writes are the keys written today", "[abi]") {
    const fs::path source = MIGRATOR_SOURCE_DIR;
    const auto v1 =
        metadata_key_macros(text_of(source / "tests/fixtures/abi_v1/migrator/revision.hpp"));
    REQUIRE(v1.size() == 7);  // id, down, labels, depends_on, message, created, transactional
    std::string today;
    for (const auto& entry : fs::directory_iterator(source / "plugin-api/include/migrator"))
        today += text_of(entry.path());
    const auto now = metadata_key_macros(today);
    for (const auto& line : v1) {
        CAPTURE(line);
        CHECK(now.count(line) == 1);
    }
    // And the plugin built against the frozen headers reads as the revision it declares.
    const auto plugin =
        migrator::read_plugin_file(fs::path(MIGRATOR_FIXTURES_DIR) / "abi_v1/v1_frozen_abi.so");
    CHECK(plugin.revision.abi == 1);
    CHECK(plugin.revision.id == "v1v1v1v1v1v1");
    CHECK(plugin.revision.parents.empty());
    CHECK(plugin.revision.message == "built for plugin ABI 1");
    CHECK(plugin.revision.create_date == "2026-11-01 09:00:00");
    CHECK(plugin.revision.source_sha256.size() == 64);
    CHECK(plugin.revision.transactional);
}

namespace {

/// A row callback that answers `verdict` to the first row it sees and counts the rows.
struct RowAnswer {
    int verdict;
    int rows = 0;
    static int on_row(void* user, int, const char* const*, const char* const*) {
        auto& answer = *static_cast<RowAnswer*>(user);
        ++answer.rows;
        return answer.verdict;
    }
};

}  // namespace

TEST_CASE("A row callback's answer means what the served plugin's ABI says it means", "[abi]") {
    const auto db = migrator::open_database(migrator::DatabaseUrl::parse("sqlite://"), {});
    db->execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)");
    migrator::HostSession session(*db, {});
    const migrator_host* host = session.host();
    const auto query = [&](RowAnswer& answer) {
        return host->query(host->session, "SELECT x FROM t ORDER BY x", &RowAnswer::on_row,
                           &answer);
    };
    SECTION("ABI 2 (the default): MIGRATOR_ROW_FAILED fails the query") {
        RowAnswer failed{MIGRATOR_ROW_FAILED};
        CHECK(query(failed) == MIGRATOR_ERROR);
        CHECK(failed.rows == 1);
        CHECK(std::string(host->last_error(host->session)) ==
              "the revision stopped reading rows with an error");
        RowAnswer stop{MIGRATOR_ROW_STOP};
        CHECK(query(stop) == MIGRATOR_OK);
        CHECK(stop.rows == 1);
        RowAnswer next{MIGRATOR_ROW_NEXT};
        CHECK(query(next) == MIGRATOR_OK);
        CHECK(next.rows == 3);
        session.serve_plugin_abi(2);
        RowAnswer unknown{7};
        CHECK(query(unknown) == MIGRATOR_ERROR);
    }
    SECTION("ABI 1: any non-zero answer stops early, and the query succeeds") {
        session.serve_plugin_abi(1);
        for (const int verdict : {MIGRATOR_ROW_STOP, MIGRATOR_ROW_FAILED, 7}) {
            CAPTURE(verdict);
            RowAnswer answer{verdict};
            CHECK(query(answer) == MIGRATOR_OK);
            CHECK(answer.rows == 1);
        }
    }
}
