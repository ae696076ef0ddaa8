// End to end: a revision that misbehaves (returns an error, aborts, segfaults, hangs in C++ or in
// SQL, or is killed) never leaves a half-applied revision: the database stays at a1, and the
// next run continues from there to the head.
#include <SQLiteCpp/SQLiteCpp.h>
#include <signal.h>
#include <sys/resource.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <thread>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const std::string a1 = "a1a1a1a1a1a1";

/// The crash tests end migrator by a signal: keep core files out of the scratch folders.
void without_core_dumps() {
    const rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);
}

/// Opens the SQLite file read-write and reads it, as migrator does before it writes: SQLite rolls
/// back a hot journal a dead writer left. Nothing to do on PostgreSQL, whose server rolls back.
void open_as_migrator_does(const Sandbox& sandbox) {
    if (sandbox.backend() != "sqlite") return;
    SQLite::Database db((sandbox.dir() / "test.db").string(), SQLite::OPEN_READWRITE);
    SQLite::Statement probe(db, "SELECT count(*) FROM sqlite_master");
    probe.executeStep();
    CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
}

/// The history rows, oldest first, as "revision success".
std::vector<std::string> history(const Sandbox& sandbox) {
    return sandbox.column(
        "SELECT revision || ' ' || success FROM migrator_version_history ORDER BY id");
}

/// Nothing of the misbehaving revision is left: the version rows name a1, its table is absent,
/// and migrator itself reports a1.
void check_left_at_a1(const Sandbox& sandbox) {
    open_as_migrator_does(sandbox);
    CHECK(sandbox.version_rows() == std::vector<std::string>{a1});
    CHECK(sandbox.tables() == std::set<std::string>{"item"});
    CHECK(sandbox.migrator({"current"}).out == a1 + "\n");
}

/// The run ended while the revision ran (a signal, the step timeout): `exit_code`, `line` alone
/// on stderr (nothing at all for an empty `line`), nothing of the revision left, and no history
/// row for it: the database's consistency does not need one.
void check_stopped(const Sandbox& sandbox, const ProcessResult& result, int exit_code,
                   const std::string& line) {
    INFO(result.out);
    CHECK(result.exit_code == exit_code);
    CHECK(result.err == (line.empty() ? line : line + "\n"));
    check_left_at_a1(sandbox);
    CHECK(history(sandbox) == std::vector<std::string>{a1 + " 1"});
}

/// The step timeout's line for `revision` ("id (message)").
std::string timed_out_line(const std::string& revision, const std::string& timeout) {
    return "error: upgrade of revision " + revision + " did not finish within --step-timeout " +
           timeout +
           ", so migrator stopped; its transaction was not committed, so the database "
           "stays at " +
           a1;
}

/// With the revision behaving (MIGRATOR_TEST_BEHAVE=1), the next run continues from a1 and
/// finishes at `head`, where the revision's `table` exists.
void check_next_run_finishes(const Sandbox& sandbox, const std::string& head,
                             const std::string& table) {
    const auto again = sandbox.migrator(
        {"upgrade", "head"}, {{"MIGRATOR_TEST_BEHAVE", "1"}, {"MIGRATOR_TEST_SLEEP_SECONDS", "0"}});
    INFO(again.out << again.err);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Contains("[1/1] Running upgrade " + a1 + " -> " + head));
    CHECK(sandbox.version_rows() == std::vector<std::string>{head});
    CHECK(sandbox.tables() == std::set<std::string>{"item", table});
}

/// Starts `upgrade head` on the `slow` scenario, whose s2 sleeps for ten minutes in its step,
/// and returns once s2 has created its table and is sleeping (`large_table`'s l2 too).
std::unique_ptr<BackgroundProcess> start_slow_upgrade(const Sandbox& sandbox) {
    const auto started = sandbox.dir() / "started.log";
    auto env = Sandbox::clean_environment();
    env["MIGRATOR_TEST_STEP_LOG"] = started.string();
    env["MIGRATOR_TEST_SLEEP_SECONDS"] = "600";
    auto runner = std::make_unique<BackgroundProcess>(sandbox.migrator_command({"upgrade", "head"}),
                                                      env, sandbox.dir().string());
    for (int i = 0; i < 400 && read_file(started).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(!read_file(started).empty());
    return runner;
}

/// The environment of a run whose plugin is to fault by itself: the sanitizer build's own
/// SIGSEGV handler is kept out of the way, so the process ends by the signal as without it.
std::map<std::string, std::string> let_it_fault() {
    const char* asan_options = std::getenv("ASAN_OPTIONS");
    return {{"ASAN_OPTIONS", std::string(asan_options ? asan_options : "") + ":handle_segv=0"}};
}

/// A copy of a fixture versions directory in a scratch folder, writable by its owner alone.
class VersionsCopy {
public:
    explicit VersionsCopy(const std::string& scenario) : dir_(scratch_.path() / "versions") {
        fs::create_directory(dir_);
        fs::permissions(dir_, fs::perms(0755));
        for (const auto& entry : fs::directory_iterator(fixture_dir(scenario))) {
            const fs::path copy = dir_ / entry.path().filename();
            fs::copy_file(entry.path(), copy);
            fs::permissions(copy, fs::perms(0644));
        }
    }
    const fs::path& path() const { return dir_; }
    fs::path operator/(const std::string& name) const { return dir_ / name; }

private:
    ScratchDir scratch_;
    fs::path dir_;
};

/// Holds the database so that migrator's commit of a revision waits: on SQLite a read
/// transaction (a writer cannot commit while a reader holds the file), on PostgreSQL a lock on
/// the history table that the step's history row needs.
class CommitBlocker {
public:
    explicit CommitBlocker(const Sandbox& sandbox) {
        if (sandbox.backend() == "sqlite") {
            sqlite_.emplace((sandbox.dir() / "test.db").string(), SQLite::OPEN_READONLY);
            sqlite_->exec("BEGIN");
            SQLite::Statement read(*sqlite_, "SELECT count(*) FROM migrator_version");
            read.executeStep();
        } else {
            postgresql_.emplace(sandbox.url());
            transaction_.emplace(*postgresql_);
            transaction_->exec("LOCK TABLE migrator_version_history IN EXCLUSIVE MODE");
        }
    }
    ~CommitBlocker() {
        if (sqlite_) sqlite_->exec("ROLLBACK");
    }

private:
    std::optional<SQLite::Database> sqlite_;
    std::optional<pqxx::connection> postgresql_;
    std::optional<pqxx::work> transaction_;
};

}  // namespace

TEST_CASE(
    "a plugin that crashes while being loaded ends migrator by its signal with one line naming "
    "it, before anything is written",
    "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    without_core_dumps();
    Sandbox sandbox(backend, fixture_dir("crashes_on_load"));
    const auto result = sandbox.migrator({"upgrade", "head"}, let_it_fault());

    CHECK(result.exit_code == 128 + SIGSEGV);
    CHECK(result.err == "error: plugin " +
                            (fixture_dir("crashes_on_load") / "k2_crashes_on_load.so").string() +
                            " (revision k2k2k2k2k2k2) crashed (SIGSEGV) while being loaded (in "
                            "its static constructors); nothing was committed, so the database "
                            "stays at base\n");
    CHECK_FALSE(sandbox.touched());
    const auto again = sandbox.migrator({"upgrade", "head"}, {{"MIGRATOR_TEST_BEHAVE", "1"}});
    CHECK(again.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"k2k2k2k2k2k2"});
}

TEST_CASE(
    "a plugin that crashes while being unloaded after the run says that every revision was "
    "committed",
    "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    without_core_dumps();
    Sandbox sandbox(backend, fixture_dir("crashes_on_unload"));
    const auto result = sandbox.migrator({"upgrade", "head"}, let_it_fault());

    INFO(result.out);
    CHECK(result.exit_code == 128 + SIGSEGV);
    CHECK(result.err ==
          "error: plugin " +
              (fixture_dir("crashes_on_unload") / "u2_crashes_on_unload.so").string() +
              " (revision u2u2u2u2u2u2) crashed (SIGSEGV) while being unloaded (in its static "
              "destructors); every revision of this run was committed, so the database is at "
              "u2u2u2u2u2u2\n");
    CHECK(sandbox.version_rows() == std::vector<std::string>{"u2u2u2u2u2u2"});
    CHECK(sandbox.tables() == std::set<std::string>{"item", "unload_crash_table"});
    CHECK(history(sandbox) == std::vector<std::string>{a1 + " 1", "u2u2u2u2u2u2 1"});
}

TEST_CASE(
    "SIGTERM while migrator waits for the migration lock writes one line saying nothing was "
    "migrated",
    "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("slow"));
    const auto holder = start_slow_upgrade(sandbox);  // holds the lock while s2 sleeps
    BackgroundProcess waiter(sandbox.migrator_command({"--lock-timeout", "120", "upgrade", "head"}),
                             Sandbox::clean_environment(), sandbox.dir().string());
    std::this_thread::sleep_for(std::chrono::seconds(2));
    waiter.send_signal(SIGTERM);
    const auto result = waiter.wait();

    CHECK(result.exit_code == 128 + SIGTERM);
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.err,
               StartsWith("error: migrator was interrupted (SIGTERM) before running any "
                          "revision; nothing was "));
    // PostgreSQL: it waited for the advisory lock; SQLite: for the write lock of its first step.
    CHECK_THAT(result.err, Contains(backend == "sqlite"
                                        ? "nothing was committed, so the database stays at " + a1
                                        : "nothing was migrated in postgresql://"));
}

TEST_CASE(
    "SIGTERM while migrator commits a revision writes one line saying what was committed, and "
    "the revision is not applied",
    "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    REQUIRE(sandbox.migrator({"upgrade", a1}).exit_code == 0);
    std::optional<CommitBlocker> blocker(std::in_place, sandbox);
    BackgroundProcess runner(sandbox.migrator_command({"--lock-timeout", "120", "upgrade", "head"}),
                             Sandbox::clean_environment(), sandbox.dir().string());
    std::this_thread::sleep_for(std::chrono::seconds(2));  // b2 ran and waits to commit
    runner.send_signal(SIGTERM);
    const auto result = runner.wait();
    blocker.reset();

    CHECK(result.exit_code == 128 + SIGTERM);
    CHECK(result.err ==
          "error: migrator was interrupted (SIGTERM) while running revision b2b2b2b2b2b2 (add "
          "price to item), outside the revision's own code; nothing was committed, so the "
          "database stays at " +
              a1 + ", or at b2b2b2b2b2b2 if revision b2b2b2b2b2b2 had just committed\n");
    open_as_migrator_does(sandbox);
    CHECK(sandbox.version_rows() == std::vector<std::string>{a1});
}

TEST_CASE(
    "an executable or an object file carrying valid metadata is refused by verify and upgrade "
    "before the database is touched",
    "[e2e][hostile]") {
    struct NotAPlugin {
        std::string scenario;
        std::string file;
        std::string what;
    };
    const NotAPlugin file = GENERATE(values<NotAPlugin>({
        {"executable", "e2_executable.so",
         "is an executable (it names a program interpreter), not a shared library"},
        {"object", "e2_object.so", "is a relocatable object file (ELF type ET_REL)"},
    }));
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir(file.scenario));
    CHECK(sandbox.migrator({"history"}).exit_code == 0);  // its metadata alone is valid
    const std::string refusal =
        "error: plugin file " + (fixture_dir(file.scenario) / file.file).string() + " " + file.what;
    for (const auto& command :
         std::vector<std::vector<std::string>>{{"verify"}, {"upgrade", "head"}}) {
        CAPTURE(command);
        const auto result = sandbox.migrator(command);
        CHECK(result.exit_code == 4);
        CHECK(lines_of(result.err).size() == 1);
        CHECK_THAT(result.err, StartsWith(refusal));
    }
    CHECK_FALSE(sandbox.touched());
}

TEST_CASE(
    "a plugin changed after its build, even with valid metadata, is refused by verify and "
    "upgrade before the database is touched",
    "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    VersionsCopy versions("chain");
    Sandbox sandbox(backend, versions.path());
    const fs::path b2 = versions / "b2_add_price.so";
    std::string expected =
        "error: plugin file " + b2.string() +
        " is corrupt or was modified after it was built: its content does not match the digest "
        "its build embedded\n";
    const std::string damage = GENERATE(as<std::string>{}, "metadata edited in place, still valid",
                                        "one byte of code changed", "stripped after its build");
    CAPTURE(damage);
    if (damage == "metadata edited in place, still valid") {
        replace_in_file(b2, "message=add price to item", "message=add pride to item");
        CHECK_THAT(sandbox.migrator({"history"}).out, Contains("add pride to item"));
    } else if (damage == "one byte of code changed") {
        std::string bytes = read_file(b2);
        bytes[bytes.size() / 3] = static_cast<char>(bytes[bytes.size() / 3] ^ 0xff);
        std::ofstream(b2, std::ios::binary | std::ios::trunc) << bytes;
    } else {
        // strip rewrites the file and drops what lies past its ELF contents: the seal.
        REQUIRE(run_process({"/usr/bin/strip", b2.string()}).exit_code == 0);
        expected = "error: plugin file " + b2.string() +
                   " carries no integrity seal: it was built by a migrator older than this one, "
                   "or stripped or rewritten after its build; rebuild it with "
                   "migrator_add_revision(), which seals it\n";
    }
    for (const auto& command :
         std::vector<std::vector<std::string>>{{"verify"}, {"upgrade", "head"}}) {
        CAPTURE(command);
        const auto result = sandbox.migrator(command);
        CHECK(result.exit_code == 4);
        CHECK(result.err == expected);
    }
    CHECK_FALSE(sandbox.touched());
}

TEST_CASE(
    "a revision that returns an error through the C ABI is rolled back, and the next run "
    "continues",
    "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("returns_error"));
    const auto result = sandbox.migrator({"upgrade", "head"});

    CHECK(result.exit_code == 1);
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.err, Contains("upgrade of revision r2r2r2r2r2r2 (returns an error) failed: "
                                    "r2 refuses through the C ABI (0 rows in item, dialect " +
                                    backend + ")"));
    CHECK_THAT(result.err, Contains("the database is at " + a1));
    CHECK_THAT(result.out, Contains("r2 created returned_table"));  // host->log, from C
    check_left_at_a1(sandbox);
    CHECK(history(sandbox) == std::vector<std::string>{a1 + " 1", "r2r2r2r2r2r2 0"});
    check_next_run_finishes(sandbox, "r2r2r2r2r2r2", "returned_table");
}

TEST_CASE(
    "a revision that crashes ends migrator by its signal with one line naming it, and "
    "nothing of it stays",
    "[e2e][hostile]") {
    struct Crash {
        std::string scenario;
        std::string revision;  ///< "id (message)"
        std::string table;
        int signal;
        std::string signal_name;
    };
    const Crash crash = GENERATE(values<Crash>({
        {"aborts", "p2p2p2p2p2p2 (aborts)", "aborted_table", SIGABRT, "SIGABRT"},
        {"segfaults", "g2g2g2g2g2g2 (segfaults)", "segfault_table", SIGSEGV, "SIGSEGV"},
    }));
    const std::string backend = GENERATE(from_range(all_backends()));
    without_core_dumps();
    Sandbox sandbox(backend, fixture_dir(crash.scenario));
    // In the sanitizer build, AddressSanitizer would report the segfault after migrator's line
    // and exit 1; without its handler the process ends by the signal, as in the normal build.
    const char* asan_options = std::getenv("ASAN_OPTIONS");
    const auto result = sandbox.migrator(
        {"upgrade", "head"},
        {{"ASAN_OPTIONS", std::string(asan_options ? asan_options : "") + ":handle_segv=0"}});

    check_stopped(sandbox, result, 128 + crash.signal,
                  "error: revision " + crash.revision + " crashed (" + crash.signal_name +
                      ") during upgrade; its transaction was not committed, so the database "
                      "stays at " +
                      a1);
    check_next_run_finishes(sandbox, crash.revision.substr(0, 12), crash.table);
}

TEST_CASE(
    "a revision that hangs, in C++ or in SQL, is stopped by --step-timeout with status 10, "
    "and nothing of it stays",
    "[e2e][hostile]") {
    const bool in_sql = GENERATE(false, true);
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir(in_sql ? "hangs_in_sql" : "hangs_in_cpp"));
    const std::string revision = in_sql ? "q2q2q2q2q2q2" : "h2h2h2h2h2h2";
    const auto result = sandbox.migrator({"--step-timeout", "2", "upgrade", "head"});

    check_stopped(
        sandbox, result, 10,
        timed_out_line(revision + (in_sql ? " (hangs in SQL)" : " (hangs in C++)"), "2 s"));
    // A statement the dead migrator left running: PostgreSQL notices within a second that its
    // client is gone (client_connection_check_interval), ends it, and frees the migration lock
    // the next run waits for.
    check_next_run_finishes(sandbox, revision, in_sql ? "sql_hang_table" : "cpp_hang_table");
}

TEST_CASE("a statement that hangs is stopped by --statement-timeout as an ordinary failure",
          "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("hangs_in_sql"));
    const auto result = sandbox.migrator({"--statement-timeout", "2", "upgrade", "head"});

    CHECK(result.exit_code == 1);
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.err,
               StartsWith("error: upgrade of revision q2q2q2q2q2q2 (hangs in SQL) failed: "));
    CHECK_THAT(result.err, Contains("statement timeout"));
    CHECK_THAT(result.err, Contains("it was rolled back and the database is at " + a1));
    check_left_at_a1(sandbox);
    CHECK(history(sandbox) == std::vector<std::string>{a1 + " 1", "q2q2q2q2q2q2 0"});
    check_next_run_finishes(sandbox, "q2q2q2q2q2q2", "sql_hang_table");
}

TEST_CASE("statement_timeout and step_timeout can come from the config file", "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("hangs_in_cpp"));
    SECTION("step_timeout") {
        std::ofstream(sandbox.dir() / "migrator.ini") << "step_timeout = 1\n";
        const auto result = sandbox.migrator({"upgrade", "head"});
        CHECK(result.exit_code == 10);
        CHECK(result.err == timed_out_line("h2h2h2h2h2h2 (hangs in C++)", "1 s") + "\n");
        CHECK(sandbox.version_rows() == std::vector<std::string>{a1});
    }
    SECTION("a bad value") {
        std::ofstream(sandbox.dir() / "migrator.ini") << "statement_timeout = soon\n";
        const auto result = sandbox.migrator({"upgrade", "head"});
        CHECK(result.exit_code == 2);
        CHECK_THAT(result.err, Contains("statement_timeout = soon is not a number of seconds"));
        CHECK_FALSE(sandbox.touched());
    }
}

TEST_CASE(
    "kill -9 in the middle of a revision leaves the database at the revision before it, "
    "and the next run finishes",
    "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("slow"));
    const auto runner = start_slow_upgrade(sandbox);  // s2 has created slow_table
    runner->send_signal(SIGKILL);

    // SIGKILL cannot be caught: no line, and none is needed.
    check_stopped(sandbox, runner->wait(), 128 + SIGKILL, "");
    check_next_run_finishes(sandbox, "5105105105aa", "slow_table");
}

TEST_CASE(
    "after kill -9 in the middle of a revision, read-only commands on SQLite roll back the "
    "journal it left and report the revision before it",
    "[e2e][hostile]") {
    // l2 writes more than SQLite's page cache holds, so the file holds part of its transaction
    // and the journal that undoes it is hot (it starts with the journal's magic number).
    Sandbox sandbox("sqlite", fixture_dir("large_table"));
    const auto runner = start_slow_upgrade(sandbox);
    runner->send_signal(SIGKILL);
    REQUIRE(runner->wait().exit_code == 128 + SIGKILL);
    const auto journal = sandbox.dir() / "test.db-journal";
    REQUIRE(read_file(journal).substr(0, 8) == "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7");
    const std::string rolled_back =
        "warning: rolled back an interrupted transaction left in " + journal.string() + "\n";

    SECTION("current") {
        const auto result = sandbox.migrator({"current"});
        CHECK(result.exit_code == 0);
        CHECK(result.out == a1 + "\n");
        CHECK(result.err == rolled_back);
    }
    SECTION("history -i") {
        const auto result = sandbox.migrator({"history", "-i"});
        CHECK(result.exit_code == 0);
        CHECK_THAT(result.out, Contains("<base> -> " + a1 + " (current), create item"));
        CHECK(result.err == rolled_back);
    }
    SECTION("check --json") {
        const auto result = sandbox.migrator({"--json", "check"});
        CHECK(result.exit_code == 8);  // not at head
        const auto document = boost::json::parse(result.out).as_object();
        CHECK(document.at("current").as_array() == boost::json::array{a1});
        CHECK(result.err == rolled_back);
    }
    // Rolled back, not merely read past: the journal is gone and the file holds no trace of s2.
    CHECK_FALSE(fs::exists(journal));
    CHECK(sandbox.version_rows() == std::vector<std::string>{a1});
    CHECK(sandbox.tables() == std::set<std::string>{"item"});
    CHECK(sandbox.column("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
}

TEST_CASE(
    "SIGTERM in the middle of a revision writes one line, ends migrator by the signal, and "
    "leaves the database at the revision before it",
    "[e2e][hostile]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("slow"));
    const auto runner = start_slow_upgrade(sandbox);
    runner->send_signal(SIGTERM);

    check_stopped(sandbox, runner->wait(), 128 + SIGTERM,
                  "error: revision 5105105105aa (slow) was interrupted (SIGTERM) during upgrade; "
                  "its transaction was not committed, so the database stays at " +
                      a1);
}
