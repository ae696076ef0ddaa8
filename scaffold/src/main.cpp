// scaffold: stamps new revision projects (scaffold new "message") under revisions/, merge
// revisions (scaffold merge heads), and standalone plugin projects (scaffold init DIR).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <ctime>
#include <iostream>
#include <migrator/errors.hpp>
#include <migrator/graph.hpp>
#include <optional>
#include <regex>

#include "project_template.hpp"
#include "revision_source.hpp"

namespace {

using namespace migrator;
namespace fs = std::filesystem;

std::string local_now() {
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
    return text;
}

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

struct NewOptions {
    std::string message;
    std::string head;
    std::string rev_id;
    std::string revisions_dir;
    bool splice = false;
    std::vector<std::string> branch_labels;
    std::vector<std::string> depends_on;
    std::vector<std::string> merge;  ///< `scaffold merge`: the revisions to join
};

std::string join(const std::vector<std::string>& items) {
    std::string list;
    for (const auto& item : items) list += (list.empty() ? "" : ", ") + item;
    return list;
}

const std::regex valid_name("[0-9A-Za-z_]{1,32}");

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

int run_new(const NewOptions& options) {
    const fs::path dir = find_revisions_dir(options.revisions_dir);
    // The sources are the single source of truth: the parent is read back from them, so a
    // revision not yet built still counts.
    const RevisionGraph graph(scaffold::read_revision_sources(dir));

    scaffold::NewRevision revision;
    revision.message = options.message;
    revision.create_date = local_now();
    revision.id = options.rev_id.empty() ? scaffold::new_revision_id() : options.rev_id;
    if (!std::regex_match(revision.id, valid_name))
        throw Error("revision id '" + revision.id +
                    "' is not valid: use 1 to 32 letters, digits or '_'");
    if (graph.find(revision.id))
        throw Error("revision id " + revision.id + " already exists in " + dir.string());

    revision.parents = choose_parents(graph, options);
    if (revision.message.empty()) revision.message = "merge " + join(revision.parents);
    for (const auto& label : options.branch_labels) {
        if (!std::regex_match(label, valid_name))
            throw Error("branch label '" + label +
                        "' is not valid: use 1 to 32 letters, digits or '_'");
        for (const auto& other : graph.revisions())
            if (std::find(other.branch_labels.begin(), other.branch_labels.end(), label) !=
                other.branch_labels.end())
                throw Error("branch label '" + label + "' is already used by revision " + other.id);
    }
    revision.branch_labels = options.branch_labels;
    for (const auto& dependency : options.depends_on)
        revision.depends_on.push_back(graph.resolve_id(dependency));

    for (const auto& path : scaffold::write_revision_project(dir, revision))
        std::cout << "Generating " << path.string() << " ... done\n";
    std::cout << "Build it with `cmake --build build`; the plugin appears in build/versions/.\n";
    return 0;
}

/// The prefix this scaffold was installed into (holding lib/cmake/migrator/), if it was.
std::optional<fs::path> installed_prefix() {
    std::error_code error;
    const fs::path program = fs::read_symlink("/proc/self/exe", error);
    if (error) return std::nullopt;
    const fs::path prefix = program.parent_path().parent_path();
    if (!fs::exists(prefix / "lib" / "cmake" / "migrator" / "migratorConfig.cmake", error))
        return std::nullopt;
    return prefix;
}

int run_init(const std::string& dir_text) {
    const fs::path dir = fs::absolute(dir_text).lexically_normal();
    const fs::path folder = dir.has_filename() ? dir : dir.parent_path();
    const std::string name = scaffold::project_name_for(folder.filename().string());
    for (const auto& path : scaffold::write_plugin_project(folder, name))
        std::cout << "Generating " << path.string() << " ... done\n";

    // Where CMake finds the package, and how to call migrator: nothing to add for a system-wide
    // installation; the installation's own paths otherwise.
    const auto prefix = installed_prefix();
    const bool system_wide = prefix && (*prefix == "/usr" || *prefix == "/usr/local");
    const std::string prefix_option = system_wide ? ""
                                      : prefix
                                          ? " -DCMAKE_PREFIX_PATH=" + prefix->string()
                                          : " -DCMAKE_PREFIX_PATH=<where migrator is installed>";
    const std::string bin = prefix && !system_wide ? (*prefix / "bin").string() + "/" : "";
    const std::vector<std::pair<std::string, std::string>> steps{
        {"cd " + folder.string(), ""},
        {bin + "scaffold new \"create account\"", "a revision under revisions/"},
        {"cmake -S . -B build" + prefix_option, ""},
        {"cmake --build build", "every revision -> build/versions/"},
        {bin + "migrator --url sqlite:///local.db upgrade head", "versions_dir: migrator.ini"},
        {"cmake --build build --target bundle", "build/bundle/, build/" + name + "-bundle.tar.gz"},
    };
    std::cout << "\nNext steps:\n";
    for (const auto& [command, comment] : steps) {
        std::cout << "  " << command;
        if (!comment.empty())
            std::cout << std::string(command.size() < 40 ? 40 - command.size() : 2, ' ') << "# "
                      << comment;
        std::cout << '\n';
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"scaffold: stamps new migrator revision projects"};
    app.require_subcommand(1);

    NewOptions options;
    std::string positional_message;
    // Options both `new` and `merge` take.
    const auto add_common = [&](CLI::App* command) {
        command->add_option("-m,--message", options.message, "What the revision does");
        command->add_option("--rev-id", options.rev_id,
                            "Revision id to use instead of a random one");
        command->add_option("--revisions-dir", options.revisions_dir,
                            "Folder holding one folder per revision (default: ./revisions)");
    };
    auto* create = app.add_subcommand("new", "Create a new revision under revisions/");
    create->add_option("message", positional_message, "What the revision does");
    add_common(create);
    create->add_option("--head", options.head,
                       "Parent revision (default: the single current head)");
    create->add_flag("--splice", options.splice,
                     "Allow --head to name a revision that is not a head");
    create->add_option("--branch-label", options.branch_labels,
                       "Label for the branch this revision starts (repeatable)");
    create->add_option("--depends-on", options.depends_on,
                       "Revision on another branch to apply first (repeatable)");
    auto* merge = app.add_subcommand("merge", "Create a merge revision joining several revisions");
    merge->add_option("revisions", options.merge, "Revisions to join, or `heads`")->required();
    add_common(merge);
    std::string init_dir;
    auto* init = app.add_subcommand(
        "init", "Create a standalone revision project that builds against the installed migrator");
    init->add_option("dir", init_dir, "Folder to create (new or empty)")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (init->parsed()) {
        try {
            return run_init(init_dir);
        } catch (const std::exception& e) {
            std::cerr << "error: " << e.what() << '\n';
            return 1;
        }
    }
    if (options.message.empty()) options.message = positional_message;
    if (options.message.empty() && options.merge.empty()) {
        std::cerr << "error: a revision needs a message: scaffold new \"create account\"\n";
        return 2;
    }
    try {
        return run_new(options);
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
