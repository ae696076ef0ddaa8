// End to end: a fleet of runners at once applies every revision exactly once; a held lock times
// out with a message naming its holder and leaves the database untouched.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("eight runners started at once apply each of 60 revisions exactly once",
          "[e2e][concurrency]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("long_chain"));

    const std::vector<std::vector<std::string>> commands(
        8, sandbox.migrator_command({"upgrade", "head"}));
    const auto results =
        run_concurrently(commands, Sandbox::clean_environment(), sandbox.dir().string());
    std::size_t runners_that_did_work = 0;
    for (const auto& result : results) {
        INFO(result.out << result.err);
        CHECK(result.exit_code == 0);
        if (result.out.find("Running upgrade") != std::string::npos) ++runners_that_did_work;
    }
    CHECK(runners_that_did_work >= 1);

    // Counted twice: by the plugins themselves, and by migrator's history table.
    CHECK(sandbox.column("SELECT count(*) FROM applied_log") == std::vector<std::string>{"60"});
    CHECK(sandbox.column("SELECT count(DISTINCT revision) FROM applied_log") ==
          std::vector<std::string>{"60"});
    CHECK(sandbox.column("SELECT count(*) FROM migrator_version_history WHERE success = 1 AND "
                         "direction = 'upgrade'") == std::vector<std::string>{"60"});
    CHECK(sandbox.column("SELECT count(DISTINCT revision) FROM migrator_version_history") ==
          std::vector<std::string>{"60"});
    CHECK(sandbox.version_rows() == std::vector<std::string>{"chain0000060"});
    CHECK(sandbox.migrator({"current"}).out == "chain0000060 (head)\n");
}

TEST_CASE("a run that cannot get the lock in time names the holder and changes nothing",
          "[e2e][concurrency]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("slow"));
    const auto started = sandbox.dir() / "started.log";

    // The holder: upgrades into s2, which holds its transaction (and the lock) for 4 seconds.
    auto env = Sandbox::clean_environment();
    env["MIGRATOR_TEST_STEP_LOG"] = started.string();
    env["MIGRATOR_TEST_SLEEP_SECONDS"] = "4";
    ProcessResult holder;
    std::thread holder_thread([&] {
        holder = run_process(sandbox.migrator_command({"upgrade", "head"}), env);
    });
    for (int i = 0; i < 200 && read_file(started).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const bool holder_started = !read_file(started).empty();

    const auto waiter = sandbox.migrator({"--lock-timeout", "0.5", "upgrade", "head"});
    holder_thread.join();

    REQUIRE(holder_started);
    CHECK(waiter.exit_code == 6);
    CHECK(lines_of(waiter.err).size() == 1);
    CHECK_THAT(waiter.err, Contains("lock"));
    if (backend == "postgresql") {
        CHECK_THAT(waiter.err, Contains("pid"));
        CHECK_THAT(waiter.err, Contains("migrator"));
    }
    CHECK_THAT(waiter.out, !Contains("Running upgrade"));

    // Only the holder's two steps are recorded; the waiter ran and recorded nothing.
    CHECK(holder.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"5105105105aa"});
    CHECK(sandbox.column("SELECT count(*) FROM migrator_version_history") ==
          std::vector<std::string>{"2"});
}
