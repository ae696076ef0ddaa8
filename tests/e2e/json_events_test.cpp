// End to end: `upgrade` and `downgrade` with --json print one JSON object a line for each event of
// the run (step_started, log, step_finished, step_failed) and a summary, for pipelines.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

/// Each line of `out` parsed as one JSON object ("event revision" of each, in order), `last` set
/// to the last object.
std::vector<std::string> events_of(const std::string& out, boost::json::object* last = nullptr) {
    std::vector<std::string> events;
    for (const auto& line : lines_of(out)) {
        const boost::json::object event = boost::json::parse(line).as_object();
        std::string text(event.at("event").as_string());
        if (const auto* revision = event.if_contains("revision"); revision && revision->is_string())
            text += " " + std::string(revision->as_string());
        events.push_back(text);
        if (last != nullptr) *last = event;
    }
    return events;
}

}  // namespace

TEST_CASE("upgrade and downgrade --json print one event a line and a summary", "[e2e][json]") {
    const std::string backend = GENERATE(from_range(all_backends()));

    SECTION("steps, a log line and the summary") {
        Sandbox sandbox(backend, fixture_dir("arguments"));
        const auto up = sandbox.migrator({"--json", "-x", "tenant=acme", "upgrade", "head"});
        INFO(up.out << up.err);
        REQUIRE(up.exit_code == 0);
        boost::json::object summary;
        CHECK(events_of(up.out, &summary) ==
              std::vector<std::string>{"step_started a1a1a1a1a1a1", "step_finished a1a1a1a1a1a1",
                                       "step_started x2x2x2x2x2x2", "log x2x2x2x2x2x2",
                                       "step_finished x2x2x2x2x2x2", "summary"});
        CHECK(summary.at("steps").as_int64() == 2);
        CHECK(summary.at("heads").as_array().size() == 1);
        CHECK(summary.at("heads").as_array()[0].as_string() == "x2x2x2x2x2x2");
        CHECK_THAT(up.out, Contains("\"message\":\"tenant: acme\""));

        const auto again = sandbox.migrator({"upgrade", "head", "--json"});
        CHECK(events_of(again.out, &summary) == std::vector<std::string>{"summary"});
        CHECK(summary.at("steps").as_int64() == 0);

        const auto down = sandbox.migrator({"downgrade", "base", "--json"});
        REQUIRE(down.exit_code == 0);
        CHECK(events_of(down.out, &summary) ==
              std::vector<std::string>{"step_started x2x2x2x2x2x2", "log x2x2x2x2x2x2",
                                       "step_finished x2x2x2x2x2x2", "step_started a1a1a1a1a1a1",
                                       "step_finished a1a1a1a1a1a1", "summary"});
        CHECK(summary.at("direction").as_string() == "downgrade");
        CHECK(summary.at("heads").as_array().empty());
    }
    SECTION("a failing step is an event with its error, and the exit status says so") {
        Sandbox sandbox(backend, fixture_dir("failing"));
        const auto up = sandbox.migrator({"upgrade", "head", "--json"});
        CHECK(up.exit_code == 1);
        boost::json::object failed;
        const auto events = events_of(up.out, &failed);
        REQUIRE(events.size() == 6);
        CHECK(events.back() == "step_failed f3f3f3f3f3f3");
        CHECK_THAT(std::string(failed.at("error").as_string()),
                   Contains("upgrade of revision f3f3f3f3f3f3 (fails halfway) failed"));
        CHECK_THAT(up.err, Contains("error: upgrade of revision f3f3f3f3f3f3"));
    }
    SECTION("with --sql, both would write to stdout: refused") {
        Sandbox sandbox(backend, fixture_dir("chain"));
        const auto refused = sandbox.migrator({"upgrade", "head", "--sql", "--json"});
        CHECK(refused.exit_code == 2);
        CHECK_THAT(refused.err, Contains("--json and --sql both write to standard output"));
        CHECK(refused.out.empty());
    }
}
