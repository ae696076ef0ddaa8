// Fleets: one command run on many databases (--targets) or PostgreSQL schemas (--target-schemas),
// each target in a worker process forked after the versions directory was read once.
#ifndef MIGRATOR_CLI_FLEET_HPP
#define MIGRATOR_CLI_FLEET_HPP

#include <functional>
#include <string>
#include <vector>

#include "cli.hpp"

namespace migrator::cli {

/// The options that make a command run on a fleet of targets.
struct FleetOptions {
    std::string targets_file;          ///< --targets: database URLs, one a line; "-": stdin
    std::vector<std::string> schemas;  ///< --target-schemas: schema names or patterns (*, ?, [])
    unsigned jobs = 0;                 ///< --jobs: targets run at once; 0: one per CPU
    bool fail_fast = false;            ///< --fail-fast: start no target after one failed

    bool requested() const { return !targets_file.empty() || !schemas.empty(); }
};

/// The most targets a fleet runs at once.
inline constexpr unsigned max_fleet_jobs = 256;

/// One database, or one schema of a PostgreSQL database, that a fleet runs its command on.
struct FleetTarget {
    std::string url;     ///< as given: it may hold a password, so it is never printed
    std::string schema;  ///< empty: the URL's own search_path
    std::string shown;   ///< the masked URL, and " schema NAME" for a schema target
};

/// The targets: each URL of the targets file (else the database URL of the settings), and with
/// --target-schemas, each schema of each such database that a name or pattern names (patterns are
/// matched against the schemas the database has, read once here; a plain name is taken as it is,
/// so that an upgrade can create it). Throws ConfigError naming the targets file and line of a
/// malformed or repeated URL, a file that cannot be read or lists none, schemas asked of a
/// database that is not PostgreSQL, and a fleet left without any target; DatabaseError when a
/// database whose schemas are matched cannot be read.
std::vector<FleetTarget> read_targets(const GlobalOptions& options, const FleetOptions& fleet);

/// Runs `command` (the CLI's closure over `options` for `command_name`, one of upgrade,
/// downgrade, stamp, current and check, whose revision argument is `target`) on every target:
/// reads the versions directory and loads the plugins once (prepare_for_fleet), then forks
/// `fleet.jobs` workers that run one target at a time each, `options` pointed at the target and
/// its output captured; a worker that dies on its target (a crash, --step-timeout) fails that
/// target only and is replaced. Prints a line per target as it ends (masked URL, from -> to, steps,
/// time, error) and a summary table, or with --json one object per target and a summary; a progress
/// line on a terminal. A failing target does not stop the others unless fail_fast. Returns
/// exit_ok when every target succeeded, exit_targets_failed otherwise. SIGINT, SIGTERM and SIGHUP
/// are passed on to the running workers; no target starts after one, and the process ends by
/// that signal once the report is printed.
int run_fleet(GlobalOptions& options, const FleetOptions& fleet, const std::string& command_name,
              const std::string& target, bool allow_stale, const std::function<int()>& command);

}  // namespace migrator::cli

#endif  // MIGRATOR_CLI_FLEET_HPP
