// Wording shared by the graph's source files: lists of ids and the checks that name them.
#ifndef MIGRATOR_GRAPH_TEXT_HPP
#define MIGRATOR_GRAPH_TEXT_HPP

#include <migrator/common/errors.hpp>
#include <migrator/common/text.hpp>
#include <migrator/graph/graph.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace migrator::detail {

// Version rows as users read them: no rows is `base`, Alembic's word for an empty database.
inline std::string describe_rows(const std::vector<std::string>& ids) {
    return ids.empty() ? std::string("base") : join(ids);
}

// The command that replaces overlapping version rows with the given ones (the rows on top).
inline std::string stamp_command(const std::vector<std::string>& rows) {
    return "`migrator stamp " + (rows.empty() ? std::string("base") : join(rows, " ")) + "`";
}

inline std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// The database's rows come from outside the graph; a row whose plugin has gone deserves a
// message that says so rather than a bare "no such revision".
inline void require_known_current(const RevisionGraph& graph,
                                  const std::vector<std::string>& current) {
    for (const auto& id : current)
        if (graph.find(id) == nullptr)
            throw RevisionError("The database is at revision '" + id +
                                "', which is not among the known revisions; was its plugin "
                                "removed from the versions directory?");
}

}  // namespace migrator::detail

#endif  // MIGRATOR_GRAPH_TEXT_HPP
