// Tests of the runner (run_plan) on temporary SQLite files with the fixture plugins: what each way
// of running a step commits, records and reports.
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/db/db.hpp>
#include <migrator/graph/graph.hpp>
#include <migrator/plugins/plugins.hpp>
#include <migrator/runner/runner.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "database_context.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using migrator::HistoryDirection;
using Ids = std::vector<std::string>;

namespace {

const std::string a1 = "a1a1a1a1a1a1";
const std::string b2 = "b2b2b2b2b2b2";
const std::string c3 = "c3c3c3c3c3c3";
const std::string f3 = "f3f3f3f3f3f3";
const std::string n3 = "n3n3n3n3n3n3";

/// The revisions of one fixture versions directory, their graph, and an upgrade planner.
struct Versions {
    explicit Versions(const std::string& scenario)
        : files(migrator::scan_versions_dir(fs::path(MIGRATOR_FIXTURES_DIR) / scenario)),
          graph(revisions_of(files)) {}

    static std::vector<migrator::Revision> revisions_of(
        const std::vector<migrator::PluginFile>& files) {
        std::vector<migrator::Revision> revisions;
        for (const auto& file : files) revisions.push_back(file.revision);
        return revisions;
    }

    /// The planner of an upgrade to `destination`.
    migrator::Planner upgrade_to(const Ids& destination) const {
        return [this, destination](const Ids& heads) {
            return graph.plan_upgrade(heads, destination);
        };
    }

    std::vector<migrator::PluginFile> files;
    migrator::RevisionGraph graph;
};

/// Records what the runner reports.
class RecordingListener final : public migrator::RunListener {
public:
    void step_started(std::size_t, std::size_t, const migrator::Step& step,
                      const migrator::Revision&) override {
        started.push_back(step.revision);
    }
    void step_log(const std::string&) override {}
    void step_finished(std::size_t, std::size_t, const migrator::Step& step, double) override {
        finished.push_back(step.revision);
    }
    Ids started;
    Ids finished;
};

/// Runs the upgrade of `versions` from the database's rows to `destination`.
migrator::RunSummary upgrade(const Versions& versions, migrator::Database& db,
                             const Ids& destination, const migrator::RunOptions& options = {}) {
    RecordingListener listener;
    const auto planner = versions.upgrade_to(destination);
    return migrator::run_plan(planner(db.read_heads()), planner, versions.graph, versions.files, db,
                              listener, options);
}

/// The message `run` throws as `Error`; fails the test when it throws nothing.
template <typename Error, typename Run>
std::string error_of(Run&& run) {
    try {
        run();
    } catch (const Error& e) {
        return e.what();
    }
    FAIL("no error was thrown");
    return {};
}

bool table_exists(migrator::Database& db, const std::string& table) {
    bool found = false;
    db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '" + table + "'",
             [&](const auto&, const auto&) { return found = true; });
    return found;
}

/// Sets an environment variable while it lives.
class ScopedEnvironment {
public:
    explicit ScopedEnvironment(const char* name) : name_(name) { setenv(name, "1", 1); }
    ~ScopedEnvironment() { unsetenv(name_); }
    ScopedEnvironment(const ScopedEnvironment&) = delete;
    ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

private:
    const char* name_;
};

}  // namespace

TEST_CASE("A plan runs each step in order, with its version rows and history row", "[runner]") {
    const Versions versions("chain");
    testing::ScratchDatabase scratch("sqlite");
    auto db = scratch.open();
    RecordingListener listener;
    const auto planner = versions.upgrade_to({c3});
    const auto summary =
        migrator::run_plan(planner({}), planner, versions.graph, versions.files, *db, listener);

    CHECK(summary.steps == 3);
    CHECK(summary.heads == Ids{c3});
    CHECK(listener.started == Ids{a1, b2, c3});
    CHECK(listener.finished == Ids{a1, b2, c3});
    CHECK(db->read_heads() == Ids{c3});
    const auto history = db->read_history(false);
    REQUIRE(history.size() == 3);
    CHECK(history[0].revision == a1);
    CHECK(history[0].direction == HistoryDirection::upgrade);
    CHECK(history[0].heads_before.empty());
    CHECK(history[0].heads_after == Ids{a1});
    CHECK(history[2].heads_before == Ids{b2});
    CHECK(history[2].heads_after == Ids{c3});
    for (const auto& row : history) {
        CHECK(row.success);
        CHECK(!row.dirty);
    }

    SECTION("and a downgrade undoes them the same way") {
        const auto down = [&](const Ids& heads) {
            return versions.graph.plan_downgrade(heads, {});
        };
        const auto undone = migrator::run_plan(down(db->read_heads()), down, versions.graph,
                                               versions.files, *db, listener);
        CHECK(undone.steps == 3);
        CHECK(db->read_heads().empty());
        const auto rows = db->read_history(false);
        REQUIRE(rows.size() == 6);
        CHECK(rows[3].direction == HistoryDirection::downgrade);
        CHECK(rows[3].revision == c3);
        CHECK(!table_exists(*db, "item"));
    }
}

TEST_CASE("A failing step is rolled back and recorded; the steps before it stay committed",
          "[runner]") {
    const Versions versions("failing");
    testing::ScratchDatabase scratch("sqlite");
    auto db = scratch.open();
    const auto message = error_of<migrator::MigrationError>([&] { upgrade(versions, *db, {f3}); });

    CHECK_THAT(message, Contains("upgrade of revision " + f3));
    CHECK_THAT(message, Contains("; it was rolled back and the database is at " + b2));
    CHECK_THAT(message, !Contains("could not be recorded"));
    CHECK(db->read_heads() == Ids{b2});
    CHECK(!table_exists(*db, "half_done"));
    const auto history = db->read_history(false);
    REQUIRE(history.size() == 3);
    CHECK(history[2].revision == f3);
    CHECK(!history[2].success);
    CHECK(!history[2].dirty);
    CHECK(history[2].heads_after == Ids{b2});  // it changed nothing
    CHECK_THAT(history[2].error, Contains("no_such_table"));
}

TEST_CASE("With --single-transaction a failing step rolls the whole run back", "[runner]") {
    const Versions versions("failing");
    testing::ScratchDatabase scratch("sqlite");
    auto db = scratch.open();
    migrator::RunOptions options;
    options.single_transaction = true;
    const auto message =
        error_of<migrator::MigrationError>([&] { upgrade(versions, *db, {f3}, options); });

    CHECK_THAT(message,
               Contains("the whole run (--single-transaction) was rolled back and the database "
                        "is at base"));
    CHECK(db->read_heads().empty());
    CHECK(!table_exists(*db, "item"));
    // Only the failure is recorded, in a transaction of its own.
    const auto history = db->read_history(false);
    REQUIRE(history.size() == 1);
    CHECK(history[0].revision == f3);
    CHECK(!history[0].success);

    SECTION("and a run that succeeds commits every step at once") {
        const Versions chain("chain");
        testing::ScratchDatabase other("sqlite");
        auto fresh = other.open();
        CHECK(upgrade(chain, *fresh, {c3}, options).steps == 3);
        CHECK(fresh->read_heads() == Ids{c3});
        CHECK(fresh->read_history(false).size() == 3);
    }
}

TEST_CASE("A non-transactional step runs behind a dirty mark that its success clears", "[runner]") {
    const Versions versions("nontransactional");
    testing::ScratchDatabase scratch("sqlite");
    auto db = scratch.open();

    SECTION("on success the mark is cleared with the version rows") {
        CHECK(upgrade(versions, *db, {n3}).steps == 3);
        CHECK(db->read_heads() == Ids{n3});
        CHECK(!migrator::dirty_step(*db));
        const auto history = db->read_history(false);
        REQUIRE(history.size() == 3);
        CHECK(history[2].revision == n3);
        CHECK(history[2].success);
        CHECK(!history[2].dirty);
        CHECK(history[2].heads_after == Ids{n3});
    }
    SECTION("on failure the mark stays, with what it did") {
        const ScopedEnvironment fail("MIGRATOR_TEST_N3_FAIL");
        const auto message =
            error_of<migrator::MigrationError>([&] { upgrade(versions, *db, {n3}); });
        CHECK_THAT(message, Contains("n3 failed halfway"));
        CHECK_THAT(message, Contains("the database is marked dirty at revision " + n3));
        CHECK(db->read_heads() == Ids{b2});
        CHECK(table_exists(*db, "n3_partial"));  // not rolled back: it ran outside a transaction
        const auto dirty = migrator::dirty_step(*db);
        REQUIRE(dirty);
        CHECK(dirty->revision == n3);
        CHECK(dirty->heads_before == Ids{b2});
        CHECK(dirty->heads_after == Ids{n3});  // what `resolve --applied` installs
        CHECK_THAT(dirty->error, Contains("n3 failed halfway"));
        CHECK_THROWS_AS(migrator::refuse_if_dirty(*db), migrator::DirtyError);
    }
}

TEST_CASE("A run plans again when another runner moved the version rows", "[runner]") {
    const Versions versions("chain");
    testing::ScratchDatabase scratch("sqlite");
    auto db = scratch.open();
    const auto planner = versions.upgrade_to({c3});
    const auto plan = planner({});  // made before the other runner ran
    // Another runner, on a connection of its own, goes to `heads` first; then the plan runs.
    RecordingListener listener;
    const auto after_other_runner = [&](const Ids& heads) {
        upgrade(versions, *scratch.open(), heads);
        return migrator::run_plan(plan, planner, versions.graph, versions.files, *db, listener);
    };

    SECTION("it runs only what is left, each revision once") {
        CHECK(after_other_runner({a1}).steps == 2);
        CHECK(listener.started == Ids{b2, c3});
        CHECK(db->read_heads() == Ids{c3});
    }
    SECTION("it ends without running anything when nothing is left") {
        const auto summary = after_other_runner({c3});
        CHECK(summary.steps == 0);
        CHECK(summary.heads == Ids{c3});
        CHECK(listener.started.empty());
    }
    CHECK(db->read_history(false).size() == 3);
}

TEST_CASE("Offline, each step's SQL is printed, a non-transactional one outside BEGIN/COMMIT",
          "[runner]") {
    const Versions versions("nontransactional");
    std::ostringstream out;
    auto db = migrator::open_offline_database(migrator::DatabaseUrl::parse("sqlite:///offline.db"),
                                              {}, {}, out);
    const auto summary = upgrade(versions, *db, {n3});
    CHECK(summary.steps == 3);
    CHECK(summary.heads == Ids{n3});
    const std::string sql = out.str();
    CHECK_THAT(sql, Contains("CREATE TABLE item"));
    const auto index = sql.find("CREATE INDEX ix_item_price");
    REQUIRE(index != std::string::npos);
    // The last transaction (b2's) is closed before n3's statement, and none opens after it.
    CHECK(sql.rfind("COMMIT;", index) > sql.rfind("BEGIN;", index));
    CHECK(sql.find("BEGIN;", index) == std::string::npos);
    CHECK(sql.find("INSERT INTO \"migrator_version_history\"", index) != std::string::npos);

    SECTION("and a failure says the SQL is incomplete") {
        const ScopedEnvironment fail("MIGRATOR_TEST_N3_FAIL");
        std::ostringstream failed_out;
        auto failing = migrator::open_offline_database(
            migrator::DatabaseUrl::parse("sqlite:///offline.db"), {}, {}, failed_out);
        CHECK_THAT(error_of<migrator::MigrationError>([&] { upgrade(versions, *failing, {n3}); }),
                   Contains("failed: n3 failed halfway; the SQL printed so far is incomplete, do "
                            "not apply it"));
    }
}

TEST_CASE("A failed step whose history row cannot be written is still the failure reported",
          "[runner]") {
    const Versions versions("failing");
    testing::ScratchDatabase scratch("sqlite");
    auto db = scratch.open();
    db->ensure_version_tables();
    // Successful steps record as ever; the failure's row is refused by the database.
    db->execute(
        "CREATE TRIGGER refuse_failures BEFORE INSERT ON migrator_version_history "
        "WHEN NEW.success = 0 BEGIN SELECT RAISE(ABORT, 'failures are not kept here'); END");
    const auto message = error_of<migrator::MigrationError>([&] { upgrade(versions, *db, {f3}); });

    CHECK_THAT(message, Contains("upgrade of revision " + f3));
    CHECK_THAT(message, Contains("no_such_table"));
    CHECK_THAT(message, Contains("; it was rolled back and the database is at " + b2 +
                                 "; its failure could not be recorded in the history table: "));
    CHECK_THAT(message, Contains("failures are not kept here"));
    CHECK(db->read_heads() == Ids{b2});
    CHECK(db->read_history(false).size() == 2);
}

namespace {

/// The actions of the signals a supervisor would handle, and the threads of this process.
struct ProcessState {
    std::vector<void*> actions;
    std::size_t threads = 0;

    static ProcessState now() {
        ProcessState state;
        for (const int signal :
             {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGINT, SIGTERM, SIGHUP}) {
            struct sigaction action {};
            sigaction(signal, nullptr, &action);
            state.actions.push_back(action.sa_flags & SA_SIGINFO
                                        ? reinterpret_cast<void*>(action.sa_sigaction)
                                        : reinterpret_cast<void*>(action.sa_handler));
        }
        for (const auto& entry : fs::directory_iterator("/proc/self/task")) {
            static_cast<void>(entry);
            ++state.threads;
        }
        return state;
    }
};

/// Keeps the lines of every watch it is asked for.
class RecordingSupervisor final : public migrator::StepSupervisor {
public:
    class RecordingWatch final : public Watch {
    public:
        explicit RecordingWatch(std::vector<std::string>& lines) : lines_(lines) {}
        void set_lines(migrator::StepFailureLines lines) override {
            lines_.push_back(lines.signalled);
        }

    private:
        std::vector<std::string>& lines_;
    };

    std::unique_ptr<Watch> watch(migrator::StepFailureLines lines,
                                 std::chrono::milliseconds timeout) override {
        signalled.push_back(lines.signalled);
        if (timeout.count() > 0) timed_out.push_back(lines.timed_out);
        return std::make_unique<RecordingWatch>(signalled);
    }

    std::vector<std::string> signalled;
    std::vector<std::string> timed_out;
};

}  // namespace

TEST_CASE("The runner installs no signal handler and starts no thread of its own", "[runner]") {
    const Versions versions("chain");
    testing::ScratchDatabase scratch("sqlite");
    auto db = scratch.open();
    const auto before = ProcessState::now();
    auto plugins = migrator::load_plugins(versions.files, {a1}, nullptr);
    {
        const migrator::RunGuard guard(*db, nullptr);
        migrator::RunOptions options;
        options.loaded = &plugins;
        options.step_timeout = std::chrono::milliseconds(60000);  // no supervisor: not enforced
        CHECK(upgrade(versions, *db, {c3}, options).steps == 3);
    }
    migrator::unload_plugins(plugins);
    const auto after = ProcessState::now();
    CHECK(after.actions == before.actions);
    CHECK(after.threads == before.threads);
}

TEST_CASE("The runner hands the supervisor a line for each stretch of work", "[runner]") {
    const Versions versions("chain");
    testing::ScratchDatabase scratch("sqlite");
    auto db = scratch.open();
    RecordingSupervisor supervisor;
    migrator::RunOptions options;
    options.supervisor = &supervisor;
    options.step_timeout = std::chrono::milliseconds(1500);
    upgrade(versions, *db, {a1}, options);

    const auto& lines = supervisor.signalled;
    const auto has = [&](const std::string& text) {
        for (const auto& line : lines)
            if (line.find(text) != std::string::npos) return true;
        return false;
    };
    CHECK(has("error: migrator {signal} before running any revision; nothing was committed"));
    CHECK(has("(revision " + a1 + ") {signal} while being loaded (in its static constructors)"));
    CHECK(has("error: revision " + a1 +
              " (create item) {signal} during upgrade; its transaction "
              "was not committed, so the database stays at base"));
    CHECK(
        has("error: migrator {signal} after the run; every revision of this run was "
            "committed, so the database is at " +
            a1));
    CHECK(has("{signal} while being unloaded (in its static destructors)"));
    REQUIRE(supervisor.timed_out.size() == 1);
    CHECK_THAT(supervisor.timed_out[0],
               Contains("did not finish within --step-timeout 1.5 s, so migrator stopped"));
}
