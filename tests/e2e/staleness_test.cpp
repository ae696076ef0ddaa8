// End to end: a revision written and not built, or edited and not rebuilt, is never silently left
// out. In a project whose sources migrator knows (revisions/ beside its migrator.ini), upgrade
// refuses until the plugins are built, history warns and check reports it, each with the build
// command; an unbuilt project, and a versions directory of sources, say how to build them.
#include <catch2/catch.hpp>
#include <fstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

/// A ScratchProject (this repository's example revisions) with a migrator.ini naming
/// build/versions, and a SQLite database in it; migrator runs in the project's root.
class Project {
public:
    Project() { std::ofstream(root() / "migrator.ini") << "versions_dir = build/versions\n"; }
    fs::path root() const { return project_.revisions().parent_path(); }
    const ScratchProject& scratch() const { return project_; }
    ProcessResult migrator(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{MIGRATOR_BIN, "--url",
                                      "sqlite:///" + (root() / "app.db").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, Sandbox::clean_environment(), root().string());
    }
    void build() const {
        const auto configured = project_.cmake({"-S", ".", "-B", "build"});
        INFO(configured.out << configured.err);
        REQUIRE(configured.exit_code == 0);
        const auto built = project_.cmake({"--build", "build", "-j2"});
        INFO(built.out << built.err);
        REQUIRE(built.exit_code == 0);
    }

private:
    ScratchProject project_;
};

}  // namespace

TEST_CASE("a revision source not built, or edited since its build, is never silently left out",
          "[e2e][staleness]") {
    const Project project;

    // Never built: the versions directory does not exist, and the message says how to build.
    const auto unbuilt = project.migrator({"upgrade", "head"});
    CHECK(unbuilt.exit_code == 4);
    CHECK_THAT(unbuilt.err, Contains("build/versions does not exist: the revisions in") &&
                                Contains("are not built yet; build them with `cmake -S . -B "
                                         "build && cmake --build build`"));
    // Pointed at the sources, as an Alembic user would: they are sources, not plugins.
    const auto sources = project.migrator({"--versions-dir", "revisions", "history"});
    CHECK(sources.exit_code == 4);
    CHECK_THAT(sources.err, Contains("holds 4 revision source(s) and no plugins"));

    project.build();
    REQUIRE(project.migrator({"upgrade", "head"}).exit_code == 0);
    CHECK(project.migrator({"check"}).exit_code == 0);

    // A new revision, written and not built.
    const auto created = project.scratch().scaffold({"new", "add note", "--rev-id", "n0te0000"});
    REQUIRE(created.exit_code == 0);
    const auto refused = project.migrator({"upgrade", "head"});
    INFO(refused.err);
    CHECK(refused.exit_code == 4);
    CHECK_THAT(refused.err, Contains("the plugins do not match the revision sources: revision "
                                     "n0te0000 (") &&
                                Contains("has no plugin in") &&
                                Contains("build them with `cmake --build build`") &&
                                Contains("--allow-stale"));
    CHECK(lines_of(refused.err).size() == 1);
    const auto history = project.migrator({"history"});
    CHECK(history.exit_code == 0);
    CHECK_THAT(history.err, Contains("warning: revision n0te0000 (") &&
                                Contains("it is not built; build with `cmake --build build`"));
    const auto checked = project.migrator({"check", "--json"});
    CHECK(checked.exit_code == 8);
    CHECK_THAT(checked.out, Contains("\"kind\":\"unbuilt_source\",\"revision\":\"n0te0000\""));
    const auto allowed = project.migrator({"upgrade", "head", "--allow-stale"});
    CHECK(allowed.exit_code == 0);
    CHECK_THAT(allowed.err, Contains("warning: revision n0te0000"));

    // Built: it runs. Then an applied revision's source edited and not rebuilt.
    project.build();
    const auto up = project.migrator({"upgrade", "head"});
    INFO(up.err);
    CHECK(up.exit_code == 0);
    CHECK_THAT(up.out, Contains("n0te0000"));
    const auto folders = project.scratch().folders_named("create_account");
    REQUIRE(folders.size() == 1);
    const fs::path source = folders[0] / (folders[0].filename().string() + ".cpp");
    REQUIRE(fs::exists(source));
    std::ofstream(source, std::ios::app) << "// a comment fixed\n";
    const auto edited = project.migrator({"upgrade", "head"});
    CHECK(edited.exit_code == 4);
    CHECK_THAT(edited.err, Contains("revision 1975ea83b712's plugin") &&
                               Contains("was built from another version of " + source.string()));
    const auto edited_check = project.migrator({"check"});
    CHECK(edited_check.exit_code == 8);
    CHECK_THAT(edited_check.out, Contains("was built from another version of"));
    project.build();
    CHECK(project.migrator({"upgrade", "head"}).exit_code == 0);
}
