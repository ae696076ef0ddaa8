// What a run keeps true while it goes, and the plugins it loads (see run_progress.hpp); the
// watches over loading plugins ahead of runs (load_plugins) and around a run (RunGuard).
#include "run_progress.hpp"

#include <exception>
#include <migrator/common/errors.hpp>

#include "failure_lines.hpp"

namespace migrator {
namespace detail {
namespace {

/// Loads the plugin of revision `id` from `file`, watched by `supervisor` with a line ending in
/// `outcome()`. Throws PluginError.
template <typename Outcome>
std::unique_ptr<LoadedPlugin> load_watched(const PluginFile& file, const std::string& id,
                                           StepSupervisor* supervisor, Outcome&& outcome) {
    const auto watched =
        watch(supervisor, [&] { return plugin_failure_lines(file.path, id, true, outcome()); });
    return std::make_unique<LoadedPlugin>(file);
}

/// Unloads `plugin` of revision `id` (if loaded), watched as load_watched loads it.
template <typename Outcome>
void unload_watched(std::unique_ptr<LoadedPlugin>& plugin, const std::string& id,
                    StepSupervisor* supervisor, Outcome&& outcome) {
    if (!plugin) return;  // its loading failed
    const auto watched = watch(supervisor, [&] {
        return plugin_failure_lines(plugin->file().path, id, false, outcome());
    });
    plugin.reset();
}

}  // namespace

RunProgress::RunProgress(RunListener& forward, const Database& db, const RunOptions& options,
                         std::vector<std::string> start_heads)
    : forward_(forward),
      offline_(db.offline()),
      single_transaction_(options.single_transaction),
      start_heads_(start_heads),
      heads_(std::move(start_heads)),
      watch_(watch(options.supervisor, [&] {
          return run_failure_lines("before running any revision", outcome(false), false);
      })) {}

void RunProgress::set_lines(const std::string& activity, bool progress_line_open) {
    if (watch_) watch_->set_lines(run_failure_lines(activity, outcome(false), progress_line_open));
}

void RunProgress::step_started(std::size_t index, std::size_t total, const Step& step,
                               const Revision& revision) {
    forward_.step_started(index, total, step, revision);
    running_ = step;
    running_marked_ = !revision.transactional && !offline_;
    set_lines("while running revision " + step.revision + " (" + revision.message +
                  "), outside the revision's own code",
              true);
}

void RunProgress::step_finished(std::size_t index, std::size_t total, const Step& step,
                                double elapsed_ms) {
    forward_.step_finished(index, total, step, elapsed_ms);
    running_.reset();
    ++finished_;
    heads_ = step.heads_after;
    set_lines("between revisions", false);
}

void RunProgress::completed(const std::vector<std::string>& heads) {
    completed_ = true;
    running_.reset();
    heads_ = heads;
    set_lines("after the run", false);
}

std::string RunProgress::outcome(bool failed) const {
    if (offline_)
        return completed_ ? "the SQL of every step was printed"
                          : "the SQL printed so far is incomplete, do not apply it";
    if (completed_)
        return "every revision of this run was committed, so the database is at " +
               describe_heads(heads_);
    if (running_ && running_marked_)
        return "revision " + running_->revision +
               " ran outside a transaction, so the database is marked dirty at it: repair "
               "the schema, then run `migrator resolve " +
               running_->revision + " --applied` or `--rolled-back`";
    if (single_transaction_)
        return "the run's transaction (--single-transaction) was not committed, so the "
               "database stays at " +
               describe_heads(start_heads_);
    std::string text =
        finished_ == 0
            ? "nothing was committed, so the database stays at " + describe_heads(heads_)
            : std::to_string(finished_) +
                  (finished_ == 1 ? " revision of this run was" : " revisions of this run were") +
                  " committed, so the database is at " + describe_heads(heads_);
    if (running_ && !failed)
        text += ", or at " + describe_heads(running_->heads_after) + " if revision " +
                running_->revision + " had just committed";
    return text;
}

PluginSet::PluginSet(const std::vector<PluginFile>& files, const RunProgress& progress,
                     const RunOptions& options)
    : progress_(progress), preloaded_(options.loaded), supervisor_(options.supervisor) {
    for (const auto& file : files) file_of_[file.revision.id] = &file;
}

PluginSet::~PluginSet() {
    const bool failed = std::uncaught_exceptions() > 0;
    for (auto& [id, plugin] : loaded_)
        unload_watched(plugin, id, supervisor_, [&] { return progress_.outcome(failed); });
}

const LoadedPlugin& PluginSet::at(const std::string& id) {
    if (preloaded_ != nullptr)
        if (const auto found = preloaded_->by_revision.find(id);
            found != preloaded_->by_revision.end())
            return *found->second;
    auto& slot = loaded_[id];
    if (!slot) {
        const auto found = file_of_.find(id);
        if (found == file_of_.end()) throw PluginError("revision " + id + " has no plugin file");
        slot =
            load_watched(*found->second, id, supervisor_, [&] { return progress_.outcome(false); });
    }
    return *slot;
}

}  // namespace detail

LoadedPlugins load_plugins(const std::vector<PluginFile>& files,
                           const std::vector<std::string>& revisions, StepSupervisor* supervisor) {
    std::map<std::string, const PluginFile*, std::less<>> file_of;
    for (const auto& file : files) file_of[file.revision.id] = &file;
    LoadedPlugins loaded;
    loaded.supervisor = supervisor;
    try {
        for (const auto& id : revisions) {
            if (loaded.by_revision.count(id) != 0) continue;
            const auto found = file_of.find(id);
            if (found == file_of.end()) throw PluginError("revision " + id + " has no plugin file");
            loaded.by_revision[id] = detail::load_watched(*found->second, id, supervisor,
                                                          [] { return "no database was touched"; });
        }
    } catch (...) {
        unload_plugins(loaded);
        throw;
    }
    return loaded;
}

void unload_plugins(LoadedPlugins& plugins) {
    for (auto& [id, plugin] : plugins.by_revision)
        detail::unload_watched(plugin, id, plugins.supervisor,
                               [] { return "every database's outcome was reported above"; });
    plugins.by_revision.clear();
}

RunGuard::RunGuard(const Database& db, StepSupervisor* supervisor)
    : offline_(db.offline()), watch_(detail::watch(supervisor, [&] {
          return detail::run_failure_lines("before running any revision",
                                           "nothing was migrated in " + db.describe(), false);
      })) {}

RunGuard::~RunGuard() = default;

void RunGuard::completed(const RunSummary& summary) {
    if (!watch_) return;
    watch_->set_lines(detail::run_failure_lines(
        "after the run",
        offline_ ? "the SQL of every step was printed"
                 : "every revision of this run was committed, so the database is at " +
                       detail::describe_heads(summary.heads),
        false));
}

}  // namespace migrator
