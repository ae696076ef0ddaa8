// How revisions look on the terminal, following Alembic's script formatting.
#include "format.hpp"

#include <cstdio>

namespace migrator::cli {

std::string join(const std::vector<std::string>& items, const char* separator) {
    std::string text;
    for (const auto& item : items) {
        if (!text.empty()) text += separator;
        text += item;
    }
    return text;
}

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
    return text;
}

std::string revision_block(const RevisionGraph& graph, const Revision& revision,
                           const std::set<std::string>& current) {
    std::string text = "Rev: " + revision_line(graph, revision, current, {}) + "\n";
    if (revision.parents.size() > 1)
        text += "Merges: " + join(revision.parents) + "\n";
    else
        text +=
            "Parent: " + (revision.parents.empty() ? "<base>" : revision.parents.front()) + "\n";
    if (!revision.depends_on.empty())
        text += "Also depends on: " + join(revision.depends_on) + "\n";
    const auto& children = graph.children(revision.id);
    if (children.size() > 1) text += "Branches into: " + join(children) + "\n";
    if (!revision.branch_labels.empty())
        text += "Branch names: " + join(revision.branch_labels) + "\n";
    text += "Path: " + revision.path + "\n";
    text += "Create Date: " + revision.create_date + "\n";
    text += "Source SHA-256: " + revision.source_sha256 + "\n\n";
    text += "    " + revision.message + "\n";
    return text;
}

std::string heads_text(const RevisionGraph& graph, const std::vector<std::string>& heads) {
    if (heads.empty()) return "base";
    std::vector<std::string> named;
    for (const auto& id : heads) {
        const Revision* revision = graph.find(id);
        named.push_back(revision ? revision_line(graph, *revision, {}, {false, false, false, false})
                                 : id);
    }
    return join(named);
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
