// Guards one plugin call (and the loading and unloading of plugins, and a whole run): a revision
// that crashes, is killed or hangs ends migrator with one stderr line naming it and where the
// database is.
#ifndef MIGRATOR_RUNNER_STEP_GUARD_HPP
#define MIGRATOR_RUNNER_STEP_GUARD_HPP

#include <chrono>
#include <memory>
#include <migrator/graph.hpp>
#include <string>

namespace migrator::detail {

/// The lines a StepGuard may write to stderr, formatted before the step starts (a signal handler
/// can only copy bytes). Each is one line without its newline.
struct StepFailureLines {
    /// Written when a signal ends the step; "{signal}" in it becomes what happened, e.g.
    /// "crashed (SIGSEGV)" or "was interrupted (SIGTERM)".
    std::string signalled;
    /// Written when the step timeout expires.
    std::string timed_out;
    /// Whether a progress line ("[2/3] Running upgrade ...") may be open when a line is
    /// written: it then starts on a line of its own when stderr and stdout are one file.
    bool progress_line_open = true;
};

/// The lines for `step` of `revision`; `outcome` ends both and says what the database is left at
/// (e.g. "its transaction was not committed, so the database stays at a1a1a1a1a1a1"); `timeout`
/// is the --step-timeout the line names (zero: no timeout line).
StepFailureLines step_failure_lines(const Step& step, const Revision& revision,
                                    const std::string& outcome, std::chrono::milliseconds timeout);

/// The lines for a plugin whose static constructors (`loading`) or static destructors (not
/// `loading`) run while it is loaded or unloaded: "error: plugin FILE (revision ID) {signal} while
/// being loaded (in its static constructors); OUTCOME".
StepFailureLines plugin_failure_lines(const std::string& file, const std::string& revision,
                                      bool loading, const std::string& outcome);

/// The lines of a guard over migrator's own work (waiting for the lock, committing, between
/// steps): "error: migrator {signal} ACTIVITY; OUTCOME".
StepFailureLines run_failure_lines(const std::string& activity, const std::string& outcome,
                                   bool progress_line_open);

struct StepGuardState;

/// While it lives (one plugin call, on the thread that makes it):
/// - SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, and SIGINT, SIGTERM, SIGHUP unless they are
///   ignored, make a handler write `lines.signalled` with one write(2), put back the actions the
///   signals had before and re-raise the signal, so the process still ends by it (exit status,
///   core dump). The open transaction is never committed: the database server rolls it back when
///   the connection drops, SQLite on the next open of the file.
/// - with a non-zero `timeout`, a watchdog thread (one per process, started by the first guard
///   that needs it, with every signal blocked) writes `lines.timed_out` and ends the process with
///   _exit(step_timeout_exit_status) (runner.hpp) if the guard still lives `timeout` after its
///   construction. Once the destructor has returned the watchdog can no longer fire for it, so
///   what the caller does next (commit) is never cut short.
/// The handler goes in with the first guard and stays: outside guards it puts back the original
/// action and re-raises at once, so a signal does what it did without migrator. Per step a guard
/// costs no system call: formatting two lines, an atomic store, and with a timeout two
/// uncontended mutex locks. Guards nest (the inner one's lines win).
class StepGuard {
public:
    StepGuard(StepFailureLines lines, std::chrono::milliseconds timeout);
    ~StepGuard();
    /// Replaces the lines of this guard, which has no timeout and is the innermost live guard
    /// (a run-wide guard between steps, as what has committed changes). The lines a signal
    /// handler may be reading stay alive until the new ones are in place.
    void set_lines(StepFailureLines lines);
    StepGuard(const StepGuard&) = delete;
    StepGuard& operator=(const StepGuard&) = delete;

private:
    std::unique_ptr<StepGuardState> state_;
};

}  // namespace migrator::detail

#endif  // MIGRATOR_RUNNER_STEP_GUARD_HPP
