// End to end: the declared schema taken from SQLAlchemy models (--models, the shipped
// sqlalchemy_schema.py run with Debian's python3-sqlalchemy), and one portable schema file that
// checks clean on both dialects.
#include <catch2/catch.hpp>
#include <fstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

void write_file(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

/// Debian's Python, which has python3-sqlalchemy (the python3 on PATH may be another).
const std::map<std::string, std::string> python{{"MIGRATOR_PYTHON", "/usr/bin/python3"}};

std::map<std::string, std::string> with_python(std::map<std::string, std::string> env) {
    env.insert(python.begin(), python.end());
    return env;
}

/// A models module describing exactly the tables the shipped revisions create (a BIGSERIAL key
/// on PostgreSQL, SQLite's INTEGER PRIMARY KEY there, as SQLAlchemy teams write it with a
/// variant), plus `more`: lines appended to the module.
std::string shipped_models(const std::string& more = "") {
    return "import sqlalchemy as sa\n"
           "from sqlalchemy.orm import declarative_base\n"
           "\n"
           "Base = declarative_base()\n"
           "Key = sa.BigInteger().with_variant(sa.Integer, 'sqlite')\n"
           "\n"
           "class Account(Base):\n"
           "    __tablename__ = 'account'\n"
           "    id = sa.Column(Key, primary_key=True)\n"
           "    name = sa.Column(sa.String(100), nullable=False)\n"
           "    created_at = sa.Column(sa.TIMESTAMP, nullable=False,\n"
           "                           server_default=sa.text('CURRENT_TIMESTAMP'))\n"
           "\n"
           "class Invoice(Base):\n"
           "    __tablename__ = 'invoice'\n"
           "    id = sa.Column(Key, primary_key=True)\n"
           "    account_id = sa.Column(sa.BigInteger, sa.ForeignKey('account.id'), "
           "nullable=False)\n"
           "    amount_cents = sa.Column(sa.BigInteger, sa.CheckConstraint('amount_cents >= 0'),\n"
           "                             nullable=False)\n"
           "    issued_on = sa.Column(sa.Date, nullable=False)\n"
           "    status = sa.Column(sa.String(16), nullable=False, server_default='open')\n"
           "    __table_args__ = (sa.Index('ix_invoice_account_id', 'account_id', "
           "'issued_on'),)\n" +
           more;
}

/// A new table with every kind of column the issue lists, a unique constraint, an index, a
/// nullable column and server defaults; and a new nullable column of account.
const std::string tag_table =
    "\n"
    "Account.note = sa.Column(sa.Text)\n"
    "Account.__table__.append_column(Account.note)\n"
    "\n"
    "class Tag(Base):\n"
    "    __tablename__ = 'tag'\n"
    "    id = sa.Column(sa.Integer, primary_key=True)\n"
    "    account_id = sa.Column(Key, sa.ForeignKey('account.id'), nullable=False)\n"
    "    label = sa.Column(sa.String(40), nullable=False, unique=True)\n"
    "    body = sa.Column(sa.Text)\n"
    "    active = sa.Column(sa.Boolean, nullable=False, server_default=sa.true())\n"
    "    price = sa.Column(sa.Numeric(10, 2))\n"
    "    seen_at = sa.Column(sa.DateTime, index=True)\n";

/// The shipped revisions at head, models.py in the folder migrator runs in.
struct ModelsAtHead {
    explicit ModelsAtHead(const std::string& backend) : sandbox(backend, shipped_versions_dir()) {
        REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
    }
    ProcessResult check(const std::string& models_text,
                        std::map<std::string, std::string> env = {}) const {
        write_file(sandbox.dir() / "models.py", models_text);
        return sandbox.migrator({"check", "--schema", "--models", "models:Base.metadata"},
                                with_python(std::move(env)));
    }
    Sandbox sandbox;
};

}  // namespace

TEST_CASE("check --schema --models passes at head when the models describe the database",
          "[e2e][models]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const ModelsAtHead at_head(backend);
    const auto result = at_head.check(shipped_models());
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.err.empty());
    CHECK_THAT(result.out, Contains("its schema matches the models models:Base.metadata."));

    SECTION("a declarative Base stands for its MetaData, read from migrator.ini too") {
        write_file(at_head.sandbox.dir() / "migrator.ini", "models = models:Base\n");
        const auto from_config = at_head.sandbox.migrator({"check", "--schema", "--json"}, python);
        INFO(from_config.out << from_config.err);
        CHECK(from_config.exit_code == 0);
        CHECK_THAT(from_config.out, Contains("\"models\":\"models:Base\""));
    }
}

TEST_CASE("check --schema --models reports what the models have that the database has not",
          "[e2e][models]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const ModelsAtHead at_head(backend);
    SECTION("one more column") {
        const auto result = at_head.check(shipped_models(
            "Account.note = sa.Column(sa.Text)\nAccount.__table__.append_column(Account.note)\n"));
        CHECK(result.exit_code == 8);
        CHECK(differences(result.out) ==
              std::vector<std::string>{"added column account.note (TEXT)"});
        CHECK_THAT(result.err, Contains("and the models models:Base.metadata"));
    }
    SECTION("a changed type") {
        std::string models = shipped_models();
        models.replace(models.find("sa.String(16)"), 13, "sa.String(32)");
        const auto result = at_head.check(models);
        CHECK(result.exit_code == 8);
        CHECK(differences(result.out) ==
              std::vector<std::string>{
                  "changed column invoice.status: type VARCHAR(16) -> VARCHAR(32)"});
    }
}

TEST_CASE("check --schema refuses models it cannot read with one sentence", "[e2e][models]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    const ModelsAtHead at_head(backend);
    write_file(at_head.sandbox.dir() / "models.py", shipped_models());
    const auto run = [&](const std::string& models, std::map<std::string, std::string> env = {}) {
        return at_head.sandbox.migrator({"check", "--schema", "--models", models},
                                        with_python(std::move(env)));
    };
    const auto one_sentence = [&](const ProcessResult& result, const std::string& sentence) {
        INFO(result.out << result.err);
        CHECK(result.exit_code == 2);
        CHECK(lines_of(result.err).size() == 1);
        CHECK_THAT(result.err, StartsWith("error: "));
        CHECK_THAT(result.err, Contains(sentence));
        CHECK_THAT(result.err, !Contains("Traceback"));
    };
    one_sentence(run("no_such_models:Base"),
                 "sqlalchemy_schema.py: module no_such_models not found");
    one_sentence(run("models:Account.name"),
                 "models:Account.name is of type InstrumentedAttribute, not a SQLAlchemy "
                 "MetaData or a declarative Base");
    one_sentence(run("models:Nothing"), "models has no attribute Nothing");
    one_sentence(run("models:Base", {{"MIGRATOR_PYTHON", "/nonexistent"}}),
                 "cannot run /nonexistent (MIGRATOR_PYTHON) for --models models:Base: No such "
                 "file or directory");
    const auto both = at_head.sandbox.migrator(
        {"check", "--schema", "--models", "models:Base", "--schema-file", "schema.sql"}, python);
    CHECK(both.exit_code != 0);
    CHECK_THAT(both.err, Contains("--schema-file excludes --models"));
}

namespace {

/// scaffold new --autogenerate --models in a project of the shipped revisions: the revision adds
/// the models' new table and column; built and applied, the database matches the models.
void autogenerate_from_models(const std::string& backend) {
    ScratchProject project;
    Sandbox sandbox(backend, project.versions());
    REQUIRE(project.cmake({"-S", ".", "-B", "build"}).exit_code == 0);
    REQUIRE(project.cmake({"--build", "build", "-j2"}).exit_code == 0);
    REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
    const fs::path models = project.revisions().parent_path() / "models.py";

    const auto scaffold = [&](const std::string& target, const std::string& id,
                              std::map<std::string, std::string> env = {}) {
        return project.scaffold({"new", "--autogenerate", "-m", "from models", "--rev-id", id,
                                 "--url", sandbox.url(), "--models", target},
                                with_python(std::move(env)));
    };
    {  // Errors: one sentence each, nothing written.
        write_file(models, shipped_models());
        for (const auto& [target, env, sentence] :
             std::vector<std::tuple<std::string, std::map<std::string, std::string>, std::string>>{
                 {"absent:Base", {}, "module absent not found"},
                 {"models:Key", {}, "not a SQLAlchemy MetaData"},
                 {"models:Base", {{"MIGRATOR_PYTHON", "/nonexistent"}}, "cannot run /nonexistent"},
             }) {
            const auto refused = scaffold(target, "00000000bb00", env);
            INFO(refused.out << refused.err);
            CHECK(refused.exit_code == 2);
            CHECK(lines_of(refused.err).size() == 1);
            CHECK_THAT(refused.err, Contains(sentence));
        }
        CHECK(project.folders_named("00000000bb00").empty());
        const auto same = scaffold("models:Base.metadata", "00000000bb00");
        INFO(same.out << same.err);
        CHECK(same.exit_code == 0);
        CHECK_THAT(same.out, Contains("No changes in schema detected"));
        CHECK_THAT(same.out, Contains("matches the models models:Base.metadata"));
        CHECK(project.folders_named("00000000bb00").empty());
    }
    write_file(models, shipped_models(tag_table));
    const auto generated = scaffold("models:Base", "00000000bb01");
    INFO(generated.out << generated.err);
    REQUIRE(generated.exit_code == 0);
    CHECK_THAT(generated.out, Contains("Detected added table tag"));
    CHECK_THAT(generated.out, Contains("Detected added column account.note (TEXT)"));
    const auto built = project.cmake({"--build", "build", "-j2"});
    INFO(built.out << built.err);
    REQUIRE(built.exit_code == 0);
    const auto up = sandbox.migrator({"upgrade", "head"});
    INFO(up.out << up.err);
    REQUIRE(up.exit_code == 0);
    CHECK(sandbox.has_column("account", "note"));
    CHECK(sandbox.has_column("tag", "seen_at"));
    CHECK(sandbox.has_index("ix_tag_seen_at"));
    sandbox.execute_script(
        "INSERT INTO account (name) VALUES ('ada');"
        "INSERT INTO tag (account_id, label, price) VALUES (1, 'a', 1.25)");
    CHECK(sandbox.column("SELECT id FROM tag") == std::vector<std::string>{"1"});

    // The models project's migrator.ini names the models; check sees them all applied.
    write_file(project.revisions().parent_path() / "migrator.ini", "models = models:Base\n");
    const auto check = run_process({MIGRATOR_BIN, "--url", sandbox.url(), "--versions-dir",
                                    project.versions().string(), "check", "--schema"},
                                   with_python(Sandbox::clean_environment()),
                                   project.revisions().parent_path().string());
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK_THAT(check.out, Contains("its schema matches the models models:Base"));
}

}  // namespace

TEST_CASE("scaffold new --autogenerate --models writes the models' changes on SQLite",
          "[e2e][models][autogenerate]") {
    autogenerate_from_models("sqlite");
}

TEST_CASE("scaffold new --autogenerate --models writes the models' changes on PostgreSQL",
          "[e2e][models][autogenerate]") {
    autogenerate_from_models("postgresql");
}

TEST_CASE("one portable schema file checks clean on SQLite and PostgreSQL", "[e2e][models]") {
    // A project without the shipped revisions (their keys differ per dialect): its one revision
    // is generated on SQLite from the portable file and applied to both databases.
    ScratchProject project;
    for (const auto& entry : fs::directory_iterator(project.revisions()))
        if (entry.is_directory()) fs::remove_all(entry.path());
    const fs::path schema_file = project.revisions() / "schema.sql";
    write_file(schema_file,
               "CREATE TABLE customer (\n"
               "  id INTEGER PRIMARY KEY,\n"
               "  name VARCHAR(40) NOT NULL,\n"
               "  note TEXT);\n"
               "CREATE TABLE customer_order (\n"
               "  id INTEGER PRIMARY KEY,\n"
               "  customer_id INTEGER NOT NULL REFERENCES customer (id),\n"
               "  amount NUMERIC(10, 2) NOT NULL,\n"
               "  UNIQUE (customer_id, amount));\n"
               "CREATE INDEX ix_customer_order_customer_id ON customer_order (customer_id);\n");
    Sandbox sqlite("sqlite", project.versions());
    Sandbox postgresql("postgresql", project.versions());
    REQUIRE(project.cmake({"-S", ".", "-B", "build"}).exit_code == 0);
    const auto generated = project.scaffold({"new", "--autogenerate", "-m", "customers", "--rev-id",
                                             "00000000cc01", "--url", sqlite.url()},
                                            {{"MIGRATOR_SCHEMA_FILE", ""}});
    INFO(generated.out << generated.err);
    REQUIRE(generated.exit_code == 0);
    const auto built = project.cmake({"--build", "build", "-j2"});
    INFO(built.out << built.err);
    REQUIRE(built.exit_code == 0);
    for (const Sandbox* sandbox : {&sqlite, &postgresql}) {
        INFO(sandbox->backend());
        REQUIRE(sandbox->migrator({"upgrade", "head"}).exit_code == 0);
        const auto check =
            sandbox->migrator({"check", "--schema", "--schema-file", schema_file.string()});
        INFO(check.out << check.err);
        CHECK(check.exit_code == 0);
        CHECK(differences(check.out).empty());
        CHECK_THAT(check.out, Contains("its schema matches " + schema_file.string()));
    }
    // Autogenerate against PostgreSQL finds nothing left to do either.
    const auto again =
        project.scaffold({"new", "--autogenerate", "-m", "again", "--url", postgresql.url()},
                         {{"MIGRATOR_SCHEMA_FILE", ""}});
    INFO(again.out << again.err);
    CHECK(again.exit_code == 0);
    CHECK_THAT(again.out, Contains("No changes in schema detected"));

    // A real PostgreSQL integer key without a sequence is still told apart from the file's.
    postgresql.execute_script("ALTER TABLE customer ALTER COLUMN id DROP IDENTITY");
    const auto plain =
        postgresql.migrator({"check", "--schema", "--schema-file", schema_file.string()});
    CHECK(plain.exit_code == 8);
    CHECK(
        differences(plain.out) ==
        std::vector<std::string>{"changed column customer.id: not autoincrement -> autoincrement"});
}
