// End to end: branches, merges, labels and dependencies, on SQLite and PostgreSQL. After each
// command: the steps that ran (in order), the version rows, and the schema. The `[alembic]` cases
// are Alembic 1.8.1's version-row semantics (issue 21), each checked against real Alembic 1.8.1
// running the same graph and commands.
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>

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
    SECTION("counting back out of a branch removes that branch and nothing else") {
        CHECK(steps.run({"downgrade", "c1branch@-2"}) == Rows{"down d1", "down c1"});
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
    // As in Alembic, y takes over the rows of both a and x: x is applied because y is.
    CHECK(sandbox.version_rows() == Rows{"y"});
    CHECK(sandbox.tables() == tables_for({"a", "x", "y"}));

    // x is applied only as y's dependency, with nothing above it to undo: Alembic refuses too.
    const auto refused = sandbox.migrator({"downgrade", "x"});
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Contains("not a valid downgrade target"));
    CHECK(steps.run({"downgrade", "a"}) == Rows{"down y"});
    CHECK(sandbox.version_rows() == Rows{"a", "x"});
    CHECK(sandbox.tables() == tables_for({"a", "x"}));
    CHECK(sandbox.migrator({"show", "y"}).out.find("Also depends on: x") != std::string::npos);
}

TEST_CASE("a dependency's version row is handed to the revision that depends on it",
          "[e2e][branches][alembic]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("depends_chain"));  // a; b depends on a; c on b
    StepTracker steps(sandbox);

    CHECK(steps.run({"upgrade", "b"}) == Rows{"up a", "up b"});
    CHECK(sandbox.version_rows() == Rows{"b"});

    SECTION("later upgrades and downgrades work from the row b alone") {
        CHECK(steps.run({"upgrade", "heads"}) == Rows{"up c"});
        CHECK(sandbox.version_rows() == Rows{"c"});
        // a is a head no revision builds on by parents, yet its row went to b: at heads all the
        // same.
        CHECK(sandbox.migrator({"current", "--check-heads"}).exit_code == 0);
        CHECK(steps.run({"downgrade", "base"}) == Rows{"down c", "down b", "down a"});
        CHECK(sandbox.version_rows().empty());
        CHECK(sandbox.tables().empty());
    }
    SECTION("the same after `stamp b`, as on a database Alembic wrote") {
        REQUIRE(sandbox.migrator({"stamp", "base"}).exit_code == 0);
        REQUIRE(sandbox.migrator({"stamp", "b"}).exit_code == 0);
        CHECK(sandbox.version_rows() == Rows{"b"});
        CHECK(steps.run({"upgrade", "c"}) == Rows{"up c"});
        CHECK(steps.run({"downgrade", "base"}) == Rows{"down c", "down b", "down a"});
        CHECK(sandbox.version_rows().empty());
    }
}

TEST_CASE("stamp keeps the version rows it has nothing to do with", "[e2e][branches][alembic]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("depends"));  // roots a and x; y on a, depends on x
    StepTracker steps(sandbox);

    CHECK(steps.run({"upgrade", "a"}) == Rows{"up a"});
    const auto stamped = sandbox.migrator({"stamp", "x"});
    CHECK(stamped.exit_code == 0);
    CHECK(sandbox.version_rows() == Rows{"a", "x"});
    CHECK(steps.new_steps().empty());
    // A related row gives way: y needs x, so stamping y replaces both rows.
    REQUIRE(sandbox.migrator({"stamp", "y"}).exit_code == 0);
    CHECK(sandbox.version_rows() == Rows{"y"});
}

TEST_CASE("a branch label names its whole lineage, ancestors included",
          "[e2e][branches][alembic]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("labelled_fork"));  // a; b (lbl) and c on a
    StepTracker steps(sandbox);

    CHECK(steps.run({"upgrade", "lbl@base+1"}) == Rows{"up a"});
    CHECK(sandbox.version_rows() == Rows{"a"});
    CHECK(steps.run({"upgrade", "heads"}) == Rows{"up b", "up c"});

    SECTION("lbl@a takes down the label's child of a only") {
        CHECK(steps.run({"downgrade", "lbl@a"}) == Rows{"down b"});
        CHECK(sandbox.version_rows() == Rows{"c"});
    }
    SECTION("lbl@base on the single root takes everything down, with a warning") {
        const auto result = sandbox.migrator({"downgrade", "lbl@base"});
        CHECK(result.exit_code == 0);
        CHECK_THAT(result.err, Contains("warning: downgrade lbl@base also undoes c, outside the "
                                        "lineage of 'lbl'"));
        CHECK(steps.new_steps() == Rows{"down c", "down b", "down a"});
        CHECK(sandbox.version_rows().empty());
        CHECK(sandbox.tables().empty());
    }
}

TEST_CASE("a revision id before '@' scopes the identifier to that revision's lineage",
          "[e2e][branches][alembic]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("labelled_fork"));
    StepTracker steps(sandbox);

    CHECK(steps.run({"upgrade", "c@head"}) == Rows{"up a", "up c"});
    CHECK(steps.run({"upgrade", "heads"}) == Rows{"up b"});
    CHECK(steps.run({"downgrade", "c@a"}) == Rows{"down c"});
    CHECK(sandbox.version_rows() == Rows{"b"});
    CHECK(steps.run({"upgrade", "c@head"}) == Rows{"up c"});
    CHECK(steps.run({"downgrade", "c@-1"}) == Rows{"down c"});
    CHECK(sandbox.version_rows() == Rows{"b"});

    const auto unknown = sandbox.migrator({"downgrade", "zz@a"});
    CHECK(unknown.exit_code == 3);
    CHECK_THAT(unknown.err, Contains("No such branch label or revision 'zz'"));
}

TEST_CASE("relative ends of history -r count from the other end of the range",
          "[e2e][branches][alembic]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("line"));  // a -> b -> c -> d

    CHECK(sandbox.migrator({"history", "-r", "a:+1"}).out ==
          "a -> b, line b\n<base> -> a, line a\n");
    CHECK(sandbox.migrator({"history", "-r", "-2:c"}).out == "b -> c, line c\na -> b, line b\n");
    CHECK(sandbox.migrator({"history", "-r", "-1:d"}).out ==
          "c -> d (head), line d\nb -> c, line c\n");
    CHECK_FALSE(sandbox.touched());  // relative ends never read the database
}

TEST_CASE("overlapping version rows: upgrade refuses before any step, downgrade moves them",
          "[e2e][branches][alembic]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("line"));
    StepTracker steps(sandbox);

    CHECK(steps.run({"upgrade", "d"}).size() == 4);
    // What Alembic 1.8.1's `stamp b d` writes: b is below d.
    sandbox.execute_script("INSERT INTO migrator_version (version_num) VALUES ('b')");
    REQUIRE(sandbox.version_rows() == Rows{"b", "d"});

    const auto refused = sandbox.migrator({"upgrade", "heads"});
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.err, Contains("b, d overlap") && Contains("`migrator stamp d`"));
    CHECK(sandbox.version_rows() == Rows{"b", "d"});
    CHECK(steps.new_steps().empty());

    CHECK(steps.run({"downgrade", "a"}) == Rows{"down d", "down c", "down b"});
    CHECK(sandbox.version_rows() == Rows{"a"});
    CHECK(sandbox.tables() == tables_for({"a"}));
}

TEST_CASE(
    "upgrade to a revision already applied runs nothing and says how far past it the "
    "database is",
    "[e2e][branches][alembic]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("line"));
    StepTracker steps(sandbox);

    CHECK(steps.run({"upgrade", "c"}).size() == 3);
    const auto again = sandbox.migrator({"upgrade", "a"});
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Contains("already past a: it is at c, 2 revisions above it"));
    CHECK(lines_of(again.out).size() == 1);
    CHECK(steps.new_steps().empty());
    CHECK(sandbox.version_rows() == Rows{"c"});
}

namespace {

/// A fixture graph (its fixture_graph specs again, for Alembic) and the commands run on it.
struct SideBySide {
    std::string fixture;
    Rows specs;
    Rows commands;
};

/// What a command did, as tests/e2e/alembic_run.py prints it: the steps sorted (or "error"), "|",
/// the version rows sorted. Sorted steps: where two orders are both valid, the tools may differ.
std::string outcome(Rows steps, const Rows& rows, bool refused) {
    std::sort(steps.begin(), steps.end());
    std::string text = refused ? "error" : "";
    for (const auto& step : steps) text += (text.empty() ? "" : ",") + step;
    text += "|";
    for (std::size_t i = 0; i < rows.size(); ++i) text += (i == 0 ? "" : ",") + rows[i];
    return text;
}

}  // namespace

TEST_CASE("each command ends with the steps and version rows real Alembic 1.8.1 gives",
          "[e2e][branches][alembic]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const SideBySide scenario = GENERATE(values<SideBySide>({
        {"depends_chain",
         {"a///", "b///a", "c/b//"},
         {"upgrade b", "downgrade base", "upgrade b", "stamp base", "stamp b", "upgrade c",
          "downgrade b", "downgrade base"}},
        {"depends",
         {"a///", "x///", "y/a//x"},
         {"upgrade x", "upgrade a", "stamp base", "stamp a", "stamp x", "upgrade y", "downgrade x",
          "downgrade a", "downgrade x", "downgrade base"}},
        {"labelled_fork",
         {"a///", "b/a/lbl/", "c/a//"},
         {"upgrade lbl@base+1", "upgrade heads", "downgrade lbl@a", "upgrade heads",
          "downgrade c@a", "upgrade c@head", "downgrade c@-1", "upgrade heads",
          "downgrade lbl@base"}},
        {"line",
         {"a///", "b/a//", "c/b//", "d/c//"},
         {"upgrade d", "rows b,d", "upgrade heads", "downgrade a", "upgrade c", "upgrade a",
          "upgrade base", "downgrade base"}},
    }));
    INFO(backend << " " << scenario.fixture);
    Sandbox sandbox(backend, fixture_dir(scenario.fixture));
    StepTracker steps(sandbox);

    std::vector<std::string> argv{"/usr/bin/python3",
                                  std::string(MIGRATOR_SOURCE_DIR) + "/tests/e2e/alembic_run.py",
                                  (sandbox.dir() / "alembic").string()};
    argv.insert(argv.end(), scenario.specs.begin(), scenario.specs.end());
    argv.push_back("--");
    argv.insert(argv.end(), scenario.commands.begin(), scenario.commands.end());
    const auto alembic = run_process(argv);
    INFO(alembic.err);
    REQUIRE(alembic.exit_code == 0);
    const auto expected = lines_of(alembic.out);
    REQUIRE(expected.size() == scenario.commands.size());

    for (std::size_t i = 0; i < expected.size(); ++i) {
        const std::string& line = scenario.commands[i];
        INFO(line);
        bool refused = false;
        if (line.rfind("rows ", 0) == 0) {
            std::string sql = "DELETE FROM migrator_version;";
            std::string rows = line.substr(5) + ",";
            for (std::size_t at = 0, comma; (comma = rows.find(',', at)) != std::string::npos;
                 at = comma + 1)
                sql += " INSERT INTO migrator_version (version_num) VALUES ('" +
                       rows.substr(at, comma - at) + "');";
            sandbox.execute_script(sql);
        } else {
            std::vector<std::string> args;
            std::istringstream words(line);
            for (std::string word; words >> word;) args.push_back(word);
            const auto result = sandbox.migrator(args);
            INFO(result.out << result.err);
            refused = result.exit_code != 0;
            CHECK(result.exit_code == (refused ? 3 : 0));
        }
        CHECK(outcome(steps.new_steps(), sandbox.version_rows(), refused) == expected[i]);
    }
}
