// The three ways a step runs: in a transaction, outside one (a non-transactional revision, behind
// a dirty mark), and offline (its SQL printed). run_plan picks one per step.
#ifndef MIGRATOR_RUNNER_STEP_EXECUTORS_HPP
#define MIGRATOR_RUNNER_STEP_EXECUTORS_HPP

#include <chrono>
#include <cstddef>
#include <migrator/runner/runner.hpp>
#include <migrator/schema/host_session.hpp>
#include <set>
#include <string>
#include <vector>

#include "run_progress.hpp"

namespace migrator::detail {

/// What every step of a run shares.
struct RunContext {
    Database& db;
    const RevisionGraph& graph;
    const RunOptions& options;
    RunProgress& progress;
    PluginSet& plugins;
    HostSession& session;
    std::vector<std::string> start_heads;  ///< the version rows the run started from
    std::set<std::string> documents_sent;  ///< signature files stored so far (once a run)
};

/// Where a step is in its run, for the listener: step `index` (1-based) of `total`.
struct StepPosition {
    std::size_t index;
    std::size_t total;
};

/// Runs a transactional revision online inside the open transaction: the step's own (committed
/// here when `own_transaction`) or, with --single-transaction, the run's. Its version rows, its
/// plugin (keep_plugin) and its history row go in the same transaction. A failure rolls that
/// transaction back and is thrown as run_plan says.
void run_transactional_step(RunContext& run, const Step& step, StepPosition position,
                            bool own_transaction);

/// Runs a non-transactional revision online: in the open transaction of the step, refuses a dirty
/// database and commits a dirty history row; runs the plugin outside any transaction; then, in a
/// transaction of its own, moves the version rows and clears the mark. A failure leaves the mark.
void run_non_transactional_step(RunContext& run, const Step& step, StepPosition position);

/// Prints the SQL of a step (the offline backend): inside BEGIN/COMMIT of its own (or of the
/// run's, with --single-transaction) when the revision is transactional, outside them when not.
void run_offline_step(RunContext& run, const Step& step, StepPosition position);

/// Milliseconds from `start` to now, as the history table and the progress lines give them.
double milliseconds_since(std::chrono::steady_clock::time_point start);

}  // namespace migrator::detail

#endif  // MIGRATOR_RUNNER_STEP_EXECUTORS_HPP
