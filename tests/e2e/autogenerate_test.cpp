// End to end: autogenerate round trips. For each edit of schema.sql, a revision is generated,
// built and applied; `check --schema` then sees no difference, and `downgrade -1` gives back the
// previous schema exactly. A database below head is refused.
#include <catch2/catch.hpp>
#include <fstream>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <migrator/schema/schema_compare.hpp>
#include <sstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

namespace schema = migrator::schema;

/// Every field of a schema, one line per column, key, constraint and index: two schemas are the
/// same exactly when their texts are.
std::string schema_text(const schema::Schema& introspected) {
    std::ostringstream text;
    const auto list = [](const std::vector<std::string>& items) {
        std::string joined;
        for (const auto& item : items) joined += (joined.empty() ? "" : ",") + item;
        return "(" + joined + ")";
    };
    for (const auto& table : introspected.tables) {
        text << "table " << table.name << " primary key " << list(table.primary_key_columns)
             << '\n';
        for (const auto& column : table.columns)
            text << "  column " << column.name << " kind " << static_cast<int>(column.type.kind)
                 << " length " << column.type.length << " numeric " << column.type.precision << ","
                 << column.type.scale << " sql '" << column.type.sql << "'"
                 << (column.nullable ? " null" : " not null") << " default "
                 << column.default_sql.value_or("<none>")
                 << (column.autoincrement ? " autoincrement" : "") << '\n';
        for (const auto& unique : table.unique_constraints)
            text << "  unique " << unique.name << ' ' << list(unique.columns) << '\n';
        for (const auto& key : table.foreign_keys)
            text << "  foreign key " << key.name << ' ' << list(key.columns) << " -> "
                 << key.referred_table << list(key.referred_columns) << " on delete "
                 << key.on_delete << " on update " << key.on_update << '\n';
    }
    for (const auto& index : introspected.indexes)
        text << "index " << index.name << " on " << index.table << list(index.columns)
             << (index.unique ? " unique" : "") << '\n';
    return text.str();
}

/// The sandbox's schema as migrator introspects it.
std::string introspected(const Sandbox& sandbox) {
    migrator::DatabaseOptions options;
    options.read_only = true;
    const auto db = migrator::open_database(migrator::DatabaseUrl::parse(sandbox.url()), options);
    return schema_text(migrator::introspect_database(*db));
}

/// schema.sql, in the dialect of `backend`: the shipped revisions' schema, then each edit.
struct SchemaFile {
    bool postgresql = false;
    // What the steps change.
    bool customer_note = false;
    bool email = false;
    bool email_required = false;
    bool email_index = false;
    bool note_foreign_key = false;
    bool note_priority = true;
    bool body_varchar = false;
    std::string body_name = "body";

    std::string text() const {
        // One revision serves both databases in revisions/: only the key column's type differs.
        const std::string key = postgresql ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
        std::string sql = "CREATE TABLE account (\n  id " + key +
                          ",\n  name VARCHAR(100) NOT NULL,\n"
                          "  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP";
        if (email)
            sql += email_required ? ",\n  email VARCHAR(255) NOT NULL DEFAULT ''"
                                  : ",\n  email VARCHAR(255)";
        sql += ");\n";
        sql += "CREATE TABLE invoice (\n  id " + key +
               ",\n  account_id BIGINT NOT NULL REFERENCES account (id),\n"
               "  amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),\n"
               "  issued_on DATE NOT NULL";
        sql += ",\n  status VARCHAR(16) NOT NULL DEFAULT 'open');\n";
        sql += "CREATE INDEX ix_invoice_account_id ON invoice (account_id, issued_on);\n";
        if (customer_note)
            sql += "CREATE TABLE customer_note (\n  id " + key + ",\n  account_id BIGINT NOT NULL" +
                   (note_foreign_key ? " REFERENCES account (id)" : "") + ",\n  " + body_name +
                   (body_varchar ? " VARCHAR(2000)" : " TEXT") +
                   (note_priority ? ",\n  priority INTEGER NOT NULL DEFAULT 0" : "") + ");\n";
        if (email_index) sql += "CREATE INDEX ix_account_email ON account (email);\n";
        return sql;
    }
};

/// One autogenerate round trip after another on one backend, the story the issue asks for.
class RoundTrip {
public:
    explicit RoundTrip(const std::string& backend)
        : sandbox_(backend, project_.versions()), password_(sandbox_.password()) {
        schema_.postgresql = backend == "postgresql";
        REQUIRE(project_.cmake({"-S", ".", "-B", "build"}).exit_code == 0);
        REQUIRE(project_.cmake({"--build", "build", "-j2"}).exit_code == 0);
        REQUIRE(sandbox_.migrator({"upgrade", "head"}).exit_code == 0);
    }

    SchemaFile& schema() { return schema_; }
    const Sandbox& sandbox() const { return sandbox_; }
    const ScratchProject& project() const { return project_; }
    fs::path schema_path() const { return project_.revisions() / "schema.sql"; }

    void write_schema() const { std::ofstream(schema_path(), std::ios::trunc) << schema_.text(); }

    /// `scaffold new --autogenerate` (or, with `through_migrator`, `migrator revision
    /// --autogenerate`) for the current schema.sql, as revision `id`.
    ProcessResult autogenerate(const std::string& message, const std::string& id,
                               bool through_migrator = false) const {
        write_schema();
        const auto result =
            through_migrator
                ? sandbox_.migrator({"revision", "--autogenerate", "-m", message, "--rev-id", id,
                                     "--revisions-dir", project_.revisions().string()},
                                    {{"MIGRATOR_SCHEMA_FILE", ""}})
                : project_.scaffold({"new", "--autogenerate", "-m", message, "--rev-id", id,
                                     "--url", sandbox_.url()},
                                    {{"MIGRATOR_SCHEMA_FILE", ""}});
        if (!password_.empty()) {
            CHECK_THAT(result.out, !Contains(password_));
            CHECK_THAT(result.err, !Contains(password_));
        }
        return result;
    }

    /// The generated source of revision `id`.
    std::string source_of(const std::string& id) const {
        const auto folders = project_.folders_named(id);
        REQUIRE(folders.size() == 1);
        return read_file(folders.front() / (folders.front().filename().string() + ".cpp"));
    }

    /// Autogenerates revision `id`, whose source must hold `operation`, builds it, upgrades, sees
    /// `check --schema` pass, downgrades one step to the schema from before, upgrades again.
    void step(const std::string& message, const std::string& id, const std::string& operation,
              bool through_migrator = false) {
        INFO("step: " << message);
        const std::string before = introspected(sandbox_);
        const auto generated = autogenerate(message, id, through_migrator);
        INFO(generated.out << generated.err);
        REQUIRE(generated.exit_code == 0);
        CHECK_THAT(generated.out, Contains("Detected "));
        const std::string source = source_of(id);
        INFO(source);
        CHECK_THAT(source, Contains(operation));

        const auto built = project_.cmake({"--build", "build", "-j2"});
        INFO(built.out << built.err);
        REQUIRE(built.exit_code == 0);
        const auto up = sandbox_.migrator({"upgrade", "head"});
        INFO(up.out << up.err);
        REQUIRE(up.exit_code == 0);
        CHECK(sandbox_.version_rows() == std::vector<std::string>{id});

        const auto check =
            sandbox_.migrator({"check", "--schema", "--schema-file", schema_path().string()});
        INFO(check.out << check.err);
        CHECK(check.exit_code == 0);
        const std::string after = introspected(sandbox_);
        CHECK(after != before);

        const auto down = sandbox_.migrator({"downgrade", "-1"});
        INFO(down.out << down.err);
        REQUIRE(down.exit_code == 0);
        CHECK(introspected(sandbox_) == before);
        REQUIRE(sandbox_.migrator({"upgrade", "head"}).exit_code == 0);
        CHECK(introspected(sandbox_) == after);
    }

private:
    ScratchProject project_;
    Sandbox sandbox_;
    std::string password_;
    SchemaFile schema_;
};

void round_trips(const std::string& backend) {
    RoundTrip story(backend);
    SchemaFile& schema = story.schema();
    const Sandbox& sandbox = story.sandbox();

    {  // schema.sql as the shipped revisions leave the database: nothing to write.
        const auto same = story.autogenerate("nothing", "00000000aa00");
        CHECK(same.exit_code == 0);
        CHECK_THAT(same.out, Contains("No changes in schema detected"));
        CHECK(story.project().folders_named("00000000aa00").empty());
    }
    sandbox.execute_script("INSERT INTO account (name) VALUES ('ada')");

    schema.customer_note = true;
    story.step("add customer note", "00000000aa01", "op.create_table(");
    schema.email = true;
    story.step("add email", "00000000aa02", "op.add_column(\"account\", Column(\"email\"");
    sandbox.execute_script("UPDATE account SET email = 'ada@example.com'");
    schema.email_required = true;
    // The default as the dialect spells it: '' on SQLite, ''::character varying on PostgreSQL.
    story.step("require email", "00000000aa03",
               "ColumnChange().nullable(false).default_value(\"''");
    schema.email_index = true;
    story.step("index email", "00000000aa04", "op.create_index(Index(\"ix_account_email\"",
               /*through_migrator=*/true);
    schema.note_foreign_key = true;
    story.step("note belongs to account", "00000000aa05", "op.create_foreign_key(");
    // (Not a column of invoice: SQLite rebuilds the table for it, which its CHECK prevents.)
    schema.note_priority = false;
    story.step("drop note priority", "00000000aa06",
               "op.drop_column(\"customer_note\", \"priority\")");
    schema.body_varchar = true;
    story.step("bound note body", "00000000aa07", "ColumnChange().type(Type::varchar(2000))");
    // The rows survived every step, table rebuilds included.
    CHECK(sandbox.column("SELECT name || ' ' || email FROM account") ==
          std::vector<std::string>{"ada ada@example.com"});

    {  // A renamed column looks like a drop and an add: the revision says so.
        schema.body_name = "content";
        const auto renamed = story.autogenerate("rename body", "00000000aa08");
        REQUIRE(renamed.exit_code == 0);
        const std::string source = story.source_of("00000000aa08");
        CHECK_THAT(source, Contains("op.drop_column(\"customer_note\", \"body\")"));
        CHECK_THAT(source, Contains("op.add_column(\"customer_note\", Column(\"content\""));
        CHECK_THAT(source, Contains("Possible rename"));
        CHECK_THAT(source, Contains("op.rename_column(\"customer_note\", \"body\","));
        fs::remove_all(story.project().folders_named("00000000aa08").front());
        schema.body_name = "body";
    }
    {  // A database below head is refused, by both programs, and nothing is written.
        REQUIRE(sandbox.migrator({"downgrade", "-1"}).exit_code == 0);
        const auto by_scaffold = story.autogenerate("too early", "00000000aa09");
        CHECK(by_scaffold.exit_code == 7);
        CHECK_THAT(by_scaffold.err, Contains("Target database is not up to date."));
        const auto by_migrator = story.autogenerate("too early", "00000000aa09", true);
        CHECK(by_migrator.exit_code == 7);
        CHECK_THAT(by_migrator.err, Contains("Target database is not up to date."));
        CHECK(story.project().folders_named("00000000aa09").empty());
    }
}

}  // namespace

// One test per backend of all_backends(), so that ctest can run the two stories side by side:
// each builds a revision per step, which takes seconds.
TEST_CASE("autogenerate round trips schema edits on SQLite", "[e2e][autogenerate]") {
    REQUIRE(all_backends().front() == "sqlite");
    round_trips("sqlite");
}

TEST_CASE("autogenerate round trips schema edits on PostgreSQL", "[e2e][autogenerate]") {
    REQUIRE(all_backends().back() == "postgresql");
    round_trips("postgresql");
}
