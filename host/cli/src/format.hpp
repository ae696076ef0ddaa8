// How revisions look on the terminal: Alembic's one-line and verbose forms, durations, lists.
#ifndef MIGRATOR_CLI_FORMAT_HPP
#define MIGRATOR_CLI_FORMAT_HPP

#include <boost/json.hpp>
#include <migrator/common/terminal_text.hpp>
#include <migrator/common/text.hpp>
#include <migrator/graph/graph.hpp>
#include <set>
#include <string>
#include <vector>

namespace migrator::cli {

/// What a one-line form of a revision shows.
struct LineParts {
    bool parents = false;      ///< "a, b -> " or "<base> -> " before the id
    bool labels = true;        ///< " (label)"
    bool tree_markers = true;  ///< " (branchpoint)", " (mergepoint)"
    bool message = false;      ///< ", message" at the end
};

/// Alembic's one-line form: `[parents -> ]id[ (labels)][ (head)][ (current)][ (branchpoint)]
/// [ (mergepoint)][, message]`, control characters escaped (printable()). `current` holds the
/// database's revisions for the (current) mark.
std::string revision_line(const RevisionGraph& graph, const Revision& revision,
                          const std::set<std::string>& current, const LineParts& parts);

/// What a revision's plugin was built for: "ABI 2, plugin-api 0.2.0, x86_64-elf64-le"; a plugin
/// of ABI 1 records no plugin-api version ("ABI 1, plugin-api before 0.2, x86_64-elf64-le").
std::string plugin_text(const Revision& revision);

/// Alembic's verbose form: Rev, Parent/Merges, Also depends on, Branches into, Branch names,
/// Path, Plugin (plugin_text), Create Date, Source SHA-256, then the message indented, each field
/// printable(). Ends with a newline.
std::string revision_block(const RevisionGraph& graph, const Revision& revision,
                           const std::set<std::string>& current);

/// The JSON form of a revision (the shape docs/cli.md documents): id, parents, branch_labels,
/// depends_on, message, create_date, path, source_sha256, plugin_abi (a number), plugin_api (null
/// for ABI 1), platform, is_head, is_branch_point, is_merge_point, is_current.
boost::json::object revision_json(const RevisionGraph& graph, const Revision& revision,
                                  const std::set<std::string>& current);

/// "base", or the ids with their (head) marks: how a set of version rows is named in messages.
std::string heads_text(const RevisionGraph& graph, const std::vector<std::string>& heads);

/// ANSI colours, used only when the stream is a terminal and NO_COLOR is not set.
struct Colours {
    /// Whether output to file descriptor `fd` may be coloured.
    static bool enabled_for(int fd);
    bool on = false;
    std::string paint(const std::string& text, const char* code) const {
        return on ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
    }
    std::string red(const std::string& text) const { return paint(text, "31"); }
    std::string green(const std::string& text) const { return paint(text, "32"); }
    std::string dim(const std::string& text) const { return paint(text, "2"); }
};

/// "1.2 ms" or "3.45 s".
std::string format_duration(double ms);

}  // namespace migrator::cli

#endif  // MIGRATOR_CLI_FORMAT_HPP
