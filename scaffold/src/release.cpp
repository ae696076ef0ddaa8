// `scaffold release NAME`: records the heads of the revision sources as a release in
// revisions/releases.txt, and marks that file for union merges.
#include <algorithm>
#include <fstream>
#include <migrator/errors.hpp>
#include <migrator/graph.hpp>
#include <migrator/releases.hpp>
#include <migrator/scaffold.hpp>
#include <sstream>
#include <string>

namespace migrator::scaffold {
namespace {

std::string read_all(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Appends `text` to `file`, starting a new line when the file does not end with one.
void append(const std::filesystem::path& file, const std::string& text) {
    const std::string before = read_all(file);
    std::ofstream out(file, std::ios::binary | std::ios::app);
    if (!before.empty() && before.back() != '\n') out << '\n';
    out << text;
    out.flush();
    if (!out) throw Error("cannot write " + file.string());
}

}  // namespace

Release record_release(const std::filesystem::path& revisions_dir, const std::string& name,
                       std::ostream& out) {
    if (!is_release_name(name))
        throw Error("'" + name +
                    "' is not a release name: use 1 to 64 of 0-9 A-Z a-z . _ -, starting with a "
                    "letter or digit (not head, heads, base or current)");
    auto sources = read_revision_sources(revisions_dir);
    if (sources.empty())
        throw Error("there is no revision in " + revisions_dir.string() +
                    " to record a release of; create one with `scaffold new`");
    const RevisionGraph graph(std::move(sources));
    const auto file = revisions_dir / releases_file_name;
    const auto releases = read_releases_file(file);
    Release release{name, graph.head_rows(), 0};
    for (const auto& earlier : releases)
        if (earlier.name == name)
            throw Error("release " + name + " is recorded already (" + file.string() + " line " +
                        std::to_string(earlier.line) + ")");
    if (!releases.empty() && releases.back().rows == release.rows)
        throw Error("the heads are those of release " + releases.back().name +
                    " already: nothing changed since; record a release after new revisions");
    if (releases.empty() && read_all(file).empty()) append(file, releases_file_header());
    append(file, release_line(release));
    const auto attributes = revisions_dir / ".gitattributes";
    const std::string rule = std::string(releases_file_name) + " merge=union";
    std::istringstream lines(read_all(attributes));
    bool present = false;
    for (std::string line; std::getline(lines, line);) present = present || line == rule;
    if (!present) append(attributes, rule + "\n");
    std::string rows;
    for (const auto& row : release.rows) rows += (rows.empty() ? "" : ", ") + row;
    out << "Recorded release " << name << " at " << rows << " in " << file.string() << "\n";
    return release;
}

}  // namespace migrator::scaffold
