// How revisions look on the terminal, following Alembic's script formatting.
#include "format.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace migrator::cli {

std::string revision_line(const RevisionGraph& graph, const Revision& revision,
                          const std::set<std::string>& current, const LineParts& parts) {
    std::string text;
    if (parts.parents)
        text += (revision.parents.empty() ? "<base>" : join(revision.parents)) + " -> ";
    text += revision.id;
    if (parts.labels && !revision.branch_labels.empty())
        text += " (" + join(revision.branch_labels) + ")";
    const auto& children = graph.children(revision.id);
    if (children.empty()) text += " (head)";
    if (current.count(revision.id)) text += " (current)";
    if (parts.tree_markers) {
        if (children.size() > 1) text += " (branchpoint)";
        if (revision.parents.size() > 1) text += " (mergepoint)";
    }
    if (parts.message) text += ", " + revision.message;
    return printable(text);
}

std::string plugin_text(const Revision& revision) {
    std::string text =
        "ABI " + std::to_string(revision.abi) + ", plugin-api " +
        (revision.plugin_api.empty() ? std::string("before 0.2") : printable(revision.plugin_api));
    if (!revision.platform.empty()) text += ", " + printable(revision.platform);
    return text;
}

std::string revision_block(const RevisionGraph& graph, const Revision& revision,
                           const std::set<std::string>& current) {
    // Each field on its own: the block's own line breaks stay, a field's are escaped.
    const auto list = [](const std::vector<std::string>& items) { return printable(join(items)); };
    std::string text = "Rev: " + revision_line(graph, revision, current, {}) + "\n";
    if (revision.parents.size() > 1)
        text += "Merges: " + list(revision.parents) + "\n";
    else
        text += "Parent: " +
                (revision.parents.empty() ? "<base>" : printable(revision.parents.front())) + "\n";
    if (!revision.depends_on.empty())
        text += "Also depends on: " + list(revision.depends_on) + "\n";
    const auto& children = graph.children(revision.id);
    if (children.size() > 1) text += "Branches into: " + list(children) + "\n";
    if (!revision.branch_labels.empty())
        text += "Branch names: " + list(revision.branch_labels) + "\n";
    text += "Path: " + printable(revision.path) + "\n";
    text += "Plugin: " + plugin_text(revision) + "\n";
    text += "Create Date: " + printable(revision.create_date) + "\n";
    text += "Source SHA-256: " + printable(revision.source_sha256) + "\n\n";
    text += "    " + printable(revision.message) + "\n";
    return text;
}

boost::json::object revision_json(const RevisionGraph& graph, const Revision& revision,
                                  const std::set<std::string>& current) {
    const auto array_of = [](const std::vector<std::string>& items) {
        boost::json::array array;
        for (const auto& item : items) array.emplace_back(item);
        return array;
    };
    const auto& children = graph.children(revision.id);
    boost::json::object object;
    object["id"] = revision.id;
    object["parents"] = array_of(revision.parents);
    object["children"] = array_of(children);
    object["branch_labels"] = array_of(revision.branch_labels);
    object["depends_on"] = array_of(revision.depends_on);
    object["message"] = revision.message;
    object["create_date"] = revision.create_date;
    object["path"] = revision.path;
    object["source_sha256"] = revision.source_sha256;
    object["plugin_abi"] = static_cast<std::int64_t>(revision.abi);
    // null where the plugin predates the key (ABI 1), rather than a made-up version
    if (revision.plugin_api.empty())
        object["plugin_api"] = nullptr;
    else
        object["plugin_api"] = revision.plugin_api;
    object["platform"] = revision.platform;
    object["is_head"] = children.empty();
    object["is_branch_point"] = children.size() > 1;
    object["is_merge_point"] = revision.parents.size() > 1;
    object["is_current"] = current.count(revision.id) > 0;
    return object;
}

std::string heads_text(const RevisionGraph& graph, const std::vector<std::string>& heads) {
    if (heads.empty()) return "base";
    std::vector<std::string> named;
    for (const auto& id : heads) {
        const Revision* revision = graph.find(id);
        named.push_back(revision ? revision_line(graph, *revision, {}, {false, false, false, false})
                                 : printable(id));
    }
    return join(named);
}

bool Colours::enabled_for(int fd) {
    // https://no-color.org: any non-empty NO_COLOR turns colour off; so does a dumb terminal.
    const char* no_colour = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    return isatty(fd) == 1 && (no_colour == nullptr || *no_colour == '\0') &&
           !(term != nullptr && std::string(term) == "dumb");
}

std::string format_duration(double ms) {
    char text[32];
    if (ms < 1000)
        std::snprintf(text, sizeof text, "%.1f ms", ms);
    else
        std::snprintf(text, sizeof text, "%.2f s", ms / 1000);
    return text;
}

}  // namespace migrator::cli
