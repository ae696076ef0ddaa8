// End to end: `migrator check --schema` compares the database with a declared schema.sql.
#include <sys/stat.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

void write_file(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

/// A sandbox on the shipped revisions at head, with the matching schema in its folder.
struct AtHead {
    explicit AtHead(const std::string& backend)
        : sandbox(backend, shipped_versions_dir()), schema_file(sandbox.dir() / "schema.sql") {
        REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
        write_file(schema_file, shipped_schema(backend));
    }
    ProcessResult check(std::vector<std::string> more = {}) const {
        std::vector<std::string> args{"--schema-file", schema_file.string(), "check", "--schema"};
        args.insert(args.end(), more.begin(), more.end());
        return sandbox.migrator(args);
    }

    Sandbox sandbox;
    fs::path schema_file;
};

}  // namespace

TEST_CASE("check --schema passes for a database at head that matches the declared schema",
          "[e2e][check][schema]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const AtHead at_head(backend);
    const auto result = at_head.check();
    CHECK(result.exit_code == 0);
    CHECK(result.err.empty());
    CHECK_THAT(result.out, Contains("is at ae1027a6acf2 (head); 4 applied revisions match"));
    CHECK_THAT(result.out, Contains("its schema matches " + at_head.schema_file.string()));
    CHECK(differences(result.out).empty());

    const auto json = at_head.check({"--json"});
    CHECK(json.exit_code == 0);
    const auto document = boost::json::parse(json.out);
    CHECK(document.at("ok").as_bool());
    CHECK(document.at("schema_file").as_string() == at_head.schema_file.string());
    CHECK(document.at("schema_differences").as_array().empty());
    if (backend == "postgresql") CHECK(at_head.sandbox.scratch_schemas().empty());
}

TEST_CASE("check --schema lists each difference from the declared schema and exits 8",
          "[e2e][check][schema]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const AtHead at_head(backend);
    const auto before = at_head.sandbox.schema();
    // Per difference line, the parts it holds (the dialects spell some defaults and constraint
    // names their own way), and its kind in the JSON output.
    std::vector<std::vector<std::string>> lines;
    std::vector<std::string> kinds;

    SECTION("a column the database lacks") {
        replace_in_file(at_head.schema_file, "issued_on DATE NOT NULL,",
                        "issued_on DATE NOT NULL, note TEXT,");
        lines = {{"added column invoice.note (TEXT)"}};
        kinds = {"add_column"};
    }
    SECTION("a column the declared schema lacks") {
        replace_in_file(at_head.schema_file,
                        ",\n  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP", "");
        lines = {{"dropped column account.created_at (TIMESTAMP NOT NULL DEFAULT "}};
        kinds = {"drop_column"};
    }
    SECTION("a type") {
        replace_in_file(at_head.schema_file, "status VARCHAR(16)", "status VARCHAR(32)");
        lines = {{"changed column invoice.status: type VARCHAR(16) -> VARCHAR(32)"}};
        kinds = {"alter_column"};
    }
    SECTION("nullability") {
        replace_in_file(at_head.schema_file, "issued_on DATE NOT NULL", "issued_on DATE");
        lines = {{"changed column invoice.issued_on: NOT NULL -> NULL"}};
        kinds = {"alter_column"};
    }
    SECTION("a default") {
        replace_in_file(at_head.schema_file, " DEFAULT CURRENT_TIMESTAMP", "");
        lines = {{"changed column account.created_at: default ", " -> no default"}};
        kinds = {"alter_column"};
    }
    SECTION("an index") {
        replace_in_file(at_head.schema_file, "(account_id, issued_on)", "(account_id)");
        lines = {{"dropped index ix_invoice_account_id on invoice (account_id, issued_on)"},
                 {"added index ix_invoice_account_id on invoice (account_id)"}};
        kinds = {"drop_index", "add_index"};
    }
    SECTION("a unique constraint") {
        replace_in_file(at_head.schema_file, "name VARCHAR(100) NOT NULL",
                        "name VARCHAR(100) NOT NULL UNIQUE");
        lines = {{"added unique constraint", "on account (name)"}};
        kinds = {"add_unique_constraint"};
    }
    SECTION("a foreign key") {
        replace_in_file(at_head.schema_file, "REFERENCES account (id)",
                        "REFERENCES account (id) ON DELETE CASCADE");
        lines = {{"dropped foreign key", "invoice (account_id) -> account (id)"},
                 {"added foreign key", "invoice (account_id) -> account (id) ON DELETE CASCADE"}};
        kinds = {"drop_foreign_key", "add_foreign_key"};
    }
    SECTION("a table the database lacks") {
        std::ofstream(at_head.schema_file, std::ios::app) << "CREATE TABLE tag (name TEXT);\n";
        lines = {{"added table tag (name)"}};
        kinds = {"add_table"};
    }
    SECTION("a table the declared schema lacks") {
        const std::string all = shipped_schema(backend);
        write_file(at_head.schema_file, all.substr(0, all.find("CREATE TABLE invoice")));
        lines = {{"dropped table invoice (id, account_id, amount_cents, issued_on, status)"}};
        kinds = {"drop_table"};
    }

    const auto result = at_head.check();
    CHECK(result.exit_code == 8);
    const auto found = differences(result.out);
    REQUIRE(found.size() == lines.size());
    for (std::size_t i = 0; i < found.size(); ++i)
        for (const auto& part : lines[i]) CHECK_THAT(found[i], Contains(part));
    CHECK_THAT(result.err, Contains("check found " + std::to_string(kinds.size()) +
                                    (kinds.size() == 1 ? " schema difference in "
                                                       : " schema differences in ")));
    CHECK_THAT(result.err, Contains("the declared schema " + at_head.schema_file.string()));
    const auto json = at_head.check({"--json"});
    CHECK(json.exit_code == 8);
    CHECK_FALSE(boost::json::parse(json.out).at("ok").as_bool());
    CHECK(json_kinds(json.out, "schema_differences") == kinds);
    // Only reads: the database and its schema are as the revisions left them.
    CHECK(at_head.sandbox.schema() == before);
    if (backend == "postgresql") {
        CHECK(at_head.sandbox.scratch_schemas().empty());
        const std::string password = at_head.sandbox.password();
        REQUIRE(!password.empty());
        CHECK_THAT(result.out + result.err + json.out + json.err, !Contains(password));
    }
}

TEST_CASE("check --schema reports schema differences beside the other problems",
          "[e2e][check][schema]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, shipped_versions_dir());
    REQUIRE(sandbox.migrator({"upgrade", "3e0e"}).exit_code == 0);  // ae10 is not applied
    write_file(sandbox.dir() / "schema.sql", shipped_schema(backend));
    const std::vector<std::string> args{"--schema-file", "schema.sql", "check", "--schema"};
    const auto result = sandbox.migrator(args);
    CHECK(result.exit_code == 8);
    CHECK_THAT(result.out, Contains("problem: the database is at 3e0e4c7a4a0b"));
    CHECK(differences(result.out) ==
          std::vector<std::string>{
              "added index ix_invoice_account_id on invoice (account_id, issued_on)"});
    CHECK_THAT(result.err, Contains("check found 1 problem and 1 schema difference in "));
    // --allow-pending excuses the pending revision, not the difference it leaves.
    auto lenient = args;
    lenient.push_back("--allow-pending");
    const auto pending = sandbox.migrator(lenient);
    CHECK(pending.exit_code == 8);
    CHECK_THAT(pending.out, Contains("warning: the database is at 3e0e4c7a4a0b"));
    CHECK_THAT(pending.err, Contains("check found 1 schema difference in "));
}

TEST_CASE("check --schema finds the schema file by flag, environment, config file and default",
          "[e2e][check][schema]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, shipped_versions_dir());
    REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
    // A copy of the shipped versions directory, so that schema.sql can sit beside the plugins.
    ScratchDir versions;
    for (const auto& entry : fs::directory_iterator(shipped_versions_dir()))
        if (entry.path().extension() == ".so")
            fs::copy_file(entry.path(), versions.path() / entry.path().filename());
    sandbox.set_versions_dir(versions.path());
    const fs::path elsewhere = sandbox.dir() / "declared";
    fs::create_directory(elsewhere);
    write_file(elsewhere / "app.sql", shipped_schema(backend));
    // Each source below points at a matching file; a schema.sql that does not match is the
    // default, so a source that is not used shows as a difference.
    write_file(versions.path() / "schema.sql",
               shipped_schema(backend) + "CREATE TABLE tag (x TEXT);\n");

    SECTION("the default: schema.sql in the versions directory") {
        const auto result = sandbox.migrator({"check", "--schema"});
        CHECK(result.exit_code == 8);
        CHECK(differences(result.out) == std::vector<std::string>{"added table tag (x)"});
        CHECK_THAT(result.err, Contains((versions.path() / "schema.sql").string()));
    }
    SECTION("--schema-file, relative to the working directory") {
        CHECK(sandbox.migrator({"--schema-file", "declared/app.sql", "check", "--schema"})
                  .exit_code == 0);
    }
    SECTION("MIGRATOR_SCHEMA_FILE") {
        CHECK(sandbox
                  .migrator({"check", "--schema"},
                            {{"MIGRATOR_SCHEMA_FILE", (elsewhere / "app.sql").string()}})
                  .exit_code == 0);
    }
    SECTION("schema_file in the config file, relative to its folder") {
        write_file(elsewhere / "migrator.ini", "schema_file = app.sql\n");
        const auto config = (elsewhere / "migrator.ini").string();
        CHECK(sandbox.migrator({"--config", config, "check", "--schema"}).exit_code == 0);
        SECTION("the environment wins over the config file") {
            const auto result = sandbox.migrator(
                {"--config", config, "check", "--schema"},
                {{"MIGRATOR_SCHEMA_FILE", (versions.path() / "schema.sql").string()}});
            CHECK(result.exit_code == 8);
        }
    }
}

TEST_CASE("check --schema refuses a missing schema file in one sentence saying how to name one",
          "[e2e][check][schema]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, shipped_versions_dir());
    REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
    const auto missing = (sandbox.dir() / "nowhere.sql").string();
    const auto result = sandbox.migrator({"--schema-file", missing, "check", "--schema"});
    CHECK(result.exit_code == 2);
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.err, Contains("schema file " + missing +
                                    " (named by --schema-file) does "
                                    "not exist"));
    CHECK_THAT(result.err, Contains("--schema-file, MIGRATOR_SCHEMA_FILE or schema_file"));
    CHECK(result.out.empty());
    // Without --schema, check needs no schema file.
    CHECK(sandbox.migrator({"--schema-file", missing, "check"}).exit_code == 0);
}

TEST_CASE("check --schema refuses a schema file others can change, as it refuses such a plugin",
          "[e2e][check][schema]") {
    const AtHead at_head("sqlite");
    REQUIRE(::chmod(at_head.schema_file.c_str(), 0666) == 0);
    const auto result = at_head.check();
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("schema file " + at_head.schema_file.string() +
                                    " is writable by its group and others (mode 0666)"));
    CHECK_THAT(result.err, Contains("chmod go-w"));
    CHECK(at_head.check({"--no-permission-check"}).exit_code == 0);
}

TEST_CASE("a schema file that fails is a clear error, and the scratch schema never survives it",
          "[e2e][check][schema]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const AtHead at_head(backend);
    const auto before = at_head.sandbox.schema();
    std::string message;

    SECTION("an SQL error") {
        std::ofstream(at_head.schema_file, std::ios::app) << "CREATE TABLE broken (id nosuchtype";
        message = " failed on the scratch database: ";
    }
    SECTION("an SQL error after writing to the target's own schema") {
        // Schema-qualified names reach past the scratch schema; the rollback takes them too.
        const std::string target = backend == "postgresql" ? "public" : "main";
        write_file(at_head.schema_file,
                   "CREATE TABLE " + target + ".intruder (id INTEGER);\nCREATE TABLE broken (;\n");
        message = " failed on the scratch database: ";
    }
    if (backend == "postgresql") {
        SECTION("a COMMIT in the file") {
            write_file(at_head.schema_file,
                       "CREATE TABLE a (id INTEGER);\nCOMMIT;\nCREATE TABLE public.intruder (id "
                       "INTEGER);\n");
            message = " commits the scratch transaction itself";
        }
        SECTION("a ROLLBACK in the file") {
            write_file(at_head.schema_file, "CREATE TABLE a (id INTEGER);\nROLLBACK;\n");
            message = " ends the scratch transaction";
        }
    }

    const auto result = at_head.check();
    CHECK(result.exit_code == 2);
    CHECK(lines_of(result.err).size() == 1);
    CHECK_THAT(result.err,
               Contains("error: schema file " + at_head.schema_file.string() + message));
    CHECK(differences(result.out).empty());
    CHECK(at_head.sandbox.schema() == before);
    CHECK(at_head.sandbox.tables().count("intruder") == 0);
    if (backend == "postgresql") CHECK(at_head.sandbox.scratch_schemas().empty());
}

TEST_CASE("the scratch schema does not survive migrator killed while it runs the schema file",
          "[e2e][check][schema][postgresql]") {
    const AtHead at_head("postgresql");
    std::ofstream(at_head.schema_file, std::ios::app) << "SELECT pg_sleep(60);\n";
    const auto sleeping = [&] {
        return at_head.sandbox.column(
                   "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                   "application_name = 'migrator' AND query LIKE '%pg_sleep(60)%'") !=
               std::vector<std::string>{"0"};
    };
    BackgroundProcess migrator(
        at_head.sandbox.migrator_command(
            {"--schema-file", at_head.schema_file.string(), "check", "--schema"}),
        Sandbox::clean_environment(), at_head.sandbox.dir().string());
    for (int i = 0; i < 400 && !sleeping(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(sleeping());
    migrator.send_signal(SIGKILL);
    CHECK(migrator.wait().exit_code == 128 + SIGKILL);
    // The server notices the closed connection (client_connection_check_interval) and rolls the
    // scratch transaction back.
    for (int i = 0; i < 400 && sleeping(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK_FALSE(sleeping());
    CHECK(at_head.sandbox.scratch_schemas().empty());
    CHECK(at_head.sandbox.tables() == std::set<std::string>{"account", "invoice"});
}
