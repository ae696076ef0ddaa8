// The migrator commands: each reads the scripts and the database, then prints Alembic-style lines.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <migrator/database_url.hpp>
#include <migrator/db.hpp>
#include <migrator/errors.hpp>
#include <migrator/graph.hpp>
#include <migrator/plugins.hpp>
#include <migrator/runner.hpp>
#include <string>

#include "cli.hpp"

namespace migrator::cli {
namespace {

/// The versions directory and the graph built from its plugins' metadata (no plugin loaded).
struct Scripts {
    std::filesystem::path dir;
    std::vector<PluginFile> files;
    RevisionGraph graph;
};

std::vector<Revision> revisions_of(const std::vector<PluginFile>& files) {
    std::vector<Revision> revisions;
    revisions.reserve(files.size());
    for (const auto& file : files) revisions.push_back(file.revision);
    return revisions;
}

Scripts load_scripts(const GlobalOptions& options) {
    auto dir = resolve_versions_dir(options);
    auto files = scan_versions_dir(dir);
    RevisionGraph graph(revisions_of(files));
    return Scripts{std::move(dir), std::move(files), std::move(graph)};
}

std::unique_ptr<Database> open(const GlobalOptions& options, bool read_only) {
    DatabaseOptions db_options;
    db_options.version_table = options.version_table;
    db_options.read_only = read_only;
    db_options.version_schema = options.version_schema;
    return open_database(DatabaseUrl::parse(resolve_database_url(options)), db_options);
}

std::string join(const std::vector<std::string>& items, const char* separator) {
    std::string text;
    for (const auto& item : items) {
        if (!text.empty()) text += separator;
        text += item;
    }
    return text;
}

/// " (head)", " (branchpoint)", " (mergepoint)" as Alembic marks revisions.
std::string markers(const RevisionGraph& graph, const Revision& revision) {
    std::string text;
    const auto& children = graph.children(revision.id);
    if (children.empty()) text += " (head)";
    if (children.size() > 1) text += " (branchpoint)";
    if (revision.parents.size() > 1) text += " (mergepoint)";
    return text;
}

/// "<base>", "a1b2", or "(a1b2, c3d4)" for a merge: the left side of a history line.
std::string parents_text(const Revision& revision) {
    if (revision.parents.empty()) return "<base>";
    if (revision.parents.size() == 1) return revision.parents.front();
    return "(" + join(revision.parents, ", ") + ")";
}

std::string heads_text(const RevisionGraph& graph, const std::vector<std::string>& heads) {
    if (heads.empty()) return "base";
    std::string text;
    for (const auto& id : heads) {
        if (!text.empty()) text += ", ";
        const Revision* revision = graph.find(id);
        text += revision ? id + markers(graph, *revision) : id;
    }
    return text;
}

std::string format_duration(double ms) {
    char text[32];
    if (ms < 1000)
        std::snprintf(text, sizeof text, "%.1f ms", ms);
    else
        std::snprintf(text, sizeof text, "%.2f s", ms / 1000);
    return text;
}

/// Prints "[k/n] Running upgrade  -> id, message" and the step's time when it ends; log lines
/// of the revision go indented in between.
class ConsoleListener : public RunListener {
public:
    void step_started(std::size_t index, std::size_t total, const Step& step,
                      const Revision& revision) override {
        const bool up = step.direction == Direction::upgrade;
        const std::string parents = join(revision.parents, ", ");
        std::cout << '[' << index << '/' << total << "] Running "
                  << (up ? "upgrade " : "downgrade ") << (up ? parents : revision.id) << " -> "
                  << (up ? revision.id : parents) << ", " << revision.message << std::flush;
        logged_ = false;
        line_open_ = true;
    }
    void step_log(const std::string& message) override {
        if (!logged_) std::cout << '\n';
        std::cout << "      " << message << '\n' << std::flush;
        logged_ = true;
    }
    void step_finished(std::size_t, std::size_t, const Step&, double elapsed_ms) override {
        std::cout << (logged_ ? "      done in " : " ... ") << format_duration(elapsed_ms) << '\n'
                  << std::flush;
        line_open_ = false;
    }
    /// Ends the line of a step that failed, so the error that follows stands on its own.
    void step_failed() {
        if (line_open_) std::cout << (logged_ ? "      FAILED" : " ... FAILED") << std::endl;
        line_open_ = false;
    }

private:
    bool logged_ = false;
    bool line_open_ = false;
};

/// Holds the migration lock for the lifetime of a command.
class MigrationLock {
public:
    MigrationLock(Database& db, const GlobalOptions& options) : db_(db) {
        db_.lock_migrations(
            std::chrono::milliseconds(static_cast<long long>(options.lock_timeout_seconds * 1000)));
    }
    ~MigrationLock() { db_.unlock_migrations(); }
    MigrationLock(const MigrationLock&) = delete;
    MigrationLock& operator=(const MigrationLock&) = delete;

private:
    Database& db_;
};

/// Shared by upgrade and downgrade: lock, resolve, plan, run, summarise.
int migrate(const GlobalOptions& options, const std::string& target, Direction direction) {
    const Scripts scripts = load_scripts(options);
    auto db = open(options, false);
    // The lock comes before reading the current revision: a fleet of runners must not plan from
    // a state one of them is about to change.
    const MigrationLock lock(*db, options);
    const auto current = db->read_heads();
    const auto wanted = scripts.graph.resolve_target(target, current);
    const Planner plan_from = [&](const std::vector<std::string>& heads) {
        return direction == Direction::upgrade ? scripts.graph.plan_upgrade(heads, wanted)
                                               : scripts.graph.plan_downgrade(heads, wanted);
    };
    const auto plan = plan_from(current);
    if (plan.empty()) {
        std::cout << "Nothing to do: " << db->describe() << " is already at "
                  << heads_text(scripts.graph, current) << ".\n";
        return exit_ok;
    }
    db->ensure_version_tables();
    ConsoleListener listener;
    try {
        const auto summary = run_plan(plan, plan_from, scripts.graph, scripts.files, *db, listener);
        if (summary.steps == 0)
            std::cout << "Nothing to do: another migrator brought " << db->describe() << " to "
                      << heads_text(scripts.graph, summary.heads) << ".\n";
        else
            std::cout << (direction == Direction::upgrade ? "Upgraded" : "Downgraded") << " to "
                      << heads_text(scripts.graph, summary.heads) << ": " << summary.steps
                      << (summary.steps == 1 ? " step in " : " steps in ")
                      << format_duration(summary.elapsed_ms) << ".\n";
    } catch (...) {
        listener.step_failed();
        throw;
    }
    return exit_ok;
}

}  // namespace

int run_history(const GlobalOptions& options) {
    const Scripts scripts = load_scripts(options);
    const auto& revisions = scripts.graph.revisions();
    for (auto it = revisions.rbegin(); it != revisions.rend(); ++it)
        std::cout << parents_text(*it) << " -> " << it->id << markers(scripts.graph, *it) << ", "
                  << it->message << '\n';
    return exit_ok;
}

int run_current(const GlobalOptions& options) {
    const Scripts scripts = load_scripts(options);
    const auto db = open(options, true);
    for (const auto& id : db->read_heads()) {
        const Revision* revision = scripts.graph.find(id);
        if (revision == nullptr) {
            std::cout << id << " (not in " << scripts.dir.string() << ")\n";
            std::cerr << "warning: the database is at revision " << id << ", which no plugin in "
                      << scripts.dir.string() << " provides\n";
        } else {
            std::cout << id << markers(scripts.graph, *revision) << '\n';
        }
    }
    return exit_ok;
}

int run_heads(const GlobalOptions& options) {
    const Scripts scripts = load_scripts(options);
    for (const auto& id : scripts.graph.heads())
        std::cout << id << markers(scripts.graph, scripts.graph.at(id)) << '\n';
    return exit_ok;
}

int run_show(const GlobalOptions& options, const std::string& expression) {
    const Scripts scripts = load_scripts(options);
    // Relative forms need the database's current revision; plain ids and head/base do not.
    std::vector<std::string> current;
    const bool relative = expression.find_first_of("+-") != std::string::npos;
    if (relative) current = open(options, true)->read_heads();
    const auto ids = scripts.graph.resolve_target(expression, current);
    if (ids.empty()) throw RevisionError("'" + expression + "' is base, which is not a revision");
    bool first = true;
    for (const auto& id : ids) {
        const Revision& revision = scripts.graph.at(id);
        if (!first) std::cout << '\n';
        first = false;
        std::cout << "Rev: " << revision.id << markers(scripts.graph, revision) << '\n';
        std::cout << "Parent: "
                  << (revision.parents.empty() ? "<base>" : join(revision.parents, ", ")) << '\n';
        const auto& children = scripts.graph.children(id);
        if (children.size() > 1) std::cout << "Branches into: " << join(children, ", ") << '\n';
        std::cout << "Path: " << revision.path << '\n';
        std::cout << "Create Date: " << revision.create_date << '\n';
        std::cout << "Source SHA-256: " << revision.source_sha256 << "\n\n";
        std::cout << "    " << revision.message << '\n';
    }
    return exit_ok;
}

int run_upgrade(const GlobalOptions& options, const std::string& target) {
    return migrate(options, target, Direction::upgrade);
}

int run_downgrade(const GlobalOptions& options, const std::string& target) {
    return migrate(options, target, Direction::downgrade);
}

int run_stamp(const GlobalOptions& options, const std::string& expression) {
    const Scripts scripts = load_scripts(options);
    auto db = open(options, false);
    const MigrationLock lock(*db, options);
    const auto target = scripts.graph.resolve_target(expression, db->read_heads());
    db->ensure_version_tables();
    stamp(*db, target);
    std::cout << "Stamped " << db->describe() << " at " << heads_text(scripts.graph, target)
              << " (no revision ran).\n";
    return exit_ok;
}

}  // namespace migrator::cli
