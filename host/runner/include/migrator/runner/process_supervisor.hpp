// The process's guard: signal handlers and a step watchdog, made by a program's main and handed to
// the runner (StepSupervisor), so that a revision that crashes, is killed or hangs ends migrator
// with one stderr line naming it and where the database is.
#ifndef MIGRATOR_PROCESS_SUPERVISOR_HPP
#define MIGRATOR_PROCESS_SUPERVISOR_HPP

#include <chrono>
#include <memory>
#include <migrator/runner/runner.hpp>

namespace migrator {

/// Watches the process for the runner; a program makes one, in its main, and hands it to every
/// run (it takes over process-wide state: make no more than one). While a watch lives (on the
/// thread that made it):
/// - SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, and SIGINT, SIGTERM, SIGHUP unless they are
///   ignored, make a handler write the watch's `signalled` line with one write(2), put back the
///   actions the signals had before and re-raise the signal, so the process still ends by it
///   (exit status, core dump). The open transaction is never committed: the database server rolls
///   it back when the connection drops, SQLite on the next open of the file.
/// - with a non-zero timeout, a watchdog thread (one per process, started by the first watch that
///   needs it, with every signal blocked) writes the `timed_out` line and ends the process with
///   _exit(step_timeout_exit_status) if the watch still lives `timeout` after it began.
/// The handler goes in with the first watch and stays: outside watches it puts back the original
/// action and re-raises at once, so a signal does what it did without migrator. Per step a watch
/// costs no system call: formatting two lines, an atomic store, and with a timeout two
/// uncontended mutex locks.
class ProcessSupervisor final : public StepSupervisor {
public:
    std::unique_ptr<Watch> watch(StepFailureLines lines,
                                 std::chrono::milliseconds timeout) override;
};

}  // namespace migrator

#endif  // MIGRATOR_PROCESS_SUPERVISOR_HPP
