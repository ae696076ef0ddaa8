// End to end: branches, merges, labels and dependencies, on SQLite and PostgreSQL. After each
// command: the steps that ran (in order), the version rows, and the schema.
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

using Rows = std::vector<std::string>;

/// Runs commands on a sandbox and reports the steps each one ran, read from the history table.
class StepTracker {
public:
    explicit StepTracker(const Sandbox& sandbox) : sandbox_(sandbox) {}

    /// Runs migrator with `args`, requires success, returns "↑id" / "↓id" for each step it ran.
    Rows run(const std::vector<std::string>& args) {
        const auto result = sandbox_.migrator(args);
        INFO(result.out << result.err);
        REQUIRE(result.exit_code == 0);
        return new_steps();
    }

    Rows new_steps() {
        Rows all;
        if (sandbox_.touched())
            all = sandbox_.column(
                "SELECT CASE WHEN direction = 'upgrade' THEN 'up ' ELSE 'down ' END || revision "
                "FROM migrator_version_history WHERE success = 1 AND direction <> 'stamp' "
                "ORDER BY id");
        Rows fresh(all.begin() + static_cast<std::ptrdiff_t>(seen_), all.end());
        seen_ = all.size();
        return fresh;
    }

private:
    const Sandbox& sandbox_;
    std::size_t seen_ = 0;
};

std::set<std::string> tables_for(const Rows& ids) {
    std::set<std::string> tables;
    for (const auto& id : ids) tables.insert("t_" + id);
    return tables;
}

}  // namespace

TEST_CASE("labelled branches are upgraded and downgraded one branch at a time", "[e2e][branches]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("branched"));
    StepTracker steps(sandbox);

    CHECK(steps.run({"upgrade", "b"}) == Rows{"up a", "up b"});
    CHECK(steps.run({"upgrade", "d1"}) == Rows{"up c1", "up d1"});
    CHECK(sandbox.version_rows() == Rows{"d1"});
    CHECK(steps.run({"upgrade", "c2branch@head-1"}) == Rows{"up c2"});
    CHECK(sandbox.version_rows() == Rows{"c2", "d1"});  // a second branch adds a row

    const auto ambiguous = sandbox.migrator({"upgrade", "+1"});
    CHECK(ambiguous.exit_code == 3);
    CHECK_THAT(ambiguous.err, Contains("multiple current revisions"));

    CHECK(steps.run({"upgrade", "heads"}) == Rows{"up d2"});
    CHECK(sandbox.version_rows() == Rows{"d1", "d2"});
    CHECK(sandbox.tables() == tables_for({"a", "b", "c1", "d1", "c2", "d2"}));

    SECTION("a label's -1 steps back inside that branch only") {
        CHECK(steps.run({"downgrade", "c1branch@-1"}) == Rows{"down d1"});
        CHECK(sandbox.version_rows() == Rows{"c1", "d2"});
        CHECK(sandbox.tables() == tables_for({"a", "b", "c1", "c2", "d2"}));
    }
    SECTION("label@base removes the whole branch and nothing else") {
        CHECK(steps.run({"downgrade", "c1branch@base"}) == Rows{"down d1", "down c1"});
        CHECK(sandbox.version_rows() == Rows{"d2"});
        CHECK(sandbox.tables() == tables_for({"a", "b", "c2", "d2"}));
    }
    SECTION("downgrading to the branch point removes both branches") {
        const auto ran = steps.run({"downgrade", "b"});
        CHECK(ran.size() == 4);
        CHECK(sandbox.version_rows() == Rows{"b"});
        CHECK(sandbox.tables() == tables_for({"a", "b"}));
    }
    SECTION("head is refused while there are two heads") {
        const auto refused = sandbox.migrator({"upgrade", "head"});
        CHECK(refused.exit_code == 3);
        CHECK_THAT(refused.err, Contains("heads"));
        CHECK_THAT(refused.err, Contains("label@head"));
    }
    SECTION("stamp replaces every row with the one named") {
        REQUIRE(sandbox.migrator({"stamp", "b"}).exit_code == 0);
        CHECK(sandbox.version_rows() == Rows{"b"});
        CHECK(steps.new_steps().empty());  // no revision ran
    }
    SECTION("current, heads, branches and history show the shape") {
        CHECK(sandbox.migrator({"current"}).out == "d1 (head)\nd2 (head)\n");
        CHECK(sandbox.migrator({"heads"}).out == "d1 (head)\nd2 (head)\n");
        CHECK(sandbox.migrator({"current", "--check-heads"}).exit_code == 0);
        CHECK(sandbox.migrator({"branches"}).out ==
              "b (branchpoint)\n"
              "  -> c1 (c1branch), branched c1\n"
              "  -> c2 (c2branch), branched c2\n");
        const auto history = lines_of(sandbox.migrator({"history", "-i"}).out);
        CHECK(std::find(history.begin(), history.end(), "a -> b (branchpoint), branched b") !=
              history.end());
        CHECK(std::find(history.begin(), history.end(), "b -> c1 (c1branch), branched c1") !=
              history.end());
        CHECK(std::find(history.begin(), history.end(), "c1 -> d1 (head) (current), branched d1") !=
              history.end());
        CHECK(history.back() == "<base> -> a, branched a");
    }
}

TEST_CASE("a merge joins two branches into one version row", "[e2e][branches]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("diamond"));
    StepTracker steps(sandbox);

    const auto ran = steps.run({"upgrade", "heads"});
    REQUIRE(ran.size() == 4);
    CHECK(ran.front() == "up a");
    CHECK(ran.back() == "up c");
    CHECK(sandbox.version_rows() == Rows{"c"});
    CHECK(sandbox.column("SELECT heads_after FROM migrator_version_history ORDER BY id") ==
          Rows{"a", ran[1].substr(3), "b1,b2", "c"});
    CHECK(sandbox.migrator({"history", "-r", "b1:c"}).out ==
          "b1, b2 -> c (head) (mergepoint), diamond c\n"
          "a -> b1, diamond b1\n");

    SECTION("downgrading one parent of the merge removes the merge only") {
        CHECK(steps.run({"downgrade", "b1"}) == Rows{"down c"});
        CHECK(sandbox.version_rows() == Rows{"b1", "b2"});
        CHECK(sandbox.tables() == tables_for({"a", "b1", "b2"}));
        CHECK(steps.run({"upgrade", "c"}) == Rows{"up c"});
        CHECK(sandbox.version_rows() == Rows{"c"});
    }
    SECTION("downgrade base removes everything, children first") {
        const auto down = steps.run({"downgrade", "base"});
        REQUIRE(down.size() == 4);
        CHECK(down.front() == "down c");
        CHECK(down.back() == "down a");
        CHECK(sandbox.version_rows().empty());
        CHECK(sandbox.tables().empty());
    }
}

TEST_CASE("a dependency on another branch is applied first and removed after its dependents",
          "[e2e][branches]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("depends"));
    StepTracker steps(sandbox);

    const auto ran = steps.run({"upgrade", "y"});
    REQUIRE(ran.size() == 3);
    CHECK(ran.back() == "up y");
    CHECK(sandbox.version_rows() == Rows{"x", "y"});
    CHECK(sandbox.tables() == tables_for({"a", "x", "y"}));

    // Downgrading to a dependency keeps what depends on it (as Alembic does): nothing to undo.
    CHECK(steps.run({"downgrade", "x"}).empty());
    CHECK(sandbox.version_rows() == Rows{"x", "y"});
    CHECK(steps.run({"downgrade", "a"}) == Rows{"down y"});
    CHECK(sandbox.version_rows() == Rows{"a", "x"});
    CHECK(sandbox.tables() == tables_for({"a", "x"}));
    CHECK(sandbox.migrator({"show", "y"}).out.find("Also depends on: x") != std::string::npos);
}
