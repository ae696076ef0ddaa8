// Private to the migrator program: settings resolution and the commands behind the CLI.
#ifndef MIGRATOR_CLI_CLI_HPP
#define MIGRATOR_CLI_CLI_HPP

#include <filesystem>
#include <string>
#include <vector>

namespace migrator::cli {

/// Exit statuses, documented in README.md.
enum ExitStatus : int {
    exit_ok = 0,
    exit_migration_failed = 1,  ///< a revision failed; the database is at the last completed one
    exit_usage = 2,             ///< the command line is wrong
    exit_revision = 3,          ///< unknown/ambiguous revision, invalid target or revision graph
    exit_plugin = 4,            ///< a plugin file or the versions directory cannot be used
    exit_database = 5,          ///< bad database URL, or the database cannot be opened or used
    exit_lock_timeout = 6,      ///< another migrator held the migration lock too long
    exit_not_at_head = 7,       ///< `current --check-heads`: the database is not at the heads
    exit_internal = 70,         ///< a bug in migrator (EX_SOFTWARE)
};

/// Options every command shares, as given on the command line (empty = not given).
struct GlobalOptions {
    std::string url;
    std::string versions_dir;
    std::string version_table = "migrator_version";
    std::string version_schema;        ///< empty: the connection's current schema
    double lock_timeout_seconds = 60;  ///< how long to wait for another migrator
};

/// The database URL: --url, then MIGRATOR_DATABASE_URL, then SQLALCHEMY_DATABASE_URL.
/// Throws DatabaseError saying how to give one when none is set.
std::string resolve_database_url(const GlobalOptions& options);

/// The versions directory: --versions-dir, then MIGRATOR_VERSIONS_DIR, then ./versions if it
/// exists, then versions/ beside the folder holding this program (a release bundle's layout).
/// Throws PluginError listing where it looked when none exists.
std::filesystem::path resolve_versions_dir(const GlobalOptions& options);

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
int run_upgrade(const GlobalOptions& options, const std::string& target);
int run_downgrade(const GlobalOptions& options, const std::string& target);
int run_stamp(const GlobalOptions& options, const std::vector<std::string>& revisions, bool purge);

}  // namespace migrator::cli

#endif  // MIGRATOR_CLI_CLI_HPP
