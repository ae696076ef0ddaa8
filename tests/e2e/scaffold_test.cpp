// End to end: scaffold new stamps a revision that the next build turns into a working plugin.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("scaffold new creates a revision on the head that the next build picks up",
          "[e2e][scaffold]") {
    // One long story rather than SECTIONs: each SECTION would configure and build again.
    ScratchProject project;
    REQUIRE(project.cmake({"-S", ".", "-B", "build"}).exit_code == 0);
    REQUIRE(project.cmake({"--build", "build", "-j2"}).exit_code == 0);

    const auto created = project.scaffold({"new", "add email to account"});
    REQUIRE(created.exit_code == 0);
    const auto folders = project.folders_named("_add_email_to_account");
    REQUIRE(folders.size() == 1);
    const std::string stem = folders.front().filename().string();
    REQUIRE(std::regex_match(stem, std::regex("[0-9a-f]{12}_add_email_to_account")));
    const std::string id = stem.substr(0, 12);
    const fs::path source = folders.front() / (stem + ".cpp");
    CHECK_THAT(created.out, Contains(source.string()));
    const std::string text = read_file(source);
    CHECK_THAT(text, Contains("MIGRATOR_REVISION_ID(\"" + id + "\")"));
    CHECK_THAT(text, Contains("MIGRATOR_DOWN_REVISION(\"ae1027a6acf2\")"));
    CHECK_THAT(text, Contains("MIGRATOR_MESSAGE(\"add email to account\")"));
    // The portable operations by default, with raw SQL shown beside them.
    CHECK_THAT(text, Contains("#include <migrator/operations.hpp>"));
    CHECK_THAT(text, Contains("    migrator::Operations op(ctx);\n    // op.create_table(Table("));
    CHECK_THAT(text, Contains("    // op.drop_table("));
    CHECK_THAT(text, Contains("// ctx.execute(\""));

    replace_in_file(source, "    migrator::Operations op(ctx);\n    // op.create_table(",
                    "    migrator::Operations op(ctx);\n"
                    "    op.add_column(\"account\", Column(\"email\", Type::varchar(255)));\n"
                    "    // op.create_table(");
    replace_in_file(source, "    // op.drop_table(\"account\");",
                    "    op.drop_column(\"account\", \"email\");");

    // No re-configure: the build notices the new folder by itself.
    const auto build = project.cmake({"--build", "build", "-j2"});
    REQUIRE(build.exit_code == 0);
    REQUIRE(fs::exists(project.versions() / (stem + ".so")));

    Sandbox sandbox("sqlite", project.versions());
    // The plugin's checksum follows the edited source, not the one scaffold wrote.
    const auto digest = run_process({MIGRATOR_CMAKE_COMMAND, "-E", "sha256sum", source.string()});
    CHECK_THAT(sandbox.migrator({"show", id}).out,
               Contains("Source SHA-256: " + digest.out.substr(0, 64)));
    const auto up = sandbox.migrator({"upgrade", "head"});
    REQUIRE(up.exit_code == 0);
    CHECK_THAT(up.out,
               Contains("[5/5] Running upgrade ae1027a6acf2 -> " + id + ", add email to account"));
    CHECK(sandbox.version_rows() == std::vector<std::string>{id});
    CHECK(sandbox.has_column("account", "email"));
    REQUIRE(sandbox.migrator({"downgrade", "-1"}).exit_code == 0);
    CHECK_FALSE(sandbox.has_column("account", "email"));

    {  // The next revision's parent is read back from the sources, built or not. --raw-sql
        // stamps SQL statements instead of operations; that revision builds and runs too.
        const auto next =
            project.scaffold({"new", "-m", "add phone", "--rev-id", "0123456789ab", "--raw-sql"});
        REQUIRE(next.exit_code == 0);
        const fs::path phone =
            project.revisions() / "0123456789ab_add_phone" / "0123456789ab_add_phone.cpp";
        const std::string raw = read_file(phone);
        CHECK_THAT(raw, Contains("MIGRATOR_DOWN_REVISION(\"" + id + "\")"));
        CHECK_THAT(raw, !Contains("operations.hpp"));
        CHECK_THAT(raw, !Contains("Operations op"));
        replace_in_file(phone, "    // ctx.execute(\"CREATE TABLE ...\");",
                        "    ctx.execute(\"ALTER TABLE account ADD COLUMN phone VARCHAR(32)\");");
        replace_in_file(phone, "    // ctx.execute(\"DROP TABLE ...\");",
                        "    ctx.execute(\"ALTER TABLE account DROP COLUMN phone\");");
        const auto rebuilt = project.cmake({"--build", "build", "-j2"});
        INFO(rebuilt.out + rebuilt.err);
        REQUIRE(rebuilt.exit_code == 0);
        const auto up_both = sandbox.migrator({"upgrade", "head"});
        INFO(up_both.out + up_both.err);
        REQUIRE(up_both.exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"0123456789ab"});
        CHECK(sandbox.has_column("account", "email"));
        CHECK(sandbox.has_column("account", "phone"));
        REQUIRE(sandbox.migrator({"downgrade", "-1"}).exit_code == 0);
        CHECK_FALSE(sandbox.has_column("account", "phone"));
        CHECK(sandbox.has_column("account", "email"));
        REQUIRE(sandbox.migrator({"downgrade", "-1"}).exit_code == 0);
        CHECK_FALSE(sandbox.has_column("account", "email"));

        // --raw-sql and --autogenerate exclude each other (autogenerate writes operations).
        const auto both = project.scaffold({"new", "x", "--raw-sql", "--autogenerate"});
        CHECK(both.exit_code == 2);
        CHECK_THAT(both.err, Contains("excludes"));
    }
    {  // --head must name a head unless --splice is given.
        const auto refused = project.scaffold({"new", "from the middle", "--head", "27c6"});
        CHECK(refused.exit_code != 0);
        CHECK_THAT(refused.err, Contains("27c6a30d7c24 is not a head"));
    }
    {  // An existing revision id is refused.
        const auto refused = project.scaffold({"new", "again", "--rev-id", "ae1027a6acf2"});
        CHECK(refused.exit_code != 0);
        CHECK_THAT(refused.err, Contains("already exists"));
    }
    {  // With two heads, scaffold asks which one to build on.
        REQUIRE(project.scaffold({"new", "side branch", "--head", "3e0e", "--splice"}).exit_code ==
                0);
        const auto refused = project.scaffold({"new", "ambiguous parent"});
        CHECK(refused.exit_code != 0);
        CHECK_THAT(refused.err, Contains("--head"));
        CHECK_THAT(refused.err, Contains("0123456789ab"));
        CHECK(project.folders_named("ambiguous_parent").empty());
    }
    {  // A merge joins the two heads; labels and dependencies are written into the metadata.
        const auto side = project.folders_named("side_branch");
        REQUIRE(side.size() == 1);
        const std::string side_id = side.front().filename().string().substr(0, 12);
        const auto merged =
            project.scaffold({"merge", "heads", "-m", "join", "--rev-id", "00000000beef"});
        REQUIRE(merged.exit_code == 0);
        const std::string both =
            side_id < "0123456789ab" ? side_id + ",0123456789ab" : "0123456789ab," + side_id;
        CHECK_THAT(read_file(project.revisions() / "00000000beef_join" / "00000000beef_join.cpp"),
                   Contains("MIGRATOR_DOWN_REVISION(\"" + both + "\")"));

        const auto labelled =
            project.scaffold({"new", "billing", "--branch-label", "billing", "--depends-on", "1975",
                              "--rev-id", "0000b1111ed0"});
        REQUIRE(labelled.exit_code == 0);
        const std::string billing =
            read_file(project.revisions() / "0000b1111ed0_billing" / "0000b1111ed0_billing.cpp");
        CHECK_THAT(billing, Contains("MIGRATOR_DOWN_REVISION(\"00000000beef\")"));
        CHECK_THAT(billing, Contains("MIGRATOR_BRANCH_LABELS(\"billing\")"));
        CHECK_THAT(billing, Contains("MIGRATOR_DEPENDS_ON(\"1975ea83b712\")"));

        REQUIRE(project.cmake({"--build", "build", "-j2"}).exit_code == 0);
        const auto history = sandbox.migrator({"history"});
        CHECK_THAT(history.out, Contains(" -> 00000000beef (mergepoint), join"));
        CHECK_THAT(history.out, Contains("00000000beef -> 0000b1111ed0 (billing) (head), billing"));
        const auto to_billing = sandbox.migrator({"upgrade", "billing@head"});
        CHECK(to_billing.exit_code == 0);
        CHECK(sandbox.version_rows() == std::vector<std::string>{"0000b1111ed0"});
    }
}

TEST_CASE("scaffold new needs a message and a revisions folder", "[e2e][scaffold]") {
    ScratchDir empty;
    const auto no_message = run_process({SCAFFOLD_BIN, "new"}, {}, empty.path().string());
    CHECK(no_message.exit_code == 2);
    CHECK_THAT(no_message.err, Contains("message"));
    const auto no_folder = run_process({SCAFFOLD_BIN, "new", "x"}, {}, empty.path().string());
    CHECK(no_folder.exit_code != 0);
    CHECK_THAT(no_folder.err, Contains("revisions"));
}

// scaffold reports every error as migrator does: one line, the password of anything that looks
// like a database URL masked, and the exit status of the error's kind. `scaffold sign` printed its
// errors unmasked and exited 1 for all of them.
TEST_CASE("scaffold masks a database password in every error and exits with migrator's statuses",
          "[e2e][scaffold]") {
    ScratchDir root;
    const auto refused =
        run_process({SCAFFOLD_BIN, "sign", "--key", "postgresql://app:s3cret@db.example/keys",
                     root.path().string()});
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.err, Contains("error: cannot read"));
    CHECK_THAT(refused.err, Contains("postgresql://app:***@db.example/keys"));
    CHECK_THAT(refused.err, !Contains("s3cret"));
}

// scaffold took the database of new --autogenerate from --url or the environment only, while
// migrator also takes `url` from its config file: the same project's migrator.ini now serves both,
// found as migrator finds it. The database named is in the error a database below head gives.
TEST_CASE(
    "scaffold new --autogenerate takes the database from url in migrator.ini, after the "
    "flag and the environment",
    "[e2e][scaffold]") {
    ScratchProject project;
    const fs::path root = project.revisions().parent_path();
    std::ofstream(project.revisions() / "schema.sql")
        << "CREATE TABLE t (id INTEGER PRIMARY KEY);\n";
    std::ofstream(root / "migrator.ini") << "url = sqlite:///from_ini.db\n";
    const std::map<std::string, std::string> no_url{
        {"MIGRATOR_DATABASE_URL", ""}, {"SQLALCHEMY_DATABASE_URL", ""}, {"MIGRATOR_CONFIG", ""}};
    const auto autogenerate = [&](std::vector<std::string> extra,
                                  std::map<std::string, std::string> env) {
        std::vector<std::string> args{"new", "--autogenerate", "-m",
                                      "x",   "--rev-id",       "00000000c0f1"};
        args.insert(args.end(), extra.begin(), extra.end());
        for (const auto& [name, value] : no_url) env.emplace(name, value);
        return project.scaffold(args, env);
    };

    SECTION("no flag and no variable: url in ./migrator.ini") {
        const auto result = autogenerate({}, {});
        CHECK(result.exit_code == 7);
        CHECK_THAT(result.err, Contains("sqlite:///from_ini.db is at <base>"));
    }
    SECTION("--url wins over the file") {
        const auto result = autogenerate({"--url", "sqlite:///from_flag.db"}, {});
        CHECK(result.exit_code == 7);
        CHECK_THAT(result.err, Contains("sqlite:///from_flag.db is at <base>"));
    }
    SECTION("MIGRATOR_DATABASE_URL wins over the file") {
        const auto result =
            autogenerate({}, {{"MIGRATOR_DATABASE_URL", "sqlite:///from_environment.db"}});
        CHECK(result.exit_code == 7);
        CHECK_THAT(result.err, Contains("sqlite:///from_environment.db is at <base>"));
    }
    SECTION("--config and MIGRATOR_CONFIG name another file, as for migrator") {
        std::ofstream(root / "other.ini") << "url = sqlite:///from_other.db\n";
        const auto by_flag = autogenerate({"--config", "other.ini"}, {});
        CHECK(by_flag.exit_code == 7);
        CHECK_THAT(by_flag.err, Contains("sqlite:///from_other.db is at <base>"));
        const auto by_variable = autogenerate({}, {{"MIGRATOR_CONFIG", "other.ini"}});
        CHECK_THAT(by_variable.err, Contains("sqlite:///from_other.db is at <base>"));
        const auto missing = autogenerate({"--config", "missing.ini"}, {});
        CHECK(missing.exit_code == 2);
        CHECK_THAT(missing.err, Contains("config file missing.ini does not exist"));
    }
    SECTION("no URL anywhere: migrator's sentence, naming migrator.ini") {
        fs::remove(root / "migrator.ini");
        const auto result = autogenerate({}, {});
        CHECK(result.exit_code == 5);
        CHECK_THAT(result.err, Contains("no database URL given: pass --url, or set "
                                        "MIGRATOR_DATABASE_URL or SQLALCHEMY_DATABASE_URL"));
        CHECK_THAT(result.err, Contains("or put url = ... in migrator.ini"));
    }
}
