// migrator: the command line (CLI11), and the mapping of errors to one stderr line + exit status.
#include <migrator/plugin_abi.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <functional>
#include <iostream>
#include <migrator/command_line/completion.hpp>
#include <migrator/command_line/errors.hpp>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/runner/process_supervisor.hpp>

#include "cli.hpp"
#include "fleet.hpp"
#include "format.hpp"

namespace {

using namespace migrator;
using namespace migrator::cli;

/// Runs a command, turning each kind of error into one line on stderr and its exit status.
int report_errors(const std::function<int()>& command) {
    try {
        return command();
    } catch (...) {
        return report_current_exception(Colours::enabled_for(2));
    }
}

}  // namespace

int main(int argc, char** argv) {
    // Every plugin of a plan stays loaded, with its file open, until the run ends.
    raise_open_file_limit();
    CLI::App app{"migrator: database migrations as compiled revision plugins, Alembic style"};
    // Every ABI version from 1 up loads: a plugin built years ago still runs.
    app.set_version_flag("--version",
                         std::string("migrator " MIGRATOR_VERSION ", plugin ABI 1 to ") +
                             std::to_string(MIGRATOR_ABI_VERSION) + ", plugin-api " +
                             MIGRATOR_PLUGIN_API_VERSION + ", " + MIGRATOR_PLATFORM);
    app.require_subcommand(1);
    app.fallthrough();  // `migrator upgrade head --url ...` works as well as the reverse

    GlobalOptions options;
    // The program, not the library, takes over the process's signals and starts the watchdog:
    // every run, plugin load and fleet worker is watched by this one.
    ProcessSupervisor supervisor;
    options.supervisor = &supervisor;
    app.add_option("--url", options.url,
                   "Database URL (default: $MIGRATOR_DATABASE_URL, then $SQLALCHEMY_DATABASE_URL)");
    app.add_option("--versions-dir", options.versions_dir,
                   "Folder of revision plugins (default: $MIGRATOR_VERSIONS_DIR, ./versions, "
                   "then versions/ beside the program's folder)");
    app.add_option("--scratch-url", options.scratch_url,
                   "check --schema: a writable database of the same dialect to build the "
                   "declared schema on, e.g. the primary of a hot standby (default: "
                   "$MIGRATOR_SCRATCH_URL, then scratch_url in the config file, then the "
                   "database itself)");
    auto* schema_file = app.add_option(
        "--schema-file", options.schema_file,
        "check --schema: the declared schema, an SQL file in the database's dialect "
        "(default: $MIGRATOR_SCHEMA_FILE, then schema.sql in the revisions folder, then in "
        "the versions directory)");
    app.add_option("--models", options.models,
                   "check --schema, revision --autogenerate: the declared schema from SQLAlchemy "
                   "models instead of a file, MODULE:ATTRIBUTE (e.g. myapp.models:Base.metadata; "
                   "default: models in the config file), printed by share/migrator/"
                   "sqlalchemy_schema.py with $MIGRATOR_PYTHON or python3")
        ->type_name("MODULE:ATTRIBUTE")
        ->excludes(schema_file);
    auto* version_table = app.add_option(
        "--version-table", options.version_table,
        "Version table name (default: migrator_version; alembic_version adopts an Alembic "
        "database)");
    auto* version_schema = app.add_option(
        "--version-table-schema", options.version_schema,
        "Schema of the version and history tables (PostgreSQL; default: the connection's "
        "current schema)");
    // The options in seconds: a number, 0 or more (CLI11's NonNegativeNumber names its range
    // with the largest double in full).
    const CLI::Validator seconds(
        [](const std::string& text) {
            double value = -1;
            return CLI::detail::lexical_cast(text, value) && value >= 0
                       ? std::string()
                       : "'" + text + "' is not a number of seconds (0 or more)";
        },
        "SECONDS");
    auto* lock_timeout =
        app.add_option("--lock-timeout", options.lock_timeout_seconds,
                       "Seconds to wait for another migrator's lock before giving up (default 60)")
            ->check(seconds);
    bool no_permission_check = false;
    app.add_flag("--no-permission-check", no_permission_check,
                 "Load plugins even if they or the versions directory are writable by group or "
                 "others or owned by another user (default: refuse them)");
    app.add_option("--trusted-keys", options.trusted_key_files,
                   "File of public keys (scaffold keygen's .pub lines); when keys are trusted, "
                   "every plugin must be signed by one (default: $MIGRATOR_TRUSTED_KEYS, then "
                   "trusted_keys in the config file)");
    auto* statement_timeout =
        app.add_option("--statement-timeout", options.statement_timeout_seconds,
                       "Seconds one SQL statement may run before it fails, rolling its revision "
                       "back (default 0: no limit)")
            ->check(seconds);
    auto* step_timeout =
        app.add_option("--step-timeout", options.step_timeout_seconds,
                       "Seconds one revision may run before migrator stops with status 10, "
                       "without committing it (default 0: no limit)")
            ->check(seconds);
    std::string config_file;
    app.add_option("--config", config_file,
                   "Settings file (default: $MIGRATOR_CONFIG, then ./migrator.ini if present)");
    app.add_flag("-q,--quiet", options.quiet, "upgrade/downgrade/stamp: print errors only");
    std::vector<std::string> x_arguments;
    app.add_option("-x", x_arguments,
                   "KEY=VALUE for revisions to read (ctx.argument(\"KEY\")), as Alembic's -x; "
                   "repeatable")
        ->allow_extra_args(false)
        ->check(CLI::Validator(
            [](const std::string& text) {
                const auto equals = text.find('=');
                return equals == std::string::npos || equals == 0
                           ? "'" + text + "' is not KEY=VALUE"
                           : std::string();
            },
            "KEY=VALUE"));
    app.add_flag(
        "--json", options.json,
        "history/current/heads/branches/show/check/log: print JSON; upgrade/downgrade: one JSON "
        "event a line (shapes in docs/cli.md)");

    FleetOptions fleet;
    app.add_option("--targets", fleet.targets_file,
                   "upgrade/downgrade/stamp/current/check: run on every database of this file "
                   "(one URL a line, '#' comments; - reads standard input), a line and a "
                   "summary each")
        ->type_name("FILE");
    app.add_option("--target-schemas", fleet.schemas,
                   "upgrade/downgrade/stamp/current/check: run on each of these PostgreSQL "
                   "schemas of the database (names, or patterns such as 'tenant_*' matched "
                   "against its schemas; comma-separated)")
        ->delimiter(',')
        ->type_name("SCHEMA,...");
    app.add_option("-j,--jobs", fleet.jobs,
                   "With --targets or --target-schemas: how many targets run at once "
                   "(default: one per CPU)")
        ->check(CLI::Range(1U, max_fleet_jobs));
    app.add_flag("--fail-fast", fleet.fail_fast,
                 "With --targets or --target-schemas: start no target after one failed");

    std::function<int()> command;
    std::string target;

    bool verbose = false;
    HistoryOptions history_options;
    auto* history = app.add_subcommand("history", "List revisions, newest first");
    history->add_option("-r,--rev-range", history_options.range,
                        "Only revisions in a range: A:B, :B, A:, current:");
    history->add_flag("-v,--verbose", history_options.verbose, "Show every detail");
    history->add_flag("-i,--indicate-current", history_options.indicate_current,
                      "Mark the database's current revision(s) with (current)");
    history->callback([&] { command = [&] { return run_history(options, history_options); }; });

    bool check_heads = false;
    auto* current = app.add_subcommand("current", "Show the database's current revision(s)");
    current->add_flag("-v,--verbose", verbose, "Show every detail");
    current->add_flag("--check-heads", check_heads,
                      "Exit with status 7 unless the database is at every head");
    current->callback(
        [&] { command = [&] { return run_current(options, verbose, check_heads); }; });

    auto* heads = app.add_subcommand("heads", "Show the newest revision(s) of the scripts");
    heads->add_flag("-v,--verbose", verbose, "Show every detail");
    heads->callback([&] { command = [&] { return run_heads(options, verbose); }; });

    auto* branches = app.add_subcommand("branches", "Show the revisions where history forks");
    branches->add_flag("-v,--verbose", verbose, "Show every detail");
    branches->callback([&] { command = [&] { return run_branches(options, verbose); }; });

    auto* show = app.add_subcommand("show", "Show one revision's metadata");
    show->add_option("revision", target, "Revision id, prefix or expression")->required();
    show->callback([&] { command = [&] { return run_show(options, target); }; });

    bool allow_multiple_heads = false;
    auto* verify = app.add_subcommand(
        "verify", "Check the versions directory (e.g. a release bundle's) without a database");
    verify->add_flag("--allow-multiple-heads", allow_multiple_heads, "Accept more than one head");
    verify->callback([&] { command = [&] { return run_verify(options, allow_multiple_heads); }; });

    MigrateOptions migrate_options;
    const auto add_migrate_flags = [&](CLI::App* sub) {
        sub->add_flag("--sql", migrate_options.sql,
                      "Offline: print the SQL on stdout instead of running it (no connection; "
                      "the dialect comes from the URL; FROM:TO gives the start)");
        sub->add_flag("--single-transaction", migrate_options.single_transaction,
                      "Run every step in one transaction: all or nothing");
    };
    auto* upgrade = app.add_subcommand("upgrade", "Upgrade to a later revision");
    upgrade
        ->add_option("target", target,
                     "head, heads, +N, a revision id or prefix, REV+N, @RELEASE, ...; FROM:TO "
                     "with --sql")
        ->required();
    add_migrate_flags(upgrade);
    upgrade->add_flag("--allow-stale", migrate_options.allow_stale,
                      "Run although revision sources are not built into the versions directory "
                      "(default: refuse, naming them)");
    upgrade->callback(
        [&] { command = [&] { return run_upgrade(options, migrate_options, target); }; });

    auto* downgrade = app.add_subcommand("downgrade", "Revert to a previous revision");
    downgrade
        ->add_option("target", target,
                     "base, -N, a revision id or prefix, REV-N, @RELEASE, ...; FROM:TO with --sql")
        ->required();
    add_migrate_flags(downgrade);
    const auto add_stored_flag = [&](CLI::App* sub) {
        sub->add_flag("--stored-downgrades", migrate_options.stored_downgrades,
                      "Undo revisions this versions directory lacks (a newer release applied "
                      "them) with the plugins that release stored in the database; each must be "
                      "signed by a trusted key");
    };
    add_stored_flag(downgrade);
    downgrade->callback(
        [&] { command = [&] { return run_downgrade(options, migrate_options, target); }; });

    auto* converge = app.add_subcommand(
        "converge",
        "Move the database to the newest release of the versions directory (releases.txt), up or "
        "down: the one command a deployment runs on every version");
    add_stored_flag(converge);
    converge->add_flag("--single-transaction", migrate_options.single_transaction,
                       "Run every step in one transaction: all or nothing");
    converge->add_flag("--allow-stale", migrate_options.allow_stale,
                       "Run although revision sources are not built into the versions directory");
    converge->callback([&] { command = [&] { return run_converge(options, migrate_options); }; });

    auto* releases = app.add_subcommand(
        "releases", "List the releases of the versions directory, marking the database's");
    std::string prune_release;
    auto* prune = releases->add_subcommand(
        "prune",
        "Remove the plugins stored in the database for every revision release NAME holds: "
        "bundles of NAME and newer have them, older ones can no longer roll back past it");
    prune->add_option("name", prune_release, "A release name (NAME or @NAME)")->required();
    prune->callback([&] { command = [&] { return run_releases_prune(options, prune_release); }; });
    releases->callback([&] {
        if (releases->get_subcommands().empty()) command = [&] { return run_releases(options); };
    });

    bool resolved_applied = false;
    bool resolved_rolled_back = false;
    auto* resolve =
        app.add_subcommand("resolve",
                           "After repairing the schema by hand, clear a dirty mark left by a "
                           "non-transactional revision");
    resolve->add_option("revision", target, "The dirty revision")->required();
    auto* applied_flag = resolve->add_flag("--applied", resolved_applied,
                                           "Its changes are complete: record it as applied");
    auto* rolled_back_flag =
        resolve->add_flag("--rolled-back", resolved_rolled_back,
                          "None of its changes remain: record it as not applied");
    applied_flag->excludes(rolled_back_flag);
    resolve->callback([&] {
        if (!resolved_applied && !resolved_rolled_back)
            throw CLI::ValidationError("resolve",
                                       "say what state the schema is in: --applied or "
                                       "--rolled-back");
        command = [&] { return run_resolve(options, target, resolved_applied); };
    });

    CheckOptions check_options;
    auto* check =
        app.add_subcommand("check",
                           "Compare the database with the versions directory: edited or missing "
                           "revisions, several heads, dirty state, not at head");
    check->add_flag("--allow-pending", check_options.allow_pending,
                    "A database below head is a warning, not a problem");
    check->add_flag("--schema", check_options.schema,
                    "Also compare the database's schema with the declared schema file (see "
                    "--schema-file), listing each difference");
    check->callback([&] { command = [&] { return run_check(options, check_options); }; });

    std::vector<std::string> stamp_targets;
    bool purge = false;
    auto* stamp = app.add_subcommand("stamp", "Set the version table without running revisions");
    stamp->add_option("revisions", stamp_targets, "Revision ids, prefixes, heads, base or @RELEASE")
        ->required();
    stamp->add_flag("--purge", purge,
                    "Replace version rows even if they name revisions no plugin provides");
    bool stamp_sql = false;
    stamp->add_flag("--sql", stamp_sql, "Offline: print the SQL instead of running it");
    stamp->callback(
        [&] { command = [&] { return run_stamp(options, stamp_targets, purge, stamp_sql); }; });

    std::vector<std::string> edited_revisions;
    auto* accept = app.add_subcommand(
        "accept-edit",
        "Accept an intended edit of applied revisions (a comment fixed): check compares their "
        "plugins with the sources they have now; recorded in the run history (see log)");
    accept->add_option("revisions", edited_revisions, "Revision ids or prefixes")->required();
    accept->callback([&] { command = [&] { return run_accept_edit(options, edited_revisions); }; });

    LogOptions log_options;
    auto* log = app.add_subcommand(
        "log", "Show the run history: every step run on the database, newest first");
    log->add_option("-r,--revision", log_options.revision,
                    "Only steps of revisions whose id starts with this");
    log->add_option("-n,--limit", log_options.limit, "Only the newest N steps")
        ->check(CLI::PositiveNumber);
    log->add_flag("--failed", log_options.failed,
                  "Only steps that failed or left the database dirty");
    log->add_flag("--reverse", log_options.oldest_first, "Oldest first");
    log->callback([&] { command = [&] { return run_log(options, log_options); }; });

    // Alembic muscle memory: `migrator revision -m MSG [--autogenerate]` is scaffold's `new` and
    // `migrator merge heads` its `merge`, run here by the library scaffold is made of; `migrator
    // edit REV` opens a revision's source.
    add_source_commands(app, options, command);
    // `migrator init DIR` is scaffold's `init`, run from the scaffold program beside this one. It
    // is dispatched before parsing (its options are scaffold's); the entry makes it part of --help.
    app.add_subcommand("init", "Same as `scaffold init DIR`")->allow_extras();
    // `migrator __complete WORD...`: the candidates for the shell's completion (host/completion/);
    // a revision argument offers the versions directory's ids, read as the command would read
    // them (--versions-dir and --config on the line, the environment, the config file).
    const auto revision_arguments = [](const CompletionContext& context) {
        static const std::vector<std::string> takes_revisions{
            "upgrade", "downgrade", "show", "stamp", "resolve", "accept-edit"};
        const std::string& name = context.command->get_name();
        if (std::find(takes_revisions.begin(), takes_revisions.end(), name) ==
            takes_revisions.end())
            return std::vector<std::string>();
        GlobalOptions settings;
        const auto given = [&context](const char* option) {
            const auto found = context.values.find(option);
            return found == context.values.end() ? std::string() : found->second;
        };
        settings.versions_dir = given("--versions-dir");
        apply_config_file(given("--config"), {}, settings);
        // Only metadata is read, never a plugin's code: a completion needs no trust check.
        settings.permission_check = false;
        auto names = revision_names(settings);
        // Release targets (@NAME) move a database; show, resolve and accept-edit name revisions.
        if (name != "upgrade" && name != "downgrade" && name != "stamp")
            names.erase(std::remove_if(names.begin(), names.end(),
                                       [](const std::string& word) { return word[0] == '@'; }),
                        names.end());
        return names;
    };
    if (answer_completion_request(app, argc, argv, revision_arguments)) return exit_ok;
    if (argc >= 2 && std::string(argv[1]) == "init") {
        const std::vector<std::string> rest(argv + 2, argv + argc);
        return report_errors([&] { return run_scaffold("init", rest); });
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return report_command_line_error(app, e, "migrator") == 0 ? exit_ok : exit_usage;
    }
    const std::string command_name =
        app.get_subcommands().empty() ? std::string() : app.get_subcommands().front()->get_name();
    if (fleet.requested()) {
        const std::vector<std::string> fleet_commands{"upgrade", "downgrade", "converge",
                                                      "stamp",   "current",   "check"};
        if (std::find(fleet_commands.begin(), fleet_commands.end(), command_name) ==
            fleet_commands.end()) {
            std::cerr << "error: --targets and --target-schemas are not available for '"
                      << command_name
                      << "'; they are for upgrade, downgrade, converge, stamp, current and "
                         "check\n";
            return exit_usage;
        }
        if (migrate_options.sql || stamp_sql) {
            std::cerr << "error: --sql writes one script for one database; it cannot be used "
                         "with --targets or --target-schemas\n";
            return exit_usage;
        }
    } else if (fleet.jobs != 0 || fleet.fail_fast) {
        std::cerr << "error: --jobs and --fail-fast are for a fleet of targets: give --targets "
                     "FILE or --target-schemas SCHEMAS\n";
        return exit_usage;
    }
    // --json where a command has no JSON output is refused, never silently ignored.
    if (options.json && !fleet.requested()) {
        const std::vector<std::string> json_commands{"history",   "current",  "heads",   "branches",
                                                     "show",      "check",    "log",     "upgrade",
                                                     "downgrade", "converge", "releases"};
        for (const CLI::App* sub : app.get_subcommands()) {
            if (std::find(json_commands.begin(), json_commands.end(), sub->get_name()) ==
                json_commands.end()) {
                std::cerr << "error: --json is not available for '" << sub->get_name()
                          << "'; it is for history, current, heads, branches, show, check, log, "
                             "releases, upgrade, downgrade and converge\n";
                return exit_usage;
            }
        }
    }
    return report_errors([&] {
        const GivenOnCommandLine given{version_table->count() > 0,     version_schema->count() > 0,
                                       lock_timeout->count() > 0,      no_permission_check,
                                       statement_timeout->count() > 0, step_timeout->count() > 0};
        if (no_permission_check) options.permission_check = false;
        options.version_table_chosen = given.version_table;
        options.command = app.get_subcommands().front()->get_name();
        for (const auto& pair : x_arguments) {
            const auto equals = pair.find('=');
            options.arguments[pair.substr(0, equals)] = pair.substr(equals + 1);
        }
        apply_config_file(config_file, given, options);
        if (fleet.requested())
            return run_fleet(options, fleet, command_name, target, migrate_options.allow_stale,
                             command);
        return command();
    });
}
