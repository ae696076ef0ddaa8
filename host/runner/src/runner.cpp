// Runs a plan: loads the plan's plugins, then one transaction per revision with its version rows.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/common/text.hpp>
#include <migrator/runner/runner.hpp>
#include <migrator/schema/host_session.hpp>
#include <optional>

#include "failure_lines.hpp"
#include "run_progress.hpp"
#include "step_executors.hpp"

namespace migrator {
namespace {

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

/// Online, opens the transaction of `remaining`'s next step (unless the run's own is open,
/// `outer`). Another runner may have moved the version rows since the plan was made (SQLite has
/// no run-wide lock, and through a pooler PostgreSQL has none either): they are re-read under
/// this transaction's write lock and, if they moved, `remaining` is planned again from what is
/// really there, so each revision runs exactly once. Returns false when nothing is left to do,
/// the transaction committed and `heads` the rows found.
bool open_step(Database& db, bool outer, const Planner& replan, std::vector<Step>& remaining,
               std::vector<std::string>& heads) {
    if (!outer) db.begin();
    try {
        const auto found = db.read_heads();
        if (found == remaining.back().heads_before) return true;
        auto fresh = replan(found);
        remaining.assign(fresh.rbegin(), fresh.rend());
        if (!remaining.empty()) return true;
        heads = found;
        if (!outer) db.commit();
        return false;
    } catch (...) {
        db.rollback();
        throw;
    }
}

}  // namespace

// The loop below reports to `progress`, the RunProgress that follows the run for its watch and
// passes every event on to `listener`.
RunSummary run_plan(const std::vector<Step>& plan, const Planner& replan,
                    const RevisionGraph& graph, const std::vector<PluginFile>& plugins,
                    Database& db, RunListener& listener, const RunOptions& options) {
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

    detail::RunProgress progress(listener, db, options, plan.front().heads_before);
    detail::PluginSet loaded(plugins, progress, options);
    // Load the whole plan before writing anything, the version tables included: a plugin that
    // cannot be loaded must stop the run while nothing has changed.
    for (const auto& step : plan) loaded.at(step.revision);
    db.ensure_version_tables();

    HostSession session(db, [&](const std::string& message) { progress.step_log(message); });
    session.set_arguments(options.arguments);
    detail::RunContext run{db, graph, options, progress, loaded, session, plan.front().heads_before,
                           {}};

    const bool outer = options.single_transaction;
    std::vector<Step> remaining(plan.rbegin(), plan.rend());  // next step at the back
    if (outer) db.begin();
    while (!remaining.empty()) {
        const auto step_start = std::chrono::steady_clock::now();
        // Offline, nothing can move the version rows but this run: no re-read.
        if (!db.offline() && !open_step(db, outer, replan, remaining, summary.heads))
            break;  // another runner had already done the rest
        const Step& step = remaining.back();
        const detail::StepPosition position{summary.steps + 1, summary.steps + remaining.size()};
        if (db.offline())
            detail::run_offline_step(run, step, position);
        else if (graph.at(step.revision).transactional)
            detail::run_transactional_step(run, step, position, !outer);
        else
            detail::run_non_transactional_step(run, step, position);
        progress.step_finished(position.index, position.total, step,
                               detail::milliseconds_since(step_start));
        summary.heads = step.heads_after;
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
    progress.completed(summary.heads);
    summary.elapsed_ms = detail::milliseconds_since(run_start);
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
    throw DirtyError(db.describe() + " is dirty: the non-transactional " +
                     history_direction_name(dirty->direction) + " of revision " + dirty->revision +
                     " started at " + dirty->started_at + " did not complete (" + dirty->error +
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
        if (current != dirty.heads_before)
            throw DatabaseError("the version rows of " + db.describe() + " (" +
                                detail::describe_heads(current) +
                                ") are no longer those the dirty step " + "started from (" +
                                join(dirty.heads_before, ",") +
                                "); check them with `migrator current` and fix them with "
                                "`migrator stamp`");
        const auto& before = dirty.heads_before;
        const auto after = applied ? dirty.heads_after : before;
        db.replace_heads(before, after);
        const std::string outcome = applied ? "applied" : "rolled back";
        HistoryRecord cleared = dirty;
        cleared.dirty = false;
        cleared.success = applied;
        cleared.heads_after = after;
        cleared.error = dirty.error + "; resolved by hand as " + outcome;
        db.update_history(dirty.id, cleared);
        HistoryRecord note;
        note.revision = revision;
        note.direction = HistoryDirection::resolve;
        note.heads_before = dirty.heads_before;
        note.heads_after = after;
        note.started_at = utc_now_iso8601();
        note.success = true;
        note.source_sha256 = dirty.source_sha256;
        note.error = "the dirty " + std::string(history_direction_name(dirty.direction)) +
                     " was resolved as " + outcome;
        db.record_history(note);
    });
    return dirty;
}

std::map<std::string, std::string> applied_source_checksums(
    const std::vector<HistoryRecord>& rows) {
    std::map<std::string, std::string> checksums;
    for (const auto& row : rows)
        if (row.success && !row.dirty && !row.source_sha256.empty() &&
            (row.direction == HistoryDirection::upgrade ||
             row.direction == HistoryDirection::resolve ||
             row.direction == HistoryDirection::accept_edit))
            checksums[row.revision] = row.source_sha256;
    return checksums;
}

void accept_edit(Database& db, const std::string& revision, const std::string& applied_sha256,
                 const std::string& source_sha256) {
    in_transaction(db, [&] {
        const auto heads = db.read_heads();
        HistoryRecord record;
        record.direction = HistoryDirection::accept_edit;
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
        record.direction = HistoryDirection::stamp;
        record.revision = join(target, ",");
        record.heads_before = current;
        record.heads_after = target;
        record.started_at = utc_now_iso8601();
        record.success = true;
        db.replace_heads(removed, added);
        db.record_history(record);
    });
}

}  // namespace migrator
