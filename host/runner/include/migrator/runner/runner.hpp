// The runner: executes a plan step by step against a database, one transaction per revision.
#ifndef MIGRATOR_RUNNER_HPP
#define MIGRATOR_RUNNER_HPP

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <migrator/db/db.hpp>
#include <migrator/graph/graph.hpp>
#include <migrator/plugins/plugins.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace migrator {

/// Receives progress while a plan runs; the CLI turns it into output.
class RunListener {
public:
    virtual ~RunListener() = default;
    /// Step `index` (1-based) of `total` is about to run.
    virtual void step_started(std::size_t index, std::size_t total, const Step& step,
                              const Revision& revision) = 0;
    /// The running revision called log().
    virtual void step_log(const std::string& message) = 0;
    /// The step committed after `elapsed_ms`.
    virtual void step_finished(std::size_t index, std::size_t total, const Step& step,
                               double elapsed_ms) = 0;
};

/// What a completed run did.
struct RunSummary {
    std::size_t steps = 0;
    double elapsed_ms = 0;
    std::vector<std::string> heads;  ///< version rows at the end
};

/// The lines a StepSupervisor writes to stderr should the process end while it watches, formatted
/// before the work starts (a signal handler can only copy bytes). Each is one line without its
/// newline.
struct StepFailureLines {
    /// Where `signalled` says what happened.
    static constexpr std::string_view signal_placeholder = "{signal}";
    /// Written when a signal ends the process; "{signal}" in it becomes what happened, e.g.
    /// "crashed (SIGSEGV)" or "was interrupted (SIGTERM)".
    std::string signalled;
    /// Written when the watch's timeout expires.
    std::string timed_out;
    /// Whether a progress line ("[2/3] Running upgrade ...") may be open when a line is
    /// written: it then starts on a line of its own when stderr and stdout are one file.
    bool progress_line_open = true;
};

/// Watches the process while migrator runs what may never return: a plugin's step, its static
/// constructors and destructors, and migrator's own work around them. The runner only describes
/// (StepFailureLines) what each stretch of work leaves behind should the process end during it;
/// how the process is watched (signal handlers, a watchdog thread: ProcessSupervisor) is the
/// program's choice, made in its main and handed in (RunOptions::supervisor, RunGuard,
/// load_plugins). Where none is handed in (a null supervisor), nothing watches: the library
/// installs no signal handler and starts no thread of its own.
class StepSupervisor {
public:
    /// One watched stretch of work; the watch ends when it is destroyed.
    class Watch {
    public:
        virtual ~Watch() = default;
        /// Replaces the lines of this watch, which has no timeout and is the innermost live
        /// one (a run-wide watch between steps, as what has committed changes).
        virtual void set_lines(StepFailureLines lines) = 0;
    };

    virtual ~StepSupervisor() = default;
    /// Watches until the returned Watch is destroyed: should the process end by a signal
    /// meanwhile, `lines.signalled` is written; with a non-zero `timeout`, the process is ended
    /// (step_timeout_exit_status) with `lines.timed_out` once the watch outlives it. Once the
    /// Watch is destroyed its timeout can no longer fire, so what the caller does next (commit)
    /// is never cut short. Watches nest: the innermost live one's lines win.
    virtual std::unique_ptr<Watch> watch(StepFailureLines lines,
                                         std::chrono::milliseconds timeout) = 0;
};

/// Plugins loaded ahead of the runs that use them (see load_plugins).
struct LoadedPlugins {
    std::map<std::string, std::unique_ptr<LoadedPlugin>, std::less<>> by_revision;
    /// What watched their loading and watches their unloading; null: nothing.
    StepSupervisor* supervisor = nullptr;
};

/// Loads the plugins of `revisions` from `files` once, for many runs (a fleet loads them before
/// its workers start, which then share them), each watched by `supervisor` (may be null) with a
/// line that names it should its static constructors crash. Throws PluginError as LoadedPlugin
/// does, naming the revision whose plugin is missing. The plugins are unloaded, watched the same
/// way, by unload_plugins.
LoadedPlugins load_plugins(const std::vector<PluginFile>& files,
                           const std::vector<std::string>& revisions, StepSupervisor* supervisor);

/// Unloads `plugins` (their static destructors run), each watched by their supervisor with a line
/// naming it.
void unload_plugins(LoadedPlugins& plugins);

/// Where the plugins of a run come from, for what it stores with each revision it applies
/// (StoredPlugin): an older release undoes the revision with what is stored.
struct PluginProvenance {
    /// The signature files of the versions directory, by the SHA-256 of their text.
    std::map<std::string, std::string> signature_files;
    /// Plugin file name -> the SHA-256 of the signature file that lists it.
    std::map<std::string, std::string> signed_by;
    /// Revision id -> the oldest release holding it.
    std::map<std::string, std::string> releases;
};

/// How a run uses transactions.
struct RunOptions {
    /// All steps in one transaction: the run is all-or-nothing. Refused (ConfigError) for a plan
    /// holding a non-transactional revision.
    bool single_transaction = false;
    /// A step still running after this long ends the process (step_timeout_exit_status), its
    /// transaction uncommitted; zero: no limit.
    std::chrono::milliseconds step_timeout{0};
    /// The `-x key=value` pairs every revision of the run can read (Context::argument).
    std::map<std::string, std::string> arguments;
    /// Plugins already loaded (load_plugins): a step whose plugin is here uses it instead of
    /// loading its file again; the run neither loads nor unloads these. May be null.
    const LoadedPlugins* loaded = nullptr;
    /// Online, every upgrade step stores its plugin in the database (Database::store_plugin) and
    /// every downgrade step removes its revision's, in the step's transaction; this names their
    /// signature file and release. Only a plugin a signature file lists is stored with its bytes
    /// (nothing else can run from there); others are recorded without. May be null (then none
    /// is signed).
    const PluginProvenance* provenance = nullptr;
    /// Watches the process while the run's plugins are loaded, run and unloaded and around the
    /// steps (the program's main makes one, ProcessSupervisor). Null: nothing watches, and a
    /// non-zero step_timeout is not enforced.
    StepSupervisor* supervisor = nullptr;
};

/// Computes the steps still needed to reach the run's target from the given version rows.
using Planner = std::function<std::vector<Step>(const std::vector<std::string>& heads)>;

/// The exit status of a process that run_plan ended because a step outlived its `step_timeout`.
inline constexpr int step_timeout_exit_status = 10;

/// Covers a migration around run_plan (waiting for the migration lock, reading the version rows,
/// and what follows the run): while it lives, `supervisor` (may be null: then nothing) watches
/// with the line "error: migrator was interrupted (SIGTERM) before running any revision; nothing
/// was migrated in DATABASE", as run_plan's watches (which take over while it runs) do.
class RunGuard {
public:
    RunGuard(const Database& db, StepSupervisor* supervisor);
    ~RunGuard();
    /// The run is over, at `summary.heads`: the line says so from now on.
    void completed(const RunSummary& summary);
    RunGuard(const RunGuard&) = delete;
    RunGuard& operator=(const RunGuard&) = delete;

private:
    bool offline_;
    std::unique_ptr<StepSupervisor::Watch> watch_;
};

/// Executes `plan` (from RevisionGraph::plan_upgrade/plan_downgrade) on `db`.
///
/// Loads every plugin of the plan first (LoadedPlugin checks each file with check_plugin_image
/// before it loads it), then makes sure the version tables exist, so a plugin that cannot be
/// loaded stops the run before anything is written; plugins outside the plan are never loaded.
/// Then, per step, in one write
/// transaction: re-reads the version rows and, if another runner moved them, asks `replan` for
/// the steps still needed (finishing early when there are none); calls the plugin; updates the
/// version rows; records a history row. A failing step is rolled back, recorded as failed in the
/// history table, and reported as MigrationError naming the revision and the plugin's message;
/// earlier steps stay committed (with options.single_transaction, nothing stays).
///
/// A non-transactional revision is first recorded as a dirty history row (committed), then runs
/// outside any transaction; its success updates the version rows and clears the mark in one
/// transaction. A failure or a crash leaves the mark: the database is dirty (see
/// refuse_if_dirty, resolve_dirty). On the offline backend nothing is marked, and the step's SQL
/// is printed outside BEGIN/COMMIT.
/// Throws PluginError, DatabaseError, MigrationError, DirtyError, ConfigError.
///
/// A failed step's history row is written in a transaction of its own after the step's was
/// rolled back. Should that write fail too (the connection is gone, the table cannot be written),
/// the step's failure is still what is thrown, and its sentence ends with "; its failure could not
/// be recorded in the history table: " and why, so that the missing row is never silent.
///
/// options.supervisor, when set, watches each plugin call with a line naming the revision and what
/// the database is left at (a fatal signal, SIGINT, SIGTERM, SIGHUP; a non-zero
/// options.step_timeout ends the process with step_timeout_exit_status). The step's transaction
/// is not committed either way: the database rolls it back. The rest of the run is watched the
/// same way, each line naming what was running (a plugin's static constructors while it is
/// loaded, its static destructors while it is unloaded at the end of the run, migrator's own work
/// between and around steps), what this run had committed and where the database is.
RunSummary run_plan(const std::vector<Step>& plan, const Planner& replan,
                    const RevisionGraph& graph, const std::vector<PluginFile>& plugins,
                    Database& db, RunListener& listener, const RunOptions& options = {});

/// The history row of the latest non-transactional step that started and was not seen to
/// finish, if any: while there is one, the database is dirty.
std::optional<HistoryRecord> dirty_step(Database& db);

/// Throws DirtyError naming the revision, when it started and its error, and the way out, when
/// the database is dirty.
void refuse_if_dirty(Database& db);

/// The explicit recovery from a dirty state, after the user repaired the schema by hand:
/// `applied` records the dirty step as done (the version rows move as the step would have moved
/// them); otherwise as rolled back (the rows stay). Clears the mark and records a "resolve"
/// history row. Returns the dirty step. Throws ConfigError when the database is not dirty or is
/// dirty for another revision than `revision`, DatabaseError when the version rows no longer
/// match the dirty step.
HistoryRecord resolve_dirty(Database& db, const std::string& revision, bool applied);

/// The source checksum each revision was last applied from, per the history `rows`: the latest
/// successful upgrade, resolve as applied or accepted edit of it that recorded one.
std::map<std::string, std::string> applied_source_checksums(const std::vector<HistoryRecord>& rows);

/// Accepts an intended edit of the applied revision `revision` (its source changed after it was
/// applied, e.g. a comment fixed): records an "accept-edit" history row carrying `source_sha256`,
/// the checksum its plugin has now, which applied_source_checksums gives from then on; the row
/// names the checksum it was applied from (`applied_sha256`, empty when none was recorded). The
/// version rows do not change.
void accept_edit(Database& db, const std::string& revision, const std::string& applied_sha256,
                 const std::string& source_sha256);

/// Sets the version rows to `target` without running any revision (Alembic's stamp), recording
/// it in the history table, and removes in the same transaction the stored plugins of
/// `unapplied`, the revisions the new rows no longer count as applied. Loads no plugin (and so
/// stores none).
void stamp(Database& db, const std::vector<std::string>& target,
           const std::vector<std::string>& unapplied = {});

/// Current UTC time as ISO 8601 text, e.g. "2026-11-25T15:48:00.123Z".
std::string utc_now_iso8601();

}  // namespace migrator

#endif  // MIGRATOR_RUNNER_HPP
