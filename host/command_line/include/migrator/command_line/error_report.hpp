// How both programs, migrator and scaffold, end on an error: one exit status for each kind of
// error, and one line on stderr with any database password masked.
#ifndef MIGRATOR_ERROR_REPORT_HPP
#define MIGRATOR_ERROR_REPORT_HPP

#include <ostream>
#include <string>

namespace migrator {

/// Exit statuses, documented in docs/cli.md ("Exit statuses").
enum ExitStatus : int {
    exit_ok = 0,
    exit_migration_failed = 1,  ///< a revision failed; the database is at the last completed one
    exit_usage = 2,             ///< the command line or the config file is wrong
    exit_revision = 3,          ///< unknown/ambiguous revision, invalid target or revision graph
    exit_plugin = 4,            ///< a plugin file or the versions directory cannot be used
    exit_database = 5,          ///< bad database URL, or the database cannot be opened or used
    exit_lock_timeout = 6,      ///< another migrator held the migration lock too long
    exit_not_at_head = 7,       ///< `current --check-heads`: the database is not at the heads
    exit_check_failed = 8,      ///< `check` found problems
    exit_dirty = 9,             ///< the database is dirty: a non-transactional step did not finish
    exit_step_timeout = 10,     ///< a revision outlived --step-timeout (runner.hpp's constant)
    exit_targets_failed = 11,   ///< --targets/--target-schemas: a target failed or was not run
    exit_internal = 70,         ///< a bug in migrator (EX_SOFTWARE)
};

/// An error as both programs report it: the exit status of its kind and its sentence, password
/// masked; `internal` for an error that is a bug in migrator (exit_internal).
struct ErrorReport {
    int status = exit_internal;
    std::string message;
    bool internal = true;
};

/// The report of the exception being handled (call inside a catch block): the one mapping from
/// an error's kind to its exit status. A plain migrator::Error is a refusal of what the user asked
/// (scaffold's: a taken id, no revisions folder, ...), exit_usage; an exception that is no
/// migrator::Error, or an Error of a kind without a status, is a bug, exit_internal.
ErrorReport report_of_current_exception();

/// Writes `report` as one line to `err`: "error: <message>" ("error:" in red when `colour`), or
/// "internal error: <message>"; control characters escaped (printable()), password masked.
void print_error_report(std::ostream& err, const ErrorReport& report, bool colour);

/// Reports the exception being handled on std::cerr (report_of_current_exception,
/// print_error_report) and returns its exit status: what either program's main does with an error.
int report_current_exception(bool colour);

}  // namespace migrator

#endif  // MIGRATOR_ERROR_REPORT_HPP
