// check_database: a database compared with the revisions of a versions directory.
#include <algorithm>
#include <migrator/inspection/inspection.hpp>
#include <migrator/runner/runner.hpp>
#include <set>
#include <utility>

namespace migrator {
namespace {

CheckFinding finding_of(CheckFinding::Kind kind, std::string revision = {}) {
    CheckFinding finding;
    finding.kind = kind;
    finding.revision = std::move(revision);
    return finding;
}

}  // namespace

const char* kind_name(CheckFinding::Kind kind) {
    switch (kind) {
        case CheckFinding::Kind::multiple_heads:
            return "multiple_heads";
        case CheckFinding::Kind::missing_plugin:
            return "missing_plugin";
        case CheckFinding::Kind::checksum_mismatch:
            return "checksum_mismatch";
        case CheckFinding::Kind::dirty:
            return "dirty";
        case CheckFinding::Kind::not_at_head:
            return "not_at_head";
    }
    return "unknown";
}

CheckReport check_database(Database& db, const RevisionGraph& graph, bool allow_pending) {
    using Kind = CheckFinding::Kind;
    CheckReport report;
    report.current = db.read_heads();
    const auto history = db.read_history(false);

    report.heads = graph.heads();
    std::sort(report.heads.begin(), report.heads.end());
    if (report.heads.size() > 1) report.findings.push_back(finding_of(Kind::multiple_heads));

    std::vector<std::string> known;
    std::set<std::string> stored;
    bool stored_read = false;
    for (const auto& id : report.current) {
        if (graph.find(id) != nullptr) {
            known.push_back(id);
            continue;
        }
        if (!stored_read)
            for (const auto& plugin : db.read_stored_plugins()) stored.insert(plugin.revision);
        stored_read = true;
        CheckFinding missing = finding_of(Kind::missing_plugin, id);
        missing.stored_plugin = stored.count(id) != 0;
        report.findings.push_back(std::move(missing));
    }

    const auto checksums = applied_source_checksums(history);
    report.applied = graph.ancestors_or_self(known);
    std::set<std::string> spoken_of;
    for (const auto& row : history) spoken_of.insert(row.revision);
    report.unrecorded_before_migrator = true;
    for (const auto& id : report.applied) {
        // A plugin without a checksum of its own (a hand-built one) cannot be compared anyway.
        if (checksums.count(id) != 0 || graph.at(id).source_sha256.empty()) continue;
        report.unrecorded.push_back(id);
        if (spoken_of.count(id) != 0) report.unrecorded_before_migrator = false;
    }
    for (const auto& id : report.applied) {
        const Revision& revision = graph.at(id);
        const auto applied = checksums.find(id);
        if (applied == checksums.end() || revision.source_sha256.empty() ||
            applied->second == revision.source_sha256)
            continue;
        CheckFinding edited = finding_of(Kind::checksum_mismatch, id);
        edited.applied_sha256 = applied->second;
        report.findings.push_back(std::move(edited));
    }

    if (auto dirty = dirty_step(db)) {
        CheckFinding finding = finding_of(Kind::dirty, dirty->revision);
        finding.dirty_step = std::move(*dirty);
        report.findings.push_back(std::move(finding));
    }

    // A database ahead of the graph is not behind it: its missing_plugin finding says how to
    // come back.
    if (known.size() == report.current.size() && report.current != graph.head_rows()) {
        CheckFinding pending = finding_of(Kind::not_at_head);
        pending.problem = !allow_pending;
        report.findings.push_back(std::move(pending));
    }
    return report;
}

}  // namespace migrator
