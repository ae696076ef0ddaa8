// `scaffold release NAME`: records the heads of the revision sources as a release in
// revisions/releases.txt, and marks that file for union merges.
#include <CLI/CLI.hpp>
#include <fstream>
#include <migrator/common/errors.hpp>
#include <migrator/graph/graph.hpp>
#include <migrator/releases/releases.hpp>
#include <migrator/scaffold/scaffold.hpp>
#include <sstream>
#include <string>

namespace migrator::scaffold {
namespace fs = std::filesystem;
namespace {

std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Appends `text` to `file` (created if missing), starting a new line when the file does not
/// end with one.
void append(const fs::path& file, const std::string& text) {
    const std::string before = read_all(file);
    std::ofstream out(file, std::ios::binary | std::ios::app);
    if (!before.empty() && before.back() != '\n') out << '\n';
    out << text;
    out.flush();
    if (!out) throw Error("cannot write " + file.string());
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : separator) + item;
    return text;
}

/// `file` as the user would type it from the working directory: relative when it is below it.
std::string shown(const fs::path& file) {
    std::error_code error;
    const fs::path relative = file.lexically_proximate(fs::current_path(error));
    if (error || relative.empty() || *relative.begin() == "..") return file.string();
    return relative.string();
}

/// Throws migrator::Error when `release` cannot follow `recorded` (the releases of `file`): its
/// name is taken, or its rows are the newest release's.
void refuse_unrecordable(const Release& release, const std::vector<Release>& recorded,
                         const fs::path& file) {
    for (const auto& earlier : recorded)
        if (earlier.name == release.name)
            throw Error("release " + release.name + " is recorded already (" + shown(file) +
                        " line " + std::to_string(earlier.line) + ": " + earlier.name + " " +
                        joined(earlier.rows, " ") + "); choose another name");
    if (!recorded.empty() && recorded.back().rows == release.rows)
        throw Error("the heads of the revision sources (" + joined(release.rows, ", ") +
                    ") are already recorded as release " + recorded.back().name +
                    ": nothing changed since");
}

/// Makes sure `.gitattributes` in `dir` has git merge releases.txt by keeping both sides' lines.
void mark_union_merge(const fs::path& dir) {
    const fs::path attributes = dir / ".gitattributes";
    std::istringstream lines(read_all(attributes));
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string pattern;
        std::string attribute;
        std::string rest;
        if (words >> pattern >> attribute && !(words >> rest) && pattern == releases_file_name &&
            attribute == "merge=union")
            return;
    }
    append(attributes, std::string(releases_file_name) + " merge=union\n");
}

}  // namespace

Release record_release(const fs::path& revisions_dir, const std::string& name, std::ostream& out) {
    if (!is_release_name(name))
        throw Error("'" + name +
                    "' is not a release name: use 1 to 64 of 0-9 A-Z a-z . _ -, starting with a "
                    "letter or digit (not head, heads, base or current)");
    auto sources = read_revision_sources(revisions_dir);
    if (sources.empty())
        throw Error("there is no revision in " + revisions_dir.string() +
                    " to record a release of; create one with `scaffold new`");
    const RevisionGraph graph(std::move(sources));
    const fs::path file = revisions_dir / releases_file_name;
    const auto recorded = read_releases_file(file);
    const Release release{name, graph.head_rows(), 0};
    refuse_unrecordable(release, recorded, file);

    if (recorded.empty() && read_all(file).empty()) append(file, releases_file_header());
    append(file, release_line(release));
    mark_union_merge(revisions_dir);
    out << "Recorded release " << name << " at " << joined(release.rows, ", ") << " in "
        << shown(file) << "\n";
    return release;
}

void add_release_options(CLI::App& command, ReleaseCommandLine& line) {
    command.add_option("name", line.name, "Release name, e.g. 2.4.0")->required();
    command.add_option("--revisions-dir", line.revisions_dir,
                       "Folder holding one folder per revision (default: ./revisions)");
}

Release record_release(const ReleaseCommandLine& line, std::ostream& out) {
    return record_release(find_revisions_dir(line.revisions_dir), line.name, out);
}

}  // namespace migrator::scaffold
