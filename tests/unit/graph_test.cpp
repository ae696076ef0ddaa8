// Unit tests of the revision graph: construction, identifier resolution and step planning.
#include <catch2/catch.hpp>
#include <cstdio>
#include <migrator/common/errors.hpp>
#include <migrator/graph/graph.hpp>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using migrator::Direction;
using migrator::Revision;
using migrator::RevisionError;
using migrator::RevisionGraph;
using migrator::Step;
using Ids = std::vector<std::string>;

namespace {

Revision rev(std::string id, Ids parents = {}, Ids labels = {}, Ids depends_on = {}) {
    Revision revision;
    revision.id = std::move(id);
    revision.parents = std::move(parents);
    revision.branch_labels = std::move(labels);
    revision.depends_on = std::move(depends_on);
    return revision;
}

// a -> b -> c -> d -> e
RevisionGraph chain() {
    return RevisionGraph(
        {rev("a"), rev("b", {"a"}), rev("c", {"b"}), rev("d", {"c"}), rev("e", {"d"})});
}

// a -> b, a -> c, d merges b and c
RevisionGraph diamond() {
    return RevisionGraph({rev("a"), rev("b", {"a"}), rev("c", {"a"}), rev("d", {"b", "c"})});
}

// a -> b; b -> c1 (c1branch) -> d1; b -> c2 (c2branch) -> d2
RevisionGraph branched() {
    return RevisionGraph({rev("a"), rev("b", {"a"}), rev("c1", {"b"}, {"c1branch"}),
                          rev("d1", {"c1"}), rev("c2", {"b"}, {"c2branch"}), rev("d2", {"c2"})});
}

// a -> b1, a -> b2, c merges b1 and b2
RevisionGraph merged() {
    return RevisionGraph({rev("a"), rev("b1", {"a"}), rev("b2", {"a"}), rev("c", {"b1", "b2"})});
}

// x is a base on its own branch; y sits on a and depends on x
RevisionGraph depending() {
    return RevisionGraph(
        {rev("a", {}, {"main"}), rev("x", {}, {"xbranch"}), rev("y", {"a"}, {}, {"x"})});
}

Ids order_of(const RevisionGraph& graph) {
    Ids out;
    for (const auto& revision : graph.revisions()) out.push_back(revision.id);
    return out;
}

Ids revisions_of(const std::vector<Step>& steps) {
    Ids out;
    for (const auto& step : steps) out.push_back(step.revision);
    return out;
}

bool all_in(const std::vector<Step>& steps, Direction direction) {
    for (const auto& step : steps)
        if (step.direction != direction) return false;
    return true;
}

}  // namespace

TEST_CASE("A graph lists revisions parents first with ties broken by id", "[graph]") {
    const RevisionGraph graph({rev("d", {"b", "c"}), rev("c", {"a"}), rev("b", {"a"}), rev("a")});
    Ids order;
    for (const auto& revision : graph.revisions()) order.push_back(revision.id);
    CHECK(order == Ids{"a", "b", "c", "d"});
    CHECK(graph.size() == 4);
    CHECK(graph.heads() == Ids{"d"});
    CHECK(graph.bases() == Ids{"a"});
    CHECK(graph.children("a") == Ids{"b", "c"});
    CHECK(graph.at("d").parents == Ids{"b", "c"});
    CHECK(graph.find("zz") == nullptr);
    REQUIRE(graph.find("c") != nullptr);
    CHECK(graph.find("c")->id == "c");
    CHECK_THROWS_AS(graph.at("zz"), RevisionError);
    CHECK_THROWS_AS(graph.children("zz"), RevisionError);
}

TEST_CASE("A graph with several bases and heads reports them all", "[graph]") {
    const RevisionGraph graph({rev("x"), rev("a"), rev("b", {"a"}), rev("c", {"a"})});
    CHECK(graph.bases() == Ids{"a", "x"});
    CHECK(graph.heads() == Ids{"b", "c", "x"});
}

TEST_CASE("Building a graph rejects an empty or duplicated id", "[graph]") {
    SECTION("empty id") {
        CHECK_THROWS_WITH(RevisionGraph({rev("a"), rev("")}), Contains("empty id"));
    }
    SECTION("duplicate id") {
        CHECK_THROWS_WITH(RevisionGraph({rev("a"), rev("b", {"a"}), rev("b", {"a"})}),
                          Contains("'b'") && Contains("more than once"));
    }
}

TEST_CASE("Building a graph rejects a parent that does not exist, naming both", "[graph]") {
    CHECK_THROWS_AS(RevisionGraph({rev("a"), rev("b", {"zz"})}), RevisionError);
    CHECK_THROWS_WITH(RevisionGraph({rev("a"), rev("b", {"zz"})}),
                      Contains("'b'") && Contains("'zz'"));
}

TEST_CASE("Building a graph rejects a parent named twice", "[graph]") {
    CHECK_THROWS_WITH(RevisionGraph({rev("a"), rev("b", {"a", "a"})}),
                      Contains("'b'") && Contains("'a'"));
}

TEST_CASE("Building a graph rejects a cycle, naming the revisions in it", "[graph]") {
    SECTION("three revisions above a base") {
        // x -> y -> z -> x, with y also resting on the base a
        CHECK_THROWS_WITH(RevisionGraph({rev("a"), rev("x", {"z"}), rev("y", {"x", "a"}),
                                         rev("z", {"y"}), rev("b", {"a"})}),
                          Contains("cycle") && Contains("x -> y -> z -> x"));
    }
    SECTION("a revision that is its own parent") {
        CHECK_THROWS_WITH(RevisionGraph({rev("a"), rev("s", {"s"})}),
                          Contains("cycle") && Contains("s -> s"));
    }
}

TEST_CASE("An exact id or a unique prefix resolves to one revision", "[graph]") {
    const RevisionGraph graph({rev("ab"), rev("abc", {"ab"}), rev("cd12", {"abc"})});
    SECTION("an exact id wins over being a prefix of another id") {
        CHECK(graph.resolve_id("ab") == "ab");
    }
    SECTION("a unique prefix") {
        CHECK(graph.resolve_id("c") == "cd12");
        CHECK(graph.resolve_id("abc") == "abc");
    }
    SECTION("the same forms as targets") {
        CHECK(graph.resolve_target("cd", {}) == Ids{"cd12"});
        CHECK(graph.resolve_target("ab", {}) == Ids{"ab"});
    }
}

TEST_CASE("An unknown id and an ambiguous prefix give different errors", "[graph]") {
    const RevisionGraph graph({rev("ab12"), rev("ab34", {"ab12"}), rev("cd56", {"ab34"})});
    SECTION("unknown") {
        CHECK_THROWS_AS(graph.resolve_id("xyz"), RevisionError);
        CHECK_THROWS_WITH(graph.resolve_id("xyz"),
                          Contains("No such revision 'xyz'") && !Contains("ambiguous"));
        CHECK_THROWS_WITH(graph.resolve_target("xyz", {}), Contains("No such revision 'xyz'"));
    }
    SECTION("ambiguous") {
        CHECK_THROWS_AS(graph.resolve_id("ab"), RevisionError);
        CHECK_THROWS_WITH(graph.resolve_id("ab"), Contains("prefix 'ab' is ambiguous") &&
                                                      Contains("ab12, ab34") &&
                                                      !Contains("No such"));
        CHECK_THROWS_WITH(graph.resolve_target("ab", {}), Contains("ambiguous"));
    }
    SECTION("empty") {
        CHECK_THROWS_AS(graph.resolve_id(""), RevisionError);
        CHECK_THROWS_AS(graph.resolve_target("", {}), RevisionError);
    }
}

TEST_CASE("An id containing '+' or '-' resolves as that id", "[graph]") {
    const RevisionGraph graph({rev("add-users"), rev("x+1", {"add-users"})});
    CHECK(graph.resolve_target("add-users", {}) == Ids{"add-users"});
    CHECK(graph.resolve_target("x+1", {}) == Ids{"x+1"});
    CHECK(graph.resolve_target("add-u", {}) == Ids{"add-users"});
    CHECK(graph.resolve_target("add-users+1", {}) == Ids{"x+1"});
}

TEST_CASE("base, heads and head resolve to sets of heads", "[graph]") {
    SECTION("a single chain") {
        const RevisionGraph graph = chain();
        CHECK(graph.resolve_target("base", {"c"}).empty());
        CHECK(graph.resolve_target("heads", {}) == Ids{"e"});
        CHECK(graph.resolve_target("head", {}) == Ids{"e"});
    }
    SECTION("several heads make head an error that suggests heads") {
        const RevisionGraph graph({rev("a"), rev("b", {"a"}), rev("c", {"a"})});
        CHECK(graph.resolve_target("heads", {}) == Ids{"b", "c"});
        CHECK_THROWS_AS(graph.resolve_target("head", {}), RevisionError);
        CHECK_THROWS_WITH(graph.resolve_target("head", {}),
                          Contains("'heads'") && Contains("b, c"));
    }
    SECTION("an empty graph has nothing to do") {
        const RevisionGraph graph({});
        CHECK(graph.size() == 0);
        CHECK(graph.resolve_target("head", {}).empty());
        CHECK(graph.resolve_target("heads", {}).empty());
        CHECK(graph.resolve_target("base", {}).empty());
        CHECK(graph.plan_upgrade({}, graph.resolve_target("head", {})).empty());
    }
}

TEST_CASE("+N and -N count from the single current revision", "[graph]") {
    const RevisionGraph graph = chain();
    SECTION("forward") {
        CHECK(graph.resolve_target("+1", {"a"}) == Ids{"b"});
        CHECK(graph.resolve_target("+2", {"a"}) == Ids{"c"});
    }
    SECTION("forward from base walks up from the single base") {
        CHECK(graph.resolve_target("+1", {}) == Ids{"a"});
        CHECK(graph.resolve_target("+5", {}) == Ids{"e"});
    }
    SECTION("backward") {
        CHECK(graph.resolve_target("-1", {"c"}) == Ids{"b"});
        CHECK(graph.resolve_target("-2", {"c"}) == Ids{"a"});
    }
    SECTION("backward from a base reaches base") {
        CHECK(graph.resolve_target("-1", {"a"}).empty());
        CHECK(graph.resolve_target("-3", {"c"}).empty());
    }
    SECTION("past the head is an error in Alembic's words") {
        CHECK_THROWS_WITH(graph.resolve_target("+3", {"c"}),
                          Contains("'+3' didn't produce 3 migrations") && Contains("'e'"));
        CHECK_THROWS_WITH(graph.resolve_target("+6", {}), Contains("didn't produce 6"));
    }
    SECTION("below base is an error") {
        CHECK_THROWS_WITH(graph.resolve_target("-4", {"c"}),
                          Contains("didn't produce 4") && Contains("base"));
        CHECK_THROWS_AS(graph.resolve_target("-1", {}), RevisionError);
    }
    SECTION("several current revisions make it ambiguous") {
        const RevisionGraph branched({rev("a"), rev("b", {"a"}), rev("c", {"a"})});
        CHECK_THROWS_WITH(
            branched.resolve_target("+1", {"b", "c"}),
            Contains("ambiguous from multiple current revisions") && Contains("b, c"));
        CHECK_THROWS_WITH(branched.resolve_target("-1", {"b", "c"}),
                          Contains("multiple current revisions"));
    }
    SECTION("a current revision the graph does not know is named") {
        CHECK_THROWS_WITH(graph.resolve_target("-1", {"gone"}), Contains("'gone'"));
    }
}

TEST_CASE("REV+N, REV-N, head-N and base+N count from the named revision", "[graph]") {
    const RevisionGraph graph = chain();
    SECTION("REV+N and REV-N ignore the current revision") {
        CHECK(graph.resolve_target("b+2", {"a"}) == Ids{"d"});
        CHECK(graph.resolve_target("d-3", {"e"}) == Ids{"a"});
        CHECK(graph.resolve_target("c-3", {}).empty());
    }
    SECTION("head-N") {
        CHECK(graph.resolve_target("head-1", {}) == Ids{"d"});
        CHECK(graph.resolve_target("head-5", {}).empty());
        CHECK_THROWS_WITH(graph.resolve_target("head-6", {}), Contains("didn't produce 6"));
        CHECK_THROWS_WITH(graph.resolve_target("head+1", {}), Contains("didn't produce 1"));
    }
    SECTION("base+N") {
        CHECK(graph.resolve_target("base+1", {"c"}) == Ids{"a"});
        CHECK(graph.resolve_target("base+5", {}) == Ids{"e"});
        CHECK_THROWS_WITH(graph.resolve_target("base+6", {}), Contains("didn't produce 6"));
        CHECK_THROWS_AS(graph.resolve_target("base-1", {}), RevisionError);
    }
    SECTION("past the head or below base") {
        CHECK_THROWS_WITH(graph.resolve_target("e+1", {}), Contains("'e+1' didn't produce 1"));
        CHECK_THROWS_AS(graph.resolve_target("a-2", {}), RevisionError);
    }
    SECTION("a prefix as the anchor") {
        const RevisionGraph hex({rev("1a2b"), rev("3c4d", {"1a2b"}), rev("5e6f", {"3c4d"})});
        CHECK(hex.resolve_target("1a+2", {}) == Ids{"5e6f"});
        CHECK(hex.resolve_target("5e-1", {}) == Ids{"3c4d"});
        CHECK_THROWS_WITH(hex.resolve_target("99+1", {}), Contains("No such revision '99'"));
    }
    SECTION("head-N with several heads") {
        const RevisionGraph branched({rev("a"), rev("b", {"a"}), rev("c", {"a"})});
        CHECK_THROWS_WITH(branched.resolve_target("head-1", {}), Contains("'heads'"));
    }
}

TEST_CASE("Malformed relative revisions are rejected", "[graph]") {
    const RevisionGraph graph = chain();
    SECTION("zero steps") {
        CHECK_THROWS_AS(graph.resolve_target("+0", {"a"}), RevisionError);
        CHECK_THROWS_AS(graph.resolve_target("b-0", {}), RevisionError);
    }
    SECTION("a count that is not a number") {
        CHECK_THROWS_WITH(graph.resolve_target("abc+x", {}), Contains("'abc+x'"));
        CHECK_THROWS_AS(graph.resolve_target("-x", {"b"}), RevisionError);
        CHECK_THROWS_AS(graph.resolve_target("b+", {}), RevisionError);
        CHECK_THROWS_AS(graph.resolve_target("+", {}), RevisionError);
        CHECK_THROWS_AS(graph.resolve_target("+-1", {"b"}), RevisionError);
    }
    SECTION("heads as an anchor") {
        CHECK_THROWS_WITH(graph.resolve_target("heads-1", {}), Contains("'heads'"));
    }
    SECTION("a huge count fails like any count too large") {
        CHECK_THROWS_WITH(graph.resolve_target("+99999999999999999999999", {}),
                          Contains("didn't produce"));
    }
}

TEST_CASE("Walking across a branch point or a merge is ambiguous", "[graph]") {
    const RevisionGraph graph = diamond();
    SECTION("forward from a branch point names its children") {
        CHECK_THROWS_WITH(graph.resolve_target("a+1", {}),
                          Contains("'a'") && Contains("b, c") && Contains("ambiguous"));
        CHECK_THROWS_WITH(graph.resolve_target("+2", {}), Contains("'a'") && Contains("b, c"));
    }
    SECTION("backward from a merge names its parents") {
        CHECK_THROWS_WITH(graph.resolve_target("-1", {"d"}),
                          Contains("'d'") && Contains("merge") && Contains("b, c"));
    }
    SECTION("forward from base with several bases") {
        const RevisionGraph two_bases({rev("a"), rev("x")});
        CHECK_THROWS_WITH(two_bases.resolve_target("+1", {}), Contains("base") && Contains("a, x"));
    }
    SECTION("a walk through one parent of a merge is fine") {
        CHECK(graph.resolve_target("b+1", {}) == Ids{"d"});
        CHECK(graph.resolve_target("-1", {"b"}) == Ids{"a"});
    }
}

TEST_CASE("Upgrading applies every missing ancestor of the target, parents first", "[graph]") {
    const RevisionGraph graph = chain();
    SECTION("upgrade +2 from a") {
        const auto steps = graph.plan_upgrade({"a"}, graph.upgrade_destination("+2", {"a"}));
        CHECK(revisions_of(steps) == Ids{"b", "c"});
        CHECK(all_in(steps, Direction::upgrade));
    }
    SECTION("upgrade b+2 from a") {
        const auto steps = graph.plan_upgrade({"a"}, graph.upgrade_destination("b+2", {"a"}));
        CHECK(revisions_of(steps) == Ids{"b", "c", "d"});
    }
    SECTION("upgrade head from base runs everything in order") {
        const auto steps = graph.plan_upgrade({}, graph.upgrade_destination("head", {}));
        CHECK(revisions_of(steps) == Ids{"a", "b", "c", "d", "e"});
        CHECK(all_in(steps, Direction::upgrade));
        CHECK(steps.front().heads_before.empty());
        CHECK(steps.front().heads_after == Ids{"a"});
        CHECK(steps.back().heads_before == Ids{"d"});
        CHECK(steps.back().heads_after == Ids{"e"});
    }
    SECTION("already there does nothing") {
        CHECK(graph.plan_upgrade({"e"}, {"e"}).empty());
        CHECK(graph.plan_upgrade({}, {}).empty());
    }
}

TEST_CASE("Upgrading by -N or to rows that undo a revision is an error that points to downgrade",
          "[graph]") {
    const RevisionGraph graph = chain();
    SECTION("upgrade -2 from b, as a destination") {
        CHECK_THROWS_WITH(graph.upgrade_destination("-2", {"b"}),
                          Contains("Destination '-2'") && Contains("current head(s) b") &&
                              Contains("use downgrade"));
    }
    SECTION("upgrade -2 from b, as a plan") {
        const Ids target = graph.resolve_target("-2", {"b"});
        CHECK(target.empty());
        CHECK_THROWS_WITH(graph.plan_upgrade({"b"}, target), Contains("Destination base") &&
                                                                 Contains("current head(s) b") &&
                                                                 Contains("use downgrade"));
    }
    SECTION("upgrade a from c") {
        CHECK_THROWS_AS(graph.plan_upgrade({"c"}, {"a"}), RevisionError);
        CHECK_THROWS_WITH(graph.plan_upgrade({"c"}, {"a"}),
                          Contains("Destination a") && Contains("use downgrade"));
    }
    SECTION("a target on a branch below the current merge") {
        const RevisionGraph merged = diamond();
        CHECK_THROWS_WITH(merged.plan_upgrade({"d"}, {"b"}), Contains("use downgrade"));
    }
    SECTION("an unknown current revision is named") {
        CHECK_THROWS_WITH(graph.plan_upgrade({"gone"}, {"e"}), Contains("'gone'"));
    }
}

TEST_CASE("Downgrading undoes every applied descendant of the target, children first", "[graph]") {
    const RevisionGraph graph = chain();
    SECTION("downgrade c-2 from d") {
        const auto steps = graph.plan_downgrade({"d"}, graph.downgrade_destination("c-2", {"d"}));
        CHECK(revisions_of(steps) == Ids{"d", "c", "b"});
        CHECK(all_in(steps, Direction::downgrade));
        CHECK(steps.front().heads_before == Ids{"d"});
        CHECK(steps.back().heads_after == Ids{"a"});
    }
    SECTION("downgrade a from a does nothing") {
        CHECK(graph.downgrade_destination("a", {"a"}) == Ids{"a"});
        CHECK(graph.plan_downgrade({"a"}, graph.downgrade_destination("a", {"a"})).empty());
    }
    SECTION("downgrade base from e undoes everything") {
        const auto steps = graph.plan_downgrade({"e"}, graph.downgrade_destination("base", {"e"}));
        CHECK(revisions_of(steps) == Ids{"e", "d", "c", "b", "a"});
        CHECK(steps.back().heads_after.empty());
    }
    SECTION("downgrade -1 from a base reaches base") {
        const auto steps = graph.plan_downgrade({"a"}, graph.downgrade_destination("-1", {"a"}));
        CHECK(revisions_of(steps) == Ids{"a"});
    }
    SECTION("downgrade base from base does nothing") {
        CHECK(graph.plan_downgrade({}, {}).empty());
    }
}

TEST_CASE("Downgrading to a revision that is not applied is an error that points to upgrade",
          "[graph]") {
    const RevisionGraph graph = chain();
    CHECK_THROWS_AS(graph.plan_downgrade({"b"}, {"d"}), RevisionError);
    CHECK_THROWS_WITH(graph.plan_downgrade({"b"}, {"d"}), Contains("Destination d") &&
                                                              Contains("current head(s) b") &&
                                                              Contains("use upgrade"));
    CHECK_THROWS_WITH(graph.plan_downgrade({}, {"a"}), Contains("current head(s) base"));
}

TEST_CASE("Steps record the version rows before and after across a branch and a merge", "[graph]") {
    const RevisionGraph graph = diamond();
    SECTION("the first branch moves one row") {
        const auto steps = graph.plan_upgrade({}, {"b"});
        REQUIRE(revisions_of(steps) == Ids{"a", "b"});
        CHECK(steps[0].heads_before.empty());
        CHECK(steps[0].heads_after == Ids{"a"});
        CHECK(steps[1].heads_before == Ids{"a"});
        CHECK(steps[1].heads_after == Ids{"b"});
    }
    SECTION("the second branch adds a row") {
        const auto steps = graph.plan_upgrade({"b"}, {"b", "c"});
        REQUIRE(revisions_of(steps) == Ids{"c"});
        CHECK(steps[0].heads_before == Ids{"b"});
        CHECK(steps[0].heads_after == Ids{"b", "c"});
    }
    SECTION("the merge replaces two rows with one") {
        const auto steps = graph.plan_upgrade({"c", "b"}, {"d"});
        REQUIRE(revisions_of(steps) == Ids{"d"});
        CHECK(steps[0].heads_before == Ids{"b", "c"});
        CHECK(steps[0].heads_after == Ids{"d"});
    }
    SECTION("upgrading to the merge from one branch applies the other branch first") {
        const auto steps = graph.plan_upgrade({"b"}, {"d"});
        REQUIRE(revisions_of(steps) == Ids{"c", "d"});
        CHECK(steps[0].heads_after == Ids{"b", "c"});
        CHECK(steps[1].heads_after == Ids{"d"});
    }
    SECTION("downgrading the merge restores two rows") {
        const auto steps = graph.plan_downgrade({"d"}, {"b", "c"});
        REQUIRE(revisions_of(steps) == Ids{"d"});
        CHECK(steps[0].direction == Direction::downgrade);
        CHECK(steps[0].heads_before == Ids{"d"});
        CHECK(steps[0].heads_after == Ids{"b", "c"});
    }
    SECTION("downgrading to base removes the rows one by one") {
        const auto steps = graph.plan_downgrade({"d"}, {});
        REQUIRE(revisions_of(steps) == Ids{"d", "c", "b", "a"});
        CHECK(steps[0].heads_after == Ids{"b", "c"});
        CHECK(steps[1].heads_after == Ids{"b"});
        CHECK(steps[2].heads_after == Ids{"a"});
        CHECK(steps[3].heads_after.empty());
    }
    SECTION("downgrading one branch leaves the other") {
        const auto steps = graph.plan_downgrade({"b", "c"}, {"a"});
        REQUIRE(revisions_of(steps) == Ids{"c", "b"});
        CHECK(steps[0].heads_after == Ids{"b"});
        CHECK(steps[1].heads_after == Ids{"a"});
    }
}

TEST_CASE("ancestors_or_self lists the revisions and their ancestors, parents first", "[graph]") {
    const RevisionGraph graph = diamond();
    CHECK(graph.ancestors_or_self({"b"}) == Ids{"a", "b"});
    CHECK(graph.ancestors_or_self({"c", "b"}) == Ids{"a", "b", "c"});
    CHECK(graph.ancestors_or_self({"d"}) == Ids{"a", "b", "c", "d"});
    CHECK(graph.ancestors_or_self({}).empty());
    CHECK_THROWS_AS(graph.ancestors_or_self({"zz"}), RevisionError);
}

TEST_CASE("Building a graph checks branch labels and depends_on", "[graph]") {
    SECTION("a depends_on naming nothing is named with its revision") {
        CHECK_THROWS_WITH(RevisionGraph({rev("a"), rev("b", {"a"}, {}, {"zz"})}),
                          Contains("'b'") && Contains("'zz'"));
    }
    SECTION("a label carried by two revisions names both") {
        CHECK_THROWS_WITH(RevisionGraph({rev("a", {}, {"core"}), rev("b", {"a"}, {"core"})}),
                          Contains("'core'") && Contains("'a'") && Contains("'b'"));
    }
    SECTION("a label equal to a revision id") {
        CHECK_THROWS_WITH(RevisionGraph({rev("a"), rev("b", {"a"}, {"a"})}),
                          Contains("'a'") && Contains("'b'") && Contains("id"));
    }
    SECTION("an empty label or one the grammar cannot name") {
        CHECK_THROWS_WITH(RevisionGraph({rev("a", {}, {""})}), Contains("empty branch label"));
        CHECK_THROWS_WITH(RevisionGraph({rev("a", {}, {"x@y"})}), Contains("'x@y'"));
        CHECK_THROWS_WITH(RevisionGraph({rev("a", {}, {"x:y"})}), Contains("'x:y'"));
    }
    SECTION("the same label twice on one revision is one label") {
        const RevisionGraph graph({rev("a", {}, {"core", "core"})});
        CHECK(graph.branch_labels() == Ids{"core"});
    }
    SECTION("a cycle through a depends_on edge") {
        // c's parent is b, and b depends on c
        CHECK_THROWS_WITH(RevisionGraph({rev("a"), rev("b", {"a"}, {}, {"c"}), rev("c", {"b"})}),
                          Contains("cycle") && Contains("b -> c -> b"));
    }
    SECTION("a revision that depends on itself") {
        CHECK_THROWS_WITH(RevisionGraph({rev("a", {}, {}, {"a"})}),
                          Contains("cycle") && Contains("a -> a"));
    }
    SECTION("a dependency may be named by its branch label") {
        const RevisionGraph graph(
            {rev("a"), rev("x", {}, {"xbranch"}), rev("y", {"a"}, {}, {"xbranch"})});
        CHECK(graph.ancestors_or_self({"y"}) == Ids{"a", "x", "y"});
    }
}

TEST_CASE("The order puts dependencies first, ties broken by id", "[graph]") {
    // Without the dependency, b would come before z.
    const RevisionGraph graph({rev("z"), rev("b", {"a"}, {}, {"z"}), rev("a")});
    CHECK(order_of(graph) == Ids{"a", "z", "b"});
    CHECK(graph.heads() == Ids{"z", "b"});  // a dependency keeps its own head
}

TEST_CASE("Branch points, bases and heads of a graph with several of each", "[graph]") {
    const RevisionGraph graph({rev("a"), rev("b", {"a"}), rev("c", {"b"}), rev("d", {"b"}),
                               rev("e", {"a"}), rev("m", {"c", "d"}), rev("x")});
    CHECK(graph.bases() == Ids{"a", "x"});
    CHECK(graph.heads() == Ids{"e", "m", "x"});
    CHECK(graph.branch_points() == Ids{"a", "b"});
    CHECK(branched().branch_points() == Ids{"b"});
    CHECK(chain().branch_points().empty());
}

TEST_CASE("A branch is its labelled revision, its descendants and the line below it", "[graph]") {
    SECTION("the line stops at the branch point") {
        const RevisionGraph graph = branched();
        CHECK(graph.branch_members("c1branch") == Ids{"c1", "d1"});
        CHECK(graph.branch_members("c2branch") == Ids{"c2", "d2"});
        CHECK(graph.labels_of("d1") == Ids{"c1branch"});
        CHECK(graph.labels_of("c2") == Ids{"c2branch"});
        CHECK(graph.labels_of("b").empty());
        CHECK(graph.branch_labels() == Ids{"c1branch", "c2branch"});
    }
    SECTION("the line reaches down to the base") {
        const RevisionGraph graph(
            {rev("a"), rev("b", {"a"}), rev("c", {"b"}, {"core"}), rev("d", {"c"})});
        CHECK(graph.branch_members("core") == Ids{"a", "b", "c", "d"});
        CHECK(graph.labels_of("a") == Ids{"core"});
    }
    SECTION("a merge below ends the line; a merge above is on the branch") {
        const RevisionGraph graph({rev("a"), rev("b1", {"a"}, {"one"}), rev("b2", {"a"}),
                                   rev("c", {"b1", "b2"}), rev("d", {"c"}, {"top"})});
        CHECK(graph.branch_members("top") == Ids{"d"});
        CHECK(graph.branch_members("one") == Ids{"b1", "c", "d"});
        CHECK(graph.labels_of("c") == Ids{"one"});
        CHECK(graph.labels_of("d") == Ids{"one", "top"});
    }
    SECTION("a dependency is not lineage") {
        const RevisionGraph graph = depending();
        CHECK(graph.branch_members("xbranch") == Ids{"x"});
        CHECK(graph.branch_members("main") == Ids{"a", "y"});
    }
    SECTION("an unknown label lists the known ones") {
        CHECK_THROWS_WITH(branched().branch_members("nope"),
                          Contains("'nope'") && Contains("c1branch, c2branch"));
        CHECK_THROWS_WITH(chain().branch_members("nope"), Contains("no revision has a"));
        CHECK_THROWS_AS(branched().labels_of("zz"), RevisionError);
    }
}

TEST_CASE("label@ identifiers resolve on that branch", "[graph]") {
    const RevisionGraph graph = branched();
    SECTION("label@head, label@heads and label@base") {
        CHECK(graph.resolve_target("c1branch@head", {}) == Ids{"d1"});
        CHECK(graph.resolve_target("c2branch@heads", {}) == Ids{"d2"});
        CHECK(graph.resolve_target("c1branch@base", {}).empty());
        CHECK(depending().resolve_target("xbranch@base", {}).empty());
    }
    SECTION("a bare label names its revision") {
        CHECK(graph.resolve_target("c2branch", {}) == Ids{"c2"});
        CHECK(graph.resolve_target("c2branch+1", {}) == Ids{"d2"});
    }
    SECTION("label@REV must be on the branch; prefixes count only the branch") {
        CHECK(graph.resolve_target("c1branch@c1", {}) == Ids{"c1"});
        CHECK(graph.resolve_target("c1branch@d", {}) == Ids{"d1"});  // d alone is ambiguous
        CHECK_THROWS_WITH(graph.resolve_target("d", {}), Contains("ambiguous"));
        CHECK_THROWS_WITH(graph.resolve_target("c1branch@d2", {}),
                          Contains("'d2'") && Contains("not on branch 'c1branch'"));
        CHECK(graph.resolve_target("c1branch@b", {}) == Ids{"b"});  // the lineage goes down
        CHECK_THROWS_WITH(graph.resolve_target("c1branch@c2", {}), Contains("not on branch"));
        CHECK_THROWS_WITH(graph.resolve_target("c1branch@zz", {}),
                          Contains("No such revision 'zz'"));
    }
    SECTION("label@+N and label@-N count from the current revision on the branch") {
        CHECK(graph.resolve_target("c1branch@+1", {"c1", "c2"}) == Ids{"d1"});
        CHECK(graph.resolve_target("c1branch@-1", {"d1", "d2"}) == Ids{"c1"});
        CHECK(graph.resolve_target("c1branch@-2", {"d1", "d2"}) == Ids{"b"});
        CHECK(graph.resolve_target("c2branch@+1", {"b"}) == Ids{"c2"});
        CHECK(graph.resolve_target("c2branch@+2", {}) == Ids{"b"});  // from base, through a
        CHECK_THROWS_WITH(graph.resolve_target("c2branch@-1", {"c1"}),
                          Contains("no current revision is on branch 'c2branch'"));
        CHECK_THROWS_WITH(graph.resolve_target("c1branch@+2", {"c1"}),
                          Contains("didn't produce 2") && Contains("'d1' is a head"));
    }
    SECTION("label@head-N and label@base+N") {
        CHECK(graph.resolve_target("c2branch@head-1", {}) == Ids{"c2"});
        CHECK(graph.resolve_target("c2branch@head-2", {}) == Ids{"b"});
        CHECK(graph.resolve_target("c1branch@base+2", {}) == Ids{"b"});
        CHECK(graph.resolve_target("c1branch@base+4", {}) == Ids{"d1"});
        CHECK(graph.resolve_target("c1branch@c1+1", {}) == Ids{"d1"});
    }
    SECTION("label@ with a label that does not exist lists the labels") {
        CHECK_THROWS_WITH(graph.resolve_target("nope@head", {}),
                          Contains("'nope'") && Contains("c1branch, c2branch"));
    }
    SECTION("an empty label or an empty revision after '@'") {
        CHECK_THROWS_WITH(graph.resolve_target("@head", {}), Contains("'@head'"));
        CHECK_THROWS_WITH(graph.resolve_target("c1branch@", {}), Contains("'c1branch@'"));
    }
}

TEST_CASE("Branches make head, +N and walks ambiguous unless a label decides", "[graph]") {
    const RevisionGraph graph = branched();
    SECTION("head with several heads lists them and suggests heads and label@head") {
        CHECK_THROWS_WITH(graph.resolve_target("head", {}),
                          Contains("d1, d2") && Contains("'heads'") && Contains("'label@head'") &&
                              Contains("c1branch"));
        CHECK(graph.resolve_target("heads", {}) == Ids{"d1", "d2"});
    }
    SECTION("+N from several current revisions") {
        CHECK_THROWS_WITH(
            graph.upgrade_destination("+1", {"c1", "c2"}),
            Contains("ambiguous from multiple current revisions") && Contains("c1, c2"));
    }
    SECTION("walking forward through a branch point names the children") {
        CHECK_THROWS_WITH(graph.resolve_target("+1", {"b"}),
                          Contains("'b'") && Contains("c1, c2") && Contains("label@"));
        CHECK_THROWS_WITH(graph.resolve_target("a+2", {}), Contains("c1, c2"));
        CHECK(graph.resolve_target("c1branch@+1", {"b"}) == Ids{"c1"});
    }
    SECTION("walking backward through a merge point, unless the label picks the parent") {
        const RevisionGraph labelled(
            {rev("a"), rev("b1", {"a"}, {"left"}), rev("b2", {"a"}), rev("c", {"b1", "b2"})});
        CHECK_THROWS_WITH(labelled.resolve_target("c-1", {}),
                          Contains("'c'") && Contains("merge") && Contains("b1, b2"));
        CHECK(labelled.resolve_target("left@c-1", {}) == Ids{"b1"});
        CHECK(labelled.resolve_target("left@-2", {"c"}) == Ids{"a"});
    }
    SECTION("several current revisions on one branch") {
        const RevisionGraph forked({rev("a", {}, {"core"}), rev("b", {"a"}), rev("c", {"a"})});
        CHECK_THROWS_WITH(forked.resolve_target("core@-1", {"b", "c"}),
                          Contains("'core'") && Contains("b, c"));
    }
    SECTION("heads of an empty graph") {
        CHECK(RevisionGraph({}).resolve_target("heads", {}).empty());
    }
}

TEST_CASE("Upgrades and downgrades along a chain", "[graph]") {
    const RevisionGraph graph = chain();
    SECTION("upgrade +2 from a runs b, c") {
        const Ids rows = graph.upgrade_destination("+2", {"a"});
        CHECK(rows == Ids{"c"});
        const auto steps = graph.plan_upgrade({"a"}, rows);
        CHECK(revisions_of(steps) == Ids{"b", "c"});
        CHECK(steps[0].heads_after == Ids{"b"});
        CHECK(steps[1].heads_after == Ids{"c"});
    }
    SECTION("upgrade b+2 from a runs b, c, d") {
        const auto steps = graph.plan_upgrade({"a"}, graph.upgrade_destination("b+2", {"a"}));
        CHECK(revisions_of(steps) == Ids{"b", "c", "d"});
        CHECK(steps.back().heads_after == Ids{"d"});
    }
    SECTION("upgrade -2 from b is an error") {
        CHECK_THROWS_AS(graph.upgrade_destination("-2", {"b"}), RevisionError);
    }
    SECTION("downgrade c-2 from d runs d, c, b down") {
        const Ids rows = graph.downgrade_destination("c-2", {"d"});
        CHECK(rows == Ids{"a"});
        const auto steps = graph.plan_downgrade({"d"}, rows);
        CHECK(revisions_of(steps) == Ids{"d", "c", "b"});
        CHECK(all_in(steps, Direction::downgrade));
        CHECK(steps[0].heads_after == Ids{"c"});
        CHECK(steps[1].heads_after == Ids{"b"});
        CHECK(steps[2].heads_after == Ids{"a"});
    }
    SECTION("downgrade a from a does nothing") {
        CHECK(graph.plan_downgrade({"a"}, graph.downgrade_destination("a", {"a"})).empty());
    }
    SECTION("already there is not an error") {
        CHECK(graph.upgrade_destination("head", {"e"}) == Ids{"e"});
        CHECK(graph.upgrade_destination("c", {"c"}) == Ids{"c"});
        CHECK(graph.upgrade_destination("base", {}).empty());
    }
    SECTION("downgrading to a revision that is not applied points to upgrade") {
        CHECK_THROWS_WITH(
            graph.downgrade_destination("d", {"b"}),
            Contains("'d'") && Contains("not a valid downgrade target") && Contains("use upgrade"));
        CHECK_THROWS_WITH(graph.downgrade_destination("+1", {"b"}), Contains("use upgrade"));
    }
}

TEST_CASE("Upgrades and downgrades across labelled branches", "[graph]") {
    const RevisionGraph graph = branched();
    SECTION("upgrade d1 from b runs c1, d1 and leaves d1") {
        const Ids rows = graph.upgrade_destination("d1", {"b"});
        CHECK(rows == Ids{"d1"});
        const auto steps = graph.plan_upgrade({"b"}, rows);
        CHECK(revisions_of(steps) == Ids{"c1", "d1"});
        CHECK(steps[0].heads_after == Ids{"c1"});
        CHECK(steps[1].heads_after == Ids{"d1"});
    }
    SECTION("upgrade c2branch@head-1 from b runs c2") {
        const Ids rows = graph.upgrade_destination("c2branch@head-1", {"b"});
        CHECK(rows == Ids{"c2"});
        const auto steps = graph.plan_upgrade({"b"}, rows);
        CHECK(revisions_of(steps) == Ids{"c2"});
        CHECK(steps[0].heads_before == Ids{"b"});
        CHECK(steps[0].heads_after == Ids{"c2"});
    }
    SECTION("upgrading the other branch adds a row") {
        const Ids rows = graph.upgrade_destination("c2branch@head", {"d1"});
        CHECK(rows == Ids{"d1", "d2"});
        const auto steps = graph.plan_upgrade({"d1"}, rows);
        CHECK(revisions_of(steps) == Ids{"c2", "d2"});
        CHECK(steps[0].heads_after == Ids{"c2", "d1"});
        CHECK(steps[1].heads_after == Ids{"d1", "d2"});
    }
    SECTION("upgrade c1branch@+1 from both branches moves one row") {
        const Ids rows = graph.upgrade_destination("c1branch@+1", {"c1", "c2"});
        CHECK(rows == Ids{"c2", "d1"});
        CHECK(revisions_of(graph.plan_upgrade({"c1", "c2"}, rows)) == Ids{"d1"});
    }
    SECTION("downgrade c1branch@-1 from d1, d2 runs d1 down and leaves c1, d2") {
        const Ids rows = graph.downgrade_destination("c1branch@-1", {"d1", "d2"});
        CHECK(rows == Ids{"c1", "d2"});
        const auto steps = graph.plan_downgrade({"d1", "d2"}, rows);
        CHECK(revisions_of(steps) == Ids{"d1"});
        CHECK(steps[0].heads_before == Ids{"d1", "d2"});
        CHECK(steps[0].heads_after == Ids{"c1", "d2"});
    }
    SECTION("counting back out of a branch takes down only that branch") {
        const Ids rows = graph.downgrade_destination("c1branch@-2", {"d1", "d2"});
        CHECK(rows == Ids{"d2"});
        CHECK(revisions_of(graph.plan_downgrade({"d1", "d2"}, rows)) == Ids{"d1", "c1"});
    }
    SECTION("upgrade +1 from c1, c2 is ambiguous") {
        CHECK_THROWS_WITH(graph.upgrade_destination("+1", {"c1", "c2"}),
                          Contains("ambiguous from multiple current revisions"));
    }
    SECTION("upgrade heads from b runs both branches and leaves d1, d2") {
        const Ids rows = graph.upgrade_destination("heads", {"b"});
        CHECK(rows == Ids{"d1", "d2"});
        const auto steps = graph.plan_upgrade({"b"}, rows);
        CHECK(revisions_of(steps) == Ids{"c1", "c2", "d1", "d2"});
        CHECK(steps[0].heads_after == Ids{"c1"});
        CHECK(steps[1].heads_after == Ids{"c1", "c2"});
        CHECK(steps[2].heads_after == Ids{"c2", "d1"});
        CHECK(steps[3].heads_after == Ids{"d1", "d2"});
    }
    SECTION("downgrade c1branch@base from d1, d2 removes everything above the single root") {
        const Ids rows = graph.downgrade_destination("c1branch@base", {"d1", "d2"});
        CHECK(rows.empty());
        const auto steps = graph.plan_downgrade({"d1", "d2"}, rows);
        CHECK(revisions_of(steps) == Ids{"d2", "d1", "c2", "c1", "b", "a"});
    }
    SECTION("downgrade b from d1, d2 removes all four") {
        const Ids rows = graph.downgrade_destination("b", {"d1", "d2"});
        CHECK(rows == Ids{"b"});
        const auto steps = graph.plan_downgrade({"d1", "d2"}, rows);
        CHECK(revisions_of(steps) == Ids{"d2", "d1", "c2", "c1"});
        CHECK(steps[0].heads_after == Ids{"c2", "d1"});
        CHECK(steps[1].heads_after == Ids{"c1", "c2"});
        CHECK(steps[2].heads_after == Ids{"c1"});
        CHECK(steps[3].heads_after == Ids{"b"});
    }
    SECTION("upgrading to a branch's base is upgrading to base: nothing to do") {
        CHECK(graph.upgrade_destination("c1branch@base", {"d1"}) == Ids{"d1"});
        CHECK(graph.upgrade_destination("c1branch@base", {"d2"}) == Ids{"d2"});
    }
}

TEST_CASE("Upgrades and downgrades through a merge", "[graph]") {
    const RevisionGraph graph = merged();
    SECTION("upgrade heads from base adds a row per branch, then merges them") {
        const Ids rows = graph.upgrade_destination("heads", {});
        CHECK(rows == Ids{"c"});
        const auto steps = graph.plan_upgrade({}, rows);
        REQUIRE(revisions_of(steps) == Ids{"a", "b1", "b2", "c"});
        CHECK(steps[0].heads_after == Ids{"a"});
        CHECK(steps[1].heads_after == Ids{"b1"});
        CHECK(steps[2].heads_after == Ids{"b1", "b2"});
        CHECK(steps[3].heads_after == Ids{"c"});
    }
    SECTION("downgrade b1 from c removes c only") {
        const Ids rows = graph.downgrade_destination("b1", {"c"});
        CHECK(rows == Ids{"b1", "b2"});
        const auto steps = graph.plan_downgrade({"c"}, rows);
        REQUIRE(revisions_of(steps) == Ids{"c"});
        CHECK(steps[0].heads_after == Ids{"b1", "b2"});
    }
    SECTION("downgrade base from c removes everything") {
        const Ids rows = graph.downgrade_destination("base", {"c"});
        CHECK(rows.empty());
        const auto steps = graph.plan_downgrade({"c"}, rows);
        CHECK(revisions_of(steps) == Ids{"c", "b2", "b1", "a"});
        CHECK(steps.back().heads_after.empty());
    }
    SECTION("upgrading to a parent of the applied merge is already done") {
        CHECK(graph.upgrade_destination("b2", {"c"}) == Ids{"c"});
    }
}

TEST_CASE("depends_on orders steps and hands the dependency's row over as a parent does",
          "[graph]") {
    const RevisionGraph graph = depending();
    SECTION("upgrade y from base applies a and x before y and leaves y alone") {
        const Ids rows = graph.upgrade_destination("y", {});
        CHECK(rows == Ids{"y"});
        const auto steps = graph.plan_upgrade({}, rows);
        REQUIRE(revisions_of(steps) == Ids{"a", "x", "y"});
        CHECK(steps[0].heads_after == Ids{"a"});
        CHECK(steps[1].heads_after == Ids{"a", "x"});
        CHECK(steps[2].heads_after == Ids{"y"});
    }
    SECTION("the row of y alone means x is applied") {
        CHECK(graph.ancestors_or_self({"y"}) == Ids{"a", "x", "y"});
        CHECK(graph.upgrade_destination("x", {"y"}) == Ids{"y"});
    }
    SECTION("downgrading to x, applied only as y's dependency, is refused as in Alembic") {
        CHECK_THROWS_WITH(graph.downgrade_destination("x", {"y"}),
                          Contains("'x'") && Contains("not a valid downgrade target"));
        CHECK(graph.downgrade_destination("x", {"a", "x"}) == Ids{"a", "x"});
    }
    SECTION("downgrading x's branch to its base takes y down first") {
        const Ids rows = graph.downgrade_destination("xbranch@base", {"y"});
        CHECK(rows == Ids{"a"});
        const auto steps = graph.plan_downgrade({"y"}, rows);
        REQUIRE(revisions_of(steps) == Ids{"y", "x"});
        CHECK(steps[0].heads_after == Ids{"a", "x"});
        CHECK(steps[1].heads_after == Ids{"a"});
    }
    SECTION("downgrading below y gives x its row back") {
        const Ids rows = graph.downgrade_destination("a", {"y"});
        CHECK(rows == Ids{"a", "x"});
        CHECK(revisions_of(graph.plan_downgrade({"y"}, rows)) == Ids{"y"});
    }
    SECTION("a destination that drops a needed dependency is refused") {
        CHECK_THROWS_WITH(graph.plan_downgrade({"y"}, {"q"}), Contains("'q'"));
        CHECK_THROWS_WITH(graph.plan_upgrade({"x"}, {"a"}),
                          Contains("'x'") && Contains("use downgrade"));
    }
}

TEST_CASE("History ranges list the revisions between two ends", "[graph]") {
    const RevisionGraph graph = branched();
    SECTION("A:B, :B and A:") {
        CHECK(graph.resolve_range("b:d2", {}) == Ids{"b", "c2", "d2"});
        CHECK(graph.resolve_range(":d1", {}) == Ids{"a", "b", "c1", "d1"});
        CHECK(graph.resolve_range("c1:", {}) == Ids{"c1", "d1"});
        CHECK(graph.resolve_range(":", {}) == order_of(graph));
        CHECK(graph.resolve_range("base:heads", {}) == order_of(graph));
        CHECK(graph.resolve_range(":base", {}).empty());
    }
    SECTION("current and labels as ends") {
        CHECK(graph.resolve_range("current:", {"c1", "d2"}) == Ids{"c1", "d1", "d2"});
        CHECK(graph.resolve_range(":current", {"c1"}) == Ids{"a", "b", "c1"});
        CHECK(graph.resolve_range("current:", {}) == order_of(graph));
        CHECK(graph.resolve_range("current:c1branch@+1", {"c1"}) == Ids{"c1", "d1"});
        CHECK(graph.resolve_range("c1branch@base:", {}) == Ids{"a", "b", "c1", "d1"});
        CHECK(graph.resolve_range(":c2branch@head-1", {}) == Ids{"a", "b", "c2"});
    }
    SECTION("dependencies count as ancestors") {
        CHECK(depending().resolve_range(":y", {}) == Ids{"a", "x", "y"});
    }
    SECTION("errors") {
        CHECK_THROWS_WITH(graph.resolve_range("d1", {}), Contains("'d1'") && Contains("':'"));
        CHECK_THROWS_WITH(graph.resolve_range("a:b:c1", {}), Contains("'a:b:c1'"));
        CHECK_THROWS_WITH(graph.resolve_range("d1:d2", {}),
                          Contains("empty") && Contains("'d1'") && Contains("'d2'"));
        CHECK_THROWS_WITH(graph.resolve_range("zz:", {}), Contains("No such revision 'zz'"));
        CHECK_THROWS_WITH(graph.resolve_range("current:", {"gone"}), Contains("'gone'"));
    }
}

TEST_CASE("A 100,000-revision chain builds, resolves and plans", "[graph]") {
    constexpr int count = 100000;
    const auto id_of = [](int i) {
        char buffer[16];
        std::snprintf(buffer, sizeof buffer, "r%06dx", i);
        return std::string(buffer);
    };
    std::vector<Revision> revisions;
    // Newest first, as a directory listing might give them, so the sort has work to do.
    for (int i = count - 1; i >= 0; --i) {
        Revision revision = i == 0 ? rev(id_of(i)) : rev(id_of(i), {id_of(i - 1)});
        if (i == count / 2) revision.branch_labels = {"late"};
        if (i == count - 1) revision.depends_on = {id_of(1)};
        revisions.push_back(std::move(revision));
    }
    const RevisionGraph graph(std::move(revisions));
    const Ids head{id_of(count - 1)};

    CHECK(graph.size() == static_cast<std::size_t>(count));
    CHECK(graph.resolve_target("head", {}) == head);
    CHECK(graph.resolve_target("r012345", {}) == Ids{"r012345x"});
    CHECK_THROWS_WITH(graph.resolve_target("r01234", {}), Contains("ambiguous"));
    CHECK(graph.resolve_target("base+50000", {}) == Ids{id_of(49999)});
    CHECK(graph.resolve_target("head-99999", {}) == Ids{id_of(0)});
    CHECK(graph.resolve_target("head-100000", {}).empty());
    CHECK(graph.resolve_target("late@head", {}) == head);
    CHECK(graph.branch_members("late").size() == static_cast<std::size_t>(count));
    CHECK(graph.labels_of(id_of(0)) == Ids{"late"});
    CHECK(graph.ancestors_or_self(head).size() == static_cast<std::size_t>(count));
    CHECK(graph.resolve_range(":", {}).size() == static_cast<std::size_t>(count));

    const Ids up_rows = graph.upgrade_destination("heads", {});
    CHECK(up_rows == head);
    const auto up = graph.plan_upgrade({}, up_rows);
    REQUIRE(up.size() == static_cast<std::size_t>(count));
    CHECK(up.front().revision == id_of(0));
    CHECK(up.back().heads_after == head);
    const Ids down_rows = graph.downgrade_destination("base", head);
    CHECK(down_rows.empty());
    const auto down = graph.plan_downgrade(head, down_rows);
    REQUIRE(down.size() == static_cast<std::size_t>(count));
    CHECK(down.front().revision == id_of(count - 1));
    CHECK(down.back().heads_after.empty());
}

// Issue 21: Alembic 1.8.1's version-row semantics. Each expectation below was checked against
// real Alembic 1.8.1 on the same graph and commands.

namespace {

// a; b depends on a (both roots); c on b
RevisionGraph dependency_chain() {
    return RevisionGraph({rev("a"), rev("b", {}, {}, {"a"}), rev("c", {"b"})});
}

// a; b (labelled lbl) and c on a
RevisionGraph labelled_fork() {
    return RevisionGraph({rev("a"), rev("b", {"a"}, {"lbl"}), rev("c", {"a"})});
}

// The rows after each step, each as "x,y" ("" for none).
Ids rows_after(const std::vector<Step>& steps) {
    Ids out;
    for (const auto& step : steps) {
        std::string text;
        for (const auto& id : step.heads_after) text += (text.empty() ? "" : ",") + id;
        out.push_back(text);
    }
    return out;
}

}  // namespace

TEST_CASE("A dependency hands its version row to the revision that depends on it", "[graph]") {
    const RevisionGraph graph = dependency_chain();
    SECTION("every revision applied is the row c alone, though a is a head too") {
        CHECK(graph.heads() == Ids{"a", "c"});
        CHECK(graph.head_rows() == Ids{"c"});
        CHECK(graph.upgrade_destination("heads", {}) == Ids{"c"});
    }
    SECTION("upgrade b from base applies a, then b, and keeps the row b alone") {
        const Ids rows = graph.upgrade_destination("b", {});
        CHECK(rows == Ids{"b"});
        const auto steps = graph.plan_upgrade({}, rows);
        CHECK(revisions_of(steps) == Ids{"a", "b"});
        CHECK(rows_after(steps) == Ids{"a", "b"});
        CHECK(steps[1].heads_before == Ids{"a"});
    }
    SECTION("from the row b alone (a stamp, or a database Alembic wrote) a counts as applied") {
        const Ids up = graph.upgrade_destination("c", {"b"});
        CHECK(up == Ids{"c"});
        const auto steps = graph.plan_upgrade({"b"}, up);
        CHECK(revisions_of(steps) == Ids{"c"});
        CHECK(steps[0].heads_before == Ids{"b"});
        const auto down = graph.plan_downgrade({"c"}, graph.downgrade_destination("base", {"c"}));
        CHECK(revisions_of(down) == Ids{"c", "b", "a"});
        CHECK(rows_after(down) == Ids{"b", "a", ""});
    }
    SECTION("a merge of a parent and a dependency: both rows become one") {
        const RevisionGraph other = depending();
        const auto steps = other.plan_upgrade({}, other.upgrade_destination("y", {}));
        CHECK(revisions_of(steps) == Ids{"a", "x", "y"});
        CHECK(rows_after(steps) == Ids{"a", "a,x", "y"});
        const auto down = other.plan_downgrade({"y"}, other.downgrade_destination("a", {"y"}));
        CHECK(revisions_of(down) == Ids{"y"});
        CHECK(rows_after(down) == Ids{"a,x"});
    }
    SECTION("a dependency that is already below a parent is not a row of its own") {
        const RevisionGraph redundant({rev("q"), rev("p", {"q"}), rev("r", {"p"}, {}, {"q"})});
        const auto down = redundant.plan_downgrade({"r"}, {"p"});
        CHECK(rows_after(down) == Ids{"p"});
    }
}

TEST_CASE("Stamp keeps the rows unrelated to the revisions it names", "[graph]") {
    SECTION("a second root is stamped beside the first") {
        const RevisionGraph roots({rev("a"), rev("b")});
        CHECK(roots.stamp_destination({"b"}, {"a"}) == Ids{"a", "b"});
    }
    SECTION("on a chain the row moves up or down") {
        const RevisionGraph graph = chain();
        CHECK(graph.stamp_destination({"d"}, {"b"}) == Ids{"d"});
        CHECK(graph.stamp_destination({"a"}, {"c"}) == Ids{"a"});
        CHECK(graph.stamp_destination({"base"}, {"c"}).empty());
        CHECK(graph.stamp_destination({"b", "d"}, {}) == Ids{"d"});  // never overlapping rows
    }
    SECTION("a label's base removes only the rows in its lineage") {
        CHECK(labelled_fork().stamp_destination({"lbl@base"}, {"b", "c"}) == Ids{"c"});
    }
    SECTION("a dependency counts as lineage") {
        CHECK(dependency_chain().stamp_destination({"b"}, {"a"}) == Ids{"b"});
        CHECK(depending().stamp_destination({"x"}, {"y"}) == Ids{"x"});
    }
}

TEST_CASE("A branch label names its whole lineage, ancestors included", "[graph]") {
    const RevisionGraph graph = labelled_fork();
    SECTION("lbl@base+1 is the root below the label") {
        CHECK(graph.resolve_target("lbl@base+1", {}) == Ids{"a"});
        CHECK(graph.upgrade_destination("lbl@base+1", {}) == Ids{"a"});
        CHECK(graph.upgrade_destination("lbl@+1", {"c"}) == Ids{"b", "c"});
    }
    SECTION("lbl@base on a single root takes everything down, c named as outside the lineage") {
        const Ids rows = graph.downgrade_destination("lbl@base", {"b", "c"});
        CHECK(rows.empty());
        const auto steps = graph.plan_downgrade({"b", "c"}, rows);
        CHECK(revisions_of(steps) == Ids{"c", "b", "a"});
        CHECK(graph.outside_lineage("lbl@base", revisions_of(steps)) == Ids{"c"});
        CHECK(graph.outside_lineage("lbl@a", Ids{"b"}).empty());
        CHECK(graph.outside_lineage("base", Ids{"c"}).empty());
    }
    SECTION("lbl@a takes down only the label's child of a") {
        const Ids rows = graph.downgrade_destination("lbl@a", {"b", "c"});
        CHECK(rows == Ids{"c"});
        CHECK(revisions_of(graph.plan_downgrade({"b", "c"}, rows)) == Ids{"b"});
    }
    SECTION("with several roots, label@base takes down the label's root only") {
        const RevisionGraph two_roots = depending();
        CHECK(two_roots.downgrade_destination("xbranch@base", {"y"}) == Ids{"a"});
    }
    SECTION("upgrading to label@base is base: nothing to do") {
        CHECK(graph.upgrade_destination("lbl@base", {"c"}) == Ids{"c"});
    }
}

TEST_CASE("A revision id before '@' scopes an identifier to that revision's lineage", "[graph]") {
    const RevisionGraph graph = labelled_fork();
    SECTION("c@a, c@-1 take down c only") {
        CHECK(graph.downgrade_destination("c@a", {"b", "c"}) == Ids{"b"});
        CHECK(graph.downgrade_destination("c@-1", {"b", "c"}) == Ids{"b"});
        CHECK(revisions_of(graph.plan_downgrade({"b", "c"}, {"b"})) == Ids{"c"});
    }
    SECTION("c@head is c; a prefix works too") {
        CHECK(graph.resolve_target("c@head", {}) == Ids{"c"});
        CHECK(graph.upgrade_destination("c@head", {}) == Ids{"c"});
        CHECK(graph.resolve_target("b@head", {}) == Ids{"b"});
    }
    SECTION("an unknown name before '@' says it is neither a label nor a revision") {
        CHECK_THROWS_WITH(graph.resolve_target("zz@head", {}),
                          Contains("No such branch label or revision 'zz'") && Contains("lbl"));
        CHECK_THROWS_WITH(graph.resolve_target("c@b", {}), Contains("'b'") && Contains("'c'"));
    }
}

TEST_CASE("Relative ends of a history range count from the other end, as in Alembic", "[graph]") {
    const RevisionGraph three({rev("a"), rev("b", {"a"}), rev("c", {"b"})});
    SECTION("an upper +N counts up from the lower end") {
        CHECK(three.resolve_range("a:+1", {}) == Ids{"a", "b"});
        CHECK(three.resolve_range("b:+1", {"a"}) == Ids{"b", "c"});  // not from the database
    }
    SECTION("a lower -N counts down from the head") {
        CHECK(three.resolve_range("-1:c", {}) == Ids{"b", "c"});
        CHECK(three.resolve_range("-2:", {}) == Ids{"a", "b", "c"});
        CHECK(chain().resolve_range("-3:c", {}) == Ids{"b", "c"});
    }
    SECTION("the other directions are refused") {
        CHECK_THROWS_WITH(three.resolve_range("+1:c", {}), Contains("'+1'"));
        CHECK_THROWS_WITH(three.resolve_range("a:-1", {}), Contains("'-1'"));
        CHECK_THROWS_WITH(three.resolve_range("-9:c", {}), Contains("-9"));
    }
}

TEST_CASE("Overlapping version rows: upgrades refuse them, downgrades move them as Alembic does",
          "[graph]") {
    const RevisionGraph graph = chain();
    const Ids overlapping{"b", "d"};  // what Alembic 1.8.1's `stamp b d` writes
    SECTION("upgrade refuses before any step, naming the rows and the repair") {
        CHECK_THROWS_WITH(graph.upgrade_destination("e", overlapping),
                          Contains("b, d overlap") && Contains("`migrator stamp d`"));
        CHECK_THROWS_WITH(graph.plan_upgrade(overlapping, {"e"}), Contains("overlap"));
    }
    SECTION("downgrade a runs d, c, b down to the single row a") {
        const Ids rows = graph.downgrade_destination("a", overlapping);
        CHECK(rows == Ids{"a"});
        const auto steps = graph.plan_downgrade(overlapping, rows);
        CHECK(revisions_of(steps) == Ids{"d", "c", "b"});
        CHECK(steps[0].heads_before == overlapping);
        CHECK(rows_after(steps) == Ids{"b,c", "b", "a"});
    }
    SECTION("downgrade c takes d only and keeps b") {
        CHECK(graph.downgrade_destination("c", overlapping) == Ids{"b", "c"});
    }
    SECTION("stamp d repairs them") {
        CHECK(graph.stamp_destination({"d"}, overlapping) == Ids{"d"});
    }
}

TEST_CASE("Upgrading to a revision already applied does nothing and says how far past it is",
          "[graph]") {
    const RevisionGraph graph = chain();
    CHECK(graph.upgrade_destination("a", {"c"}) == Ids{"c"});
    CHECK(graph.plan_upgrade({"c"}, {"c"}).empty());
    CHECK(graph.upgrade_destination("base", {"c"}) == Ids{"c"});
    CHECK(graph.applied_above({"a"}, {"c"}) == 2);
    CHECK(graph.applied_above({"c"}, {"c"}) == 0);
    CHECK(graph.applied_above({}, {"c"}) == 3);
    CHECK(merged().upgrade_destination("b2", {"c"}) == Ids{"c"});
}

TEST_CASE("unapplied_among keeps the ids a stamp's rows leave unapplied, in the order given",
          "[graph][stamp]") {
    SECTION("a chain: the rows and everything below them are applied") {
        const auto graph = chain();
        CHECK(graph.unapplied_among({"e", "a", "c", "d"}, {"c"}) == Ids{"e", "d"});
        CHECK(graph.unapplied_among({"a", "e"}, {"e"}).empty());
        CHECK(graph.unapplied_among({"b", "a"}, {}) == Ids{"b", "a"});
    }
    SECTION("branches: a row applies its own branch and the line below, not the other branch") {
        const auto graph = branched();
        CHECK(graph.unapplied_among({"d2", "c1", "b", "c2", "d1"}, {"d1"}) == Ids{"d2", "c2"});
        CHECK(graph.unapplied_among({"d2", "c1", "b", "c2", "d1"}, {"c1", "d2"}) == Ids{"d1"});
    }
    SECTION("a merge applies both of its parents, a parent row does not apply its sibling") {
        const auto graph = merged();
        CHECK(graph.unapplied_among({"c", "b2", "b1", "a"}, {"c"}).empty());
        CHECK(graph.unapplied_among({"c", "b2", "b1", "a"}, {"b1"}) == Ids{"c", "b2"});
    }
    SECTION("a dependency is applied by the revision that depends on it") {
        const auto graph = depending();
        CHECK(graph.unapplied_among({"x", "a", "y"}, {"y"}).empty());
        CHECK(graph.unapplied_among({"x", "a", "y"}, {"a"}) == Ids{"x", "y"});
    }
    SECTION("an id the graph does not know is unapplied; a row it does not know is an error") {
        const auto graph = chain();
        CHECK(graph.unapplied_among({"zz", "a"}, {"b"}) == Ids{"zz"});
        CHECK_THROWS_AS(graph.unapplied_among({"a"}, {"zz"}), RevisionError);
    }
}
