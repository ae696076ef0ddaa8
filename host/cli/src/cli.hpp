// Private to the migrator program: settings resolution and the commands behind the CLI.
#ifndef MIGRATOR_CLI_CLI_HPP
#define MIGRATOR_CLI_CLI_HPP

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <migrator/command_line/error_report.hpp>
#include <migrator/db/db.hpp>
#include <migrator/plugins/signatures.hpp>
#include <migrator/schema/schema_compare.hpp>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}
namespace boost::json {
class value;
}
namespace migrator {
class StepSupervisor;
}

namespace migrator::cli {

/// What a command did to its database, for the report of a fleet's target (GlobalOptions::result).
struct TargetResult {
    std::optional<std::vector<std::string>> from;  ///< version rows before (once read)
    std::optional<std::vector<std::string>> to;    ///< version rows after, or where it stopped
    std::size_t steps = 0;                         ///< revisions run and committed
    std::string detail;  ///< check: its problems; current --check-heads: not at head
};

/// Options every command shares, as given on the command line (empty = not given), completed by
/// the config file (apply_config_file) for what the command line left out.
struct GlobalOptions {
    std::string url;
    std::string versions_dir;
    std::string version_table = "migrator_version";
    /// The version table was chosen (--version-table, or version_table in the config file): then
    /// a database that has Alembic's alembic_version beside no such table is not refused.
    bool version_table_chosen = false;
    std::string version_schema;        ///< empty: the connection's current schema
    double lock_timeout_seconds = 60;  ///< how long to wait for another migrator
    bool quiet = false;                ///< upgrade/downgrade/stamp: errors only
    bool json = false;                 ///< read commands: print JSON instead of text
    /// Whether plugin files and the versions directory must pass the ownership and permission
    /// check; --no-permission-check or permission_check = false turn it off.
    bool permission_check = true;
    std::string config_url;           ///< `url` from the config file
    std::string config_versions_dir;  ///< `versions_dir` from the config file, made absolute
    std::string schema_file;          ///< --schema-file: the declared schema of `check --schema`
    std::string config_schema_file;   ///< `schema_file` from the config file, made absolute
    /// --models MODULE:ATTRIBUTE: the declared schema from a SQLAlchemy MetaData instead of a file.
    std::string models;
    std::string config_models;  ///< `models` from the config file
    /// --scratch-url: where check --schema builds the declared schema instead of the database
    /// itself (a hot standby cannot hold the scratch schema); empty: not given.
    std::string scratch_url;
    std::string config_scratch_url;  ///< `scratch_url` from the config file
    /// The command being run ("upgrade"), for messages about the database it opens.
    std::string command;
    /// `revisions_dir` from the config file (made absolute), else revisions/ beside it if any:
    /// where the project's revision sources are, which staleness is judged against.
    std::string config_revisions_dir;

    /// --trusted-keys files (each of public key lines); when any key is trusted, every plugin must
    /// be signed by one (see resolve_trusted_keys).
    std::vector<std::string> trusted_key_files;
    std::vector<std::string> config_trusted_key_files;  ///< `trusted_keys`, made absolute

    /// `-x key=value` (Alembic's -x): what revisions read with Context::argument; a key given
    /// twice keeps its last value.
    std::map<std::string, std::string> arguments;

    /// How long one SQL statement, and one revision, may run; 0: no limit.
    double statement_timeout_seconds = 0;
    double step_timeout_seconds = 0;

    /// The PostgreSQL schema the command runs in: one of --target-schemas, set per target by the
    /// fleet (DatabaseOptions::search_schema). Empty: the connection's search_path.
    std::string target_schema;
    /// Where upgrade, downgrade, stamp, current and check record what they did (a fleet's
    /// worker reads it); null: nowhere.
    TargetResult* result = nullptr;
    /// Watches the process while revisions load and run (main's ProcessSupervisor, shared by a
    /// fleet's workers); null: nothing watches.
    StepSupervisor* supervisor = nullptr;
};

/// Which settings the command line gave explicitly (those the config file must not override).
struct GivenOnCommandLine {
    bool version_table = false;
    bool version_schema = false;
    bool lock_timeout = false;
    bool no_permission_check = false;
    bool statement_timeout = false;
    bool step_timeout = false;
};

/// Reads the config file — `config_flag` if given, else $MIGRATOR_CONFIG, else ./migrator.ini if
/// it exists — with CLI11's INI parser, and fills in what the command line did not give. Keys:
/// url, scratch_url, versions_dir and schema_file (relative to the file's folder), version_table,
/// version_table_schema, lock_timeout, statement_timeout, step_timeout, permission_check. Throws
/// ConfigError naming the file for a missing named file, an unknown key or a bad value.
void apply_config_file(const std::string& config_flag, const GivenOnCommandLine& given,
                       GlobalOptions& options);

/// The database URL: --url, then MIGRATOR_DATABASE_URL, then SQLALCHEMY_DATABASE_URL, then the
/// config file.
/// Throws DatabaseError saying how to give one when none is set.
std::string resolve_database_url(const GlobalOptions& options);

/// The versions directory: --versions-dir, then MIGRATOR_VERSIONS_DIR, then the config file, then
/// ./versions if it exists, then versions/ beside the folder holding this program (a release
/// bundle's layout).
/// Throws PluginError listing where it looked when none exists.
std::filesystem::path resolve_versions_dir(const GlobalOptions& options);

/// The folder of revision sources, when known: $MIGRATOR_REVISIONS_DIR, then the config file's
/// (config_revisions_dir). Unknown: no source is compared with the plugins.
std::optional<std::filesystem::path> resolve_revisions_dir(const GlobalOptions& options);

/// The declared schema file of `check --schema`: --schema-file, then MIGRATOR_SCHEMA_FILE, then
/// the config file, then schema.sql in `versions_dir`. Throws ConfigError, saying where it looked
/// and how to name another file, when the file does not exist, and (unless the permission check
/// is off) when it is owned by another user or writable by group or others, as a plugin would be.
std::filesystem::path resolve_schema_file(const GlobalOptions& options,
                                          const std::filesystem::path& versions_dir);

/// Where the declared schema of `check --schema` and `revision --autogenerate` comes from: the
/// models of --models; else the schema file of --schema-file or MIGRATOR_SCHEMA_FILE; else the
/// models of `models` in the config file; else resolve_schema_file(). Throws ConfigError when the
/// config file names both `models` and `schema_file`, and as resolve_schema_file does.
DeclaredSchemaSource resolve_declared_schema(const GlobalOptions& options,
                                             const std::filesystem::path& versions_dir);

/// The database check --schema builds the declared schema on: --scratch-url, then
/// $MIGRATOR_SCRATCH_URL, then `scratch_url` in the config file; std::nullopt when none is given
/// (the database `target` itself then). Throws ConfigError naming where it came from when its
/// dialect is not `target`'s; DatabaseError when it does not parse.
std::optional<DatabaseUrl> resolve_scratch_url(const GlobalOptions& options,
                                               const DatabaseUrl& target);

/// The public keys plugins must be signed with: those of the files of --trusted-keys, else of
/// $MIGRATOR_TRUSTED_KEYS (files separated by ':'), else of `trusted_keys` in the config file
/// (files separated by ','), and always the release keys this program was built with
/// (MIGRATOR_RELEASE_PUBLIC_KEY). Empty: signatures are not required. Each file must pass the
/// permission check (unless it is off). Throws ConfigError naming a file that is missing, not
/// trusted or holds no valid key line.
std::vector<PublicKey> resolve_trusted_keys(const GlobalOptions& options);

/// The public key lines compiled into this program (CMake's MIGRATOR_RELEASE_PUBLIC_KEY), or "".
const char* compiled_release_keys();

/// The database the settings name (URL precedence of resolve_database_url); `read_only`: never
/// created, nothing written. Both refuse (DatabaseError) a database that has Alembic's
/// alembic_version and not the version table, unless the version table was chosen.
std::unique_ptr<Database> open(const GlobalOptions& options, bool read_only);
/// The same for the database at `url`.
std::unique_ptr<Database> open_at(const GlobalOptions& options, const DatabaseUrl& url,
                                  bool read_only);

/// Reads the versions directory once for a fleet of targets, before its workers start: every
/// command run afterwards in this process (or a fork of it) uses what was read. For `upgrade`,
/// also judges staleness once (refusing as upgrade does, unless `allow_stale`), and for upgrade
/// and downgrade loads the plugins their plans can need (for `upgrade TARGET`, the revisions up
/// to TARGET; otherwise all). Throws what reading and loading throw.
void prepare_for_fleet(const GlobalOptions& options, const std::string& command,
                       const std::string& target, bool allow_stale);
/// `heads` as the fleet's report shows a position: "<base>", "ae1027a6acf2 (head)", ...; needs
/// prepare_for_fleet first.
std::string position_text(const std::vector<std::string>& heads);
/// Unloads what prepare_for_fleet loaded (static destructors of the plugins run).
void release_fleet_scripts();

/// Prints one JSON document on its own line.
void print_json(const boost::json::value& document);

/// `history` options: a range (`A:B`, `:B`, `A:`, `current:`), Alembic's -v and -i.
struct HistoryOptions {
    std::string range;
    bool verbose = false;
    bool indicate_current = false;
};

int run_history(const GlobalOptions& options, const HistoryOptions& history);
int run_current(const GlobalOptions& options, bool verbose, bool check_heads);
int run_heads(const GlobalOptions& options, bool verbose);
int run_branches(const GlobalOptions& options, bool verbose);
int run_show(const GlobalOptions& options, const std::string& revision);
/// Checks a versions directory (a release bundle's) without a database.
int run_verify(const GlobalOptions& options, bool allow_multiple_heads);
/// `upgrade`/`downgrade` options.
struct MigrateOptions {
    bool sql = false;                 ///< offline: print the SQL, open no connection
    bool single_transaction = false;  ///< the whole run in one transaction
    /// upgrade: run although revision sources are not built into the versions directory.
    bool allow_stale = false;
    /// downgrade, converge: undo revisions this versions directory lacks (a newer release
    /// applied them) with the plugins that release stored in the database, each signed by a
    /// trusted key.
    bool stored_downgrades = false;
};

int run_upgrade(const GlobalOptions& options, const MigrateOptions& migrate_options,
                const std::string& target);
int run_downgrade(const GlobalOptions& options, const MigrateOptions& migrate_options,
                  const std::string& target);
/// Moves the database to the newest release of the versions directory's releases file, up or
/// down (with `stored_downgrades`, also from revisions a newer release applied).
int run_converge(const GlobalOptions& options, const MigrateOptions& migrate_options);
/// Lists the releases of the versions directory, oldest first, marking the one the database is at
/// when a database URL is set (and saying when the database is ahead of them all).
int run_releases(const GlobalOptions& options);
/// Removes from the database the stored plugins of every revision release `name` holds: bundles
/// of that release and newer have them; older ones can no longer roll back past it.
int run_releases_prune(const GlobalOptions& options, const std::string& name);
/// Clears a dirty mark after the user repaired the schema: `applied` or rolled back.
int run_resolve(const GlobalOptions& options, const std::string& revision, bool applied);
/// `check` options.
struct CheckOptions {
    bool allow_pending = false;  ///< a database below head is a warning, not a problem
    bool schema = false;         ///< compare the database's schema with the declared schema too
};
/// Compares the database with the versions directory (and, with `schema`, its schema with the
/// declared schema file); exit_check_failed listing each problem and difference.
int run_check(const GlobalOptions& options, const CheckOptions& check);
/// Adds `revision` to `app`: scaffold new's options (-m, --head, --rev-id, ...) and
/// --autogenerate, run by the migrator_scaffold library with `options`' URL, version table and
/// --schema-file (default: schema.sql in the revisions folder). Its callback sets `command`.
/// Exit statuses: exit_not_at_head when autogenerate finds the database below the heads,
/// exit_usage for scaffold's own refusals (a taken id, no revisions folder, ...).
void add_revision_command(CLI::App& app, const GlobalOptions& options,
                          std::function<int()>& command);
/// Adds every command on revision sources: `revision` (add_revision_command), `merge` and
/// `release NAME` (scaffold merge's and scaffold release's options, run by the migrator_scaffold
/// library) and `edit REV` (opens the revision's source in $VISUAL, $EDITOR, `editor` or `vi`;
/// exit_usage when the editor fails).
void add_source_commands(CLI::App& app, const GlobalOptions& options,
                         std::function<int()>& command);
/// Replaces this process with the scaffold program beside it, running `scaffold <command> args`.
/// Returns only on failure (throws ConfigError naming the missing program).
int run_scaffold(const std::string& command, const std::vector<std::string>& args);
int run_stamp(const GlobalOptions& options, std::vector<std::string> revisions, bool purge,
              bool sql);

/// Accepts an intended edit of each applied revision of `revisions` (ids or prefixes): `check`
/// compares its plugin with the source SHA-256 it has now; recorded in the run history. Refuses
/// (exit_revision) a revision that is not applied or whose plugin records no checksum, before
/// anything is written; a revision that matches already is reported and left.
int run_accept_edit(const GlobalOptions& options, const std::vector<std::string>& revisions);

/// What a revision argument can be, for shell completion: head, heads, base, every revision id
/// and branch label of the versions directory, and @NAME for each of its releases. Throws what
/// reading the directory throws.
std::vector<std::string> revision_names(const GlobalOptions& options);

/// `log` options: which rows of the run history (the history table) to show.
struct LogOptions {
    std::string revision;       ///< -r: only steps of revisions whose id starts so
    std::size_t limit = 0;      ///< -n: the newest N of those (0: all)
    bool failed = false;        ///< --failed: only steps that failed or left the database dirty
    bool oldest_first = false;  ///< --reverse: oldest first (default: newest first, as git log)
};
/// Prints the run history: every step migrator ran on the database (upgrade, downgrade, stamp,
/// resolve, accepted edits), when, by whom, from which version rows to which, and its error.
/// Needs no plugins: the revisions of the history may be gone from the versions directory.
int run_log(const GlobalOptions& options, const LogOptions& log);

}  // namespace migrator::cli

#endif  // MIGRATOR_CLI_CLI_HPP
