// Releases: names a project gives to the version rows of its releases (releases.txt), and what
// they mean on a revision graph. `scaffold release` appends to the file; migrator reads the copy
// the build puts beside the plugins, for `@NAME` targets, `converge` and `releases`.
#ifndef MIGRATOR_RELEASES_HPP
#define MIGRATOR_RELEASES_HPP

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <migrator/graph/graph.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// The file name, in a revisions folder and in a versions directory (a bundle's too).
inline constexpr std::string_view releases_file_name = "releases.txt";
/// The largest releases file migrator reads.
inline constexpr std::uint64_t max_releases_file_size = 4 * 1024 * 1024;

/// One release: its name and the version rows (sorted) a database has at that release.
struct Release {
    std::string name;
    std::vector<std::string> rows;
    std::size_t line = 0;  ///< its line in the file, for messages
};

/// Whether `name` can name a release: 1 to 64 characters of [0-9A-Za-z._-], starting with a letter
/// or digit, and not `head`, `heads`, `base` or `current` (read as revisions elsewhere).
bool is_release_name(std::string_view name);

/// Whether a target expression names a release: `@NAME`. Alembic never reads such a word as a
/// revision: an id or a branch label cannot be empty or hold '@'.
inline bool is_release_target(std::string_view expression) {
    return !expression.empty() && expression.front() == '@';
}

/// Parses a releases file's text: one release a line, `NAME ROW...` (rows are revision ids),
/// oldest first; blank lines and lines starting with '#' are ignored. Throws RevisionError naming
/// `file` and the line for a malformed name or id, a release without rows, or a name recorded
/// twice (naming both lines: the usual leftover of a merge).
std::vector<Release> parse_releases(std::string_view text, const std::string& file);

/// The line recording `release` (ending in '\n').
std::string release_line(const Release& release);

/// The comment lines a new releases file starts with.
std::string releases_file_header();

/// Reads and parses the releases file `file` (at most max_releases_file_size bytes); an empty
/// vector when it does not exist. Throws RevisionError as parse_releases does, and when the file
/// cannot be read.
std::vector<Release> read_releases_file(const std::filesystem::path& file);

/// The releases of one tree of revisions: its releases file checked against its graph.
class ReleaseHistory {
public:
    ReleaseHistory() = default;
    /// Throws RevisionError when a release names a revision that `graph` does not hold, or rows
    /// where one is below another.
    ReleaseHistory(std::vector<Release> releases, const RevisionGraph& graph, std::string file);

    const std::vector<Release>& releases() const { return releases_; }
    bool empty() const { return releases_.empty(); }
    /// The newest release: what `converge` moves a database to. Throws RevisionError saying how
    /// to record one when there is none.
    const Release& latest() const;
    /// The release `expression` (`@NAME`, or NAME) names. Throws RevisionError naming it and the
    /// releases there are when there is no such release.
    const Release& find(std::string_view expression) const;
    /// The release whose rows are exactly `rows`, or nullptr.
    const Release* at(const std::vector<std::string>& rows) const;
    /// The oldest release that holds revision `id` (its rows or below), or std::nullopt when no
    /// release holds it yet (it is newer than the newest release).
    std::optional<std::string> first_holding(const RevisionGraph& graph, std::string_view id) const;

private:
    std::vector<Release> releases_;
    std::string file_;
};

/// The version rows `upgrade @NAME` leaves from rows `current`: everything the release's rows need
/// is applied, and what else is applied stays (as any upgrade). Throws RevisionError as
/// RevisionGraph::upgrade_destination does.
std::vector<std::string> release_upgrade_destination(const RevisionGraph& graph,
                                                     const Release& release,
                                                     const std::vector<std::string>& current);

/// Whether `converge` from rows `current` to `release` is an upgrade (true: everything applied is
/// in the release) or a downgrade (false: everything the release needs is applied, and more).
/// Throws RevisionError naming what the database holds beyond the release when it is neither:
/// the database is on another line of the graph.
bool converges_upward(const RevisionGraph& graph, const std::vector<std::string>& current,
                      const Release& release);

}  // namespace migrator

#endif  // MIGRATOR_RELEASES_HPP
