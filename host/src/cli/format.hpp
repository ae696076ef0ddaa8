// How revisions look on the terminal: Alembic's one-line and verbose forms, durations, lists.
#ifndef MIGRATOR_CLI_FORMAT_HPP
#define MIGRATOR_CLI_FORMAT_HPP

#include <migrator/graph.hpp>
#include <set>
#include <string>
#include <vector>

namespace migrator::cli {

/// `items` joined by `separator`.
std::string join(const std::vector<std::string>& items, const char* separator = ", ");

/// What a one-line form of a revision shows.
struct LineParts {
    bool parents = false;      ///< "a, b -> " or "<base> -> " before the id
    bool labels = true;        ///< " (label)"
    bool tree_markers = true;  ///< " (branchpoint)", " (mergepoint)"
    bool message = false;      ///< ", message" at the end
};

/// Alembic's one-line form: `[parents -> ]id[ (labels)][ (head)][ (current)][ (branchpoint)]
/// [ (mergepoint)][, message]`. `current` holds the database's revisions for the (current) mark.
std::string revision_line(const RevisionGraph& graph, const Revision& revision,
                          const std::set<std::string>& current, const LineParts& parts);

/// Alembic's verbose form: Rev, Parent/Merges, Also depends on, Branches into, Branch names,
/// Path, Create Date, Source SHA-256, then the message indented. Ends with a newline.
std::string revision_block(const RevisionGraph& graph, const Revision& revision,
                           const std::set<std::string>& current);

/// "base", or the ids with their (head) marks: how a set of version rows is named in messages.
std::string heads_text(const RevisionGraph& graph, const std::vector<std::string>& heads);

/// "1.2 ms" or "3.45 s".
std::string format_duration(double ms);

}  // namespace migrator::cli

#endif  // MIGRATOR_CLI_FORMAT_HPP
