// Tests of check_database (host/inspection/src): a real SQLite database, with version rows and
// history rows, compared with the revisions of fixture plugins.
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <migrator/inspection/inspection.hpp>
#include <migrator/plugins/plugins.hpp>
#include <string>
#include <vector>

#include "database_context.hpp"

using migrator::CheckFinding;
using migrator::CheckReport;
using migrator::Database;
using migrator::HistoryRecord;
using migrator::RevisionGraph;
using Ids = std::vector<std::string>;
using Kind = CheckFinding::Kind;

namespace {

/// The graph of a fixture scenario's plugins, read as migrator reads a versions directory.
RevisionGraph graph_of(const std::string& scenario) {
    std::vector<migrator::Revision> revisions;
    for (const auto& file :
         migrator::scan_versions_dir(std::filesystem::path(MIGRATOR_FIXTURES_DIR) / scenario,
                                     migrator::PermissionCheck::skip))
        revisions.push_back(file.revision);
    return RevisionGraph(std::move(revisions));
}

/// Records the upgrade of each revision of `applied` (from `graph`, with its source checksum)
/// and leaves `rows` as the version rows.
void record_upgrades(Database& db, const RevisionGraph& graph, const Ids& applied,
                     const Ids& rows) {
    db.ensure_version_tables();
    db.begin();
    db.replace_heads({}, rows);
    for (const auto& id : applied) {
        HistoryRecord record;
        record.revision = id;
        record.direction = migrator::HistoryDirection::upgrade;
        record.started_at = "2026-12-01T07:00:00.000Z";
        record.success = true;
        record.source_sha256 = graph.at(id).source_sha256;
        db.record_history(record);
    }
    db.commit();
}

/// A scratch SQLite database and the graph of a fixture scenario's plugins.
struct Checked {
    explicit Checked(const std::string& scenario) : graph(graph_of(scenario)) {}
    testing::ScratchDatabase scratch{"sqlite"};
    std::unique_ptr<Database> db = scratch.open();
    RevisionGraph graph;

    CheckReport check(bool allow_pending = false) const {
        return migrator::check_database(*db, graph, allow_pending);
    }
};

Ids kinds_of(const CheckReport& report) {
    Ids kinds;
    for (const auto& finding : report.findings) kinds.push_back(migrator::kind_name(finding.kind));
    return kinds;
}

const Ids chain_ids{"a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3"};

}  // namespace

TEST_CASE("A database at the single head, applied from the plugins' sources, has no finding",
          "[inspection]") {
    Checked checked("chain");
    record_upgrades(*checked.db, checked.graph, chain_ids, {"c3c3c3c3c3c3"});
    const CheckReport report = checked.check();
    CHECK(report.current == Ids{"c3c3c3c3c3c3"});
    CHECK(report.heads == Ids{"c3c3c3c3c3c3"});
    CHECK(report.applied == chain_ids);
    CHECK(report.findings.empty());
}

TEST_CASE("An empty database is behind the head: a problem, or a warning when pending is allowed",
          "[inspection]") {
    Checked checked("chain");
    const bool allow_pending = GENERATE(false, true);
    const CheckReport report = checked.check(allow_pending);
    CHECK(report.current.empty());
    CHECK(report.applied.empty());
    REQUIRE(kinds_of(report) == Ids{"not_at_head"});
    CHECK(report.findings[0].problem == !allow_pending);
    CHECK(report.findings[0].revision.empty());
}

TEST_CASE("A revision edited after it was applied is a checksum mismatch naming both checksums",
          "[inspection]") {
    Checked checked("edited");
    auto& db = checked.db;
    // Applied from the chain's sources; the edited scenario's b2 was built from another source.
    record_upgrades(*db, graph_of("chain"), chain_ids, {"c3c3c3c3c3c3"});
    const auto& edited = checked.graph;
    const CheckReport report = checked.check();
    REQUIRE(kinds_of(report) == Ids{"checksum_mismatch"});
    const CheckFinding& finding = report.findings[0];
    CHECK(finding.problem);
    CHECK(finding.revision == "b2b2b2b2b2b2");
    CHECK(finding.applied_sha256 == graph_of("chain").at("b2b2b2b2b2b2").source_sha256);
    CHECK(finding.applied_sha256 != edited.at("b2b2b2b2b2b2").source_sha256);
}

TEST_CASE("A version row no plugin provides is a missing plugin, and not a database behind",
          "[inspection]") {
    Checked checked("chain");
    record_upgrades(*checked.db, checked.graph, chain_ids, {"d4d4d4d4d4d4"});
    SECTION("no plugin of it is stored") {
        const CheckReport report = checked.check();
        REQUIRE(kinds_of(report) == Ids{"missing_plugin"});
        CHECK(report.findings[0].revision == "d4d4d4d4d4d4");
        CHECK_FALSE(report.findings[0].stored_plugin);
        CHECK(report.applied.empty());
    }
    SECTION("the migrator that applied it stored its plugin") {
        migrator::StoredPlugin stored;
        stored.revision = "d4d4d4d4d4d4";
        stored.file_name = "d4_newer.so";
        stored.stored_at = "2026-12-01T07:00:00.000Z";
        checked.db->begin();
        checked.db->store_plugin(stored, "");
        checked.db->commit();
        const CheckReport report = checked.check();
        REQUIRE(kinds_of(report) == Ids{"missing_plugin"});
        CHECK(report.findings[0].stored_plugin);
    }
}

TEST_CASE("Several heads, a missing plugin and a dirty step are found in that order",
          "[inspection]") {
    Checked checked("branched");
    record_upgrades(*checked.db, checked.graph, {}, {"zz"});
    HistoryRecord dirty;
    dirty.revision = "c1";
    dirty.direction = migrator::HistoryDirection::upgrade;
    dirty.started_at = "2026-12-01T08:00:00.000Z";
    dirty.error = "killed";
    dirty.dirty = true;
    checked.db->record_history(dirty);
    const CheckReport report = checked.check();
    CHECK(report.heads == Ids{"d1", "d2"});
    REQUIRE(kinds_of(report) == Ids{"multiple_heads", "missing_plugin", "dirty"});
    CHECK(report.findings[0].revision.empty());
    CHECK(report.findings[1].revision == "zz");
    CHECK(report.findings[2].revision == "c1");
    CHECK(report.findings[2].dirty_step.error == "killed");
    CHECK(report.findings[2].dirty_step.started_at == "2026-12-01T08:00:00.000Z");
}
