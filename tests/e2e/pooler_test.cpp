// End to end through PgBouncer in transaction pooling mode, where consecutive transactions of one
// client run on different server sessions: every revision is still applied exactly once, no lock
// outlives its run, and no session setting of migrator's reaches another client.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <pqxx/pqxx>
#include <regex>
#include <string>
#include <thread>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// $MIGRATOR_TEST_POOLER_ROUNDS when set (the full campaign), otherwise `fallback`.
int rounds_or(int fallback) {
    const char* rounds = std::getenv("MIGRATOR_TEST_POOLER_ROUNDS");
    return rounds != nullptr && *rounds != '\0' ? std::atoi(rounds) : fallback;
}

/// The advisory locks granted in the sandbox's own database (other tests share the server), as
/// their pg_locks objsubid: 1 for the session lock, 2 for a step's transaction lock.
std::vector<std::string> advisory_locks(const Sandbox& sandbox) {
    return sandbox.column(
        "SELECT objsubid::text FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
        "database = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1");
}

/// advisory_locks() once none is left, or after 5 s: a session that has just ended may still be
/// releasing what it held.
std::vector<std::string> advisory_locks_left(const Sandbox& sandbox) {
    auto locks = advisory_locks(sandbox);
    for (int i = 0; i < 100 && !locks.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        locks = advisory_locks(sandbox);
    }
    return locks;
}

/// How many lines of `text` start with `prefix`.
std::size_t lines_starting(const std::string& text, const std::string& prefix) {
    std::size_t count = 0;
    for (const auto& line : lines_of(text))
        if (line.rfind(prefix, 0) == 0 || line.find("] " + prefix) != std::string::npos) ++count;
    return count;
}

/// Runs `args` on `runners` migrators at once through the pooler; every one must succeed, and
/// their "Running ..." lines must add up to `steps`: each step reported by the runner that did it.
void run_fleet(const Sandbox& sandbox, const std::vector<std::string>& args, int runners,
               std::size_t steps, const std::string& running) {
    auto env = Sandbox::clean_environment();
    env["MIGRATOR_TEST_STEP_SLEEP_MS"] = "5";
    const std::vector<std::vector<std::string>> commands(
        static_cast<std::size_t>(runners), sandbox.migrator_command(args, sandbox.pooled_url()));
    std::size_t reported = 0;
    for (const auto& result : run_concurrently(commands, env, sandbox.dir().string())) {
        INFO(result.out << result.err);
        CHECK(result.exit_code == 0);
        CHECK(result.err.empty());
        reported += lines_starting(result.out, running);
    }
    CHECK(reported == steps);
}

}  // namespace

TEST_CASE("eight runners through PgBouncer in transaction mode apply each revision exactly once",
          "[e2e][concurrency][pooler]") {
    Sandbox sandbox("postgresql", fixture_dir("long_chain"));
    const int rounds = rounds_or(3);
    for (int round = 1; round <= rounds; ++round) {
        INFO("round " << round);
        run_fleet(sandbox, {"upgrade", "head"}, 8, 60, "Running upgrade");
        // Counted twice: by the plugins themselves, and by migrator's history table.
        REQUIRE(sandbox.column("SELECT count(*) FROM applied_log") ==
                std::vector<std::string>{"60"});
        REQUIRE(sandbox.column("SELECT count(DISTINCT revision) FROM applied_log") ==
                std::vector<std::string>{"60"});
        REQUIRE(sandbox.version_rows() == std::vector<std::string>{"chain0000060"});
        REQUIRE(
            sandbox.column("SELECT count(*) FROM migrator_version_history WHERE success = 1 AND "
                           "direction = 'upgrade'") ==
            std::vector<std::string>{std::to_string(60 * round)});

        run_fleet(sandbox, {"downgrade", "base"}, 8, 60, "Running downgrade");
        REQUIRE(sandbox.version_rows().empty());
        REQUIRE(
            sandbox.column("SELECT count(*) FROM migrator_version_history WHERE success = 1 AND "
                           "direction = 'downgrade'") ==
            std::vector<std::string>{std::to_string(60 * round)});
        REQUIRE(sandbox.column("SELECT count(*) FROM migrator_version_history WHERE success = 0") ==
                std::vector<std::string>{"0"});
    }

    // No lock outlives its run: the server holds no advisory lock of any session, and a direct
    // run that waits for no one gets the lock at once.
    CHECK(advisory_locks_left(sandbox).empty());
    const auto direct = sandbox.migrator({"--lock-timeout", "0", "upgrade", "head"});
    INFO(direct.out << direct.err);
    CHECK(direct.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"chain0000060"});
}

TEST_CASE("migrator through PgBouncer leaves no session setting on the pooled server connections",
          "[e2e][pooler]") {
    Sandbox sandbox("postgresql", fixture_dir("chain"));
    const std::string pooled = sandbox.pooled_url();
    // A read command (read-only session on a direct connection) and a write command with a
    // statement timeout, each through the pooler.
    REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
    const auto current =
        run_process(sandbox.migrator_command({"current"}, pooled), Sandbox::clean_environment());
    INFO(current.out << current.err);
    REQUIRE(current.exit_code == 0);
    CHECK(current.out == "c3c3c3c3c3c3 (head)\n");
    const auto downgrade = run_process(
        sandbox.migrator_command({"--statement-timeout", "7", "downgrade", "-1"}, pooled),
        Sandbox::clean_environment());
    INFO(downgrade.out << downgrade.err);
    REQUIRE(downgrade.exit_code == 0);

    // Later clients of the pool (the pooler hands out the server connections migrator used)
    // see the server's defaults and can write.
    for (int client = 0; client < 6; ++client) {
        pqxx::connection connection(pooled);
        pqxx::nontransaction work(connection);
        CHECK(work.exec("SHOW default_transaction_read_only")[0][0].as<std::string>() == "off");
        CHECK(work.exec("SHOW statement_timeout")[0][0].as<std::string>() == "0");
        CHECK_NOTHROW(work.exec("CREATE TABLE IF NOT EXISTS pooled_write (id INTEGER)"));
    }
}

namespace {

/// The sandbox's database by its server's Unix socket instead of TCP.
std::string socket_url(const Sandbox& sandbox) {
    const char* dir = std::getenv("MIGRATOR_TEST_POSTGRES_SOCKET_DIR");
    REQUIRE(dir != nullptr);
    const std::regex tcp("^postgresql://([^@]+)@127\\.0\\.0\\.1:([0-9]+)/(.+)$");
    std::smatch parts;
    const std::string url = sandbox.url();
    REQUIRE(std::regex_match(url, parts, tcp));
    return "postgresql://" + parts[1].str() + "@/" + parts[3].str() + "?host=" + dir +
           "&port=" + parts[2].str();
}

/// Waits up to 10 s for `file` to hold something.
bool wait_for_text(const fs::path& file) {
    for (int i = 0; i < 200 && read_file(file).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return !read_file(file).empty();
}

}  // namespace

TEST_CASE("the run-wide session lock is taken only where the connection keeps its server session",
          "[e2e][pooler]") {
    Sandbox sandbox("postgresql", fixture_dir("slow"));
    struct Path {
        const char* name;
        std::string url;
        std::vector<std::string> locks;  ///< pg_locks objsubid of the advisory locks held
    };
    // objsubid 1: the session lock on the bigint key; 2: the step's transaction lock.
    const std::vector<Path> paths{{"TCP", sandbox.url(), {"1", "2"}},
                                  {"Unix socket", socket_url(sandbox), {"1", "2"}},
                                  {"PgBouncer", sandbox.pooled_url(), {"2"}}};
    for (const auto& path : paths) {
        INFO(path.name);
        const auto started = sandbox.dir() / (std::string(path.name) + ".log");
        auto env = Sandbox::clean_environment();
        env["MIGRATOR_TEST_STEP_LOG"] = started.string();
        env["MIGRATOR_TEST_SLEEP_SECONDS"] = "1.5";
        BackgroundProcess run(sandbox.migrator_command({"upgrade", "head"}, path.url), env);
        REQUIRE(wait_for_text(started));
        CHECK(advisory_locks(sandbox) == path.locks);
        const auto result = run.wait();
        INFO(result.out << result.err);
        CHECK(result.exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"5105105105aa"});
        CHECK(advisory_locks_left(sandbox).empty());
        REQUIRE(sandbox.migrator({"downgrade", "base"}).exit_code == 0);
    }
}

TEST_CASE(
    "through PgBouncer a run that waits too long for a step's lock names its holder and "
    "changes nothing",
    "[e2e][pooler]") {
    Sandbox sandbox("postgresql", fixture_dir("slow"));
    const auto started = sandbox.dir() / "started.log";
    auto env = Sandbox::clean_environment();
    env["MIGRATOR_TEST_STEP_LOG"] = started.string();
    env["MIGRATOR_TEST_SLEEP_SECONDS"] = "3";
    BackgroundProcess holder(sandbox.migrator_command({"upgrade", "head"}, sandbox.pooled_url()),
                             env);
    REQUIRE(wait_for_text(started));

    const auto waiter =
        run_process(sandbox.migrator_command({"--lock-timeout", "0.5", "upgrade", "head"},
                                             sandbox.pooled_url()),
                    Sandbox::clean_environment());
    const auto held = holder.wait();
    INFO(waiter.out << waiter.err);
    CHECK(waiter.exit_code == 6);
    CHECK(lines_of(waiter.err).size() == 1);
    CHECK_THAT(waiter.err, StartsWith("error: another migrator holds the migration lock on "));
    CHECK_THAT(waiter.err, Contains("pid"));
    CHECK_THAT(waiter.err, Contains("waited 500 ms"));
    // The sentence names the database once (the step lock is taken inside a read of the version
    // table, whose context must not repeat it).
    CHECK(count_of(waiter.err, "postgresql://") == 1);
    CHECK_THAT(waiter.out, !Contains("Running upgrade"));

    INFO(held.out << held.err);
    CHECK(held.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"5105105105aa"});
    CHECK(sandbox.column("SELECT count(*) FROM migrator_version_history") ==
          std::vector<std::string>{"2"});
}
