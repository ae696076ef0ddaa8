// What a run keeps true while it goes: where the database is, for the line of the watch over the
// whole run, and the plugins it loaded, each loaded and unloaded under a watch naming it.
#ifndef MIGRATOR_RUNNER_RUN_PROGRESS_HPP
#define MIGRATOR_RUNNER_RUN_PROGRESS_HPP

#include <map>
#include <memory>
#include <migrator/runner/runner.hpp>
#include <optional>
#include <string>
#include <vector>

namespace migrator::detail {

/// Follows a run as its steps start and commit, passing every event on to the caller's listener,
/// and keeps the line of the watch over the whole run true: what this run has committed and where
/// the database is, for a signal that comes while migrator does its own work (committing,
/// re-reading the version rows, between steps) rather than a plugin's.
class RunProgress final : public RunListener {
public:
    RunProgress(RunListener& forward, const Database& db, const RunOptions& options,
                std::vector<std::string> start_heads);

    void step_started(std::size_t index, std::size_t total, const Step& step,
                      const Revision& revision) override;
    void step_log(const std::string& message) override { forward_.step_log(message); }
    void step_finished(std::size_t index, std::size_t total, const Step& step,
                       double elapsed_ms) override;
    /// The run is over and committed, at `heads`.
    void completed(const std::vector<std::string>& heads);

    /// Where the database is now, said as the end of a watch's line; `failed`: a step has just
    /// failed (its transaction was rolled back) and the run is ending.
    std::string outcome(bool failed) const;

private:
    void set_lines(const std::string& activity, bool progress_line_open);

    RunListener& forward_;
    bool offline_;
    bool single_transaction_;
    std::vector<std::string> start_heads_;
    std::vector<std::string> heads_;  ///< as of the last commit
    std::size_t finished_ = 0;
    std::optional<Step> running_;  ///< the step between its start and its commit
    bool running_marked_ = false;
    bool completed_ = false;
    std::unique_ptr<StepSupervisor::Watch> watch_;
};

/// The plugins a run loads: each is loaded, and unloaded when the run ends, under a watch naming
/// it, since its static constructors and destructors are plugin code too.
class PluginSet {
public:
    PluginSet(const std::vector<PluginFile>& files, const RunProgress& progress,
              const RunOptions& options);
    ~PluginSet();
    PluginSet(const PluginSet&) = delete;
    PluginSet& operator=(const PluginSet&) = delete;

    /// The plugin of revision `id`, loaded on first use. Throws PluginError.
    const LoadedPlugin& at(const std::string& id);

private:
    const RunProgress& progress_;
    const LoadedPlugins* preloaded_;
    StepSupervisor* supervisor_;
    std::map<std::string, const PluginFile*, std::less<>> file_of_;
    std::map<std::string, std::unique_ptr<LoadedPlugin>, std::less<>> loaded_;
};

}  // namespace migrator::detail

#endif  // MIGRATOR_RUNNER_RUN_PROGRESS_HPP
