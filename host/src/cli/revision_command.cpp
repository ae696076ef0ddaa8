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

struct RevisionRequest {
    scaffold::NewOptions options;
    std::string positional_message;
    bool autogenerate = false;
};

int run_revision(const GlobalOptions& global, const RevisionRequest& request) {
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
    const auto request_holder = std::make_shared<RevisionRequest>();
    RevisionRequest& request = *request_holder;
    auto* revision = app.add_subcommand(
        "revision", "Create a new revision under revisions/ (Alembic's spelling of scaffold new)");
    revision->add_option("message", request.positional_message, "What the revision does");
    revision->add_option("-m,--message", request.options.message, "What the revision does");
    revision->add_flag("--autogenerate", request.autogenerate,
                       "Write upgrade/downgrade from the difference between the database (at "
                       "head) and the schema file (--schema-file; default: schema.sql in the "
                       "revisions folder)");
    revision->add_option("--revisions-dir", request.options.revisions_dir,
                         "Folder holding one folder per revision (default: ./revisions)");
    revision->add_option("--rev-id", request.options.rev_id,
                         "Revision id to use instead of a random one");
    revision->add_option("--head", request.options.head,
                         "Parent revision (default: the single current head)");
    revision->add_flag("--splice", request.options.splice,
                       "Allow --head to name a revision that is not a head");
    revision->add_option("--branch-label", request.options.branch_labels,
                         "Label for the branch this revision starts (repeatable)");
    revision->add_option("--depends-on", request.options.depends_on,
                         "Revision on another branch to apply first (repeatable)");
    revision->callback([request_holder, &options, &command] {
        command = [request_holder, &options] { return run_revision(options, *request_holder); };
    });
}

}  // namespace migrator::cli
