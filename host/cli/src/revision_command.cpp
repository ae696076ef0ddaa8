// migrator revision, merge, release and edit: the commands on revision sources. `revision` is
// `scaffold new` (--autogenerate included), `merge` is `scaffold merge` and `release` is
// `scaffold release`, run in this process through the migrator_scaffold library that the scaffold
// program runs too; `edit` opens a revision's source in the user's editor.
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>
#include <migrator/scaffold/scaffold.hpp>

#include "cli.hpp"
#include "format.hpp"

namespace migrator::cli {
namespace {

int run_revision(const GlobalOptions& global, const scaffold::NewCommandLine& request) {
    scaffold::NewOptions options = request.options;
    if (options.message.empty()) options.message = request.positional_message;
    if (options.message.empty())
        throw ConfigError("a revision needs a message: migrator revision -m \"create account\"");
    if (!request.autogenerate) {
        scaffold::create_revision(options, std::cout);
        return exit_ok;
    }
    const auto revisions_dir = scaffold::find_revisions_dir(options.revisions_dir);
    scaffold::AutogenerateOptions source;
    source.url = resolve_database_url(global);
    source.version_table = global.version_table;
    source.version_table_chosen = global.version_table_chosen;
    source.version_schema = global.version_schema;
    // check --schema's setting, except that the default lives beside the revision sources.
    const DeclaredSchemaSource declared = resolve_declared_schema(global, revisions_dir);
    source.schema_file = declared.file.string();
    source.models = declared.models;
    scaffold::autogenerate_revision(options, source, std::cout);
    return exit_ok;
}

/// Opens `file` in $VISUAL, else $EDITOR, else Debian's `editor`, else `vi` (a command with
/// arguments, e.g. "code --wait", is run by /bin/sh), and waits for it.
int open_in_editor(const std::string& file) {
    std::string editor;
    for (const char* variable : {"VISUAL", "EDITOR"})
        if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') {
            editor = value;
            break;
        }
    const std::string script =
        editor.empty() ? "if command -v editor >/dev/null 2>&1; then exec editor \"$1\"; "
                         "else exec vi \"$1\"; fi"
                       : editor + " \"$1\"";
    const pid_t child = ::fork();
    if (child < 0)
        throw ConfigError("cannot start an editor for " + file + " (" + std::strerror(errno) + ")");
    if (child == 0) {
        ::execl("/bin/sh", "sh", "-c", script.c_str(), "sh", file.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    const std::string name = editor.empty() ? std::string("editor") : "'" + editor + "'";
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        throw ConfigError("the editor " + name + " could not be run to open " + file +
                          "; set $EDITOR (e.g. EDITOR=nano)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw ConfigError("the editor " + name + " failed (" +
                          (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                             : std::string("killed by a signal")) +
                          ") on " + file);
    return exit_ok;
}

}  // namespace

void add_source_commands(CLI::App& app, const GlobalOptions& options,
                         std::function<int()>& command) {
    add_revision_command(app, options, command);

    // Owned by the callbacks, so they live as long as the App that fills them in.
    const auto merge_options = std::make_shared<scaffold::NewOptions>();
    auto* merge = app.add_subcommand(
        "merge",
        "Create a merge revision joining several revisions (scaffold merge): heads, or ids");
    merge->add_option("revisions", merge_options->merge, "Revisions to join, or `heads`")
        ->required();
    scaffold::add_revision_options(*merge, *merge_options);
    merge->callback([merge_options, &command] {
        command = [merge_options] {
            scaffold::create_revision(*merge_options, std::cout);
            return exit_ok;
        };
    });

    const auto release_request = std::make_shared<scaffold::ReleaseCommandLine>();
    auto* release = app.add_subcommand(
        "release", "Record the heads of the revision sources as release NAME (scaffold release)");
    scaffold::add_release_options(*release, *release_request);
    release->callback([release_request, &command] {
        command = [release_request] {
            scaffold::record_release(*release_request, std::cout);
            return exit_ok;
        };
    });

    const auto edit_request = std::make_shared<std::pair<std::string, std::string>>();
    auto* edit = app.add_subcommand(
        "edit", "Open a revision's source in $VISUAL or $EDITOR (head, an id or a prefix)");
    edit->add_option("revision", edit_request->first, "Revision id, prefix, head or label")
        ->required();
    edit->add_option("--revisions-dir", edit_request->second,
                     "Folder holding one folder per revision (default: ./revisions)");
    edit->callback([edit_request, &command] {
        command = [edit_request] {
            const auto files =
                scaffold::revision_source_files(edit_request->second, edit_request->first);
            if (files.size() > 1) {
                std::vector<std::string> names;
                for (const auto& file : files) names.push_back(file.string());
                throw RevisionError("'" + edit_request->first + "' names " +
                                    std::to_string(files.size()) + " revisions (" + join(names) +
                                    "); edit one at a time");
            }
            return open_in_editor(files.front().string());
        };
    });
}

void add_revision_command(CLI::App& app, const GlobalOptions& options,
                          std::function<int()>& command) {
    // Owned by the callback, so it lives as long as the App that fills it in.
    const auto request = std::make_shared<scaffold::NewCommandLine>();
    auto* revision = app.add_subcommand(
        "revision", "Create a new revision under revisions/ (Alembic's spelling of scaffold new)");
    scaffold::add_new_options(*revision, *request);
    revision->callback([request, &options, &command] {
        command = [request, &options] { return run_revision(options, *request); };
    });
}

}  // namespace migrator::cli
