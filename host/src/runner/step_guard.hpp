// Guards one plugin call: a revision that crashes, is killed or hangs ends migrator with one
// stderr line naming it and the revision the database stays at.
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
};

/// The lines for `step` of `revision`; `outcome` ends both and says what the database is left at
/// (e.g. "its transaction was not committed, so the database stays at a1a1a1a1a1a1"); `timeout`
/// is the --step-timeout the line names (zero: no timeout line).
StepFailureLines step_failure_lines(const Step& step, const Revision& revision,
                                    const std::string& outcome, std::chrono::milliseconds timeout);

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
    StepGuard(const StepGuard&) = delete;
    StepGuard& operator=(const StepGuard&) = delete;

private:
    std::unique_ptr<StepGuardState> state_;
};

}  // namespace migrator::detail

#endif  // MIGRATOR_RUNNER_STEP_GUARD_HPP
