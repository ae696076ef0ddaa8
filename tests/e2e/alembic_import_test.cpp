// scaffold import-alembic against real Alembic (Debian's python3-alembic): the corpus of
// tests/fixtures/alembic_corpus is run by Alembic to a midpoint, imported, built, adopted by
// migrator and taken to head; the schema then equals the one Alembic reaches on a fresh database,
// and migrator's downgrade crosses back over what Alembic applied. Both backends.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <migrator/schema/schema_compare.hpp>

#include "e2e.hpp"

namespace {

using namespace testing;

const fs::path corpus = fs::path(MIGRATOR_SOURCE_DIR) / "tests/fixtures/alembic_corpus/versions";
const std::map<std::string, std::string> python{{"MIGRATOR_PYTHON", "/usr/bin/python3"}};

/// Real Alembic on `url` (tests/e2e/alembic_corpus.py): "upgrade", "downgrade" or "sql" and its
/// argument.
ProcessResult alembic(const fs::path& workdir, const std::string& url, const std::string& what,
                      const std::string& argument, const fs::path& versions = corpus) {
    std::vector<std::string> argv{"/usr/bin/python3",
                                  std::string(MIGRATOR_SOURCE_DIR) + "/tests/e2e/alembic_corpus.py",
                                  workdir.string(),
                                  versions.string(),
                                  url,
                                  what};
    if (!argument.empty()) argv.push_back(argument);
    return run_process(argv);
}

/// The names of migrator's own tables in the sandbox's database (migrator_version*).
std::vector<std::string> migrator_tables(const Sandbox& db) {
    return db.column(db.backend() == "sqlite"
                         ? "SELECT name FROM sqlite_master WHERE name LIKE 'migrator_version%'"
                         : "SELECT table_name FROM information_schema.tables WHERE table_name "
                           "LIKE 'migrator_version%'");
}

/// The differences between the two databases' schemas, as introspection sees them ("" when
/// none), the version tables of both left out.
std::string schema_differences(const std::string& url_a, const std::string& url_b) {
    migrator::DatabaseOptions options;
    options.version_table = "alembic_version";
    options.read_only = true;
    const auto a = migrator::open_database(migrator::DatabaseUrl::parse(url_a), options);
    const auto b = migrator::open_database(migrator::DatabaseUrl::parse(url_b), options);
    std::string found;
    for (const auto& change : migrator::diff_schemas(migrator::introspect_database(*a),
                                                     migrator::introspect_database(*b)))
        found += change.describe() + "\n";
    return found;
}

/// The project of the imported history, built: the shipped revisions of ScratchProject removed.
struct ImportedProject {
    ScratchProject project;
    ProcessResult import;

    ImportedProject() {
        for (const auto& entry : fs::directory_iterator(project.revisions()))
            if (entry.is_directory()) fs::remove_all(entry.path());
        import = project.scaffold({"import-alembic", corpus.string()}, python);
    }

    void build() const {
        const auto configure = project.cmake({"-S", ".", "-B", "build"});
        REQUIRE(configure.exit_code == 0);
        const auto built = project.cmake({"--build", "build", "-j2"});
        INFO(built.out + built.err);
        REQUIRE(built.exit_code == 0);
    }

    fs::path source(const std::string& stem) const {
        const auto folders = project.folders_named(stem);
        REQUIRE(folders.size() == 1);
        return folders.front() / (folders.front().filename().string() + ".cpp");
    }

    /// What a person does with the statement left for review: writes it in C++.
    void translate_by_hand() const {
        const fs::path tags = source("07c0ffee0007");
        const std::string text = read_file(tags);
        const auto start = text.find("    throw std::runtime_error(");
        REQUIRE(start != std::string::npos);
        const auto end = text.find('\n', start);
        std::ofstream(tags)
            << text.substr(0, start)
            << "    for (const char* name : {\"alpha\", \"beta\"})\n"
               "        op.execute(std::string(\"INSERT INTO tag (name) VALUES ('\") "
               "+ name + \"')\");\n"
            << text.substr(end + 1);
    }
};

}  // namespace

TEST_CASE("import-alembic writes one revision per script with Alembic's metadata and a report",
          "[alembic][import]") {
    const ImportedProject imported;
    INFO(imported.import.out + imported.import.err);
    REQUIRE(imported.import.exit_code == 0);
    const std::string& out = imported.import.out;
    CHECK(out.find("Imported 7 revisions from") != std::string::npos);
    CHECK(out.find("1 left for review") != std::string::npos);
    CHECK(out.find("review versions/07c0ffee0007_tags.py:19: the for statement") !=
          std::string::npos);

    // Metadata: ids, a tuple down_revision as a merge, labels, message, create date.
    const std::string merge = read_file(imported.source("e5c0ffee0005"));
    CHECK(merge.find("MIGRATOR_DOWN_REVISION(\"c3c0ffee0003,d4c0ffee0004\")") != std::string::npos);
    const std::string reporting = read_file(imported.source("c3c0ffee0003"));
    CHECK(reporting.find("MIGRATOR_BRANCH_LABELS(\"reporting\")") != std::string::npos);
    CHECK(reporting.find("MIGRATOR_CREATE_DATE(\"2026-11-04 11:30:00\")") != std::string::npos);
    CHECK(reporting.find("MIGRATOR_MESSAGE(\"reporting tables\")") != std::string::npos);
    // The batch block became operations on its table; the string concatenation one statement.
    const std::string details = read_file(imported.source("d4c0ffee0004"));
    CHECK(details.find("op.rename_column(\"account\", \"name\", \"full_name\");") !=
          std::string::npos);
    CHECK(reporting.find("VALUES (1, 10, '2026-11-04')") != std::string::npos);
    // The untranslated loop is kept verbatim beside the statement that fails the step.
    const std::string tags = read_file(imported.source("07c0ffee0007"));
    CHECK(tags.find("//     for name in ('alpha', 'beta'):") != std::string::npos);

    // A second import refuses, naming the script and the revision, and writes nothing.
    const auto again = imported.project.scaffold({"import-alembic", corpus.string()}, python);
    CHECK(again.exit_code != 0);
    CHECK(again.err.find("is already in") != std::string::npos);
}

TEST_CASE("import-alembic refuses what it cannot read, in one sentence, writing nothing",
          "[alembic][import]") {
    ScratchProject project;
    ScratchDir scripts;
    SECTION("a folder that does not exist") {
        const auto result = project.scaffold({"import-alembic", "no/such/folder"}, python);
        CHECK(result.exit_code != 0);
        CHECK(result.err.find("Alembic versions folder no/such/folder does not exist") !=
              std::string::npos);
    }
    SECTION("a script Python cannot parse") {
        std::ofstream(scripts.path() / "abc_broken.py") << "revision = 'abc'\ndef upgrade(:\n";
        const auto result = project.scaffold({"import-alembic", scripts.path().string()}, python);
        CHECK(result.exit_code != 0);
        CHECK(result.err.find("abc_broken.py:2: not a Python script Alembic could read") !=
              std::string::npos);
    }
    SECTION("a parent that is not in the history") {
        std::ofstream(scripts.path() / "abc_orphan.py")
            << "revision = 'abc'\ndown_revision = 'nothere'\n"
               "def upgrade():\n    pass\ndef downgrade():\n    pass\n";
        const auto result = project.scaffold({"import-alembic", scripts.path().string()}, python);
        CHECK(result.exit_code != 0);
        CHECK(result.err.find("nothere") != std::string::npos);
    }
    SECTION("no Python") {
        std::ofstream(scripts.path() / "abc_one.py") << "revision = 'abc'\n";
        const auto result = project.scaffold({"import-alembic", scripts.path().string()},
                                             {{"MIGRATOR_PYTHON", "/nonexistent/python3"}});
        CHECK(result.exit_code != 0);
        CHECK(result.err.find("needs Python 3") != std::string::npos);
    }
    CHECK(project.folders_named("abc").empty());
}

TEST_CASE("import-alembic keeps every call it cannot translate, which fails its step by name",
          "[alembic][import]") {
    ScratchProject project;
    for (const auto& entry : fs::directory_iterator(project.revisions()))
        if (entry.is_directory()) fs::remove_all(entry.path());
    ScratchDir scripts;
    std::ofstream(scripts.path() / "aa01_checks.py")
        << "\"\"\"checks\n\nRevision ID: aa01\n\"\"\"\n"
           "from alembic import op\nimport sqlalchemy as sa\n"
           "revision = 'aa01'\ndown_revision = None\n\n"
           "def upgrade():\n"
           "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True))\n"
           "    op.create_check_constraint('ck_t_id', 't', 'id > 0')\n"
           "    op.create_everything('t')\n"
           "    if op.get_context().dialect.name == 'sqlite':\n"
           "        op.execute('PRAGMA foreign_keys = ON')\n"
           "    op.create_table('u', sa.Column('id', sa.Integer, sa.Identity()))\n"
           "    op.create_index('ix_t_id', 't', ['id'], postgresql_where=sa.text('id > 0'))\n\n"
           "def downgrade():\n"
           "    op.drop_table('t')\n";
    const auto result = project.scaffold({"import-alembic", scripts.path().string()}, python);
    INFO(result.out + result.err);
    REQUIRE(result.exit_code == 0);
    const std::string shown = scripts.path().filename().string() + "/aa01_checks.py";
    CHECK(result.out.find("2 statements translated, 5 left for review") != std::string::npos);
    CHECK(result.out.find("review " + shown + ":12: op.create_check_constraint") !=
          std::string::npos);
    CHECK(result.out.find("review " + shown + ":13: op.create_everything") != std::string::npos);
    CHECK(result.out.find("review " + shown + ":14: the if statement") != std::string::npos);
    CHECK(result.out.find("review " + shown + ":16: op.create_table") != std::string::npos);
    CHECK(result.out.find("review " + shown +
                          ":17: op.create_index (postgresql_where=... is not "
                          "translated)") != std::string::npos);

    // Built and run, the step fails at the first of them, naming it; nothing is applied.
    const auto configure = project.cmake({"-S", ".", "-B", "build"});
    REQUIRE(configure.exit_code == 0);
    const auto built = project.cmake({"--build", "build", "-j2"});
    INFO(built.out + built.err);
    REQUIRE(built.exit_code == 0);
    Sandbox db("sqlite", project.versions());
    const auto upgraded = db.migrator({"upgrade", "head"});
    CHECK(upgraded.exit_code != 0);
    CHECK(upgraded.err.find(shown + ":12: op.create_check_constraint was not translated from "
                                    "Alembic") != std::string::npos);
    CHECK(db.tables().empty());
}

TEST_CASE("an imported history continues a database Alembic took halfway, to Alembic's schema",
          "[alembic][import]") {
    ImportedProject imported;
    REQUIRE(imported.import.exit_code == 0);
    imported.build();
    for (const auto& backend : all_backends()) {
        DYNAMIC_SECTION(backend) {
            Sandbox db(backend, imported.project.versions());
            Sandbox reference(backend, imported.project.versions());
            const std::vector<std::string> adopt{"--version-table", "alembic_version"};
            const auto with = [&](std::vector<std::string> args) {
                args.insert(args.begin(), adopt.begin(), adopt.end());
                return db.migrator(args);
            };

            // Alembic runs the history to a midpoint: both branches, not their merge.
            REQUIRE(alembic(db.dir(), db.url(), "upgrade", "c3c0ffee0003").exit_code == 0);
            REQUIRE(alembic(db.dir(), db.url(), "upgrade", "d4c0ffee0004").exit_code == 0);
            CHECK(db.version_rows("alembic_version") ==
                  std::vector<std::string>{"c3c0ffee0003", "d4c0ffee0004"});

            // migrator continues from Alembic's rows; the statement left for review stops it.
            const auto stopped = with({"upgrade", "heads"});
            CHECK(stopped.exit_code != 0);
            CHECK(stopped.err.find("versions/07c0ffee0007_tags.py:19: the for statement was not "
                                   "translated from Alembic") != std::string::npos);
            CHECK(db.version_rows("alembic_version") == std::vector<std::string>{"f6c0ffee0006"});

            imported.translate_by_hand();
            imported.build();
            const auto upgraded = with({"upgrade", "heads"});
            INFO(upgraded.out + upgraded.err);
            REQUIRE(upgraded.exit_code == 0);
            CHECK(db.version_rows("alembic_version") == std::vector<std::string>{"07c0ffee0007"});

            // The same history run by Alembic alone on a fresh database.
            const auto head = alembic(reference.dir(), reference.url(), "upgrade", "heads");
            INFO(head.out + head.err);
            REQUIRE(head.exit_code == 0);
            CHECK(schema_differences(db.url(), reference.url()) == "");
            CHECK(db.column("SELECT name FROM tag ORDER BY name") ==
                  std::vector<std::string>{"alpha", "beta"});
            CHECK(db.column("SELECT email FROM account ORDER BY id") ==
                  reference.column("SELECT email FROM account ORDER BY id"));

            // Back across the revisions Alembic applied, to where Alembic's own downgrade goes.
            const auto down = with({"downgrade", "b2c0ffee0002"});
            INFO(down.out + down.err);
            REQUIRE(down.exit_code == 0);
            // The comparison sees what the downgrade undid (it can fail) ...
            const std::string undone = schema_differences(db.url(), reference.url());
            CHECK(undone.find("report") != std::string::npos);
            CHECK(undone.find("full_name") != std::string::npos);
            // ... and nothing once Alembic has downgraded its own database as far.
            REQUIRE(
                alembic(reference.dir(), reference.url(), "downgrade", "b2c0ffee0002").exit_code ==
                0);
            CHECK(db.version_rows("alembic_version") == std::vector<std::string>{"b2c0ffee0002"});
            CHECK(schema_differences(db.url(), reference.url()) == "");

            // To base: the enum type the first revision's table made goes with its downgrade.
            const std::string enum_types =
                "SELECT count(*) FROM pg_type WHERE typname = 'account_status'";
            if (backend == "postgresql")
                CHECK(db.column(enum_types) == std::vector<std::string>{"1"});
            REQUIRE(with({"downgrade", "base"}).exit_code == 0);
            REQUIRE(alembic(reference.dir(), reference.url(), "downgrade", "base").exit_code == 0);
            CHECK(schema_differences(db.url(), reference.url()) == "");
            CHECK(db.column("SELECT count(*) FROM alembic_version") ==
                  std::vector<std::string>{"0"});
            if (backend == "postgresql")
                CHECK(db.column(enum_types) == std::vector<std::string>{"0"});
        }
    }
}

TEST_CASE("the imported history's --sql script applies with psql and sqlite3 to Alembic's schema",
          "[alembic][import]") {
    ImportedProject imported;
    REQUIRE(imported.import.exit_code == 0);
    imported.translate_by_hand();
    imported.build();
    for (const auto& backend : all_backends()) {
        DYNAMIC_SECTION(backend) {
            Sandbox db(backend, imported.project.versions());
            Sandbox reference(backend, imported.project.versions());
            // SQLite's ALTER cannot change a column's type or constraints: migrator rebuilds the
            // table, which needs the table's rows, so an offline script stops before the first
            // batch block (as Alembic's batch mode needs the table too).
            const std::string target = backend == "sqlite" ? "c3c0ffee0003" : "heads";
            const auto script =
                db.migrator({"--version-table", "alembic_version", "upgrade", target, "--sql"});
            INFO(script.err);
            REQUIRE(script.exit_code == 0);
            // Applied as a DBA would, with the database's own shell, stopping at the first error.
            const fs::path file = db.dir() / "upgrade.sql";
            std::ofstream(file) << script.out;
            const auto applied =
                backend == "sqlite"
                    ? run_process({"/usr/bin/sqlite3", "-bail", (db.dir() / "test.db").string(),
                                   ".read " + file.string()})
                    : run_process({"/usr/bin/psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-d",
                                   db.url(), "-f", file.string()});
            INFO(applied.out + applied.err);
            REQUIRE(applied.exit_code == 0);
            REQUIRE(alembic(reference.dir(), reference.url(), "upgrade", target).exit_code == 0);
            CHECK(schema_differences(db.url(), reference.url()) == "");
            CHECK(db.version_rows("alembic_version") == reference.version_rows("alembic_version"));
        }
    }
}

TEST_CASE("a database Alembic manages is refused, in one sentence, until it is adopted",
          "[alembic][adopt]") {
    ImportedProject imported;
    REQUIRE(imported.import.exit_code == 0);
    imported.build();
    for (const auto& backend : all_backends()) {
        DYNAMIC_SECTION(backend) {
            Sandbox db(backend, imported.project.versions());
            REQUIRE(alembic(db.dir(), db.url(), "upgrade", "b2c0ffee0002").exit_code == 0);
            const std::string sentence =
                "is managed by Alembic (alembic_version is at b2c0ffee0002) and has no "
                "migrator_version table; to adopt it, set version_table = alembic_version in "
                "migrator.ini (or pass --version-table alembic_version)";
            const std::vector<std::vector<std::string>> commands{{"current"},
                                                                 {"upgrade", "heads"},
                                                                 {"check"},
                                                                 {"stamp", "heads"},
                                                                 {"downgrade", "base"},
                                                                 {"releases"},
                                                                 {"log"},
                                                                 {"history", "--indicate-current"}};
            for (const auto& command : commands) {
                const auto refused = db.migrator(command);
                INFO(command.front() << ": " << refused.err);
                CHECK(refused.exit_code == 5);
                CHECK(refused.err.rfind("error: database ", 0) == 0);
                CHECK(refused.err.find(sentence + "\n") != std::string::npos);
                CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);
                if (!db.password().empty())
                    CHECK(refused.err.find(db.password()) == std::string::npos);
                CHECK(refused.out.empty());
            }
            // Nothing was created, and Alembic's row is where Alembic left it.
            CHECK(migrator_tables(db).empty());
            CHECK(db.version_rows("alembic_version") == std::vector<std::string>{"b2c0ffee0002"});
            // A version table chosen on purpose is used as asked (a second history beside it).
            const auto chosen = db.migrator({"--version-table", "migrator_version", "current"});
            CHECK(chosen.exit_code == 0);
            // Commands that never read the rows are not refused: history, an offline script.
            CHECK(db.migrator({"history"}).exit_code == 0);
            CHECK(db.migrator({"upgrade", "c3c0ffee0003", "--sql"}).exit_code == 0);
            CHECK(migrator_tables(db).empty());
        }
    }
}

TEST_CASE("an adopted database continues from Alembic's row, and check tells what Alembic applied",
          "[alembic][adopt]") {
    ImportedProject imported;
    REQUIRE(imported.import.exit_code == 0);
    imported.build();
    for (const auto& backend : all_backends()) {
        DYNAMIC_SECTION(backend) {
            Sandbox db(backend, imported.project.versions());
            // The teammates' Alembic knows the first two scripts only.
            const fs::path scripts = db.dir() / "alembic_versions";
            fs::create_directories(scripts);
            for (const auto& entry : fs::directory_iterator(corpus))
                if (entry.path().filename().string().rfind("a1", 0) == 0 ||
                    entry.path().filename().string().rfind("b2", 0) == 0)
                    fs::copy(entry.path(), scripts);
            REQUIRE(alembic(db.dir(), db.url(), "upgrade", "heads", scripts).exit_code == 0);
            std::ofstream(db.dir() / "migrator.ini")
                << "[migrator]\nversion_table = alembic_version\n";

            const auto current = db.migrator({"current"});
            CHECK(current.exit_code == 0);
            CHECK(current.out.find("b2c0ffee0002") != std::string::npos);
            auto checked = db.migrator({"check", "--allow-pending"});
            CHECK(checked.exit_code == 0);
            CHECK(checked.out.find("; its 2 applied revisions were applied by Alembic (no checksum "
                                   "recorded: a1c0ffee0001, b2c0ffee0002) in ") !=
                  std::string::npos);
            const auto json = db.migrator({"check", "--allow-pending", "--json"});
            CHECK(json.out.find("\"no_checksum_recorded\":{\"revisions\":[\"a1c0ffee0001\","
                                "\"b2c0ffee0002\"],\"applied_by\":\"alembic\"}") !=
                  std::string::npos);

            // Upgrades continue from Alembic's row; what migrator applies has its checksum.
            const auto upgraded = db.migrator({"upgrade", "c3c0ffee0003"});
            INFO(upgraded.out + upgraded.err);
            REQUIRE(upgraded.exit_code == 0);
            CHECK(upgraded.out.find("Running upgrade b2c0ffee0002 -> c3c0ffee0003") !=
                  std::string::npos);
            CHECK(db.version_rows("alembic_version") == std::vector<std::string>{"c3c0ffee0003"});
            checked = db.migrator({"check", "--allow-pending"});
            CHECK(checked.out.find(
                      "; 1 applied revision matches its plugin and 2 were applied by "
                      "Alembic (no checksum recorded: a1c0ffee0001, b2c0ffee0002) in ") !=
                  std::string::npos);

            // The teammates' Alembic cannot read a row it has no script for ...
            const auto lost = alembic(db.dir(), db.url(), "current", "", scripts);
            CHECK(lost.exit_code == 1);
            CHECK(lost.err.find("Can't locate revision identified by 'c3c0ffee0003'") !=
                  std::string::npos);
            // ... until migrator goes back to a revision Alembic knows, across what Alembic
            // applied too; then Alembic runs again.
            REQUIRE(db.migrator({"downgrade", "a1c0ffee0001"}).exit_code == 0);
            CHECK(db.version_rows("alembic_version") == std::vector<std::string>{"a1c0ffee0001"});
            CHECK(!db.has_column("invoice", "id"));
            REQUIRE(alembic(db.dir(), db.url(), "upgrade", "heads", scripts).exit_code == 0);
            CHECK(db.version_rows("alembic_version") == std::vector<std::string>{"b2c0ffee0002"});
            CHECK(db.has_column("invoice", "id"));
        }
    }
}

TEST_CASE("check counts what migrator applied as matching, and a stamp as no recorded checksum",
          "[alembic][adopt][check]") {
    for (const auto& backend : all_backends()) {
        DYNAMIC_SECTION(backend) {
            Sandbox upgraded(backend, shipped_versions_dir());
            REQUIRE(upgraded.migrator({"-q", "upgrade", "head"}).exit_code == 0);
            const auto matching = upgraded.migrator({"check"});
            CHECK(matching.out.find(" is at ae1027a6acf2 (head); 4 applied revisions match their "
                                    "plugins in " +
                                    shipped_versions_dir().string() + ".\n") != std::string::npos);
            CHECK(upgraded.migrator({"check", "--json"}).out.find("no_checksum_recorded") ==
                  std::string::npos);

            Sandbox stamped(backend, shipped_versions_dir());
            REQUIRE(stamped.migrator({"stamp", "head"}).exit_code == 0);
            const auto unknown = stamped.migrator({"check"});
            CHECK(unknown.exit_code == 0);
            CHECK(unknown.out.find("; its 4 applied revisions have no recorded checksum (stamped, "
                                   "or applied outside migrator: 1975ea83b712, 27c6a30d7c24, "
                                   "3e0e4c7a4a0b, ae1027a6acf2) in ") != std::string::npos);
            CHECK(stamped.migrator({"check", "--json"}).out.find("\"applied_by\":\"unknown\"") !=
                  std::string::npos);
        }
    }
}
