// The lines a StepSupervisor writes should the process end during a step, a plugin's loading or
// unloading, or migrator's own work around them: what was running and where the database is.
#ifndef MIGRATOR_RUNNER_FAILURE_LINES_HPP
#define MIGRATOR_RUNNER_FAILURE_LINES_HPP

#include <chrono>
#include <memory>
#include <migrator/graph/graph.hpp>
#include <migrator/runner/runner.hpp>
#include <string>
#include <vector>

namespace migrator::detail {

/// The version rows as a sentence names them: "base" for none, else "a, b".
std::string describe_heads(const std::vector<std::string>& heads);

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

/// The lines of a watch over migrator's own work (waiting for the lock, committing, between
/// steps): "error: migrator {signal} ACTIVITY; OUTCOME".
StepFailureLines run_failure_lines(const std::string& activity, const std::string& outcome,
                                   bool progress_line_open);

/// `supervisor`'s watch with the lines `lines()` makes, or none (nothing formatted) when there is
/// no supervisor.
template <typename MakeLines>
std::unique_ptr<StepSupervisor::Watch> watch(StepSupervisor* supervisor, MakeLines&& lines,
                                             std::chrono::milliseconds timeout = {}) {
    if (supervisor == nullptr) return nullptr;
    return supervisor->watch(lines(), timeout);
}

}  // namespace migrator::detail

#endif  // MIGRATOR_RUNNER_FAILURE_LINES_HPP
