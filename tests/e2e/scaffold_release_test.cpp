// End to end: scaffold release records the heads in revisions/releases.txt, the next build
// carries the file beside the plugins, and migrator converges to it.
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("scaffold release records a release that the next build carries to migrator",
          "[e2e][scaffold][releases]") {
    ScratchProject project;
    const fs::path file = project.revisions() / "releases.txt";
    const fs::path attributes = project.revisions() / ".gitattributes";

    const auto first = project.scaffold({"release", "1.0.0"});
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    CHECK_THAT(first.out, Contains("Recorded release 1.0.0 at ae1027a6acf2 in " + file.string()));
    CHECK_THAT(read_file(file), Contains("# Releases of this project, oldest first"));
    CHECK_THAT(read_file(file), Contains("\n1.0.0 ae1027a6acf2\n"));
    CHECK(read_file(attributes) == "releases.txt merge=union\n");

    const auto refuse = [&](const std::vector<std::string>& args, const std::string& sentence) {
        const std::string before = read_file(file);
        const auto result = project.scaffold(args);
        CHECK(result.exit_code == 1);
        CHECK(lines_of(result.err).size() == 1);
        CHECK_THAT(result.err, Contains(sentence));
        CHECK(read_file(file) == before);
    };
    refuse({"release", "2.0.0"}, "the heads are those of release 1.0.0 already: nothing changed");
    refuse({"release", "heads"}, "'heads' is not a release name");
    refuse({"release", "1.0.0"},
           "release 1.0.0 is recorded already (" + file.string() + " line 4)");

    REQUIRE(project.scaffold({"new", "add email to account"}).exit_code == 0);
    const std::string id =
        project.folders_named("_add_email_to_account").at(0).filename().string().substr(0, 12);
    // migrator's spelling, from the project's root.
    const auto second = run_process({MIGRATOR_BIN, "release", "2.0.0"}, {},
                                    project.revisions().parent_path().string());
    INFO(second.err);
    REQUIRE(second.exit_code == 0);
    CHECK_THAT(read_file(file), Contains("\n1.0.0 ae1027a6acf2\n2.0.0 " + id + "\n"));
    CHECK(read_file(attributes) == "releases.txt merge=union\n");  // not twice

    // The next build copies the file beside the plugins, without a re-configure.
    REQUIRE(project.cmake({"-S", ".", "-B", "build"}).exit_code == 0);
    const auto build = project.cmake({"--build", "build", "-j2"});
    INFO(build.out << build.err);
    REQUIRE(build.exit_code == 0);
    CHECK(read_file(project.versions() / "releases.txt") == read_file(file));

    Sandbox sandbox("sqlite", project.versions());
    REQUIRE(sandbox.migrator({"upgrade", "@1.0.0"}).exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"ae1027a6acf2"});
    const auto converged = sandbox.migrator({"converge"});
    INFO(converged.err);
    REQUIRE(converged.exit_code == 0);
    CHECK_THAT(converged.out, Contains("(release 2.0.0): 1 step"));
    CHECK(sandbox.version_rows() == std::vector<std::string>{id});
}
