// scaffold: stamps new revision projects (scaffold new "message") under revisions/.
#include <CLI/CLI.hpp>
#include <ctime>
#include <iostream>
#include <migrator/errors.hpp>
#include <migrator/graph.hpp>
#include <regex>

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
};

int run_new(const NewOptions& options) {
    const fs::path dir = find_revisions_dir(options.revisions_dir);
    // The sources are the single source of truth: the parent is read back from them, so a
    // revision not yet built still counts.
    const RevisionGraph graph(scaffold::read_revision_sources(dir));

    scaffold::NewRevision revision;
    revision.message = options.message;
    revision.create_date = local_now();
    revision.id = options.rev_id.empty() ? scaffold::new_revision_id() : options.rev_id;
    if (!std::regex_match(revision.id, std::regex("[0-9A-Za-z_]{1,32}")))
        throw Error("revision id '" + revision.id +
                    "' is not valid: use 1 to 32 letters, digits or '_'");
    if (graph.find(revision.id))
        throw Error("revision id " + revision.id + " already exists in " + dir.string());

    if (!options.head.empty()) {
        revision.parents = graph.resolve_target(options.head, {});
        for (const auto& parent : revision.parents)
            if (!graph.children(parent).empty() && !options.splice)
                throw Error("revision " + parent +
                            " is not a head; pass --splice to branch from it anyway");
    } else {
        const auto heads = graph.heads();
        if (heads.size() > 1) {
            std::string list;
            for (const auto& head : heads) list += (list.empty() ? "" : ", ") + head;
            throw Error("the revisions have several heads (" + list +
                        "); pick the parent with --head REV");
        }
        revision.parents = heads;
    }

    for (const auto& path : scaffold::write_revision_project(dir, revision))
        std::cout << "Generating " << path.string() << " ... done\n";
    std::cout << "Build it with `cmake --build build`; the plugin appears in build/versions/.\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"scaffold: stamps new migrator revision projects"};
    app.require_subcommand(1);

    NewOptions options;
    std::string positional_message;
    auto* create = app.add_subcommand("new", "Create a new revision under revisions/");
    create->add_option("message", positional_message, "What the revision does");
    create->add_option("-m,--message", options.message, "What the revision does");
    create->add_option("--head", options.head,
                       "Parent revision (default: the single current head)");
    create->add_flag("--splice", options.splice,
                     "Allow --head to name a revision that is not a head");
    create->add_option("--rev-id", options.rev_id, "Revision id to use instead of a random one");
    create->add_option("--revisions-dir", options.revisions_dir,
                       "Folder holding one folder per revision (default: ./revisions)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    if (options.message.empty()) options.message = positional_message;
    if (options.message.empty()) {
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
