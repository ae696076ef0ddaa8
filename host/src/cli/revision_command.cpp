// migrator revision: Alembic's spelling of `scaffold new`, --autogenerate included, run in this
// process through the migrator_scaffold library that the scaffold program runs too.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <migrator/database_url.hpp>
#include <migrator/errors.hpp>
#include <migrator/scaffold.hpp>
#include <typeinfo>

#include "cli.hpp"
#include "format.hpp"

namespace migrator::cli {
namespace {

int run_revision(const GlobalOptions& global, const scaffold::NewCommandLine& request) {
    scaffold::NewOptions options = request.options;
    if (options.message.empty()) options.message = request.positional_message;
    if (options.message.empty())
        throw ConfigError("a revision needs a message: migrator revision -m \"create account\"");
    try {
        if (!request.autogenerate) {
            scaffold::create_revision(options, std::cout);
            return exit_ok;
        }
        const auto revisions_dir = scaffold::find_revisions_dir(options.revisions_dir);
        scaffold::AutogenerateOptions source;
        source.url = resolve_database_url(global);
        source.version_table = global.version_table;
        source.version_schema = global.version_schema;
        // check --schema's setting, except that the default lives beside the revision sources.
        source.schema_file = resolve_schema_file(global, revisions_dir).string();
        scaffold::autogenerate_revision(options, source, std::cout);
        return exit_ok;
    } catch (const scaffold::NotUpToDateError& e) {
        std::cerr << Colours{Colours::enabled_for(2)}.red("error:") << " "
                  << mask_password(e.what()) << '\n';
        return exit_not_at_head;
    } catch (const Error& e) {
        // scaffold's own refusals (a taken id, no revisions folder, ...) are about the command
        // line; the kinds migrator already maps keep their statuses.
        if (typeid(e) == typeid(Error)) throw ConfigError(e.what());
        throw;
    }
}

}  // namespace

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
