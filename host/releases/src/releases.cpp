// Releases files: parsing, rendering, and what a release means on a revision graph.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/releases/releases.hpp>
#include <set>
#include <sstream>

namespace migrator {
namespace {

std::string joined(const std::vector<std::string>& items, const char* separator) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : separator) + item;
    return text;
}

bool release_name_char(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' ||
           c == '_' || c == '-';
}

}  // namespace

bool is_release_name(std::string_view name) {
    if (name.empty() || name.size() > 64 ||
        !std::all_of(name.begin(), name.end(), release_name_char))
        return false;
    const char first = name.front();
    if (first == '.' || first == '_' || first == '-') return false;
    return name != "head" && name != "heads" && name != "base" && name != "current";
}

std::vector<Release> parse_releases(std::string_view text, const std::string& file) {
    std::vector<Release> releases;
    std::size_t line_number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string line(text.substr(start, end - start));
        start = end + 1;
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto fail = [&](const std::string& what) {
            throw RevisionError("releases file " + file + " line " + std::to_string(line_number) +
                                ": " + what);
        };
        std::istringstream words(line);
        std::string name;
        if (!(words >> name) || name.front() == '#') continue;
        if (!is_release_name(name))
            fail("'" + name +
                 "' is not a release name (1 to 64 of 0-9 A-Z a-z . _ -, starting with a letter "
                 "or digit, not head, heads, base or current)");
        Release release{name, {}, line_number};
        for (std::string row; words >> row;) {
            if (!is_revision_id(row)) fail("'" + row + "' is not a revision id");
            release.rows.push_back(row);
        }
        if (release.rows.empty()) fail("release " + name + " names no revision");
        std::sort(release.rows.begin(), release.rows.end());
        release.rows.erase(std::unique(release.rows.begin(), release.rows.end()),
                           release.rows.end());
        for (const auto& earlier : releases)
            if (earlier.name == name)
                fail("release " + name + " is recorded twice (lines " +
                     std::to_string(earlier.line) + " and " + std::to_string(line_number) +
                     "), as a merge of two branches that both recorded it leaves it; keep one "
                     "line");
        releases.push_back(std::move(release));
    }
    return releases;
}

std::string release_line(const Release& release) {
    return release.name + " " + joined(release.rows, " ") + "\n";
}

std::string releases_file_header() {
    return "# Releases of this project, oldest first: a name, then the version rows a database "
           "has at that\n"
           "# release. `scaffold release NAME` appends a line; recorded lines are never edited. "
           "A merge keeps\n"
           "# the lines of both sides (.gitattributes: releases.txt merge=union): put the older "
           "release first.\n";
}

std::vector<Release> read_releases_file(const std::filesystem::path& file) {
    std::error_code error;
    if (!std::filesystem::exists(file, error)) return {};
    const auto size = std::filesystem::file_size(file, error);
    if (error)
        throw RevisionError("releases file " + file.string() +
                            " cannot be read: " + error.message());
    if (size > max_releases_file_size)
        throw RevisionError("releases file " + file.string() + " is larger than " +
                            std::to_string(max_releases_file_size / (1024 * 1024)) + " MiB");
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in && !in.eof())
        throw RevisionError("releases file " + file.string() +
                            " cannot be read: " + std::strerror(errno));
    return parse_releases(text.str(), file.string());
}

ReleaseHistory::ReleaseHistory(std::vector<Release> releases, const RevisionGraph& graph,
                               std::string file)
    : releases_(std::move(releases)), file_(std::move(file)) {
    for (const auto& release : releases_) {
        for (const auto& row : release.rows)
            if (graph.find(row) == nullptr)
                throw RevisionError("release " + release.name + " (" + file_ + " line " +
                                    std::to_string(release.line) + ") names revision " + row +
                                    ", which is not in the versions directory");
        // Rows where one is below another are not a position a database can be at.
        for (const auto& row : release.rows)
            for (const auto& other : release.rows)
                if (row != other) {
                    const auto under = graph.ancestors_or_self({other});
                    if (std::find(under.begin(), under.end(), row) != under.end())
                        throw RevisionError("release " + release.name + " (" + file_ + " line " +
                                            std::to_string(release.line) + ") names " + row +
                                            " and " + other + ", which is below it");
                }
    }
}

const Release& ReleaseHistory::latest() const {
    if (releases_.empty())
        throw RevisionError(
            "no release is recorded for these revisions (no releases.txt beside the plugins); "
            "record one in the project with `scaffold release NAME` and build it");
    return releases_.back();
}

const Release& ReleaseHistory::find(std::string_view expression) const {
    const std::string_view name = is_release_target(expression) ? expression.substr(1) : expression;
    for (const auto& release : releases_)
        if (release.name == name) return release;
    std::vector<std::string> names;
    for (const auto& release : releases_) names.push_back(release.name);
    throw RevisionError("no release is named '" + std::string(name) + "'" +
                        (names.empty() ? std::string("; no release is recorded for these "
                                                     "revisions (no releases.txt beside the "
                                                     "plugins)")
                                       : "; the releases are " + joined(names, ", ")));
}

const Release* ReleaseHistory::at(const std::vector<std::string>& rows) const {
    auto sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    for (auto it = releases_.rbegin(); it != releases_.rend(); ++it)
        if (it->rows == sorted) return &*it;
    return nullptr;
}

std::optional<std::string> ReleaseHistory::first_holding(const RevisionGraph& graph,
                                                         std::string_view id) const {
    for (const auto& release : releases_) {
        const auto applied = graph.ancestors_or_self(release.rows);
        if (std::find(applied.begin(), applied.end(), id) != applied.end()) return release.name;
    }
    return std::nullopt;
}

std::vector<std::string> release_upgrade_destination(const RevisionGraph& graph,
                                                     const Release& release,
                                                     const std::vector<std::string>& current) {
    auto wanted = current;
    for (const auto& row : release.rows) wanted = graph.upgrade_destination(row, wanted);
    return wanted;
}

bool converges_upward(const RevisionGraph& graph, const std::vector<std::string>& current,
                      const Release& release) {
    const auto now = graph.ancestors_or_self(current);
    const auto then = graph.ancestors_or_self(release.rows);
    const std::set<std::string> now_set(now.begin(), now.end());
    const std::set<std::string> then_set(then.begin(), then.end());
    if (std::includes(then_set.begin(), then_set.end(), now_set.begin(), now_set.end()))
        return true;
    if (std::includes(now_set.begin(), now_set.end(), then_set.begin(), then_set.end()))
        return false;
    std::vector<std::string> extra;
    for (const auto& id : now)
        if (then_set.count(id) == 0) extra.push_back(id);
    throw RevisionError("release " + release.name + " does not hold " + joined(extra, ", ") +
                        ", which the database has applied, and the database lacks revisions "
                        "release " +
                        release.name +
                        " needs: it is on another line of the graph; downgrade to a revision "
                        "both hold first (`migrator downgrade REV`), then converge");
}

}  // namespace migrator
