// scaffold new / merge and migrator revision: a new revision project on the head of the sources.
#include "new_revision.hpp"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <migrator/common/errors.hpp>
#include <migrator/common/text.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/plugins/signatures.hpp>
#include <ostream>

namespace migrator::scaffold {
namespace fs = std::filesystem;
namespace {

std::string local_now() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
    return text;
}

/// The parents of a new revision: --head, the revisions to merge, or the single head.
std::vector<std::string> choose_parents(const RevisionGraph& graph, const NewOptions& options) {
    if (!options.merge.empty()) {
        std::vector<std::string> parents;
        for (const auto& expression : options.merge)
            for (auto& id : graph.resolve_target(expression, {}))
                if (std::find(parents.begin(), parents.end(), id) == parents.end())
                    parents.push_back(std::move(id));
        if (parents.size() < 2)
            throw Error("a merge needs at least two revisions to join, got " +
                        (parents.empty() ? std::string("none") : join(parents)));
        std::sort(parents.begin(), parents.end());
        return parents;
    }
    if (!options.head.empty()) {
        auto parents = graph.resolve_target(options.head, {});
        for (const auto& parent : parents)
            if (!graph.children(parent).empty() && !options.splice)
                throw Error("revision " + parent +
                            " is not a head; pass --splice to branch from it anyway");
        return parents;
    }
    const auto heads = graph.heads();
    if (heads.size() > 1)
        throw Error("the revisions have several heads (" + join(heads) +
                    "); pick the parent with --head REV, or join them with scaffold merge heads");
    return heads;
}

}  // namespace

fs::path find_revisions_dir(const std::string& given) {
    if (!given.empty()) {
        if (!fs::is_directory(given))
            throw Error("revisions directory " + given + " does not exist");
        return fs::absolute(given);
    }
    if (fs::is_directory("revisions")) return fs::absolute("revisions");
    throw Error("no revisions/ folder in " + fs::current_path().string() +
                "; run scaffold from the project root or pass --revisions-dir");
}

NewRevision prepare_revision(const RevisionGraph& graph, const fs::path& dir,
                             const NewOptions& options) {
    NewRevision revision;
    revision.message = options.message;
    revision.create_date = local_now();
    revision.id = options.rev_id.empty() ? new_revision_id() : options.rev_id;
    if (const auto refusal = name_refusal("revision id", revision.id); !refusal.empty())
        throw Error(refusal);
    if (graph.find(revision.id))
        throw Error("revision id " + revision.id + " already exists in " + dir.string());

    revision.parents = choose_parents(graph, options);
    if (revision.message.empty()) revision.message = "merge " + join(revision.parents);
    for (const auto& label : options.branch_labels) {
        if (const auto refusal = name_refusal("branch label", label); !refusal.empty())
            throw Error(refusal);
        for (const auto& other : graph.revisions())
            if (std::find(other.branch_labels.begin(), other.branch_labels.end(), label) !=
                other.branch_labels.end())
                throw Error("branch label '" + label + "' is already used by revision " + other.id);
    }
    revision.branch_labels = options.branch_labels;
    for (const auto& dependency : options.depends_on)
        revision.depends_on.push_back(graph.resolve_id(dependency));
    return revision;
}

void write_revision(const fs::path& dir, const NewRevision& revision, std::ostream& out) {
    for (const auto& path : write_revision_project(dir, revision))
        out << "Generating " << path.string() << " ... done\n";
}

std::vector<StaleSource> stale_sources(const fs::path& revisions_dir,
                                       const std::vector<Revision>& built) {
    std::map<std::string_view, const Revision*> plugins;
    for (const auto& revision : built) plugins.emplace(revision.id, &revision);
    std::vector<StaleSource> stale;
    for (const auto& source : read_revision_sources(revisions_dir)) {
        const auto found = plugins.find(source.id);
        if (found == plugins.end()) {
            stale.push_back({source.id, source.path, ""});
            continue;
        }
        const Revision& plugin = *found->second;
        // A plugin without a recorded checksum cannot be compared: it is left alone.
        if (plugin.source_sha256.empty()) continue;
        std::ifstream in(source.path, std::ios::binary);
        const std::string text((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        if (!in.bad() && sha256_hex(text) != plugin.source_sha256)
            stale.push_back({source.id, source.path, plugin.path});
    }
    std::sort(stale.begin(), stale.end(),
              [](const StaleSource& a, const StaleSource& b) { return a.id < b.id; });
    return stale;
}

std::vector<fs::path> revision_source_files(const std::string& revisions_dir,
                                            const std::string& expression) {
    const RevisionGraph graph(read_revision_sources(find_revisions_dir(revisions_dir)));
    const auto ids = graph.resolve_target(expression, {});
    if (ids.empty()) throw RevisionError("'" + expression + "' is base, which is not a revision");
    std::vector<fs::path> files;
    for (const auto& id : ids) files.emplace_back(graph.at(id).path);
    return files;
}

void create_revision(const NewOptions& options, std::ostream& out) {
    const fs::path dir = find_revisions_dir(options.revisions_dir);
    // The sources are the single source of truth: the parent is read back from them, so a
    // revision not yet built still counts.
    const RevisionGraph graph(read_revision_sources(dir));
    NewRevision revision = prepare_revision(graph, dir, options);
    if (!options.raw_sql && options.merge.empty()) revision.code = operations_example_code();
    write_revision(dir, revision, out);
    out << "Build it with `cmake --build build`; the plugin appears in build/versions/.\n";
}

}  // namespace migrator::scaffold
