// Unit tests of the revision graph: construction, identifier resolution and step planning.
#include <catch2/catch.hpp>
#include <cstdio>
#include <migrator/errors.hpp>
#include <migrator/graph.hpp>
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

Revision rev(std::string id, Ids parents = {}) {
    Revision revision;
    revision.id = std::move(id);
    revision.parents = std::move(parents);
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
        const auto steps = graph.plan_upgrade({"a"}, graph.resolve_target("+2", {"a"}));
        CHECK(revisions_of(steps) == Ids{"b", "c"});
        CHECK(all_in(steps, Direction::upgrade));
    }
    SECTION("upgrade b+2 from a") {
        const auto steps = graph.plan_upgrade({"a"}, graph.resolve_target("b+2", {"a"}));
        CHECK(revisions_of(steps) == Ids{"b", "c", "d"});
    }
    SECTION("upgrade head from base runs everything in order") {
        const auto steps = graph.plan_upgrade({}, graph.resolve_target("head", {}));
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

TEST_CASE("Upgrading to an older revision is an error that points to downgrade", "[graph]") {
    const RevisionGraph graph = chain();
    SECTION("upgrade -2 from b") {
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
        const auto steps = graph.plan_downgrade({"d"}, graph.resolve_target("c-2", {"d"}));
        CHECK(revisions_of(steps) == Ids{"d", "c", "b"});
        CHECK(all_in(steps, Direction::downgrade));
        CHECK(steps.front().heads_before == Ids{"d"});
        CHECK(steps.back().heads_after == Ids{"a"});
    }
    SECTION("downgrade a from a does nothing") {
        CHECK(graph.plan_downgrade({"a"}, graph.resolve_target("a", {"a"})).empty());
    }
    SECTION("downgrade base from e undoes everything") {
        const auto steps = graph.plan_downgrade({"e"}, graph.resolve_target("base", {"e"}));
        CHECK(revisions_of(steps) == Ids{"e", "d", "c", "b", "a"});
        CHECK(steps.back().heads_after.empty());
    }
    SECTION("downgrade -1 from a base reaches base") {
        const auto steps = graph.plan_downgrade({"a"}, graph.resolve_target("-1", {"a"}));
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
        const auto steps = graph.plan_upgrade({"b"}, {"c"});
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
        const auto steps = graph.plan_downgrade({"d"}, {"b"});
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

TEST_CASE("A 10,000-revision chain builds, resolves and plans", "[graph]") {
    constexpr int count = 10000;
    const auto id_of = [](int i) {
        char buffer[16];
        std::snprintf(buffer, sizeof buffer, "r%05dx", i);
        return std::string(buffer);
    };
    std::vector<Revision> revisions;
    // Newest first, as a directory listing might give them, so the sort has work to do.
    for (int i = count - 1; i >= 0; --i)
        revisions.push_back(i == 0 ? rev(id_of(i)) : rev(id_of(i), {id_of(i - 1)}));
    const RevisionGraph graph(std::move(revisions));

    CHECK(graph.size() == static_cast<std::size_t>(count));
    CHECK(graph.resolve_target("head", {}) == Ids{id_of(count - 1)});
    CHECK(graph.resolve_target("r01234", {}) == Ids{"r01234x"});
    CHECK_THROWS_WITH(graph.resolve_target("r0123", {}), Contains("ambiguous"));
    CHECK(graph.resolve_target("base+5000", {}) == Ids{id_of(4999)});
    CHECK(graph.resolve_target("head-9999", {}) == Ids{id_of(0)});
    CHECK(graph.resolve_target("head-10000", {}).empty());
    CHECK(graph.ancestors_or_self({id_of(count - 1)}).size() == static_cast<std::size_t>(count));

    const auto up = graph.plan_upgrade({}, {id_of(count - 1)});
    REQUIRE(up.size() == static_cast<std::size_t>(count));
    CHECK(up.front().revision == id_of(0));
    CHECK(up.back().heads_after == Ids{id_of(count - 1)});
    const auto down = graph.plan_downgrade({id_of(count - 1)}, {});
    REQUIRE(down.size() == static_cast<std::size_t>(count));
    CHECK(down.front().revision == id_of(count - 1));
    CHECK(down.back().heads_after.empty());
}
