// End to end: the run history. `migrator log` shows every step the history table records (text
// and JSON, filtered), and `migrator accept-edit` accepts an intended edit of an applied
// revision, recorded there.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// The lines of `log` output that describe a step (notes and errors are indented under them).
std::vector<std::string> step_lines(const std::string& out) {
    std::vector<std::string> steps;
    for (const auto& line : lines_of(out))
        if (!line.empty() && line.front() != ' ') steps.push_back(line);
    return steps;
}

/// "direction revision outcome" of each step of `log --json` output, in its order.
std::vector<std::string> json_steps(const std::string& out) {
    std::vector<std::string> steps;
    const boost::json::value document = boost::json::parse(out);
    for (const auto& step : document.at("steps").as_array())
        steps.push_back(std::string(step.at("direction").as_string()) + " " +
                        std::string(step.at("revision").as_string()) + " " +
                        std::string(step.at("outcome").as_string()));
    return steps;
}

}  // namespace

TEST_CASE("log shows every step run on the database, newest first, with filters and JSON",
          "[e2e][log]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("failing"));
    // Nothing run yet: no history, and log creates nothing.
    const auto empty = sandbox.migrator({"log"});
    CHECK(empty.exit_code == 0);
    CHECK(empty.out.empty());
    CHECK_FALSE(sandbox.touched());

    // a1 and b2 apply, f3 fails (rolled back), then b2 is downgraded.
    REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 1);
    REQUIRE(sandbox.migrator({"downgrade", "-1"}).exit_code == 0);

    const auto log = sandbox.migrator({"log"});
    INFO(log.out << log.err);
    CHECK(log.exit_code == 0);
    const auto lines = step_lines(log.out);
    REQUIRE(lines.size() == 4);
    CHECK_THAT(lines[0], Contains("downgrade    b2b2b2b2b2b2  ok") &&
                             Contains("b2b2b2b2b2b2 -> a1a1a1a1a1a1"));
    CHECK_THAT(lines[1], Contains("upgrade      f3f3f3f3f3f3  failed") &&
                             Contains("b2b2b2b2b2b2 (unchanged)"));
    CHECK_THAT(lines[2], Contains("upgrade      b2b2b2b2b2b2  ok"));
    CHECK_THAT(lines[3],
               Contains("upgrade      a1a1a1a1a1a1  ok") && Contains("base -> a1a1a1a1a1a1"));
    // The failure's error, under its step.
    CHECK_THAT(log.out, Contains("failed") && Contains("\n    error: ") &&
                            Contains(backend == "sqlite" ? "no such table" : "does not exist"));
    // Each step's time, in UTC.
    CHECK_THAT(lines[3], StartsWith("20") && Contains("Z  upgrade"));

    CHECK(step_lines(sandbox.migrator({"log", "--failed"}).out).size() == 1);
    CHECK_THAT(sandbox.migrator({"log", "--failed"}).out, Contains("f3f3f3f3f3f3  failed"));
    const auto b2 = step_lines(sandbox.migrator({"log", "-r", "b2"}).out);
    REQUIRE(b2.size() == 2);
    CHECK_THAT(b2[0], Contains("downgrade"));
    const auto newest = step_lines(sandbox.migrator({"log", "-n", "2"}).out);
    REQUIRE(newest.size() == 2);
    CHECK_THAT(newest[0], Contains("downgrade"));
    CHECK_THAT(newest[1], Contains("f3f3f3f3f3f3"));
    const auto oldest_first = step_lines(sandbox.migrator({"log", "--reverse", "-n", "2"}).out);
    REQUIRE(oldest_first.size() == 2);
    CHECK_THAT(oldest_first[0], Contains("f3f3f3f3f3f3"));
    CHECK_THAT(oldest_first[1], Contains("downgrade"));

    const auto json = sandbox.migrator({"log", "--json"});
    CHECK(json.exit_code == 0);
    CHECK(json_steps(json.out) ==
          std::vector<std::string>{"downgrade b2b2b2b2b2b2 ok", "upgrade f3f3f3f3f3f3 failed",
                                   "upgrade b2b2b2b2b2b2 ok", "upgrade a1a1a1a1a1a1 ok"});
    const boost::json::value document = boost::json::parse(json.out);
    const auto& failed = document.at("steps").as_array()[1];
    CHECK(failed.at("heads_before").as_array().size() == 1);
    CHECK(failed.at("error").is_string());
    CHECK(document.at("steps").as_array()[0].at("error").is_null());
    CHECK(document.at("steps").as_array()[3].at("source_sha256").as_string().size() == 64);

    const auto zero = sandbox.migrator({"log", "-n", "0"});
    CHECK(zero.exit_code == 2);
}

TEST_CASE("accept-edit accepts an intended edit of an applied revision, recorded in the log",
          "[e2e][log][check]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("chain"));
    REQUIRE(sandbox.migrator({"upgrade", "b2"}).exit_code == 0);
    // The same chain, b2's plugin built from a source edited after it was applied.
    sandbox.set_versions_dir(fixture_dir("edited"));
    const auto problem = sandbox.migrator({"check", "--allow-pending"});
    CHECK(problem.exit_code == 8);
    CHECK_THAT(problem.out, Contains("accepted with `migrator accept-edit b2b2b2b2b2b2`"));

    SECTION("a revision that is not applied, or unknown, is refused and nothing is written") {
        const auto pending = sandbox.migrator({"accept-edit", "b2", "c3"});
        CHECK(pending.exit_code == 3);
        CHECK_THAT(pending.err, Contains("revision c3c3c3c3c3c3 (index item name) is not applied"));
        CHECK(sandbox.migrator({"accept-edit", "zz"}).exit_code == 3);
        CHECK(step_lines(sandbox.migrator({"log"}).out).size() == 2);
        CHECK(sandbox.migrator({"check", "--allow-pending"}).exit_code == 8);
    }
    SECTION("accepted: check passes, the log says so, and a second accept changes nothing") {
        const auto accepted = sandbox.migrator({"accept-edit", "b2"});
        INFO(accepted.err);
        CHECK(accepted.exit_code == 0);
        CHECK_THAT(accepted.out, Contains("Accepted the edit of revision b2b2b2b2b2b2"));
        const auto checked = sandbox.migrator({"check", "--allow-pending"});
        CHECK(checked.exit_code == 0);
        const auto log = sandbox.migrator({"log", "-n", "1"});
        CHECK_THAT(log.out, Contains("accept-edit  b2b2b2b2b2b2  ok") &&
                                Contains("b2b2b2b2b2b2 (unchanged)") &&
                                Contains("note: an edit of its source was accepted"));
        const auto again = sandbox.migrator({"accept-edit", "b2"});
        CHECK(again.exit_code == 0);
        CHECK_THAT(again.out, Contains("nothing to accept"));
        CHECK(step_lines(sandbox.migrator({"log"}).out).size() == 3);
        // The version rows did not move.
        CHECK(sandbox.version_rows() == std::vector<std::string>{"b2b2b2b2b2b2"});
        // Back to the original plugin: that is an edit again until accepted.
        sandbox.set_versions_dir(fixture_dir("chain"));
        CHECK(sandbox.migrator({"check", "--allow-pending"}).exit_code == 8);
    }
}
