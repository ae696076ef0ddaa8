// Runs a plan: loads the plan's plugins, then one transaction per revision with its version rows.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <map>
#include <memory>
#include <migrator/errors.hpp>
#include <migrator/host_session.hpp>
#include <migrator/runner.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "step_guard.hpp"

namespace migrator {
namespace {

std::string join(const std::vector<std::string>& items, const char* separator = ",") {
    std::string text;
    for (const auto& item : items) {
        if (!text.empty()) text += separator;
        text += item;
    }
    return text;
}

/// The items of a comma-separated list, as the history table stores version rows.
std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, ','))
        if (!item.empty()) items.push_back(item);
    return items;
}

std::string describe_heads(const std::vector<std::string>& heads) {
    return heads.empty() ? std::string("base") : join(heads, ", ");
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

const char* direction_name(Direction direction) {
    return direction == Direction::upgrade ? "upgrade" : "downgrade";
}

/// Runs `body` in a write transaction, rolling back on any exception.
template <typename Body>
void in_transaction(Database& db, Body&& body) {
    db.begin();
    try {
        body();
        db.commit();
    } catch (...) {
        db.rollback();
        throw;
    }
}

/// In the step's transaction: an applied revision's plugin is stored with its version row, and an
/// undone revision's removed with it, so that the two never disagree. Only a signed plugin's bytes
/// are stored: an older release runs nothing else, so an unsigned one is recorded without them.
/// `documents_sent`: the signature files this run stored already (each is sent once a run, not
/// once a step: one lists every plugin of its directory).
void keep_plugin(Database& db, const Step& step, const LoadedPlugin& plugin,
                 const PluginProvenance* provenance, std::set<std::string>& documents_sent) {
    if (db.offline()) return;
    if (step.direction == Direction::downgrade) {
        db.forget_stored_plugins({step.revision});
        return;
    }
    StoredPlugin stored;
    stored.revision = step.revision;
    const auto& path = plugin.file().path;
    stored.file_name = path.substr(path.find_last_of('/') + 1);
    stored.stored_at = utc_now_iso8601();
    std::string signatures_text;
    if (provenance != nullptr) {
        const auto signer = provenance->signed_by.find(stored.file_name);
        if (signer != provenance->signed_by.end()) {
            stored.signatures_sha256 = signer->second;
            if (documents_sent.insert(signer->second).second)
                signatures_text = provenance->signature_files.at(signer->second);
        }
        const auto release = provenance->releases.find(step.revision);
        if (release != provenance->releases.end()) stored.release = release->second;
    }
    if (!stored.signatures_sha256.empty()) {
        stored.image = plugin.image();
        stored.size = stored.image.size();
        stored.file_sha256 = plugin.seal_digest();
    }
    db.store_plugin(stored, signatures_text);
}

}  // namespace

std::string utc_now_iso8601() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    // Not strftime: it calls tzset, which reads /etc/localtime again on every step.
    char text[80];  // room for any int the format could be given
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(millis));
    return text;
}

namespace {

/// What a step leaves behind when it fails: how to describe where the database is now.
std::string rolled_back_text(const Step& step, const RunOptions& options,
                             const std::vector<std::string>& run_start) {
    if (options.single_transaction)
        return "the whole run (--single-transaction) was rolled back and the database is at " +
               describe_heads(run_start);
    return "it was rolled back and the database is at " + describe_heads(step.heads_before);
}

/// How the database is left when migrator is stopped (a signal, --step-timeout) while `step`
/// runs: the end of the one line the step guard writes.
std::string stopped_text(const Step& step, const RunOptions& options,
                         const std::vector<std::string>& run_start, bool offline, bool marked) {
    if (offline) return "the SQL printed so far is incomplete, do not apply it";
    if (marked)
        return "it ran outside a transaction, so the database is marked dirty at revision " +
               step.revision + ": repair the schema, then run `migrator resolve " + step.revision +
               " --applied` or `--rolled-back`";
    if (options.single_transaction)
        return "the run's transaction (--single-transaction) was not committed, so the database "
               "stays at " +
               describe_heads(run_start);
    return "its transaction was not committed, so the database stays at " +
           describe_heads(step.heads_before);
}

std::string dirty_text(const Step& step) {
    return "it ran outside a transaction (non-transactional revision), so what it changed before "
           "failing was not rolled back: the database is marked dirty at revision " +
           step.revision + ". Repair the schema by hand, then run `migrator resolve " +
           step.revision + " --applied` (its changes are complete) or `migrator resolve " +
           step.revision + " --rolled-back` (none of them remain)";
}

/// Follows a run as its steps start and commit, passing every event on to the caller's listener,
/// and keeps the line of the guard over the whole run true: what this run has committed and where
/// the database is, for a signal that comes while migrator does its own work (committing,
/// re-reading the version rows, between steps) rather than a plugin's.
class RunProgress final : public RunListener {
public:
    RunProgress(RunListener& forward, const Database& db, const RunOptions& options,
                std::vector<std::string> start_heads)
        : forward_(forward),
          offline_(db.offline()),
          single_transaction_(options.single_transaction),
          start_heads_(start_heads),
          heads_(std::move(start_heads)),
          guard_(detail::run_failure_lines("before running any revision", outcome(false), false),
                 std::chrono::milliseconds(0)) {}

    void step_started(std::size_t index, std::size_t total, const Step& step,
                      const Revision& revision) override {
        forward_.step_started(index, total, step, revision);
        running_ = step;
        running_marked_ = !revision.transactional && !offline_;
        guard_.set_lines(detail::run_failure_lines("while running revision " + step.revision +
                                                       " (" + revision.message +
                                                       "), outside the revision's own code",
                                                   outcome(false), true));
    }
    void step_log(const std::string& message) override { forward_.step_log(message); }
    void step_finished(std::size_t index, std::size_t total, const Step& step,
                       double elapsed_ms) override {
        forward_.step_finished(index, total, step, elapsed_ms);
        running_.reset();
        ++finished_;
        heads_ = step.heads_after;
        guard_.set_lines(detail::run_failure_lines("between revisions", outcome(false), false));
    }
    /// The run is over and committed, at `heads`.
    void completed(const std::vector<std::string>& heads) {
        completed_ = true;
        running_.reset();
        heads_ = heads;
        guard_.set_lines(detail::run_failure_lines("after the run", outcome(false), false));
    }

    /// Where the database is now, said as the end of a guard's line; `failed`: a step has just
    /// failed (its transaction was rolled back) and the run is ending.
    std::string outcome(bool failed) const {
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
                      (finished_ == 1 ? " revision of this run was"
                                      : " revisions of this run were") +
                      " committed, so the database is at " + describe_heads(heads_);
        if (running_ && !failed)
            text += ", or at " + describe_heads(running_->heads_after) + " if revision " +
                    running_->revision + " had just committed";
        return text;
    }

private:
    RunListener& forward_;
    bool offline_;
    bool single_transaction_;
    std::vector<std::string> start_heads_;
    std::vector<std::string> heads_;  ///< as of the last commit
    std::size_t finished_ = 0;
    std::optional<Step> running_;  ///< the step between its start and its commit
    bool running_marked_ = false;
    bool completed_ = false;
    detail::StepGuard guard_;
};

/// The plugins a run loads: each is loaded, and unloaded when the run ends, under a guard naming
/// it, since its static constructors and destructors are plugin code too.
class PluginSet {
public:
    PluginSet(const std::vector<PluginFile>& files, const RunProgress& progress,
              const LoadedPlugins* preloaded)
        : progress_(progress), preloaded_(preloaded) {
        for (const auto& file : files) file_of_[file.revision.id] = &file;
    }
    ~PluginSet() {
        const bool failed = std::uncaught_exceptions() > 0;
        for (auto& [id, plugin] : loaded_) {
            if (!plugin) continue;  // its loading failed
            const detail::StepGuard guard(
                detail::plugin_failure_lines(plugin->file().path, id, false,
                                             progress_.outcome(failed)),
                std::chrono::milliseconds(0));
            plugin.reset();
        }
    }
    PluginSet(const PluginSet&) = delete;
    PluginSet& operator=(const PluginSet&) = delete;

    /// The plugin of revision `id`, loaded on first use. Throws PluginError.
    const LoadedPlugin& at(const std::string& id) {
        if (preloaded_ != nullptr)
            if (const auto found = preloaded_->find(id); found != preloaded_->end())
                return *found->second;
        auto& slot = loaded_[id];
        if (!slot) {
            const auto found = file_of_.find(id);
            if (found == file_of_.end())
                throw PluginError("revision " + id + " has no plugin file");
            const detail::StepGuard guard(
                detail::plugin_failure_lines(found->second->path, id, true,
                                             progress_.outcome(false)),
                std::chrono::milliseconds(0));
            slot = std::make_unique<LoadedPlugin>(*found->second);
        }
        return *slot;
    }

private:
    const RunProgress& progress_;
    const LoadedPlugins* preloaded_;
    std::map<std::string, const PluginFile*, std::less<>> file_of_;
    std::map<std::string, std::unique_ptr<LoadedPlugin>, std::less<>> loaded_;
};

}  // namespace

LoadedPlugins load_plugins(const std::vector<PluginFile>& files,
                           const std::vector<std::string>& revisions) {
    std::map<std::string, const PluginFile*, std::less<>> file_of;
    for (const auto& file : files) file_of[file.revision.id] = &file;
    LoadedPlugins loaded;
    try {
        for (const auto& id : revisions) {
            if (loaded.count(id) != 0) continue;
            const auto found = file_of.find(id);
            if (found == file_of.end()) throw PluginError("revision " + id + " has no plugin file");
            const detail::StepGuard guard(
                detail::plugin_failure_lines(found->second->path, id, true,
                                             "no database was touched"),
                std::chrono::milliseconds(0));
            loaded[id] = std::make_unique<LoadedPlugin>(*found->second);
        }
    } catch (...) {
        unload_plugins(loaded);
        throw;
    }
    return loaded;
}

void unload_plugins(LoadedPlugins& plugins) {
    for (auto& [id, plugin] : plugins) {
        if (!plugin) continue;
        const detail::StepGuard guard(
            detail::plugin_failure_lines(plugin->file().path, id, false,
                                         "every database's outcome was reported above"),
            std::chrono::milliseconds(0));
        plugin.reset();
    }
    plugins.clear();
}

RunGuard::RunGuard(const Database& db)
    : offline_(db.offline()),
      guard_(std::make_unique<detail::StepGuard>(
          detail::run_failure_lines("before running any revision",
                                    "nothing was migrated in " + db.describe(), false),
          std::chrono::milliseconds(0))) {}

RunGuard::~RunGuard() = default;

void RunGuard::completed(const RunSummary& summary) {
    guard_->set_lines(detail::run_failure_lines(
        "after the run",
        offline_ ? "the SQL of every step was printed"
                 : "every revision of this run was committed, so the database "
                   "is at " +
                       describe_heads(summary.heads),
        false));
}

// The loop below reports to `listener`, the RunProgress that follows the run for its guard and
// passes every event on to `caller_listener`.
RunSummary run_plan(const std::vector<Step>& plan, const Planner& replan,
                    const RevisionGraph& graph, const std::vector<PluginFile>& plugins,
                    Database& db, RunListener& caller_listener, const RunOptions& options) {
    const auto run_start = std::chrono::steady_clock::now();
    RunSummary summary;
    summary.heads = plan.empty() ? db.read_heads() : plan.back().heads_after;
    if (plan.empty()) return summary;

    if (options.single_transaction)
        for (const auto& step : plan)
            if (!graph.at(step.revision).transactional)
                throw ConfigError("revision " + step.revision + " (" +
                                  graph.at(step.revision).message +
                                  ") is non-transactional, so it cannot run inside "
                                  "--single-transaction; run without --single-transaction");

    RunProgress listener(caller_listener, db, options, plan.front().heads_before);
    PluginSet loaded(plugins, listener, options.loaded);
    const auto plugin_for = [&](const std::string& id) -> const LoadedPlugin& {
        return loaded.at(id);
    };
    // Load the whole plan before writing anything, the version tables included: a plugin that
    // cannot be loaded must stop the run while nothing has changed.
    for (const auto& step : plan) plugin_for(step.revision);
    db.ensure_version_tables();

    HostSession session(db, [&](const std::string& message) { listener.step_log(message); });
    std::set<std::string> documents_sent;  // keep_plugin's signature files, stored once a run
    session.set_arguments(options.arguments);

    const bool outer = options.single_transaction;
    const std::vector<std::string> start_heads = plan.front().heads_before;
    std::vector<Step> remaining(plan.rbegin(), plan.rend());  // next step at the back
    if (outer) db.begin();

    while (!remaining.empty()) {
        HistoryRecord record;
        const auto step_start = std::chrono::steady_clock::now();
        const Step* step = nullptr;
        const Revision* revision = nullptr;
        bool started = false;
        std::int64_t dirty_row = 0;  // the history row marking a non-transactional step
        bool changes_kept = false;   // the failing step ran outside a transaction
        try {
            // Offline, nothing can move the version rows but this run: no re-read, and a
            // non-transactional step's SQL goes outside BEGIN/COMMIT.
            const bool own_transaction =
                !outer && !(db.offline() && !graph.at(remaining.back().revision).transactional);
            if (own_transaction) db.begin();
            try {
                if (!db.offline()) {
                    // Another runner may have moved the version rows since the plan was made
                    // (SQLite has no run-wide lock, and through a pooler PostgreSQL has none
                    // either): re-read them under this transaction's write lock and plan again
                    // from what is really there, so each revision runs exactly once.
                    const auto heads = db.read_heads();
                    if (heads != remaining.back().heads_before) {
                        auto fresh = replan(heads);
                        remaining.assign(fresh.rbegin(), fresh.rend());
                        if (remaining.empty()) {
                            summary.heads = heads;
                            if (own_transaction) db.commit();
                            break;
                        }
                    }
                }
                step = &remaining.back();
                revision = &graph.at(step->revision);
                const LoadedPlugin& plugin = plugin_for(step->revision);
                record.revision = step->revision;
                record.direction = direction_name(step->direction);
                record.heads_before = join(step->heads_before);
                record.heads_after = join(step->heads_after);
                record.started_at = utc_now_iso8601();
                record.source_sha256 = revision->source_sha256;
                const bool marked = !revision->transactional && !db.offline();
                if (marked) {
                    // Mark first and commit the mark: whatever happens while the step runs
                    // outside a transaction (failure, crash, kill -9), the mark stays.
                    if (const auto other = dirty_step(db))
                        throw DirtyError("cannot run revision " + step->revision + " on " +
                                         db.describe() + ": the database is dirty (revision " +
                                         other->revision +
                                         " is running or failed outside a transaction)");
                    // heads_after: the rows the step leaves when it completes, which `resolve
                    // --applied` installs.
                    HistoryRecord mark = record;
                    mark.dirty = true;
                    mark.error = "started outside a transaction and not seen to finish";
                    dirty_row = db.record_history(mark);
                    db.commit();
                }
                listener.step_started(summary.steps + 1, summary.steps + remaining.size(), *step,
                                      *revision);
                started = true;
                db.annotate("Running " + std::string(direction_name(step->direction)) + " " +
                            join(step->heads_before, ", ") + " -> " +
                            join(step->heads_after, ", ") + ", " + revision->message +
                            (revision->transactional ? "" : " (non-transactional)"));

                char error[4096] = {0};
                changes_kept = marked;
                // The session is shared by the run's steps; its calls mean what this plugin's ABI
                // says they mean (a row callback's return value, for one).
                session.serve_plugin_abi(plugin.abi_version());
                const int status = [&] {
                    // Guards the plugin call alone: a commit after it is never cut short.
                    const detail::StepGuard guard(
                        detail::step_failure_lines(
                            *step, *revision,
                            stopped_text(*step, options, start_heads, db.offline(), marked),
                            options.step_timeout),
                        options.step_timeout);
                    return plugin.step(step->direction)(session.host(), error, sizeof error);
                }();
                if (status != MIGRATOR_OK) {
                    session.rethrow_storage_failure();  // the database's fault, not the revision's
                    throw MigrationError(error[0] ? error
                                                  : "the revision reported an error without a "
                                                    "message");
                }
                if (marked) db.begin();
                record.duration_ms = milliseconds_since(step_start);
                record.success = true;
                keep_plugin(db, *step, plugin, options.provenance, documents_sent);
                if (marked) {
                    db.replace_heads(step->heads_before, step->heads_after);
                    db.update_history(dirty_row, record);
                } else {
                    db.record_step(step->heads_before, step->heads_after, record);
                }
                if (own_transaction || marked) db.commit();
            } catch (...) {
                // The step's transaction, or the whole run's with --single-transaction.
                db.rollback();
                throw;
            }
        } catch (const std::exception& e) {
            if (!started) throw;
            record.duration_ms = milliseconds_since(step_start);
            record.success = false;
            if (!changes_kept) record.heads_after = record.heads_before;
            record.error = e.what();
            record.dirty = changes_kept;
            if (db.offline())
                throw MigrationError(std::string(direction_name(step->direction)) +
                                     " of revision " + step->revision + " (" + revision->message +
                                     ") failed: " + e.what() +
                                     "; the SQL printed so far is incomplete, do not apply it");
            // The failed step is rolled back; its history row goes in a transaction of its own.
            try {
                in_transaction(db, [&] {
                    if (dirty_row != 0)
                        db.update_history(dirty_row, record);
                    else
                        db.record_history(record);
                });
            } catch (const std::exception&) {
                // The failure itself is what the user must see; a history row we could not
                // write (e.g. the database is gone) must not hide it.
            }
            const std::string failure =
                std::string(direction_name(step->direction)) + " of revision " + step->revision +
                " (" + revision->message + ") failed: " + e.what() + "; " +
                (changes_kept ? dirty_text(*step) : rolled_back_text(*step, options, start_heads));
            if (dynamic_cast<const DatabaseStorageError*>(&e)) throw DatabaseStorageError(failure);
            throw MigrationError(failure);
        }
        if (remaining.empty()) break;  // another runner had already done the rest
        listener.step_finished(summary.steps + 1, summary.steps + remaining.size(), *step,
                               milliseconds_since(step_start));
        summary.heads = step->heads_after;
        ++summary.steps;
        remaining.pop_back();
    }
    if (outer) {
        try {
            db.commit();
        } catch (...) {
            db.rollback();
            throw;
        }
    }
    listener.completed(summary.heads);
    summary.elapsed_ms = milliseconds_since(run_start);
    return summary;
}

std::optional<HistoryRecord> dirty_step(Database& db) {
    auto rows = db.read_history(true);
    if (rows.empty()) return std::nullopt;
    return std::move(rows.back());
}

void refuse_if_dirty(Database& db) {
    const auto dirty = dirty_step(db);
    if (!dirty) return;
    throw DirtyError(db.describe() + " is dirty: the non-transactional " + dirty->direction +
                     " of revision " + dirty->revision + " started at " + dirty->started_at +
                     " did not complete (" + dirty->error +
                     "), so the schema may be half-changed. Repair it by hand, then run "
                     "`migrator resolve " +
                     dirty->revision + " --applied` or `migrator resolve " + dirty->revision +
                     " --rolled-back`");
}

HistoryRecord resolve_dirty(Database& db, const std::string& revision, bool applied) {
    HistoryRecord dirty;
    in_transaction(db, [&] {
        const auto found = dirty_step(db);
        if (!found) throw ConfigError(db.describe() + " is not dirty: there is nothing to resolve");
        dirty = *found;
        if (dirty.revision != revision)
            throw ConfigError(db.describe() + " is dirty for revision " + dirty.revision +
                              ", not for " + revision + "; run `migrator resolve " +
                              dirty.revision + " --applied|--rolled-back`");
        const auto current = db.read_heads();
        if (join(current) != dirty.heads_before)
            throw DatabaseError("the version rows of " + db.describe() + " (" +
                                describe_heads(current) + ") are no longer those the dirty step " +
                                "started from (" + dirty.heads_before +
                                "); check them with `migrator current` and fix them with "
                                "`migrator stamp`");
        const auto before = split_list(dirty.heads_before);
        const auto after = applied ? split_list(dirty.heads_after) : before;
        db.replace_heads(before, after);
        const std::string outcome = applied ? "applied" : "rolled back";
        HistoryRecord cleared = dirty;
        cleared.dirty = false;
        cleared.success = applied;
        cleared.heads_after = join(after);
        cleared.error = dirty.error + "; resolved by hand as " + outcome;
        db.update_history(dirty.id, cleared);
        HistoryRecord note;
        note.revision = revision;
        note.direction = "resolve";
        note.heads_before = dirty.heads_before;
        note.heads_after = join(after);
        note.started_at = utc_now_iso8601();
        note.success = true;
        note.source_sha256 = dirty.source_sha256;
        note.error = "the dirty " + dirty.direction + " was resolved as " + outcome;
        db.record_history(note);
    });
    return dirty;
}

std::map<std::string, std::string> applied_source_checksums(
    const std::vector<HistoryRecord>& rows) {
    std::map<std::string, std::string> checksums;
    for (const auto& row : rows)
        if (row.success && !row.dirty && !row.source_sha256.empty() &&
            (row.direction == "upgrade" || row.direction == "resolve" ||
             row.direction == "accept-edit"))
            checksums[row.revision] = row.source_sha256;
    return checksums;
}

void accept_edit(Database& db, const std::string& revision, const std::string& applied_sha256,
                 const std::string& source_sha256) {
    in_transaction(db, [&] {
        const std::string heads = join(db.read_heads());
        HistoryRecord record;
        record.direction = "accept-edit";
        record.revision = revision;
        record.heads_before = heads;
        record.heads_after = heads;
        record.started_at = utc_now_iso8601();
        record.success = true;
        record.source_sha256 = source_sha256;
        record.error = "an edit of its source was accepted: applied from " +
                       (applied_sha256.empty() ? std::string("a source of no recorded checksum")
                                               : "source SHA-256 " + applied_sha256) +
                       ", its plugin now built from " + source_sha256;
        db.record_history(record);
    });
}

void stamp(Database& db, const std::vector<std::string>& target,
           const std::vector<std::string>& unapplied) {
    in_transaction(db, [&] {
        if (!unapplied.empty() && !db.offline()) db.forget_stored_plugins(unapplied);
        const auto current = db.read_heads();
        // Only the rows that change are touched: Alembic keeps unrelated rows as they are.
        std::vector<std::string> removed;
        std::vector<std::string> added;
        for (const auto& id : current)
            if (std::find(target.begin(), target.end(), id) == target.end()) removed.push_back(id);
        for (const auto& id : target)
            if (std::find(current.begin(), current.end(), id) == current.end()) added.push_back(id);
        HistoryRecord record;
        record.direction = "stamp";
        record.revision = join(target);
        record.heads_before = join(current);
        record.heads_after = join(target);
        record.started_at = utc_now_iso8601();
        record.success = true;
        db.replace_heads(removed, added);
        db.record_history(record);
    });
}

}  // namespace migrator
