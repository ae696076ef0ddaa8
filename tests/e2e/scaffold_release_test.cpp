// End to end: scaffold release (and migrator release) records the heads of a project's revision
// sources in revisions/releases.txt, and the next build carries the file into build/versions and
// the bundle.
#include <catch2/catch.hpp>
#include <fstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

/// A project written by `scaffold init` in a scratch folder, and the programs run inside it.
class InitProject {
public:
    InitProject() {
        const auto init = run_process({SCAFFOLD_BIN, "init", root().string()});
        INFO(init.err);
        REQUIRE(init.exit_code == 0);
    }
    fs::path root() const { return scratch_.path() / "shop-migrations"; }
    fs::path releases() const { return root() / "revisions" / "releases.txt"; }
    fs::path attributes() const { return root() / "revisions" / ".gitattributes"; }

    /// Runs `program` (scaffold or migrator) with `args` in the project's root.
    ProcessResult run(const std::string& program, const std::vector<std::string>& args) const {
        std::vector<std::string> argv{program};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, Sandbox::clean_environment(), root().string());
    }
    ProcessResult scaffold(const std::vector<std::string>& args) const {
        return run(SCAFFOLD_BIN, args);
    }
    /// Runs `program release name`, requires it to succeed, and returns what it printed.
    std::string record(const std::string& program, const std::string& name) const {
        const auto recorded = run(program, {"release", name});
        INFO(recorded.err);
        REQUIRE(recorded.exit_code == 0);
        CHECK(recorded.err.empty());
        return recorded.out;
    }
    /// Stamps a raw-SQL revision with id `id` (on the head, or on `head` as a new branch).
    void new_revision(const std::string& id, const std::string& head = "") const {
        std::vector<std::string> args{"new", "revision " + id, "--raw-sql", "--rev-id", id};
        if (!head.empty()) args.insert(args.end(), {"--head", head, "--splice"});
        const auto created = scaffold(args);
        INFO(created.err);
        REQUIRE(created.exit_code == 0);
    }

private:
    ScratchDir scratch_;
};

/// Runs `args` in `project` and checks that it is refused with exit status `status` and one
/// stderr line holding `sentence`, leaving releases.txt and .gitattributes as they were.
void check_refused(const InitProject& project, const std::string& program,
                   const std::vector<std::string>& args, int status, const std::string& sentence) {
    const std::string releases = read_file(project.releases());
    const std::string attributes = read_file(project.attributes());
    const auto result = project.run(program, args);
    INFO(args.back() << ": " << result.out << result.err);
    CHECK(result.exit_code == status);
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.err, Contains(sentence));
    CHECK(result.out.empty());
    CHECK(read_file(project.releases()) == releases);
    CHECK(read_file(project.attributes()) == attributes);
}

/// The lines of a releases file's `text` that record releases (not comments, not blank).
std::vector<std::string> release_lines(const std::string& text) {
    std::vector<std::string> lines;
    for (const auto& line : lines_of(text))
        if (!line.empty() && line.front() != '#') lines.push_back(line);
    return lines;
}

/// Records release 1.0 of `project`, whose only revision is aaaa00000001, with `program`, and
/// checks the new releases file and .gitattributes.
void check_first_release(const InitProject& project, const std::string& program) {
    CHECK(project.record(program, "1.0") ==
          "Recorded release 1.0 at aaaa00000001 in revisions/releases.txt\n");
    const std::string text = read_file(project.releases());
    CHECK(text.rfind("# Releases of this project, oldest first: a name, then the version rows a "
                     "database has at that\n",
                     0) == 0);
    CHECK(release_lines(text) == std::vector<std::string>{"1.0 aaaa00000001"});
    CHECK(read_file(project.attributes()) == "releases.txt merge=union\n");
}

}  // namespace

TEST_CASE(
    "scaffold release appends the heads of the sources to releases.txt, marked for union "
    "merges once",
    "[e2e][scaffold][releases]") {
    InitProject project;
    check_refused(project, SCAFFOLD_BIN, {"release", "1.0"}, 2,
                  "there is no revision in " + (project.root() / "revisions").string() +
                      " to record a release of; create one with `scaffold new`");
    CHECK_FALSE(fs::exists(project.releases()));
    CHECK_FALSE(fs::exists(project.attributes()));

    project.new_revision("aaaa00000001");
    check_first_release(project, SCAFFOLD_BIN);
    const std::string recorded = read_file(project.releases());

    check_refused(project, SCAFFOLD_BIN, {"release", "heads"}, 2,
                  "'heads' is not a release name: use 1 to 64 of 0-9 A-Z a-z . _ -, starting "
                  "with a letter or digit (not head, heads, base or current)");
    check_refused(project, SCAFFOLD_BIN, {"release", "2.0/beta"}, 2,
                  "'2.0/beta' is not a release name");
    check_refused(project, SCAFFOLD_BIN, {"release", "2.0"}, 2,
                  "the heads of the revision sources (aaaa00000001) are already recorded as "
                  "release 1.0: nothing changed since");
    project.new_revision("bbbb00000002");
    check_refused(project, SCAFFOLD_BIN, {"release", "1.0"}, 2,
                  "release 1.0 is recorded already (revisions/releases.txt line 4: 1.0 "
                  "aaaa00000001); choose another name");

    CHECK(project.record(SCAFFOLD_BIN, "2.0") ==
          "Recorded release 2.0 at bbbb00000002 in revisions/releases.txt\n");
    CHECK(read_file(project.releases()) == recorded + "2.0 bbbb00000002\n");
    CHECK(read_file(project.attributes()) == "releases.txt merge=union\n");

    // Two heads: both rows, sorted, on one line.
    project.new_revision("cccc00000003", "aaaa00000001");
    CHECK(project.record(SCAFFOLD_BIN, "2.1") ==
          "Recorded release 2.1 at bbbb00000002, cccc00000003 in revisions/releases.txt\n");
    CHECK(read_file(project.releases()) ==
          recorded + "2.0 bbbb00000002\n2.1 bbbb00000002 cccc00000003\n");
}

TEST_CASE(
    "scaffold release keeps what .gitattributes holds and refuses a releases file that "
    "does not parse",
    "[e2e][scaffold][releases]") {
    InitProject project;
    project.new_revision("aaaa00000001");

    SECTION("other attributes, and no newline at the end") {
        std::ofstream(project.attributes()) << "*.sql text";
        project.record(SCAFFOLD_BIN, "1.0");
        CHECK(read_file(project.attributes()) == "*.sql text\nreleases.txt merge=union\n");
    }
    SECTION("the line already there, with CRLF") {
        std::ofstream(project.attributes()) << "releases.txt  merge=union\r\n*.sql text\r\n";
        project.record(SCAFFOLD_BIN, "1.0");
        CHECK(read_file(project.attributes()) == "releases.txt  merge=union\r\n*.sql text\r\n");
    }
    SECTION("a releases file without its header is appended to as it is") {
        std::ofstream(project.releases()) << "0.9 aaaa00000001";
        project.new_revision("bbbb00000002");
        project.record(SCAFFOLD_BIN, "1.0");
        CHECK(read_file(project.releases()) == "0.9 aaaa00000001\n1.0 bbbb00000002\n");
    }
    SECTION("a malformed releases file") {
        std::ofstream(project.releases()) << "# kept\n0.9 aaaa00000001\n0.9.1 not-an-id\n";
        check_refused(project, SCAFFOLD_BIN, {"release", "1.0"}, 3,
                      "releases file " + project.releases().string() +
                          " line 3: 'not-an-id' is not a revision id");
        std::ofstream(project.releases()) << "0.9 aaaa00000001\n0.9 aaaa00000001\n";
        check_refused(project, SCAFFOLD_BIN, {"release", "1.0"}, 3,
                      "release 0.9 is recorded twice (lines 1 and 2)");
    }
}

TEST_CASE("releases recorded on two git branches merge without a conflict",
          "[e2e][scaffold][releases]") {
    InitProject project;
    const auto git = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv{"/usr/bin/git", "-c", "user.name=Test", "-c",
                                      "user.email=test@example.com"};
        argv.insert(argv.end(), args.begin(), args.end());
        const auto result =
            run_process(argv, {{"GIT_CONFIG_GLOBAL", "/dev/null"}}, project.root().string());
        INFO(result.out << result.err);
        CHECK(result.exit_code == 0);
        return result;
    };
    project.new_revision("aaaa00000001");
    project.record(SCAFFOLD_BIN, "1.0");
    git({"init", "-q", "-b", "main"});
    git({"add", "-A"});
    git({"commit", "-q", "-m", "1.0"});

    git({"checkout", "-q", "-b", "hotfix"});
    project.new_revision("bbbb00000002");
    project.record(SCAFFOLD_BIN, "1.1");
    git({"add", "-A"});
    git({"commit", "-q", "-m", "1.1"});

    git({"checkout", "-q", "main"});
    project.new_revision("cccc00000003");
    project.record(SCAFFOLD_BIN, "2.0");
    git({"add", "-A"});
    git({"commit", "-q", "-m", "2.0"});

    const auto merged = git({"merge", "-q", "--no-edit", "hotfix"});
    CHECK_FALSE(fs::exists(project.root() / ".git" / "MERGE_HEAD"));
    const std::string text = read_file(project.releases());
    CHECK_THAT(text, Contains("\n1.0 aaaa00000001\n"));
    CHECK_THAT(text, Contains("\n2.0 cccc00000003\n"));
    CHECK_THAT(text, Contains("\n1.1 bbbb00000002\n"));
    CHECK_FALSE(text.find("<<<<") != std::string::npos);
    // The merged file parses: a release after the merge records both heads.
    project.new_revision("dddd00000004", "bbbb00000002");
    REQUIRE(
        project.scaffold({"merge", "heads", "-m", "join", "--rev-id", "eeee00000005"}).exit_code ==
        0);
    project.record(SCAFFOLD_BIN, "2.1");
    CHECK_THAT(read_file(project.releases()), Contains("\n2.1 eeee00000005\n"));
}

TEST_CASE("migrator release records a release as scaffold release does",
          "[e2e][scaffold][releases]") {
    InitProject project;
    project.new_revision("aaaa00000001");
    check_first_release(project, MIGRATOR_BIN);
    // Its refusals are about the command line (exit 2), as for migrator revision.
    check_refused(project, MIGRATOR_BIN, {"release", "1.0"}, 2,
                  "release 1.0 is recorded already (revisions/releases.txt line 4: 1.0 "
                  "aaaa00000001)");
    check_refused(project, MIGRATOR_BIN, {"release", "base"}, 2, "'base' is not a release name");
    check_refused(project, MIGRATOR_BIN, {"release", "1.1"}, 2,
                  "are already recorded as release 1.0: nothing changed since");
}

TEST_CASE(
    "the next build of a scaffold init project carries releases.txt into build/versions "
    "and the bundle",
    "[e2e][scaffold][releases]") {
    // One story rather than SECTIONs: each step needs the build before it.
    ScratchDir install_root;
    const fs::path prefix = install_root.path() / "prefix";
    const auto installed = run_process(
        {MIGRATOR_CMAKE_COMMAND, "--install", MIGRATOR_BUILD_DIR, "--prefix", prefix.string()});
    REQUIRE(installed.exit_code == 0);
    InitProject project;
    const fs::path versions = project.root() / "build" / "versions";
    const auto build = [&](const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args{"--build", "build", "-j2"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto built = project.run(MIGRATOR_CMAKE_COMMAND, args);
        INFO(built.out << built.err);
        REQUIRE(built.exit_code == 0);
        return built;
    };

    project.new_revision("aaaa00000001");
    const auto configured = project.run(
        MIGRATOR_CMAKE_COMMAND,
        {"-S", ".", "-B", "build", "-G", "Ninja", "-DCMAKE_PREFIX_PATH=" + prefix.string()});
    INFO(configured.out << configured.err);
    REQUIRE(configured.exit_code == 0);
    build();
    CHECK(fs::exists(versions / "aaaa00000001_revision_aaaa00000001.so"));
    CHECK_FALSE(fs::exists(versions / "releases.txt"));

    // A releases file created after the configure joins the next build.
    project.record(SCAFFOLD_BIN, "1.0");
    build();
    CHECK(read_file(versions / "releases.txt") == read_file(project.releases()));
    CHECK(release_lines(read_file(versions / "releases.txt")) ==
          std::vector<std::string>{"1.0 aaaa00000001"});

    // An appended one is copied again; the installed migrator records it as scaffold does.
    project.new_revision("bbbb00000002");
    project.record((prefix / "bin" / "migrator").string(), "2.0");
    build();
    CHECK(release_lines(read_file(versions / "releases.txt")) ==
          std::vector<std::string>{"1.0 aaaa00000001", "2.0 bbbb00000002"});

    const auto bundled = build({"--target", "bundle"});
    CHECK_THAT(bundled.out, Contains("2 revision plugins and releases.txt)"));
    const fs::path bundle_versions = project.root() / "build" / "bundle" / "versions";
    CHECK(read_file(bundle_versions / "releases.txt") == read_file(project.releases()));
    const auto listing = project.run(MIGRATOR_CMAKE_COMMAND,
                                     {"-E", "tar", "tf", "build/shop-migrations-bundle.tar.gz"});
    CHECK_THAT(listing.out, Contains("versions/releases.txt"));

    // What the bundle carries is what migrator reads its releases from.
    Sandbox sandbox("sqlite", bundle_versions);
    const auto up = sandbox.migrator({"upgrade", "@1.0"});
    INFO(up.out << up.err);
    REQUIRE(up.exit_code == 0);
    CHECK(sandbox.version_rows() == std::vector<std::string>{"aaaa00000001"});
}

TEST_CASE("this repository's revisions/ build carries a releases.txt recorded after the configure",
          "[e2e][scaffold][releases]") {
    ScratchProject project;
    REQUIRE(project.cmake({"-S", ".", "-B", "build", "-G", "Ninja"}).exit_code == 0);
    REQUIRE(project.cmake({"--build", "build", "-j2"}).exit_code == 0);
    CHECK_FALSE(fs::exists(project.versions() / "releases.txt"));

    const auto recorded = project.scaffold({"release", "1.0.0"});
    INFO(recorded.err);
    REQUIRE(recorded.exit_code == 0);
    CHECK(recorded.out == "Recorded release 1.0.0 at ae1027a6acf2 in revisions/releases.txt\n");
    const auto built = project.cmake({"--build", "build", "-j2"});
    INFO(built.out << built.err);
    REQUIRE(built.exit_code == 0);
    CHECK(read_file(project.versions() / "releases.txt") ==
          read_file(project.revisions() / "releases.txt"));
    CHECK(release_lines(read_file(project.versions() / "releases.txt")) ==
          std::vector<std::string>{"1.0.0 ae1027a6acf2"});
}
