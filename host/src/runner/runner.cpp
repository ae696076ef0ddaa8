// Runs a plan: loads the plan's plugins, then one transaction per revision with its version rows.
#include <chrono>
#include <ctime>
#include <iomanip>
#include <map>
#include <memory>
#include <migrator/errors.hpp>
#include <migrator/runner.hpp>
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

std::string describe_heads(const std::vector<std::string>& heads) {
    return heads.empty() ? std::string("base") : join(heads, ", ");
}

/// The host side of migrator_host: routes a plugin's calls to the database and keeps the last
/// error text alive for last_error().
struct Session {
    Database& db;
    RunListener& listener;
    std::string last_error;
};

int session_execute(void* opaque, const char* sql) {
    auto& session = *static_cast<Session*>(opaque);
    try {
        session.db.execute(sql ? sql : "");
        return MIGRATOR_OK;
    } catch (const std::exception& e) {
        session.last_error = e.what();
    }
    return MIGRATOR_ERROR;
}

int session_query(void* opaque, const char* sql, migrator_row_fn on_row, void* user) {
    auto& session = *static_cast<Session*>(opaque);
    try {
        std::vector<const char*> values;
        std::vector<const char*> names;
        session.db.query(sql ? sql : "", [&](const std::vector<std::string>& columns,
                                             const std::vector<std::optional<std::string>>& row) {
            names.clear();
            values.clear();
            for (const auto& c : columns) names.push_back(c.c_str());
            for (const auto& v : row) values.push_back(v ? v->c_str() : nullptr);
            if (on_row == nullptr) return true;
            return on_row(user, static_cast<int>(values.size()), values.data(), names.data()) == 0;
        });
        return MIGRATOR_OK;
    } catch (const std::exception& e) {
        session.last_error = e.what();
    }
    return MIGRATOR_ERROR;
}

const char* session_last_error(void* opaque) {
    return static_cast<Session*>(opaque)->last_error.c_str();
}

void session_log(void* opaque, int /*level*/, const char* message) {
    auto& session = *static_cast<Session*>(opaque);
    try {
        session.listener.step_log(message ? message : "");
    } catch (...) {
        // Logging must never turn into an exception crossing back into the plugin.
    }
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

}  // namespace

std::string utc_now_iso8601() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::ostringstream text;
    text << std::put_time(&utc, "%Y-%m-%dT%H:%M:%S") << '.' << std::setw(3) << std::setfill('0')
         << millis << 'Z';
    return text.str();
}

RunSummary run_plan(const std::vector<Step>& plan, const Planner& replan,
                    const RevisionGraph& graph, const std::vector<PluginFile>& plugins,
                    Database& db, RunListener& listener, std::chrono::milliseconds step_timeout) {
    const auto run_start = std::chrono::steady_clock::now();
    RunSummary summary;
    summary.heads = plan.empty() ? db.read_heads() : plan.back().heads_after;
    if (plan.empty()) return summary;

    std::map<std::string, const PluginFile*, std::less<>> file_of;
    for (const auto& file : plugins) file_of[file.revision.id] = &file;
    std::map<std::string, std::unique_ptr<LoadedPlugin>, std::less<>> loaded;
    const auto plugin_for = [&](const std::string& id) -> const LoadedPlugin& {
        auto& slot = loaded[id];
        if (!slot) {
            const auto found = file_of.find(id);
            if (found == file_of.end()) throw PluginError("revision " + id + " has no plugin file");
            slot = std::make_unique<LoadedPlugin>(*found->second);
        }
        return *slot;
    };
    // Load the whole plan before touching the database: a plugin that cannot be loaded must
    // stop the run while nothing has changed.
    for (const auto& step : plan) plugin_for(step.revision);

    Session session{db, listener, {}};
    migrator_host host{};
    host.abi_version = MIGRATOR_ABI_VERSION;
    host.struct_size = sizeof(migrator_host);
    host.session = &session;
    const std::string dialect = db.dialect();
    host.dialect = dialect.c_str();
    host.offline = 0;
    host.execute = &session_execute;
    host.query = &session_query;
    host.last_error = &session_last_error;
    host.log = &session_log;

    std::vector<Step> remaining(plan.rbegin(), plan.rend());  // next step at the back
    while (!remaining.empty()) {
        HistoryRecord record;
        const auto step_start = std::chrono::steady_clock::now();
        const Step* step = nullptr;
        const Revision* revision = nullptr;
        bool started = false;
        try {
            in_transaction(db, [&] {
                // Another runner may have moved the version rows since the plan was made (SQLite
                // has no run-wide lock): re-read them under this transaction's write lock and
                // plan again from what is really there, so each revision runs exactly once.
                const auto heads = db.read_heads();
                if (heads != remaining.back().heads_before) {
                    auto fresh = replan(heads);
                    remaining.assign(fresh.rbegin(), fresh.rend());
                    if (remaining.empty()) {
                        summary.heads = heads;
                        return;
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
                listener.step_started(summary.steps + 1, summary.steps + remaining.size(), *step,
                                      *revision);
                started = true;

                char error[4096] = {0};
                const detail::StepGuard guard(
                    detail::step_failure_lines(*step, *revision, describe_heads(step->heads_before),
                                               step_timeout),
                    step_timeout);
                const int status = plugin.step(step->direction)(&host, error, sizeof error);
                if (status != MIGRATOR_OK)
                    throw MigrationError(error[0] ? error
                                                  : "the revision reported an error without a "
                                                    "message");
                db.replace_heads(step->heads_before, step->heads_after);
                record.duration_ms = milliseconds_since(step_start);
                record.success = true;
                db.record_history(record);
            });
        } catch (const std::exception& e) {
            if (!started) throw;
            record.duration_ms = milliseconds_since(step_start);
            record.success = false;
            record.heads_after = record.heads_before;
            record.error = e.what();
            // The failed step is rolled back; its history row goes in a transaction of its own.
            try {
                in_transaction(db, [&] { db.record_history(record); });
            } catch (const std::exception&) {
                // The failure itself is what the user must see; a history row we could not
                // write (e.g. the database is gone) must not hide it.
            }
            throw MigrationError(std::string(direction_name(step->direction)) + " of revision " +
                                 step->revision + " (" + revision->message + ") failed: " +
                                 e.what() + "; it was rolled back and the database is at " +
                                 describe_heads(step->heads_before));
        }
        if (remaining.empty()) break;  // another runner had already done the rest
        listener.step_finished(summary.steps + 1, summary.steps + remaining.size(), *step,
                               milliseconds_since(step_start));
        summary.heads = step->heads_after;
        ++summary.steps;
        remaining.pop_back();
    }
    summary.elapsed_ms = milliseconds_since(run_start);
    return summary;
}

void stamp(Database& db, const std::vector<std::string>& target) {
    in_transaction(db, [&] {
        const auto current = db.read_heads();
        HistoryRecord record;
        record.direction = "stamp";
        record.revision = join(target);
        record.heads_before = join(current);
        record.heads_after = join(target);
        record.started_at = utc_now_iso8601();
        record.success = true;
        db.replace_heads(current, target);
        db.record_history(record);
    });
}

}  // namespace migrator
