// The migrator commands: each reads the scripts and the database, then prints Alembic-style lines.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <migrator/graph/graph.hpp>
#include <migrator/inspection/inspection.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/releases/releases.hpp>
#include <migrator/runner/runner.hpp>
#include <migrator/scaffold/scaffold.hpp>
#include <migrator/schema/schema_compare.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "cli.hpp"
#include "format.hpp"
#include "stored_plugins.hpp"

namespace migrator::cli {
namespace {

/// The versions directory and the graph built from its plugins' metadata (no plugin loaded).
struct Scripts {
    std::filesystem::path dir;
    /// The plugin files, each with its revision; the graph holds a copy of those revisions.
    std::vector<PluginFile> files;
    RevisionGraph graph;
    /// Set when a fleet prepared the scripts once for all its targets: the revision sources the
    /// plugins do not match (already reported), and the plugins its plans can need, loaded.
    std::optional<std::vector<scaffold::StaleSource>> stale;
    LoadedPlugins plugins;
    /// The releases file beside the plugins, checked against the graph (empty when there is
    /// none), read when first asked for: a command that needs no release never reads it.
    const ReleaseHistory& releases() const {
        if (!release_history) {
            const auto file = dir / releases_file_name;
            release_history.emplace(read_releases_file(file), graph, file.string());
        }
        return *release_history;
    }
    mutable std::optional<ReleaseHistory> release_history;
};

/// The scripts a fleet read once (prepare_for_fleet), which every command uses from then on.
std::shared_ptr<Scripts> prepared_scripts;

/// Copies of the revisions of `files`, for the graph: each PluginFile keeps its own, as its
/// invariant says (a copy of 1,000 revisions costs well under a millisecond).
std::vector<Revision> revisions_of(const std::vector<PluginFile>& files) {
    std::vector<Revision> revisions;
    revisions.reserve(files.size());
    for (const auto& file : files) revisions.push_back(file.revision);
    return revisions;
}

/// `path` as the user would type it from here: relative when it is below the working directory.
std::string shown_path(const std::filesystem::path& path) {
    std::error_code ignored;
    const auto relative = path.lexically_relative(std::filesystem::current_path(ignored));
    return !relative.empty() && *relative.begin() != ".." ? relative.string() : path.string();
}

/// How to build the plugins of `versions_dir`: `cmake --build` of the CMake build folder it is
/// in, or, with no build folder yet, configuring one first (from the project holding the
/// revision `sources`, if known).
std::string build_command(const std::filesystem::path& versions_dir,
                          const std::optional<std::filesystem::path>& sources) {
    namespace fs = std::filesystem;
    std::error_code ignored;
    for (fs::path dir = versions_dir; dir.has_relative_path(); dir = dir.parent_path())
        if (fs::exists(dir / "CMakeCache.txt", ignored)) return "cmake --build " + shown_path(dir);
    const fs::path build = versions_dir.parent_path();
    const fs::path project = sources ? sources->parent_path() : fs::current_path(ignored);
    return "cmake -S " + shown_path(project) + " -B " + shown_path(build) + " && cmake --build " +
           shown_path(build);
}

std::shared_ptr<Scripts> load_scripts(const GlobalOptions& options) {
    namespace fs = std::filesystem;
    if (prepared_scripts) return prepared_scripts;
    auto dir = resolve_versions_dir(options);
    std::vector<PluginFile> files;
    try {
        files = scan_versions_dir(
            dir, options.permission_check ? PermissionCheck::enforce : PermissionCheck::skip,
            resolve_trusted_keys(options));
    } catch (const PluginError&) {
        // A project that was never built: say how to build it.
        std::error_code ignored;
        const auto sources = resolve_revisions_dir(options);
        if (sources && !fs::exists(dir, ignored))
            throw PluginError("versions directory " + dir.string() +
                              " does not exist: the revisions in " + sources->string() +
                              " are not built yet; build them with `" +
                              build_command(dir, sources) + "`");
        throw;
    }
    if (files.empty()) {
        // Sources where plugins were expected (Alembic keeps its scripts in versions/).
        std::size_t source_count = 0;
        try {
            source_count = scaffold::read_revision_sources(dir).size();
        } catch (const std::exception&) {
            // Not readable as sources: an empty versions directory, as before.
        }
        if (source_count > 0)
            throw PluginError("versions directory " + dir.string() + " holds " +
                              std::to_string(source_count) +
                              " revision source(s) and no plugins: migrator runs the built "
                              "plugins (.so); build them (`cmake --build build`) and pass the "
                              "folder they are built into (e.g. --versions-dir build/versions)");
    }
    RevisionGraph graph(revisions_of(files));
    return std::make_shared<Scripts>(Scripts{
        std::move(dir), std::move(files), std::move(graph), std::nullopt, {}, std::nullopt});
}

/// `scripts` with the revisions of the plugins stored in a database added (StoredPluginDir): what
/// an older release undoes revisions of a newer one with.
std::shared_ptr<Scripts> with_stored(const Scripts& scripts, std::vector<PluginFile> stored) {
    std::vector<Revision> revisions = scripts.graph.revisions();
    const auto added = revisions_of(stored);
    revisions.insert(revisions.end(), added.begin(), added.end());
    std::optional<RevisionGraph> graph;
    try {
        graph.emplace(std::move(revisions));
    } catch (const RevisionError& e) {
        throw RevisionError(std::string("the plugins stored in the database do not fit the "
                                        "versions directory: ") +
                            e.what());
    }
    auto files = scripts.files;
    files.insert(files.end(), stored.begin(), stored.end());
    ReleaseHistory releases(scripts.releases().releases(), *graph,
                            (scripts.dir / releases_file_name).string());
    return std::make_shared<Scripts>(Scripts{
        scripts.dir, std::move(files), std::move(*graph), std::nullopt, {}, std::move(releases)});
}

/// What `current` and `check` say of a version row `id` that no plugin of `scripts` provides: the
/// way back when a newer migrator stored its plugin, else only that.
/// `stored`: whether the database stores the revision's plugin.
std::string missing_plugin_text(Database& db, const std::string& id, bool stored,
                                const Scripts& scripts) {
    if (stored) return ahead_refusal(db, {id}, scripts.dir, scripts.graph, scripts.releases());
    return "the database is at revision " + id + ", which no plugin in " + scripts.dir.string() +
           " provides";
}

std::string missing_plugin_text(Database& db, const std::string& id, const Scripts& scripts) {
    const auto stored = db.read_stored_plugins();
    return missing_plugin_text(
        db, id,
        std::any_of(stored.begin(), stored.end(),
                    [&](const StoredPlugin& plugin) { return plugin.revision == id; }),
        scripts);
}

/// `expressions` with each release target (`@NAME`) replaced by its release's rows.
std::vector<std::string> without_release_targets(const Scripts& scripts,
                                                 const std::vector<std::string>& expressions) {
    std::vector<std::string> out;
    for (const auto& expression : expressions) {
        if (!is_release_target(expression)) {
            out.push_back(expression);
            continue;
        }
        const auto& rows = scripts.releases().find(expression).rows;
        out.insert(out.end(), rows.begin(), rows.end());
    }
    return out;
}

/// The revision sources the versions directory does not match, when the sources are known; a
/// source folder that cannot be read is a warning, not a failure of the command.
std::vector<scaffold::StaleSource> stale_sources_of(const GlobalOptions& options,
                                                    const Scripts& scripts) {
    if (scripts.stale) return *scripts.stale;
    const auto sources = resolve_revisions_dir(options);
    if (!sources) return {};
    try {
        return scaffold::stale_sources(*sources, scripts.graph.revisions());
    } catch (const std::exception& e) {
        std::cerr << "warning: cannot compare the revision sources in " << sources->string()
                  << " with the plugins: " << printable(e.what()) << '\n';
        return {};
    }
}

/// "revision X (FILE) has no plugin in DIR" or "revision X's plugin P was built from an older
/// version of FILE".
std::string stale_text(const scaffold::StaleSource& stale, const std::filesystem::path& dir) {
    if (stale.plugin.empty())
        return "revision " + stale.id + " (" + stale.source.string() + ") has no plugin in " +
               dir.string() + ": it is not built";
    return "revision " + stale.id + "'s plugin " + stale.plugin +
           " was built from another version of " + stale.source.string();
}

/// One warning line per stale source, with the build command.
void warn_stale(const std::vector<scaffold::StaleSource>& stale, const GlobalOptions& options,
                const Scripts& scripts) {
    if (stale.empty() || scripts.stale) return;  // a fleet reported them once, before its targets
    const std::string build = build_command(scripts.dir, resolve_revisions_dir(options));
    for (const auto& source : stale)
        std::cerr << "warning: " << printable(stale_text(source, scripts.dir)) << "; build with `"
                  << build << "`\n";
}

static_assert(exit_step_timeout == step_timeout_exit_status);

std::chrono::milliseconds milliseconds_of(double seconds) {
    return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

DatabaseOptions database_options(const GlobalOptions& options, bool read_only) {
    DatabaseOptions db_options;
    db_options.version_table = options.version_table;
    db_options.read_only = read_only;
    db_options.command = options.command;
    db_options.version_schema = options.version_schema;
    db_options.search_schema = options.target_schema;
    db_options.statement_timeout = milliseconds_of(options.statement_timeout_seconds);
    db_options.warn = [](const std::string& text) {
        std::cerr << "warning: " << printable(text) << '\n';
    };
    return db_options;
}

/// The JSON array of the given revisions.
boost::json::array revisions_json(const RevisionGraph& graph, const std::vector<std::string>& ids,
                                  const std::set<std::string>& current) {
    boost::json::array array;
    for (const auto& id : ids) array.push_back(revision_json(graph, graph.at(id), current));
    return array;
}

/// Prints "[k/n] Running upgrade  -> id, message" and the step's time when it ends; log lines
/// of the revision go indented in between.
/// A run's progress as people read it, or (--json) as a pipeline reads it.
class ProgressListener : public RunListener {
public:
    /// The step being run failed with `error` (the run's error follows on stderr).
    virtual void step_failed(const std::string& error) = 0;
};

class ConsoleListener : public ProgressListener {
public:
    /// Progress goes to stdout, or to stderr when stdout carries offline SQL.
    ConsoleListener(bool quiet, bool to_stderr)
        : quiet_(quiet),
          out_(to_stderr ? std::cerr : std::cout),
          colours_{Colours::enabled_for(to_stderr ? 2 : 1)} {}

    void step_started(std::size_t index, std::size_t total, const Step& step,
                      const Revision& revision) override {
        if (quiet_) return;
        const bool up = step.direction == Direction::upgrade;
        const std::string parents = join(revision.parents, ", ");
        out_ << colours_.dim("[" + std::to_string(index) + "/" + std::to_string(total) + "]")
             << printable(" Running " + std::string(to_string(step.direction)) + " " +
                          (up ? parents : revision.id) + " -> " + (up ? revision.id : parents) +
                          ", " + revision.message)
             << std::flush;
        logged_ = false;
        line_open_ = true;
    }
    void step_log(const std::string& message) override {
        if (quiet_) return;
        if (!logged_) out_ << '\n';
        out_ << "      " << printable(message) << '\n' << std::flush;
        logged_ = true;
    }
    void step_finished(std::size_t, std::size_t, const Step&, double elapsed_ms) override {
        if (quiet_) return;
        out_ << (logged_ ? "      done in " : " ... ")
             << colours_.green(format_duration(elapsed_ms)) << '\n'
             << std::flush;
        line_open_ = false;
    }
    /// Ends the line of a step that failed, so the error that follows stands on its own.
    void step_failed(const std::string&) override {
        if (line_open_)
            out_ << (logged_ ? "      " : " ... ") << colours_.red("FAILED") << std::endl;
        line_open_ = false;
    }

private:
    bool quiet_;
    std::ostream& out_;
    Colours colours_;
    bool logged_ = false;
    bool line_open_ = false;
};

/// --json: one JSON object a line on stdout for each event of the run: step_started, log,
/// step_finished, step_failed; the command adds a summary.
class JsonListener : public ProgressListener {
public:
    void step_started(std::size_t index, std::size_t total, const Step& step,
                      const Revision& revision) override {
        index_ = index;
        revision_ = step.revision;
        print_json({{"event", "step_started"},
                    {"index", index},
                    {"total", total},
                    {"direction", to_string(step.direction)},
                    {"revision", step.revision},
                    {"message", revision.message},
                    {"heads_before", boost::json::value_from(step.heads_before)},
                    {"heads_after", boost::json::value_from(step.heads_after)}});
        std::cout.flush();
    }
    void step_log(const std::string& message) override {
        print_json({{"event", "log"}, {"revision", revision_}, {"message", message}});
        std::cout.flush();
    }
    void step_finished(std::size_t index, std::size_t, const Step& step,
                       double elapsed_ms) override {
        print_json({{"event", "step_finished"},
                    {"index", index},
                    {"revision", step.revision},
                    {"duration_ms", elapsed_ms}});
        revision_.clear();
        std::cout.flush();
    }
    void step_failed(const std::string& error) override {
        print_json({{"event", "step_failed"},
                    {"index", index_},
                    {"revision", revision_.empty() ? boost::json::value(nullptr)
                                                   : boost::json::value(revision_)},
                    {"error", mask_password(error)}});
        std::cout.flush();
    }

private:
    std::size_t index_ = 0;
    std::string revision_;
};

/// Holds the migration lock for the lifetime of a command.
class MigrationLock {
public:
    MigrationLock(Database& db, const GlobalOptions& options) : db_(db) {
        db_.lock_migrations(milliseconds_of(options.lock_timeout_seconds));
    }
    ~MigrationLock() { db_.unlock_migrations(); }
    MigrationLock(const MigrationLock&) = delete;
    MigrationLock& operator=(const MigrationLock&) = delete;

private:
    Database& db_;
};

/// Splits `A:B` into its two ends; throws ConfigError naming `what` for any other shape.
std::pair<std::string, std::string> split_range(const std::string& range, const char* what) {
    const auto colon = range.find(':');
    if (colon == std::string::npos || range.find(':', colon + 1) != std::string::npos ||
        colon == 0 || colon + 1 == range.size())
        throw ConfigError(std::string(what) + " needs a range FROM:TO (e.g. ae10:1975); '" + range +
                          "' is not one");
    return {range.substr(0, colon), range.substr(colon + 1)};
}

/// The version rows a database has once everything `expression` names (and all it needs) is
/// applied: where an offline run starts from.
std::vector<std::string> rows_at(const Scripts& scripts, const std::string& expression) {
    if (is_release_target(expression)) return scripts.releases().find(expression).rows;
    return scripts.graph.upgrade_destination(expression, {});
}

/// The version rows `upgrade`/`downgrade TARGET` leaves from rows `current`. A release target
/// upgrades to everything its rows need (keeping what else is applied, as an upgrade does), and
/// downgrades to exactly its rows.
std::vector<std::string> destination_of(const Scripts& scripts, const std::string& target,
                                        const std::vector<std::string>& current, bool up) {
    if (!is_release_target(target))
        return up ? scripts.graph.upgrade_destination(target, current)
                  : scripts.graph.downgrade_destination(target, current);
    const Release& release = scripts.releases().find(target);
    return up ? release_upgrade_destination(scripts.graph, release, current) : release.rows;
}

/// The line for a run with no step. An upgrade to a revision already applied is Alembic's no-op;
/// a deploy that repeats `upgrade <pinned revision>` must read that it is past it, and how far.
std::string nothing_to_do(const Scripts& scripts, Database& db, const std::string& target,
                          const std::vector<std::string>& current, bool up) {
    const RevisionGraph& graph = scripts.graph;
    const auto named = is_release_target(target) ? scripts.releases().find(target).rows
                                                 : graph.resolve_target(target, current);
    const std::size_t above = up ? graph.applied_above(named, current) : 0;
    if (above == 0)
        return "Nothing to do: " + db.describe() + " is already at " + heads_text(graph, current) +
               (scripts.releases().at(current) != nullptr
                    ? " (release " + scripts.releases().at(current)->name + ")"
                    : std::string()) +
               ".\n";
    return "Nothing to do: " + db.describe() + " is already past " + target + ": it is at " +
           heads_text(graph, current) + ", " + std::to_string(above) +
           (above == 1 ? " revision" : " revisions") + " above it.\n";
}

/// Alembic's `lbl@base` on a single root undoes every revision, not only the label's lineage:
/// the result is kept, and said before anything runs.
void warn_outside_lineage(const RevisionGraph& graph, const std::string& target,
                          const std::vector<Step>& plan) {
    std::vector<std::string> undone;
    for (const auto& step : plan) undone.push_back(step.revision);
    const auto outside = graph.outside_lineage(target, undone);
    if (outside.empty()) return;
    std::cerr << "warning: downgrade " << target << " also undoes " << join(outside, ", ")
              << ", outside the lineage of '" << target.substr(0, target.find('@'))
              << "' (Alembic does the same); to undo one branch only, count back along it "
                 "(label@-N) or name its branch point (label@REV)\n";
}

/// Whether a revision expression counts from the database's current revision (+N, REV-N, ...).
bool is_relative(const std::string& expression) {
    return expression.find_first_of("+-") != std::string::npos;
}

/// Throws PluginError naming the revision sources the plugins do not match, unless `allow_stale`.
void refuse_stale(const std::vector<scaffold::StaleSource>& stale, const GlobalOptions& options,
                  const Scripts& scripts, bool allow_stale) {
    if (stale.empty() || allow_stale) return;
    std::string list;
    for (const auto& source : stale)
        list += (list.empty() ? "" : "; ") + stale_text(source, scripts.dir);
    throw PluginError("the plugins do not match the revision sources: " + list +
                      "; build them with `" +
                      build_command(scripts.dir, resolve_revisions_dir(options)) +
                      "`, or pass --allow-stale to upgrade with the plugins as they are");
}

/// Passes a run's events on, and records in `result` (when there is one) each committed step's
/// version rows.
class ResultListener : public ProgressListener {
public:
    ResultListener(ProgressListener& forward, TargetResult* result)
        : forward_(forward), result_(result) {}
    void step_started(std::size_t index, std::size_t total, const Step& step,
                      const Revision& revision) override {
        forward_.step_started(index, total, step, revision);
    }
    void step_log(const std::string& message) override { forward_.step_log(message); }
    void step_finished(std::size_t index, std::size_t total, const Step& step,
                       double elapsed_ms) override {
        forward_.step_finished(index, total, step, elapsed_ms);
        if (result_ == nullptr) return;
        result_->to = step.heads_after;
        ++result_->steps;
    }
    void step_failed(const std::string& error) override { forward_.step_failed(error); }

private:
    ProgressListener& forward_;
    TargetResult* result_;
};

/// Shared by upgrade, downgrade and converge (`direction` empty: up or down to the newest
/// release, whichever way that is): lock, resolve, plan, run, summarise. Offline (`--sql`), the
/// database is a script on stdout and the run starts from base or from the range's start.
int migrate(const GlobalOptions& options, const MigrateOptions& migrate_options,
            const std::string& target_expression, std::optional<Direction> direction) {
    const auto loaded_scripts = load_scripts(options);
    const bool converge = !direction;
    // A revision written and not built, or edited and not rebuilt, is never silently left out.
    const auto stale = stale_sources_of(options, *loaded_scripts);
    if (direction != Direction::downgrade)
        refuse_stale(stale, options, *loaded_scripts, migrate_options.allow_stale);
    warn_stale(stale, options, *loaded_scripts);
    std::string target =
        converge ? "@" + loaded_scripts->releases().latest().name : target_expression;
    // A release that does not exist is refused before the database is opened (or created).
    for (std::size_t start = 0; start <= target.size();) {
        const auto end = std::min(target.find(':', start), target.size());
        const auto part = target.substr(start, end - start);
        if (is_release_target(part)) loaded_scripts->releases().find(part);
        start = end + 1;
    }
    std::unique_ptr<Database> db;
    if (migrate_options.sql && options.json)
        throw ConfigError("--json and --sql both write to standard output; use one of them");
    if (migrate_options.sql) {
        const bool up = direction == Direction::upgrade;
        std::vector<std::string> start;
        if (target.find(':') != std::string::npos) {
            auto [from, to] = split_range(target, up ? "upgrade --sql" : "downgrade --sql");
            start = from == "base" ? std::vector<std::string>{} : rows_at(*loaded_scripts, from);
            target = to;
        } else if (!up) {
            throw ConfigError(
                "downgrade --sql needs the revision to start from, as a range FROM:TO (e.g. "
                "`downgrade head:base --sql`): offline, migrator cannot read the database's "
                "current revision");
        }
        db = open_offline_database(DatabaseUrl::parse(resolve_database_url(options)),
                                   database_options(options, false), start, std::cout);
        std::cout << "-- migrator " << (up ? "upgrade " : "downgrade ")
                  << heads_text(loaded_scripts->graph, start) << " -> " << target << " --sql ("
                  << db->dialect() << ")\n";
    } else {
        db = open(options, false);
    }
    // A signal while waiting for the lock, or after the run, gets its line.
    RunGuard guard(*db, options.supervisor);
    // The lock comes before reading the current revision: a fleet of runners must not plan from
    // a state one of them is about to change.
    const MigrationLock lock(*db, options);
    refuse_if_dirty(*db);
    const auto current = db->read_heads();
    if (options.result != nullptr) options.result->from = options.result->to = current;

    // A database ahead of this versions directory: a newer release applied revisions it lacks.
    // Their stored plugins undo them on request; otherwise say how to come back.
    std::vector<std::string> unknown;
    for (const auto& id : current)
        if (loaded_scripts->graph.find(id) == nullptr) unknown.push_back(id);
    std::optional<StoredPluginDir> stored;
    std::shared_ptr<Scripts> extended;
    if (!unknown.empty() && !db->offline()) {
        if (!migrate_options.stored_downgrades || direction == Direction::upgrade)
            throw RevisionError(ahead_refusal(*db, unknown, loaded_scripts->dir,
                                              loaded_scripts->graph, loaded_scripts->releases()));
        stored.emplace(*db, loaded_scripts->graph, unknown, resolve_trusted_keys(options),
                       options.permission_check ? PermissionCheck::enforce : PermissionCheck::skip);
        extended = with_stored(*loaded_scripts, stored->files);
    }
    const Scripts& scripts = extended ? *extended : *loaded_scripts;
    const bool up = direction
                        ? *direction == Direction::upgrade
                        : converges_upward(scripts.graph, current, scripts.releases().find(target));
    const char* const direction_text = to_string(up ? Direction::upgrade : Direction::downgrade);

    const auto wanted = destination_of(scripts, target, current, up);
    const Planner plan_from = [&](const std::vector<std::string>& heads) {
        return up ? scripts.graph.plan_upgrade(heads, wanted)
                  : scripts.graph.plan_downgrade(heads, wanted);
    };
    const auto plan = plan_from(current);
    std::ostream& report = migrate_options.sql ? std::cerr : std::cout;
    const auto json_summary = [&](const std::vector<std::string>& heads, std::size_t steps,
                                  double elapsed_ms) {
        print_json({{"event", "summary"},
                    {"database", db->describe()},
                    {"direction", direction_text},
                    {"target", target},
                    {"steps", steps},
                    {"elapsed_ms", elapsed_ms},
                    {"heads", boost::json::value_from(heads)}});
    };
    if (plan.empty()) {
        if (options.json)
            json_summary(current, 0, 0);
        else if (!options.quiet)
            report << nothing_to_do(scripts, *db, target, current, up);
        return exit_ok;
    }
    if (!up && !options.quiet && !options.json) warn_outside_lineage(scripts.graph, target, plan);
    ConsoleListener console(options.quiet, migrate_options.sql);
    JsonListener json;
    ProgressListener& shown = options.json ? static_cast<ProgressListener&>(json)
                                           : static_cast<ProgressListener&>(console);
    ResultListener listener(shown, options.result);
    const auto provenance = provenance_of(scripts.dir, scripts.graph, scripts.releases(), plan);
    RunOptions run_options;
    run_options.single_transaction = migrate_options.single_transaction;
    run_options.step_timeout = milliseconds_of(options.step_timeout_seconds);
    run_options.arguments = options.arguments;
    run_options.loaded = &scripts.plugins;
    run_options.provenance = &provenance;
    run_options.supervisor = options.supervisor;
    try {
        const auto summary =
            run_plan(plan, plan_from, scripts.graph, scripts.files, *db, listener, run_options);
        guard.completed(summary);
        if (options.json) {
            json_summary(summary.heads, summary.steps, summary.elapsed_ms);
            return exit_ok;
        }
        if (options.quiet) return exit_ok;
        const Release* release = scripts.releases().at(summary.heads);
        const std::string where = heads_text(scripts.graph, summary.heads) +
                                  (release != nullptr ? " (release " + release->name + ")" : "");
        if (summary.steps == 0)
            report << "Nothing to do: another migrator brought " << db->describe() << " to "
                   << where << ".\n";
        else if (migrate_options.sql)
            report << "Wrote the SQL of " << summary.steps
                   << (summary.steps == 1 ? " step" : " steps") << " (" << db->dialect() << ") to "
                   << direction_text << " to " << where << "; nothing was run.\n";
        else
            report << (up ? "Upgraded" : "Downgraded") << " to " << where << ": " << summary.steps
                   << (summary.steps == 1 ? " step in " : " steps in ")
                   << format_duration(summary.elapsed_ms) << ".\n";
    } catch (const std::exception& e) {
        listener.step_failed(e.what());
        // All or nothing: the steps this run reported committed were rolled back with it.
        if (options.result != nullptr && run_options.single_transaction) {
            options.result->to = current;
            options.result->steps = 0;
        }
        throw;
    }
    return exit_ok;
}

}  // namespace

std::unique_ptr<Database> open(const GlobalOptions& options, bool read_only) {
    return open_at(options, DatabaseUrl::parse(resolve_database_url(options)), read_only);
}

std::unique_ptr<Database> open_at(const GlobalOptions& options, const DatabaseUrl& url,
                                  bool read_only) {
    auto db = open_database(url, database_options(options, read_only));
    // A database Alembic manages, met with migrator's default table: going on would create a
    // second, empty version table beside Alembic's and run every revision again.
    if (!options.version_table_chosen) refuse_unadopted_alembic(*db);
    return db;
}

void print_json(const boost::json::value& document) {
    std::cout << boost::json::serialize(document) << '\n';
}

int run_history(const GlobalOptions& options, const HistoryOptions& history) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    warn_stale(stale_sources_of(options, scripts), options, scripts);
    const bool needs_database =
        history.indicate_current || history.range.find("current") != std::string::npos;
    const auto current =
        needs_database ? open(options, true)->read_heads() : std::vector<std::string>{};
    const std::set<std::string> marked = history.indicate_current
                                             ? std::set<std::string>(current.begin(), current.end())
                                             : std::set<std::string>{};
    std::vector<std::string> ids;
    if (history.range.empty()) {
        for (const auto& revision : scripts.graph.revisions()) ids.push_back(revision.id);
    } else {
        ids = scripts.graph.resolve_range(history.range, current);
    }
    if (options.json) {
        print_json(
            {{"revisions", revisions_json(scripts.graph, {ids.rbegin(), ids.rend()}, marked)}});
        return exit_ok;
    }
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        const Revision& revision = scripts.graph.at(*it);
        if (history.verbose)
            std::cout << revision_block(scripts.graph, revision, marked)
                      << (it + 1 == ids.rend() ? "" : "\n");
        else
            std::cout << revision_line(scripts.graph, revision, marked, {true, true, true, true})
                      << '\n';
    }
    return exit_ok;
}

int run_current(const GlobalOptions& options, bool verbose, bool check_heads) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    const auto db = open(options, true);
    const auto current = db->read_heads();
    // A head another revision depends on has handed its row over (Alembic): compare rows.
    const auto heads = scripts.graph.head_rows();
    if (options.result != nullptr) {
        options.result->from = options.result->to = current;
        if (check_heads && current != heads)
            options.result->detail =
                "not at the head revision(s) " + heads_text(scripts.graph, heads);
    }
    if (options.json) {
        boost::json::array revisions;
        for (const auto& id : current) {
            const Revision* revision = scripts.graph.find(id);
            if (revision)
                revisions.push_back(revision_json(scripts.graph, *revision, {id}));
            else
                revisions.push_back({{"id", id}, {"unknown", true}});
        }
        print_json({{"database", db->describe()},
                    {"current", std::move(revisions)},
                    {"at_heads", current == heads}});
        return check_heads && current != heads ? exit_not_at_head : exit_ok;
    }
    if (verbose) std::cout << "Current revision(s) for " << db->describe() << ":\n";
    for (const auto& id : current) {
        const Revision* revision = scripts.graph.find(id);
        if (revision == nullptr) {
            std::cout << printable(id) << " (not in " << scripts.dir.string() << ")\n";
            std::cerr << "warning: " << printable(missing_plugin_text(*db, id, scripts)) << "\n";
        } else if (verbose) {
            std::cout << "\n" << revision_block(scripts.graph, *revision, {});
        } else {
            std::cout << revision_line(scripts.graph, *revision, {}, {false, true, false, false})
                      << '\n';
        }
    }
    if (check_heads) {
        if (current != heads) {
            std::cerr << "error: " << db->describe() << " is at "
                      << heads_text(scripts.graph, current) << ", not at the head revision(s) "
                      << heads_text(scripts.graph, heads) << "; run `migrator upgrade heads`\n";
            return exit_not_at_head;
        }
    }
    return exit_ok;
}

int run_heads(const GlobalOptions& options, bool verbose) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    if (options.json) {
        print_json({{"heads", revisions_json(scripts.graph, scripts.graph.heads(), {})}});
        return exit_ok;
    }
    bool first = true;
    for (const auto& id : scripts.graph.heads()) {
        const Revision& revision = scripts.graph.at(id);
        if (verbose)
            std::cout << (std::exchange(first, false) ? "" : "\n")
                      << revision_block(scripts.graph, revision, {});
        else
            std::cout << revision_line(scripts.graph, revision, {}, {false, true, false, false})
                      << '\n';
    }
    return exit_ok;
}

int run_branches(const GlobalOptions& options, bool verbose) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    if (options.json) {
        print_json(
            {{"branch_points", revisions_json(scripts.graph, scripts.graph.branch_points(), {})}});
        return exit_ok;
    }
    bool first = true;
    for (const auto& id : scripts.graph.branch_points()) {
        const Revision& revision = scripts.graph.at(id);
        if (verbose)
            std::cout << (std::exchange(first, false) ? "" : "\n")
                      << revision_block(scripts.graph, revision, {});
        else
            std::cout << revision_line(scripts.graph, revision, {}, {}) << '\n';
        // Alembic's layout: each child on its own line, its arrow under the branch point's id.
        const std::string indent(revision.id.size(), ' ');
        for (const auto& child : scripts.graph.children(id))
            std::cout << indent << " -> "
                      << revision_line(scripts.graph, scripts.graph.at(child), {},
                                       {false, true, false, true})
                      << '\n';
    }
    return exit_ok;
}

int run_show(const GlobalOptions& options, const std::string& expression) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    // Relative forms need the database's current revision; plain ids and head/base do not.
    std::vector<std::string> current;
    const bool relative = is_relative(expression);
    if (relative) current = open(options, true)->read_heads();
    const auto ids = scripts.graph.resolve_target(expression, current);
    if (ids.empty()) throw RevisionError("'" + expression + "' is base, which is not a revision");
    if (options.json) {
        print_json({{"revisions", revisions_json(scripts.graph, ids, {})}});
        return exit_ok;
    }
    bool first = true;
    for (const auto& id : ids) {
        if (!first) std::cout << '\n';
        first = false;
        std::cout << revision_block(scripts.graph, scripts.graph.at(id), {});
    }
    return exit_ok;
}

namespace {

/// Which plugin ABI versions a bundle's plugins were built for, as verify reports them:
/// " (plugin ABI 2)", or " (plugin ABI 1: 3, ABI 2: 40)" for a bundle that spans versions.
std::string abis_text(const Scripts& scripts) {
    if (scripts.files.empty()) return {};
    std::map<unsigned, std::size_t> count;
    for (const auto& file : scripts.files) ++count[scripts.graph.at(file.revision.id).abi];
    if (count.size() == 1) return " (plugin ABI " + std::to_string(count.begin()->first) + ")";
    std::string text;
    for (const auto& [abi, plugins] : count)
        text += (text.empty() ? " (plugin ABI " : ", ABI ") + std::to_string(abi) + ": " +
                std::to_string(plugins);
    return text + ")";
}

}  // namespace

int run_verify(const GlobalOptions& options, bool allow_multiple_heads) {
    // Loading the scripts already checks every plugin file's metadata (a plugin, of a known ABI)
    // and the graph (unique ids, parents present, no cycle); then every check the loader makes
    // short of running code (integrity seal, ELF type and machine, entry point), and the heads.
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    for (const auto& file : scripts.files) check_plugin_file(file);
    const auto& releases = scripts.releases().releases();  // checked against the graph
    const auto heads = scripts.graph.heads();
    // The signature state of every plugin (the scan refused any that is not signed by a trusted
    // key, so each is signed when keys are trusted).
    if (!options.quiet) {
        const bool signed_required = !resolve_trusted_keys(options).empty();
        for (const auto& file : scripts.files) {
            const std::string name = std::filesystem::path(file.path).filename().string();
            if (signed_required)
                std::cout << "signed: " << name << " (" << file.revision.id << ") by key "
                          << file.signer << "\n";
        }
        if (!signed_required)
            std::cout << "signatures: not checked (no trusted keys; see --trusted-keys)\n";
    }
    if (heads.size() > 1 && !allow_multiple_heads)
        throw RevisionError("the versions directory " + scripts.dir.string() + " has " +
                            std::to_string(heads.size()) + " heads (" + join(heads) +
                            "); merge them, or pass --allow-multiple-heads");
    if (!options.quiet)
        std::cout << "OK: " << scripts.files.size() << " revision plugins in "
                  << scripts.dir.string() << abis_text(scripts) << ", head "
                  << heads_text(scripts.graph, heads)
                  << (releases.empty() ? std::string()
                                       : ", " + std::to_string(releases.size()) +
                                             (releases.size() == 1 ? " release (" : " releases (") +
                                             releases.front().name +
                                             (releases.size() > 1 ? " to " + releases.back().name
                                                                  : std::string()) +
                                             ")")
                  << ".\n";
    return exit_ok;
}

int run_upgrade(const GlobalOptions& options, const MigrateOptions& migrate_options,
                const std::string& target) {
    return migrate(options, migrate_options, target, Direction::upgrade);
}

int run_converge(const GlobalOptions& options, const MigrateOptions& migrate_options) {
    return migrate(options, migrate_options, "", std::nullopt);
}

int run_downgrade(const GlobalOptions& options, const MigrateOptions& migrate_options,
                  const std::string& target) {
    return migrate(options, migrate_options, target, Direction::downgrade);
}

void prepare_for_fleet(const GlobalOptions& options, const std::string& command,
                       const std::string& target, bool allow_stale) {
    auto scripts = load_scripts(options);
    const auto stale = stale_sources_of(options, *scripts);
    const bool runs = command == "upgrade" || command == "downgrade" || command == "converge";
    if (command == "upgrade" || command == "converge")
        refuse_stale(stale, options, *scripts, allow_stale);
    if (runs || command == "check") warn_stale(stale, options, *scripts);
    scripts->stale = stale;
    if (!runs) {
        prepared_scripts = std::move(scripts);
        return;
    }
    // What the targets' plans can hold: for an upgrade to a fixed revision (or release), the
    // revisions up to it; a relative target (+N), a downgrade or a converge depends on where each
    // database is.
    std::vector<std::string> revisions;
    const bool relative = is_relative(target) && !is_release_target(target);
    if (command == "upgrade" && !relative) {
        for (const auto& step :
             scripts->graph.plan_upgrade({}, destination_of(*scripts, target, {}, true)))
            revisions.push_back(step.revision);
    } else {
        for (const auto& revision : scripts->graph.revisions()) revisions.push_back(revision.id);
    }
    scripts->plugins = load_plugins(scripts->files, revisions, options.supervisor);
    prepared_scripts = std::move(scripts);
}

std::string position_text(const std::vector<std::string>& heads) {
    return prepared_scripts ? heads_text(prepared_scripts->graph, heads) : join(heads);
}

void release_fleet_scripts() {
    if (prepared_scripts) unload_plugins(prepared_scripts->plugins);
    prepared_scripts.reset();
}

int run_stamp(const GlobalOptions& options, std::vector<std::string> expressions, bool purge,
              bool sql) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    const bool range = expressions.size() == 1 && expressions[0].find(':') != std::string::npos;
    // Release names become their rows before anything is opened: an unknown one changes nothing.
    if (!range) expressions = without_release_targets(scripts, expressions);
    std::unique_ptr<Database> db;
    if (sql) {
        std::vector<std::string> start;
        if (range) {
            auto [from, to] = split_range(expressions[0], "stamp --sql");
            start = from == "base" ? std::vector<std::string>{} : rows_at(scripts, from);
            expressions = without_release_targets(scripts, {to});
        }
        db = open_offline_database(DatabaseUrl::parse(resolve_database_url(options)),
                                   database_options(options, false), start, std::cout);
        std::cout << "-- migrator stamp " << join(expressions, " ") << " --sql (" << db->dialect()
                  << ")\n";
    } else {
        db = open(options, false);
    }
    const MigrationLock lock(*db, options);
    refuse_if_dirty(*db);
    const auto current = db->read_heads();
    if (!purge)
        for (const auto& id : current)
            if (scripts.graph.find(id) == nullptr)
                throw RevisionError("the version table of " + db->describe() + " holds revision " +
                                    id + ", which no plugin in " + scripts.dir.string() +
                                    " provides; pass --purge to replace it anyway");
    // --purge starts from an empty table, as Alembic's does; otherwise rows unrelated to the
    // named revisions stay.
    const auto target =
        scripts.graph.stamp_destination(expressions, purge ? std::vector<std::string>{} : current);
    if (options.result != nullptr) options.result->from = options.result->to = current;
    db->ensure_version_tables();
    // Stored plugins follow the applied revisions: those the new rows drop go with them.
    std::vector<std::string> stored;
    for (const auto& plugin : db->read_stored_plugins()) stored.push_back(plugin.revision);
    stamp(*db, target, scripts.graph.unapplied_among(stored, target));
    if (options.result != nullptr) options.result->to = target;
    if (!options.quiet)
        (sql ? std::cerr : std::cout)
            << (sql ? "Wrote the SQL to stamp " : "Stamped ") << db->describe() << " at "
            << heads_text(scripts.graph, target) << " (no revision ran).\n";
    return exit_ok;
}

int run_releases(const GlobalOptions& options) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    const auto& releases = scripts.releases().releases();
    bool has_database = true;
    try {
        resolve_database_url(options);
    } catch (const DatabaseError&) {
        has_database = false;  // then the releases alone, unmarked
    }
    std::unique_ptr<Database> db;
    std::vector<std::string> rows;
    std::vector<std::string> unknown;
    std::set<std::string> applied_by;
    if (has_database) {
        db = open(options, true);
        rows = db->read_heads();
        for (const auto& id : rows)
            if (scripts.graph.find(id) == nullptr) unknown.push_back(id);
        if (!unknown.empty())
            for (const auto& plugin : db->read_stored_plugins())
                if (std::find(unknown.begin(), unknown.end(), plugin.revision) != unknown.end())
                    applied_by.insert(plugin.release.empty() ? "an unreleased build"
                                                             : "release " + plugin.release);
    }
    const Release* at = db && unknown.empty() ? scripts.releases().at(rows) : nullptr;
    if (options.json) {
        boost::json::array list;
        for (const auto& release : releases)
            list.push_back({{"name", release.name},
                            {"rows", boost::json::value_from(release.rows)},
                            {"current", &release == at},
                            {"newest", &release == &releases.back()}});
        boost::json::value database = nullptr;
        if (db)
            database = {{"url", db->describe()},
                        {"rows", boost::json::value_from(rows)},
                        {"release", at != nullptr ? boost::json::value(at->name) : nullptr},
                        {"unknown_rows", boost::json::value_from(unknown)},
                        {"applied_by", boost::json::value_from(std::vector<std::string>(
                                           applied_by.begin(), applied_by.end()))}};
        print_json({{"versions_dir", scripts.dir.string()},
                    {"releases", std::move(list)},
                    {"database", std::move(database)}});
        return exit_ok;
    }
    if (releases.empty())
        std::cout << "No release is recorded in " << scripts.dir.string()
                  << " (no releases.txt); record one with `scaffold release NAME` and build.\n";
    for (const auto& release : releases)
        std::cout << release.name << " -> " << join(release.rows)
                  << (&release == at ? " (current)" : "")
                  << (&release == &releases.back() ? " (newest)" : "") << "\n";
    if (db && at == nullptr) {
        if (!unknown.empty())
            std::cout << "The database is at " << join(unknown) << ", ahead of these releases"
                      << (applied_by.empty() ? std::string()
                                             : " (applied by " +
                                                   join(std::vector<std::string>(applied_by.begin(),
                                                                                 applied_by.end()),
                                                        " and ") +
                                                   ")")
                      << ".\n";
        else
            std::cout << "The database is at " << heads_text(scripts.graph, rows)
                      << ", which is no recorded release.\n";
    }
    return exit_ok;
}

int run_releases_prune(const GlobalOptions& options, const std::string& name) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    const Release& release = scripts.releases().find(name);
    const auto held = scripts.graph.ancestors_or_self(release.rows);
    auto db = open(options, false);
    const MigrationLock lock(*db, options);
    std::vector<std::string> removed;
    std::uint64_t bytes = 0;
    for (const auto& plugin : db->read_stored_plugins())
        if (std::find(held.begin(), held.end(), plugin.revision) != held.end()) {
            removed.push_back(plugin.revision);
            bytes += plugin.size;
        }
    if (!removed.empty()) {
        db->begin();
        try {
            db->forget_stored_plugins(removed);
            db->commit();
        } catch (...) {
            db->rollback();
            throw;
        }
    }
    if (!options.quiet)
        std::cout << "Removed " << removed.size()
                  << (removed.size() == 1 ? " stored plugin (" : " stored plugins (") << bytes
                  << " bytes) of revisions release " << release.name << " holds from "
                  << db->describe() << ": migrators of release " << release.name
                  << " and newer have them, older ones can no longer roll back past it.\n";
    return exit_ok;
}

int run_resolve(const GlobalOptions& options, const std::string& expression, bool applied) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    auto db = open(options, false);
    const MigrationLock lock(*db, options);
    // The revision may have lost its plugin since; then only its full id names it.
    std::string revision = expression;
    if (scripts.graph.find(expression) == nullptr) {
        const auto dirty = dirty_step(*db);
        if (!dirty || dirty->revision != expression)
            revision = scripts.graph.resolve_id(expression);
    }
    db->ensure_version_tables();
    const HistoryRecord dirty = resolve_dirty(*db, revision, applied);
    if (!options.quiet)
        std::cout << "Resolved the dirty " << history_direction_name(dirty.direction)
                  << " of revision " << revision << " as " << (applied ? "applied" : "rolled back")
                  << ": " << db->describe() << " is at "
                  << heads_text(scripts.graph, db->read_heads()) << ".\n";
    return exit_ok;
}

namespace {

/// One thing `check` found: what kind, which revision (may be empty), and the sentence.
struct Finding {
    std::string kind;
    std::string revision;
    std::string message;
};

boost::json::array differences_json(const std::vector<SchemaChange>& differences) {
    boost::json::array array;
    for (const auto& difference : differences)
        array.push_back({{"kind", kind_name(difference.kind)},
                         {"table", difference.table},
                         {"message", difference.describe()}});
    return array;
}

/// "1 problem", "3 schema differences".
/// The sentence `check` prints for a finding of check_database.
std::string finding_text(const CheckFinding& finding, const CheckReport& report, Database& db,
                         const Scripts& scripts) {
    const RevisionGraph& graph = scripts.graph;
    const std::string& id = finding.revision;
    switch (finding.kind) {
        case CheckFinding::Kind::multiple_heads:
            return "the versions directory " + scripts.dir.string() + " has " +
                   std::to_string(report.heads.size()) + " heads (" + join(report.heads) +
                   "); merge them with `scaffold merge heads`";
        case CheckFinding::Kind::missing_plugin:
            return missing_plugin_text(db, id, finding.stored_plugin, scripts);
        case CheckFinding::Kind::checksum_mismatch: {
            const Revision& revision = graph.at(id);
            return "revision " + id + " (" + revision.message +
                   ") was applied from source SHA-256 " + finding.applied_sha256.substr(0, 12) +
                   "..., but its plugin " + revision.path + " was built from " +
                   revision.source_sha256.substr(0, 12) +
                   "...: its source was edited after it was applied (an intended edit is "
                   "accepted with `migrator accept-edit " +
                   id + "`)";
        }
        case CheckFinding::Kind::dirty: {
            const HistoryRecord& dirty = finding.dirty_step;
            return "the database is dirty: the non-transactional " +
                   std::string(history_direction_name(dirty.direction)) + " of revision " +
                   dirty.revision + " started at " + dirty.started_at + " did not complete (" +
                   dirty.error + "); repair the schema, then `migrator resolve " + dirty.revision +
                   " --applied|--rolled-back`";
        }
        case CheckFinding::Kind::not_at_head:
            return "the database is at " + heads_text(graph, report.current) +
                   ", not at the head revision(s) " + heads_text(graph, graph.head_rows()) +
                   "; run `migrator upgrade heads`";
    }
    return {};
}

/// Adds a problem for each revision source the plugins do not match (when the sources are
/// known), with the command that builds them.
void problems_of_sources(const GlobalOptions& options, const Scripts& scripts,
                         std::vector<Finding>& problems) {
    const auto stale = stale_sources_of(options, scripts);
    if (stale.empty()) return;
    const std::string build = build_command(scripts.dir, resolve_revisions_dir(options));
    for (const auto& source : stale)
        problems.push_back({source.plugin.empty() ? "unbuilt_source" : "stale_plugin", source.id,
                            stale_text(source, scripts.dir) + "; build with `" + build + "`"});
}

boost::json::array findings_json(const std::vector<Finding>& findings) {
    boost::json::array array;
    for (const auto& finding : findings)
        array.push_back(
            {{"kind", finding.kind}, {"revision", finding.revision}, {"message", finding.message}});
    return array;
}

}  // namespace

int run_check(const GlobalOptions& options, const CheckOptions& check) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    // Before any connection: a missing or untrusted schema file is a setting to fix first.
    const DeclaredSchemaSource declared_source =
        check.schema ? resolve_declared_schema(options, scripts.dir) : DeclaredSchemaSource();
    // How messages name it: the file's path as before, or "the models MODULE:ATTRIBUTE".
    const std::string declared_name =
        declared_source.models.empty() ? declared_source.file.string() : declared_source.describe();
    const DatabaseUrl url = DatabaseUrl::parse(resolve_database_url(options));
    const std::optional<DatabaseUrl> scratch =
        check.schema ? resolve_scratch_url(options, url) : std::nullopt;
    const auto db = open_at(options, url, true);
    if (check.schema && !scratch && db->hot_standby())
        throw DatabaseError(db->describe() +
                            " is a hot standby (a read-only replica in recovery), where check "
                            "--schema cannot create the scratch schema it builds the declared "
                            "schema in; name a writable database of the same dialect for that "
                            "with --scratch-url (e.g. the primary)");
    const CheckReport report = check_database(*db, scripts.graph, check.allow_pending);
    const auto& current = report.current;
    const auto& heads = report.heads;
    const std::string dir = scripts.dir.string();
    std::vector<Finding> problems;
    std::vector<Finding> warnings;
    // The revision sources the plugins do not match come after the rows no plugin provides.
    const auto sources_at = std::find_if(
        report.findings.begin(), report.findings.end(), [](const CheckFinding& finding) {
            return finding.kind > CheckFinding::Kind::missing_plugin;
        });
    for (auto found = report.findings.begin(); found != report.findings.end(); ++found) {
        if (found == sources_at) problems_of_sources(options, scripts, problems);
        (found->problem ? problems : warnings)
            .push_back({kind_name(found->kind), found->revision,
                        finding_text(*found, report, *db, scripts)});
    }
    if (sources_at == report.findings.end()) problems_of_sources(options, scripts, problems);

    std::vector<SchemaChange> differences;
    if (check.schema) {
        const auto declared = declared_schema(scratch ? *scratch : url,
                                              database_options(options, false), declared_source);
        differences = diff_schemas(introspect_database(*db), declared);
    }
    const bool ok = problems.empty() && differences.empty();
    if (options.result != nullptr) {
        options.result->from = options.result->to = current;
        std::vector<std::string> found;
        for (const auto& problem : problems) found.push_back(problem.message);
        for (const auto& difference : differences)
            found.push_back("difference: " + difference.describe());
        options.result->detail = join(found, "; ");
    }

    // Who applied the revisions without a recorded checksum: Alembic, when nothing migrator did
    // speaks of them and the version table is Alembic's; otherwise a stamp, or another tool.
    const bool by_alembic =
        report.unrecorded_before_migrator && options.version_table == "alembic_version";
    if (options.json) {
        boost::json::object document{{"database", db->describe()},
                                     {"versions_dir", dir},
                                     {"current", boost::json::value_from(current)},
                                     {"heads", boost::json::value_from(heads)},
                                     {"ok", ok},
                                     {"problems", findings_json(problems)},
                                     {"warnings", findings_json(warnings)}};
        if (!report.unrecorded.empty())
            document["no_checksum_recorded"] = {
                {"revisions", boost::json::value_from(report.unrecorded)},
                {"applied_by", by_alembic ? "alembic" : "unknown"}};
        if (check.schema) {
            if (declared_source.models.empty())
                document["schema_file"] = declared_source.file.string();
            else
                document["models"] = declared_source.models;
            document["schema_differences"] = differences_json(differences);
        }
        print_json(document);
        return ok ? exit_ok : exit_check_failed;
    }
    for (const auto& warning : warnings)
        std::cout << "warning: " << printable(warning.message) << '\n';
    for (const auto& problem : problems)
        std::cout << "problem: " << printable(problem.message) << '\n';
    for (const auto& difference : differences)
        std::cout << "difference: " << printable(difference.describe()) << '\n';
    if (!ok) {
        std::string found;
        if (!problems.empty()) found = count_of(problems.size(), "problem");
        if (!differences.empty())
            found +=
                (found.empty() ? "" : " and ") + count_of(differences.size(), "schema difference");
        std::cerr << "error: migrator check found " << found << " in " << db->describe()
                  << " against " << dir
                  << (!check.schema                    ? ""
                      : declared_source.models.empty() ? " and the declared schema " + declared_name
                                                       : " and " + declared_name)
                  << (differences.empty() ? ""
                                          : " (each difference is a change the database needs "
                                            "to match the declared schema)")
                  << '\n';
        return exit_check_failed;
    }
    // Revisions no history row speaks of have no recorded checksum: they are counted apart,
    // never as matching (Alembic applied them, on a database migrator adopted).
    const std::size_t matching = report.applied.size() - report.unrecorded.size();
    std::string applied = matching == 1
                              ? "1 applied revision matches its plugin"
                              : std::to_string(matching) + " applied revisions match their plugins";
    if (!report.unrecorded.empty()) {
        const std::size_t count = report.unrecorded.size();
        const std::string listed = ": " + join(report.unrecorded) + ")";
        const std::string what =
            by_alembic ? (count == 1 ? " was applied by Alembic (no checksum recorded"
                                     : " were applied by Alembic (no checksum recorded")
                       : (count == 1 ? " has no recorded checksum (stamped, or applied outside "
                                       "migrator"
                                     : " have no recorded checksum (stamped, or applied outside "
                                       "migrator");
        applied = matching == 0
                      ? (count == 1 ? "its applied revision"
                                    : "its " + std::to_string(count) + " applied revisions") +
                            what + listed
                      : applied + " and " + std::to_string(count) + what + listed;
    }
    std::cout << "OK: " << db->describe() << " is at " << heads_text(scripts.graph, current) << "; "
              << applied << " in " << dir
              << (check.schema ? "; its schema matches " + declared_name : "") << ".\n";
    return exit_ok;
}

int run_accept_edit(const GlobalOptions& options, const std::vector<std::string>& expressions) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    auto db = open(options, false);
    const MigrationLock lock(*db, options);
    const auto current = db->read_heads();
    std::vector<std::string> known;
    for (const auto& id : current)
        if (scripts.graph.find(id) != nullptr) known.push_back(id);
    const auto applied = scripts.graph.ancestors_or_self(known);
    const auto checksums = applied_source_checksums(db->read_history(false));
    // Every revision is judged before anything is written: all are accepted, or none.
    std::vector<const Revision*> edited;
    for (const auto& expression : expressions) {
        const Revision& revision = scripts.graph.at(scripts.graph.resolve_id(expression));
        if (std::find(applied.begin(), applied.end(), revision.id) == applied.end())
            throw RevisionError("revision " + revision.id + " (" + revision.message +
                                ") is not applied to " + db->describe() +
                                ": only an applied revision's edit needs accepting");
        if (revision.source_sha256.empty())
            throw RevisionError("the plugin " + revision.path + " of revision " + revision.id +
                                " records no source checksum: there is nothing to compare");
        const auto recorded = checksums.find(revision.id);
        if (recorded != checksums.end() && recorded->second == revision.source_sha256) {
            if (!options.quiet)
                std::cout << "Revision " << revision.id << " (" << printable(revision.message)
                          << ") matches the source it was applied from: nothing to accept.\n";
            continue;
        }
        if (std::find(edited.begin(), edited.end(), &revision) == edited.end())
            edited.push_back(&revision);
    }
    if (edited.empty()) return exit_ok;
    db->ensure_version_tables();
    for (const Revision* revision : edited) {
        const auto recorded = checksums.find(revision->id);
        const std::string before = recorded == checksums.end() ? "" : recorded->second;
        accept_edit(*db, revision->id, before, revision->source_sha256);
        if (!options.quiet)
            std::cout << "Accepted the edit of revision " << revision->id << " ("
                      << printable(revision->message) << "): `check` now compares its plugin "
                      << "with source SHA-256 " << revision->source_sha256.substr(0, 12) << "..."
                      << (before.empty() ? "" : " (applied from " + before.substr(0, 12) + "...)")
                      << ".\n";
    }
    return exit_ok;
}

std::vector<std::string> revision_names(const GlobalOptions& options) {
    const auto loaded_scripts = load_scripts(options);
    const Scripts& scripts = *loaded_scripts;
    std::vector<std::string> names{"head", "heads", "base"};
    for (const auto& revision : scripts.graph.revisions()) names.push_back(revision.id);
    for (const auto& label : scripts.graph.branch_labels()) names.push_back(label);
    for (const auto& release : scripts.releases().releases()) names.push_back("@" + release.name);
    return names;
}

}  // namespace migrator::cli
