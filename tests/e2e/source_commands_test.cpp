// End to end: Alembic's commands on revision sources, run by migrator in a project from
// `migrator init`: `merge` joins the heads of the sources, `edit REV` opens a revision's source in
// the user's editor.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;

namespace {

/// A project from `migrator init` with a1 -> b2 and c3 branching off a1: two heads.
class BranchedProject {
public:
    BranchedProject() {
        REQUIRE(migrator({"init", "proj"}, scratch_.path()).exit_code == 0);
        new_revision({"-m", "create a", "--rev-id", "aaaa1111"});
        new_revision({"-m", "create b", "--rev-id", "bbbb2222"});
        new_revision({"-m", "side", "--rev-id", "cccc3333", "--head", "aaaa1111", "--splice"});
    }
    fs::path root() const { return scratch_.path() / "proj"; }
    fs::path revisions() const { return root() / "revisions"; }
    fs::path scratch() const { return scratch_.path(); }
    /// Runs migrator with `args` in the project's root.
    ProcessResult migrator(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env = {}) const {
        return migrator(args, root(), env);
    }

private:
    static ProcessResult migrator(const std::vector<std::string>& args, const fs::path& cwd,
                                  const std::map<std::string, std::string>& env = {}) {
        std::vector<std::string> argv{MIGRATOR_BIN};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv, env, cwd.string());
    }
    void new_revision(std::vector<std::string> args) const {
        args.insert(args.begin(), "revision");
        const auto made = migrator(args);
        INFO(made.err);
        REQUIRE(made.exit_code == 0);
    }
    ScratchDir scratch_;
};

}  // namespace

TEST_CASE("migrator merge joins the heads of the revision sources", "[e2e][scaffold]") {
    const BranchedProject project;
    const auto merged = project.migrator({"merge", "heads", "-m", "join", "--rev-id", "dddd4444"});
    INFO(merged.err);
    CHECK(merged.exit_code == 0);
    CHECK_THAT(merged.out, Contains("dddd4444_join.cpp ... done"));
    const std::string source =
        read_file(project.revisions() / "dddd4444_join" / "dddd4444_join.cpp");
    CHECK_THAT(source, Contains("MIGRATOR_DOWN_REVISION(\"bbbb2222,cccc3333\")"));
    CHECK_THAT(source, Contains("MIGRATOR_MESSAGE(\"join\")"));
    // One head now: a second merge of the heads has nothing to join.
    const auto again = project.migrator({"merge", "heads", "-m", "again"});
    CHECK(again.exit_code == 2);
    CHECK_THAT(again.err, Contains("a merge needs at least two revisions to join"));
    CHECK(project.migrator({"merge", "zzzz", "aaaa1111"}).exit_code == 3);
}

TEST_CASE("migrator edit opens a revision's source in $VISUAL or $EDITOR", "[e2e][scaffold]") {
    const BranchedProject project;
    // An editor that records the file it was given.
    const fs::path record = project.scratch() / "edited.txt";
    const fs::path editor = project.scratch() / "record-editor";
    {
        std::ofstream script(editor);
        script << "#!/bin/sh\necho \"$1\" >> " << record.string() << "\n";
    }
    REQUIRE(::chmod(editor.c_str(), 0755) == 0);
    const std::map<std::string, std::string> with_editor{{"VISUAL", ""},
                                                         {"EDITOR", editor.string()}};

    const auto by_prefix = project.migrator({"edit", "bbbb"}, with_editor);
    INFO(by_prefix.err);
    CHECK(by_prefix.exit_code == 0);
    CHECK_THAT(read_file(record), EndsWith("revisions/bbbb2222_create_b/bbbb2222_create_b.cpp\n"));

    // VISUAL comes first; a command with arguments runs through the shell.
    const auto visual = project.migrator(
        {"edit", "cccc3333"}, {{"VISUAL", "sh " + editor.string()}, {"EDITOR", "/bin/false"}});
    CHECK(visual.exit_code == 0);
    CHECK_THAT(read_file(record), EndsWith("revisions/cccc3333_side/cccc3333_side.cpp\n"));

    // Two heads: `head` is ambiguous, and each is named.
    const auto ambiguous = project.migrator({"edit", "heads"}, with_editor);
    CHECK(ambiguous.exit_code == 3);
    CHECK_THAT(ambiguous.err, Contains("'heads' names 2 revisions") &&
                                  Contains("bbbb2222_create_b.cpp") &&
                                  Contains("edit one at a time"));
    CHECK(project.migrator({"edit", "zzzz"}, with_editor).exit_code == 3);

    // An editor that fails, or is missing, is exit 2 naming it and the file.
    const auto failed = project.migrator({"edit", "aaaa"}, {{"VISUAL", ""}, {"EDITOR", "false"}});
    CHECK(failed.exit_code == 2);
    CHECK_THAT(failed.err,
               Contains("the editor 'false' failed (exit status 1) on ") && Contains("aaaa1111"));
    const auto missing =
        project.migrator({"edit", "aaaa"}, {{"VISUAL", ""}, {"EDITOR", "/nonexistent/editor"}});
    CHECK(missing.exit_code == 2);
    CHECK_THAT(missing.err, Contains("could not be run") && Contains("set $EDITOR"));
    CHECK(lines_of(read_file(record)).size() == 2);
}
