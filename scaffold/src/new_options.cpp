// The command-line options of a new revision, shared by `scaffold new` and `migrator revision`.
#include <CLI/CLI.hpp>
#include <migrator/scaffold/scaffold.hpp>

namespace migrator::scaffold {

void add_revision_options(CLI::App& command, NewOptions& options) {
    command.add_option("-m,--message", options.message, "What the revision does");
    command.add_option("--rev-id", options.rev_id, "Revision id to use instead of a random one");
    command.add_option("--revisions-dir", options.revisions_dir,
                       "Folder holding one folder per revision (default: ./revisions)");
}

void add_new_options(CLI::App& command, NewCommandLine& line) {
    command.add_option("message", line.positional_message, "What the revision does");
    add_revision_options(command, line.options);
    command.add_option("--head", line.options.head,
                       "Parent revision (default: the single current head)");
    command.add_flag("--splice", line.options.splice,
                     "Allow --head to name a revision that is not a head");
    command.add_option("--branch-label", line.options.branch_labels,
                       "Label for the branch this revision starts (repeatable)");
    command.add_option("--depends-on", line.options.depends_on,
                       "Revision on another branch to apply first (repeatable)");
    auto* raw_sql = command.add_flag(
        "--raw-sql", line.options.raw_sql,
        "Stamp upgrade/downgrade as SQL statements (ctx.execute) instead of portable operations "
        "(migrator::Operations, rendered for the database's dialect)");
    command
        .add_flag("--autogenerate", line.autogenerate,
                  "Write upgrade/downgrade from the difference between the database (at head) "
                  "and the schema file (default: schema.sql in the revisions folder)")
        ->excludes(raw_sql);
}

}  // namespace migrator::scaffold
