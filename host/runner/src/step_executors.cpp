// The three ways a step runs (see step_executors.hpp), and what they share: the history record,
// the watched plugin call, and the sentence a failed step is reported with.
#include "step_executors.hpp"

#include <chrono>
#include <exception>
#include <migrator/common/errors.hpp>
#include <migrator/common/text.hpp>
#include <optional>

#include "failure_lines.hpp"

namespace migrator::detail {
namespace {

/// Runs `body`, rolling back the open transaction (the step's, or the run's with
/// --single-transaction) if it throws.
template <typename Body>
void rolling_back(Database& db, Body&& body) {
    try {
        body();
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

/// What a step leaves behind when it fails: how to describe where the database is now.
std::string rolled_back_text(const Step& step, const RunContext& run) {
    if (run.options.single_transaction)
        return "the whole run (--single-transaction) was rolled back and the database is at " +
               describe_heads(run.start_heads);
    return "it was rolled back and the database is at " + describe_heads(step.heads_before);
}

std::string dirty_text(const Step& step) {
    return "it ran outside a transaction (non-transactional revision), so what it changed before "
           "failing was not rolled back: the database is marked dirty at revision " +
           step.revision + ". Repair the schema by hand, then run `migrator resolve " +
           step.revision + " --applied` (its changes are complete) or `migrator resolve " +
           step.revision + " --rolled-back` (none of them remain)";
}

/// How the database is left when migrator is stopped (a signal, --step-timeout) while `step`
/// runs: the end of the one line the step's watch writes.
std::string stopped_text(const Step& step, const RunContext& run, bool marked) {
    if (run.db.offline()) return "the SQL printed so far is incomplete, do not apply it";
    if (marked)
        return "it ran outside a transaction, so the database is marked dirty at revision " +
               step.revision + ": repair the schema, then run `migrator resolve " + step.revision +
               " --applied` or `--rolled-back`";
    if (run.options.single_transaction)
        return "the run's transaction (--single-transaction) was not committed, so the database "
               "stays at " +
               describe_heads(run.start_heads);
    return "its transaction was not committed, so the database stays at " +
           describe_heads(step.heads_before);
}

/// One step as it runs: its revision, plugin and history record, and what every way of running
/// it does alike.
class StepAttempt {
public:
    StepAttempt(RunContext& run, const Step& step)
        : run_(run),
          step_(step),
          revision_(run.graph.at(step.revision)),
          plugin_(run.plugins.at(step.revision)) {
        record_.revision = step.revision;
        record_.direction = step.direction == Direction::upgrade ? HistoryDirection::upgrade
                                                                 : HistoryDirection::downgrade;
        record_.heads_before = step.heads_before;
        record_.heads_after = step.heads_after;
        record_.started_at = utc_now_iso8601();
        record_.source_sha256 = revision_.source_sha256;
    }

    HistoryRecord& record() { return record_; }

    /// Tells the listener the step starts; from now on its failure is reported as the step's.
    void announce(StepPosition position) {
        run_.progress.step_started(position.index, position.total, step_, revision_);
    }

    /// Names the step in the database's log.
    void annotate() {
        run_.db.annotate("Running " + std::string(to_string(step_.direction)) + " " +
                         join(step_.heads_before, ", ") + " -> " + join(step_.heads_after, ", ") +
                         ", " + revision_.message +
                         (revision_.transactional ? "" : " (non-transactional)"));
    }

    /// Calls the plugin under the step's watch (`marked`: it runs behind a dirty mark) and throws
    /// its failure; on success the record says so.
    void call_plugin(bool marked) {
        char error[4096] = {0};
        // The session is shared by the run's steps; its calls mean what this plugin's ABI says
        // they mean (a row callback's return value, for one).
        run_.session.serve_plugin_abi(plugin_.abi_version());
        const int status = [&] {
            // Watches the plugin call alone: a commit after it is never cut short.
            const auto watched = watch(
                run_.options.supervisor,
                [&] {
                    return step_failure_lines(step_, revision_, stopped_text(step_, run_, marked),
                                              run_.options.step_timeout);
                },
                run_.options.step_timeout);
            return plugin_.step(step_.direction)(run_.session.host(), error, sizeof error);
        }();
        if (status != MIGRATOR_OK) {
            run_.session.rethrow_storage_failure();  // the database's fault, not the revision's
            throw MigrationError(error[0] ? error
                                          : "the revision reported an error without a message");
        }
        record_.duration_ms = milliseconds_since(start_);
        record_.success = true;
    }

    /// In the transaction that records the step: its plugin kept (or forgotten) with it.
    void keep_plugin() {
        detail::keep_plugin(run_.db, step_, plugin_, run_.options.provenance, run_.documents_sent);
    }

    /// Reports the step's failure `e` once its transaction was rolled back: records it in the
    /// history table in a transaction of its own (in `dirty_row`, the step's mark, when not 0;
    /// `changes_kept`: the plugin ran outside a transaction, and the mark stays), then throws
    /// DatabaseStorageError when the database failed, else MigrationError.
    [[noreturn]] void fail(const std::exception& e, std::int64_t dirty_row, bool changes_kept) {
        record_.duration_ms = milliseconds_since(start_);
        record_.success = false;
        if (!changes_kept) record_.heads_after = record_.heads_before;
        record_.error = e.what();
        record_.dirty = changes_kept;
        std::string failure = failure_start(e) + "; " +
                              (changes_kept ? dirty_text(step_) : rolled_back_text(step_, run_));
        // The failure itself is what the user must see; a history row we could not write (e.g.
        // the database is gone) must not hide it, nor go unsaid.
        try {
            run_.db.begin();
            rolling_back(run_.db, [&] {
                if (dirty_row != 0)
                    run_.db.update_history(dirty_row, record_);
                else
                    run_.db.record_history(record_);
                run_.db.commit();
            });
        } catch (const std::exception& unrecorded) {
            failure += "; its failure could not be recorded in the history table: " +
                       std::string(unrecorded.what());
        }
        if (dynamic_cast<const DatabaseStorageError*>(&e)) throw DatabaseStorageError(failure);
        throw MigrationError(failure);
    }

    /// Reports the failure `e` of a step whose SQL was being printed.
    [[noreturn]] void fail_offline(const std::exception& e) {
        throw MigrationError(failure_start(e) +
                             "; the SQL printed so far is incomplete, do not apply it");
    }

private:
    std::string failure_start(const std::exception& e) const {
        return std::string(to_string(step_.direction)) + " of revision " + step_.revision + " (" +
               revision_.message + ") failed: " + e.what();
    }

    RunContext& run_;
    const Step& step_;
    const Revision& revision_;
    const LoadedPlugin& plugin_;
    HistoryRecord record_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// Runs a transactional step's plugin in the open transaction, which its version rows, plugin and
/// history row join, and commits it when it is the step's own.
void run_recorded(Database& db, const Step& step, StepAttempt& attempt, bool own_transaction) {
    attempt.annotate();
    attempt.call_plugin(false);
    attempt.keep_plugin();
    db.record_step(step.heads_before, step.heads_after, attempt.record());
    if (own_transaction) db.commit();
}

}  // namespace

void run_transactional_step(RunContext& run, const Step& step, StepPosition position,
                            bool own_transaction) {
    Database& db = run.db;
    std::optional<StepAttempt> attempt;
    rolling_back(db, [&] {
        attempt.emplace(run, step);
        attempt->announce(position);
    });
    try {
        rolling_back(db, [&] { run_recorded(db, step, *attempt, own_transaction); });
    } catch (const std::exception& e) {
        attempt->fail(e, 0, false);
    }
}

void run_non_transactional_step(RunContext& run, const Step& step, StepPosition position) {
    Database& db = run.db;
    std::optional<StepAttempt> attempt;
    std::int64_t dirty_row = 0;
    rolling_back(db, [&] {
        attempt.emplace(run, step);
        // Mark first and commit the mark: whatever happens while the step runs outside a
        // transaction (failure, crash, kill -9), the mark stays.
        if (const auto other = dirty_step(db))
            throw DirtyError("cannot run revision " + step.revision + " on " + db.describe() +
                             ": the database is dirty (revision " + other->revision +
                             " is running or failed outside a transaction)");
        // heads_after: the rows the step leaves when it completes, which `resolve --applied`
        // installs.
        HistoryRecord mark = attempt->record();
        mark.dirty = true;
        mark.error = "started outside a transaction and not seen to finish";
        dirty_row = db.record_history(mark);
        db.commit();
        attempt->announce(position);
    });
    try {
        rolling_back(db, [&] { attempt->annotate(); });
    } catch (const std::exception& e) {
        attempt->fail(e, dirty_row, false);  // the plugin did not run: nothing to repair
    }
    try {
        rolling_back(db, [&] {
            attempt->call_plugin(true);
            db.begin();
            attempt->keep_plugin();
            db.replace_heads(step.heads_before, step.heads_after);
            db.update_history(dirty_row, attempt->record());
            db.commit();
        });
    } catch (const std::exception& e) {
        attempt->fail(e, dirty_row, true);
    }
}

void run_offline_step(RunContext& run, const Step& step, StepPosition position) {
    Database& db = run.db;
    // Offline, nothing can move the version rows but this run; a non-transactional step's SQL
    // goes outside BEGIN/COMMIT.
    const bool own_transaction =
        !run.options.single_transaction && run.graph.at(step.revision).transactional;
    std::optional<StepAttempt> attempt;
    rolling_back(db, [&] {
        if (own_transaction) db.begin();
        attempt.emplace(run, step);
        attempt->announce(position);
    });
    try {
        rolling_back(db, [&] { run_recorded(db, step, *attempt, own_transaction); });
    } catch (const std::exception& e) {
        attempt->fail_offline(e);
    }
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
}

}  // namespace migrator::detail
