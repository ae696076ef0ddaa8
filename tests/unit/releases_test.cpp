// Unit tests of releases files: parsing, names, and what a release means on a revision graph.
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <migrator/common/errors.hpp>
#include <migrator/graph/graph.hpp>
#include <migrator/releases/releases.hpp>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using migrator::parse_releases;
using migrator::Release;
using migrator::ReleaseHistory;
using migrator::Revision;
using migrator::RevisionError;
using migrator::RevisionGraph;
using Ids = std::vector<std::string>;

namespace {

Revision rev(std::string id, Ids parents = {}) {
    Revision revision;
    revision.id = std::move(id);
    revision.parents = std::move(parents);
    return revision;
}

// a -> b -> c, and b -> d (a branch): heads c and d.
RevisionGraph forked() {
    return RevisionGraph({rev("a"), rev("b", {"a"}), rev("c", {"b"}), rev("d", {"b"})});
}

}  // namespace

TEST_CASE("a releases file is parsed line by line, comments, blank lines and CRLF ignored",
          "[releases]") {
    const auto releases = parse_releases(
        "# header\r\n\n1.0 a\r\n  2.0-rc.1   d c  \n# after\n2.0 c d\n", "releases.txt");
    REQUIRE(releases.size() == 3);
    CHECK(releases[0].name == "1.0");
    CHECK(releases[0].rows == Ids{"a"});
    CHECK(releases[0].line == 3);
    CHECK(releases[1].name == "2.0-rc.1");
    CHECK(releases[1].rows == Ids{"c", "d"});  // sorted
    CHECK(releases[2].line == 6);
    CHECK(migrator::release_line(releases[1]) == "2.0-rc.1 c d\n");
    CHECK(parse_releases(migrator::releases_file_header(), "f").empty());
}

TEST_CASE("a malformed releases file is refused naming the file and the line", "[releases]") {
    const auto refused = [](const std::string& text) {
        try {
            parse_releases(text, "build/versions/releases.txt");
        } catch (const RevisionError& e) {
            return std::string(e.what());
        }
        FAIL("no error for: " << text);
        return std::string();
    };
    CHECK_THAT(refused("1.0 a\n-x a\n"),
               Contains("releases file build/versions/releases.txt line 2: '-x' is not a release "
                        "name"));
    CHECK_THAT(refused("head a\n"), Contains("'head' is not a release name"));
    CHECK_THAT(refused("1.0 a-b\n"), Contains("line 1: 'a-b' is not a revision id"));
    CHECK_THAT(refused("1.0\n"), Contains("line 1: release 1.0 names no revision"));
    CHECK_THAT(refused("1.0 a\n2.0 b\n1.0 c\n"),
               Contains("line 3: release 1.0 is recorded twice (lines 1 and 3)"));
}

TEST_CASE("release names are what the target grammar can tell from revisions", "[releases]") {
    CHECK(migrator::is_release_name("2.4.0"));
    CHECK(migrator::is_release_name("v2_4-rc.1"));
    CHECK(migrator::is_release_name(std::string(64, 'x')));
    CHECK_FALSE(migrator::is_release_name(std::string(65, 'x')));
    CHECK_FALSE(migrator::is_release_name(""));
    CHECK_FALSE(migrator::is_release_name(".hidden"));
    CHECK_FALSE(migrator::is_release_name("a@b"));
    CHECK_FALSE(migrator::is_release_name("a:b"));
    CHECK_FALSE(migrator::is_release_name("a b"));
    for (const char* word : {"head", "heads", "base", "current"})
        CHECK_FALSE(migrator::is_release_name(word));
    CHECK(migrator::is_release_target("@2.4.0"));
    CHECK_FALSE(migrator::is_release_target("label@head"));
    CHECK_FALSE(migrator::is_release_target("2.4.0"));
}

TEST_CASE("a release history is checked against the graph and answers what a release holds",
          "[releases]") {
    const auto graph = forked();
    SECTION("a release naming a revision the graph lacks") {
        CHECK_THROWS_WITH(ReleaseHistory(parse_releases("1.0 a\n2.0 zz\n", "r"), graph, "r"),
                          Contains("release 2.0 (r line 2) names revision zz, which is not in the "
                                   "versions directory"));
    }
    SECTION("a release whose rows overlap") {
        CHECK_THROWS_WITH(ReleaseHistory(parse_releases("1.0 a c\n", "r"), graph, "r"),
                          Contains("release 1.0 (r line 1) names a and c, which is below it"));
    }
    SECTION("lookups") {
        const ReleaseHistory history(parse_releases("1.0 a\n2.0 c\n3.0 c d\n", "r"), graph, "r");
        CHECK(history.latest().name == "3.0");
        CHECK(history.find("@2.0").rows == Ids{"c"});
        CHECK(history.find("2.0").name == "2.0");
        CHECK_THROWS_WITH(history.find("@9"),
                          Contains("no release is named '9'; the releases are 1.0, 2.0, 3.0"));
        REQUIRE(history.at({"d", "c"}) != nullptr);
        CHECK(history.at({"d", "c"})->name == "3.0");
        CHECK(history.at({"b"}) == nullptr);
        CHECK(history.first_holding(graph, "a") == std::optional<std::string>("1.0"));
        CHECK(history.first_holding(graph, "b") == std::optional<std::string>("2.0"));
        CHECK(history.first_holding(graph, "d") == std::optional<std::string>("3.0"));
    }
    SECTION("a revision newer than the newest release") {
        const ReleaseHistory history(parse_releases("1.0 a\n2.0 c\n", "r"), graph, "r");
        CHECK(history.first_holding(graph, "c") == std::optional<std::string>("2.0"));
        CHECK(history.first_holding(graph, "d") == std::nullopt);
        CHECK(history.at({"c", "d"}) == nullptr);
    }
    SECTION("no release recorded") {
        const ReleaseHistory none;
        CHECK(none.empty());
        CHECK_THROWS_WITH(none.latest(), Contains("record one in the project with `scaffold "
                                                  "release NAME`"));
        CHECK_THROWS_WITH(none.find("@1.0"), Contains("no release is recorded"));
    }
}

TEST_CASE("a releases file is read from disk, and a missing one holds no release", "[releases]") {
    const std::filesystem::path fixtures = MIGRATOR_FIXTURES_DIR;
    CHECK(migrator::read_releases_file(fixtures / "release_1" / "no-such-releases.txt").empty());
    const auto releases = migrator::read_releases_file(fixtures / "release_3" / "releases.txt");
    REQUIRE(releases.size() == 3);
    CHECK(releases[0].name == "1.0");
    CHECK(releases[1].rows == Ids{"rel2bbbbbbbb"});
    CHECK(migrator::release_line(releases[2]) == "3.0 rel3cccccccc\n");
}

TEST_CASE("a releases file larger than migrator reads is refused naming it", "[releases]") {
    std::string name = (std::filesystem::temp_directory_path() / "releases_XXXXXX").string();
    const int descriptor = ::mkstemp(name.data());
    REQUIRE(descriptor >= 0);
    ::close(descriptor);
    std::ofstream(name) << std::string(migrator::max_releases_file_size + 1, '#');
    CHECK_THROWS_WITH(migrator::read_releases_file(name),
                      Contains("releases file " + name + " is larger than 4 MiB"));
    std::filesystem::remove(name);
}

TEST_CASE(
    "converge goes up to a release above the database, down to one below, and refuses "
    "another line",
    "[releases]") {
    const auto graph = forked();  // a -> b -> c, b -> d
    const auto releases = parse_releases("1.0 a\n2.0 c\n2.1 c d\n", "r");
    const ReleaseHistory history(releases, graph, "r");
    CHECK(migrator::converges_upward(graph, {}, history.find("1.0")));
    CHECK(migrator::converges_upward(graph, {"a"}, history.find("2.0")));
    CHECK(migrator::converges_upward(graph, {"c"}, history.find("2.0")));  // already there
    CHECK_FALSE(migrator::converges_upward(graph, {"c"}, history.find("1.0")));
    CHECK_FALSE(migrator::converges_upward(graph, {"c", "d"}, history.find("2.0")));
    CHECK(migrator::converges_upward(graph, {"d"}, history.find("2.1")));
    CHECK_THROWS_WITH(migrator::converges_upward(graph, {"d"}, history.find("2.0")),
                      Contains("release 2.0 does not hold d, which the database has applied"));

    // upgrade @NAME applies what the rows need and keeps what else is applied.
    CHECK(migrator::release_upgrade_destination(graph, history.find("2.1"), {"a"}) ==
          Ids{"c", "d"});
    CHECK(migrator::release_upgrade_destination(graph, history.find("2.0"), {"d"}) ==
          Ids{"c", "d"});
    CHECK(migrator::release_upgrade_destination(graph, history.find("1.0"), {"c"}) == Ids{"c"});
}
