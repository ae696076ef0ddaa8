// Autogenerate's code generation: schema changes in, the C++ of upgrade/downgrade and the review
// comment out, compared with the expected text.
#include "migration_code.hpp"

#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

#include "revision_source.hpp"

using namespace migrator;
using namespace migrator::schema;
using Catch::Matchers::Contains;
using migrator::scaffold::cpp_string_literal;
using migrator::scaffold::migration_code;
using Kind = SchemaChange::Kind;

namespace {

SchemaChange change_of(Kind kind, const std::string& table) {
    SchemaChange change{};
    change.kind = kind;
    change.table = table;
    return change;
}

const std::string prologue = "    migrator::Operations op(ctx);\n";

/// The comment with its wrapped lines joined again, so a sentence can be looked for whole.
std::string unwrapped(const std::string& comment) {
    return std::regex_replace(comment, std::regex("\n// +(?!- )"), " ");
}

Table account_table() {
    return Table("account")
        .column(Column("id", Type::integer()).not_null().auto_increment())
        .column(Column("name", Type::varchar(100)).not_null())
        .column(
            Column("created_at", Type::timestamp()).not_null().default_value("CURRENT_TIMESTAMP"))
        .primary_key({"id"})
        .unique(UniqueConstraint::make("uq_account_name", {"name"}))
        .foreign_key(ForeignKey{
            "fk_account_parent", {"parent_id"}, "account", {"id"}, "CASCADE", "SET NULL"});
}

}  // namespace

TEST_CASE("autogenerate writes each change as one operation and downgrade as its inverse",
          "[autogenerate]") {
    SECTION("an added table is created with every part of it and dropped on downgrade") {
        auto change = change_of(Kind::add_table, "account");
        change.new_table = account_table();
        const auto code = migration_code({change});
        CHECK(
            code.upgrade ==
            prologue +
                "    op.create_table(\n"
                "        Table(\"account\")\n"
                "            .column(Column(\"id\", Type::integer()).not_null().auto_increment())\n"
                "            .column(Column(\"name\", Type::varchar(100)).not_null())\n"
                "            .column(Column(\"created_at\", "
                "Type::timestamp()).not_null().default_value(\"CURRENT_TIMESTAMP\"))\n"
                "            .primary_key({\"id\"})\n"
                "            .unique(UniqueConstraint::make(\"uq_account_name\", {\"name\"}))\n"
                "            .foreign_key(ForeignKey::make(\"fk_account_parent\", {\"parent_id\"}, "
                "\"account\", {\"id\"}, \"CASCADE\", \"SET NULL\")));\n");
        CHECK(code.downgrade == prologue + "    op.drop_table(\"account\");\n");
    }
    SECTION("a dropped table comes back on downgrade from its full old definition") {
        auto change = change_of(Kind::drop_table, "tag");
        change.old_table =
            Table("tag").column(Column("label", Type::text())).primary_key({"label"});
        const auto code = migration_code({change});
        CHECK(code.upgrade == prologue + "    op.drop_table(\"tag\");\n");
        CHECK(code.downgrade == prologue +
                                    "    op.create_table(\n"
                                    "        Table(\"tag\")\n"
                                    "            .column(Column(\"label\", Type::text()))\n"
                                    "            .primary_key({\"label\"}));\n");
    }
    SECTION("an added column is dropped on downgrade") {
        auto change = change_of(Kind::add_column, "account");
        change.new_column = Column("email", Type::varchar(255));
        const auto code = migration_code({change});
        CHECK(code.upgrade ==
              prologue +
                  "    op.add_column(\"account\", Column(\"email\", Type::varchar(255)));\n");
        CHECK(code.downgrade == prologue + "    op.drop_column(\"account\", \"email\");\n");
    }
    SECTION("a dropped column is added back on downgrade with its type, NULL-ness and default") {
        auto change = change_of(Kind::drop_column, "invoice");
        change.old_column = Column("status", Type::varchar(16)).not_null().default_value("'open'");
        const auto code = migration_code({change});
        CHECK(code.upgrade == prologue + "    op.drop_column(\"invoice\", \"status\");\n");
        CHECK(code.downgrade == prologue +
                                    "    op.add_column(\"invoice\",\n"
                                    "                  Column(\"status\", "
                                    "Type::varchar(16)).not_null().default_value(\"'open'\"));\n");
    }
    SECTION("an altered column changes only what differs, and downgrade changes it back") {
        auto change = change_of(Kind::alter_column, "account");
        change.old_column = Column("email", Type::varchar(255));
        change.new_column = Column("email", Type::varchar(255)).not_null().default_value("''");
        const auto code = migration_code({change});
        CHECK(code.upgrade == prologue +
                                  "    op.alter_column(\"account\", \"email\", "
                                  "ColumnChange().nullable(false).default_value(\"''\"));\n");
        CHECK(code.downgrade == prologue +
                                    "    op.alter_column(\"account\", \"email\", "
                                    "ColumnChange().nullable(true).drop_default());\n");
    }
    SECTION("a type change is written both ways, broken after the column when it is long") {
        auto change = change_of(Kind::alter_column, "customer_note");
        change.old_column = Column("body", Type::text());
        change.new_column = Column("body", Type::numeric(12, 2)).default_value("0");
        const auto code = migration_code({change});
        CHECK(code.upgrade ==
              prologue +
                  "    op.alter_column(\"customer_note\", \"body\",\n"
                  "                    "
                  "ColumnChange().type(Type::numeric(12, 2)).default_value(\"0\"));\n");
        CHECK(code.downgrade == prologue +
                                    "    op.alter_column(\"customer_note\", \"body\", "
                                    "ColumnChange().type(Type::text()).drop_default());\n");
    }
    SECTION("indexes are created and dropped by name") {
        auto added = change_of(Kind::add_index, "account");
        added.new_index = Index("ix_account_email", "account", {"email", "name"}).make_unique();
        auto dropped = change_of(Kind::drop_index, "invoice");
        dropped.old_index = Index("ix_invoice_account_id", "invoice", {"account_id"});
        const auto code = migration_code({added, dropped});
        CHECK(code.upgrade == prologue +
                                  "    op.create_index(Index(\"ix_account_email\", \"account\", "
                                  "{\"email\", \"name\"}).make_unique());\n"
                                  "    op.drop_index(\"invoice\", \"ix_invoice_account_id\");\n");
        CHECK(code.downgrade == prologue +
                                    "    op.create_index(Index(\"ix_invoice_account_id\", "
                                    "\"invoice\", {\"account_id\"}));\n"
                                    "    op.drop_index(\"account\", \"ix_account_email\");\n");
    }
    SECTION("unique constraints and foreign keys are passed whole, so unnamed ones work") {
        auto unique = change_of(Kind::add_unique_constraint, "account");
        unique.new_unique = UniqueConstraint::make("", {"email"});
        auto key = change_of(Kind::add_foreign_key, "invoice");
        key.new_foreign_key = ForeignKey{"", {"account_id"}, "account", {"id"}, "", ""};
        const auto code = migration_code({unique, key});
        CHECK(code.upgrade == prologue +
                                  "    op.create_unique_constraint(\"account\", "
                                  "UniqueConstraint::make(\"\", {\"email\"}));\n"
                                  "    op.create_foreign_key(\"invoice\", ForeignKey::make(\"\", "
                                  "{\"account_id\"}, \"account\", {\"id\"}));\n");
        CHECK(code.downgrade == prologue +
                                    "    op.drop_foreign_key(\"invoice\", ForeignKey::make(\"\", "
                                    "{\"account_id\"}, \"account\", {\"id\"}));\n"
                                    "    op.drop_unique_constraint(\"account\", "
                                    "UniqueConstraint::make(\"\", {\"email\"}));\n");

        auto dropped_unique = change_of(Kind::drop_unique_constraint, "account");
        dropped_unique.old_unique = UniqueConstraint::make("uq_account_email", {"email"});
        auto dropped_key = change_of(Kind::drop_foreign_key, "invoice");
        dropped_key.old_foreign_key =
            ForeignKey{"fk_invoice_account", {"account_id"}, "account", {"id"}, "CASCADE", ""};
        const auto back = migration_code({dropped_key, dropped_unique});
        CHECK(back.upgrade ==
              prologue +
                  "    op.drop_foreign_key(\"invoice\",\n"
                  "                        ForeignKey::make(\"fk_invoice_account\", "
                  "{\"account_id\"}, \"account\", {\"id\"}, \"CASCADE\"));\n"
                  "    op.drop_unique_constraint(\"account\", "
                  "UniqueConstraint::make(\"uq_account_email\", {\"email\"}));\n");
        CHECK(back.downgrade ==
              prologue +
                  "    op.create_unique_constraint(\"account\", "
                  "UniqueConstraint::make(\"uq_account_email\", {\"email\"}));\n"
                  "    op.create_foreign_key(\"invoice\",\n"
                  "                          ForeignKey::make(\"fk_invoice_account\", "
                  "{\"account_id\"}, \"account\", {\"id\"}, \"CASCADE\"));\n");
    }
    SECTION("types outside the factories keep every parameter") {
        auto change = change_of(Kind::add_column, "t");
        change.new_column = Column("c", Type::raw("uuid"));
        auto bare = change_of(Kind::add_column, "t");
        bare.new_column = Column("d", Type::of(TypeKind::varchar));
        const auto code = migration_code({change, bare});
        CHECK_THAT(code.upgrade, Contains("Column(\"c\", Type::raw(\"uuid\"))"));
        CHECK_THAT(code.upgrade, Contains("Column(\"d\", Type::of(TypeKind::varchar))"));
    }
    SECTION("the types grown for Alembic's users have their factories") {
        auto key = change_of(Kind::add_column, "t");
        key.new_column = Column("k", Type::uuid());
        auto when = change_of(Kind::add_column, "t");
        when.new_column = Column("w", Type::timestamp_tz());
        auto mood = change_of(Kind::add_column, "t");
        mood.new_column = Column("m", Type::enumeration("mood", {"ok", "grumpy"}));
        const auto code = migration_code({key, when, mood});
        CHECK_THAT(code.upgrade, Contains("Column(\"k\", Type::uuid())"));
        CHECK_THAT(code.upgrade, Contains("Column(\"w\", Type::timestamp_tz())"));
        CHECK_THAT(code.upgrade,
                   Contains("Column(\"m\", Type::enumeration(\"mood\", {\"ok\", \"grumpy\"}))"));
    }
}

TEST_CASE("autogenerate undoes the changes in reverse order", "[autogenerate]") {
    auto table = change_of(Kind::add_table, "tag");
    table.new_table = Table("tag").column(Column("id", Type::integer()).not_null());
    auto column = change_of(Kind::add_column, "account");
    column.new_column = Column("tag_id", Type::integer());
    auto key = change_of(Kind::add_foreign_key, "account");
    key.new_foreign_key = ForeignKey{"", {"tag_id"}, "tag", {"id"}, "", ""};
    const auto code = migration_code({table, column, key});
    const auto position = [&](const std::string& body, const std::string& text) {
        const auto at = body.find(text);
        REQUIRE(at != std::string::npos);
        return at;
    };
    CHECK(position(code.upgrade, "op.create_table(") < position(code.upgrade, "op.add_column("));
    CHECK(position(code.upgrade, "op.add_column(") <
          position(code.upgrade, "op.create_foreign_key("));
    CHECK(position(code.downgrade, "op.drop_foreign_key(") <
          position(code.downgrade, "op.drop_column("));
    CHECK(position(code.downgrade, "op.drop_column(") < position(code.downgrade, "op.drop_table("));
}

TEST_CASE("autogenerate escapes names and defaults as C++ string literals", "[autogenerate]") {
    CHECK(cpp_string_literal("plain") == "\"plain\"");
    CHECK(cpp_string_literal("say \"hi\"") == "\"say \\\"hi\\\"\"");
    CHECK(cpp_string_literal("C:\\path") == "\"C:\\\\path\"");
    CHECK(cpp_string_literal("two\nlines\tand\r") == "\"two\\nlines\\tand\\r\"");
    // Octal escapes stop after three digits, so the digit that follows stays a digit.
    CHECK(cpp_string_literal(std::string("\x01") + "7") == "\"\\0017\"");
    CHECK(cpp_string_literal("caf\xc3\xa9") == "\"caf\xc3\xa9\"");

    auto change = change_of(Kind::add_column, "we\"ird");
    change.new_column = Column("it's", Type::text()).default_value("'a \\ \"b\"'");
    const auto code = migration_code({change});
    CHECK(code.upgrade == prologue +
                              "    op.add_column(\"we\\\"ird\", Column(\"it's\", "
                              "Type::text()).default_value(\"'a \\\\ \\\"b\\\"'\"));\n");
}

TEST_CASE("autogenerate lists each detected change and what it cannot detect", "[autogenerate]") {
    auto column = change_of(Kind::add_column, "account");
    column.new_column = Column("email", Type::varchar(255));
    auto index = change_of(Kind::add_index, "account");
    index.new_index = Index("ix_account_email", "account", {"email"});
    const auto code = migration_code({column, index});
    CHECK_THAT(code.comment, Contains("// Detected:\n//   - " + column.describe() + "\n//   - " +
                                      index.describe() + "\n"));
    const std::string text = unwrapped(code.comment);
    CHECK_THAT(text, Contains("review and edit them before you build"));
    CHECK_THAT(text, Contains("Not detected"));
    for (const char* missed :
         {"CHECK constraints", "triggers", "views", "sequences", "column order"})
        CHECK_THAT(text, Contains(missed));
    CHECK_THAT(code.comment, !Contains("Warnings:"));
    CHECK(code.includes == std::vector<std::string>{"migrator/operations.hpp"});
    CHECK(code.preamble == "using namespace migrator::schema;\n");

    std::istringstream lines(code.comment);
    for (std::string line; std::getline(lines, line);) {
        CHECK(line.rfind("//", 0) == 0);
        CHECK(line.size() <= 100);
    }
}

TEST_CASE("autogenerate warns that a dropped and an added column or table may be a rename",
          "[autogenerate]") {
    SECTION("a column") {
        auto dropped = change_of(Kind::drop_column, "customer_note");
        dropped.old_column = Column("body", Type::text());
        auto added = change_of(Kind::add_column, "customer_note");
        added.new_column = Column("content", Type::text());
        const std::string text = unwrapped(migration_code({dropped, added}).comment);
        CHECK_THAT(text, Contains("Possible rename: in table customer_note, column body is dropped "
                                  "and content is added."));
        CHECK_THAT(text, Contains("replace its drop_column and add_column with op.rename_column("
                                  "\"customer_note\", \"body\", \"content\") in upgrade"));
        CHECK_THAT(text, Contains("upgrade drops column customer_note.body with its values"));
    }
    SECTION("several columns") {
        auto first = change_of(Kind::drop_column, "t");
        first.old_column = Column("a", Type::text());
        auto second = change_of(Kind::drop_column, "t");
        second.old_column = Column("b", Type::text());
        auto added = change_of(Kind::add_column, "t");
        added.new_column = Column("c", Type::text());
        const std::string text = unwrapped(migration_code({first, second, added}).comment);
        CHECK_THAT(text, Contains("column a and b are dropped and c is added"));
        CHECK_THAT(text, Contains("op.rename_column(\"t\", \"<old>\", \"<new>\")"));
    }
    SECTION("columns of different tables are no rename") {
        auto dropped = change_of(Kind::drop_column, "a");
        dropped.old_column = Column("x", Type::text());
        auto added = change_of(Kind::add_column, "b");
        added.new_column = Column("y", Type::text());
        CHECK_THAT(migration_code({dropped, added}).comment, !Contains("rename"));
    }
    SECTION("a table") {
        auto dropped = change_of(Kind::drop_table, "note");
        dropped.old_table = Table("note").column(Column("id", Type::integer()));
        auto added = change_of(Kind::add_table, "customer_note");
        added.new_table = Table("customer_note").column(Column("id", Type::integer()));
        const std::string text = unwrapped(migration_code({dropped, added}).comment);
        CHECK_THAT(text, Contains("Possible rename: table note is dropped and customer_note is "
                                  "added."));
        CHECK_THAT(text, Contains("op.rename_table(\"note\", \"customer_note\")"));
        CHECK_THAT(text, Contains("downgrade re-creates it empty"));
    }
}

TEST_CASE("autogenerate warns where existing rows may make the upgrade fail", "[autogenerate]") {
    auto stricter = change_of(Kind::alter_column, "account");
    stricter.old_column = Column("email", Type::text());
    stricter.new_column = Column("email", Type::varchar(20)).not_null();
    auto required = change_of(Kind::add_column, "account");
    required.new_column = Column("code", Type::integer()).not_null();
    const std::string text = unwrapped(migration_code({stricter, required}).comment);
    CHECK_THAT(text, Contains("upgrade makes account.email NOT NULL"));
    CHECK_THAT(text,
               Contains("op.execute(\"UPDATE account SET email = ... WHERE email IS NULL\")"));
    CHECK_THAT(text, Contains("upgrade changes the type of account.email"));
    CHECK_THAT(text, Contains("upgrade adds account.code NOT NULL without a default"));

    auto only_autoincrement = change_of(Kind::alter_column, "account");
    only_autoincrement.old_column = Column("id", Type::integer());
    only_autoincrement.new_column = Column("id", Type::integer()).auto_increment();
    const auto code = migration_code({only_autoincrement});
    CHECK_THAT(code.upgrade, Contains("// account.id: autoincrement differs"));
    CHECK_THAT(code.upgrade, !Contains("op.alter_column"));
}

TEST_CASE("autogenerate leaves a primary key change to the author, saying so in place",
          "[autogenerate]") {
    auto change = change_of(Kind::alter_primary_key, "tag");
    change.old_table = Table("tag").column(Column("id", Type::integer())).primary_key({"id"});
    change.new_table = Table("tag").column(Column("id", Type::integer())).primary_key({"id", "k"});
    const auto code = migration_code({change});
    CHECK(code.upgrade == prologue +
                              "    // tag: primary key (id) -> (id, k); no portable operation "
                              "changes it: write this step by hand\n");
    CHECK(code.downgrade == prologue +
                                "    // tag: primary key (id, k) -> (id); no portable operation "
                                "changes it: write this step by hand\n");
    CHECK_THAT(unwrapped(code.comment), Contains("the primary key of tag changes"));
}

TEST_CASE("autogenerate never ends a comment line in a backslash", "[autogenerate]") {
    auto dropped = change_of(Kind::drop_column, "t\\");
    dropped.old_column = Column("a\\", Type::text()).default_value("'\\'");
    auto added = change_of(Kind::add_column, "t\\");
    added.new_column = Column("b\\", Type::text());
    const auto code = migration_code({dropped, added});
    std::istringstream lines(code.comment);
    for (std::string line; std::getline(lines, line);) CHECK(line.back() != '\\');
}

TEST_CASE("autogenerate fills scaffold new's revision source", "[autogenerate]") {
    auto change = change_of(Kind::add_column, "account");
    change.new_column = Column("email", Type::varchar(255));
    scaffold::NewRevision revision;
    revision.id = "0123456789ab";
    revision.parents = {"ae1027a6acf2"};
    revision.message = "add email";
    revision.create_date = "2024-05-01 12:00:00";
    revision.code = migration_code({change});
    const std::string source = scaffold::revision_source_text(revision);
    CHECK(
        source ==
        "// Revision 0123456789ab: add email\n"
        "//\n"
        "// Revises: ae1027a6acf2\n"
        "// Create Date: 2024-05-01 12:00:00\n"
        "//\n"
        "// The build turns this file into versions/0123456789ab_add_email.so. Keep the metadata\n"
        "// below as it is: migrator reads it from the plugin without running any code.\n"
        "//\n" +
            revision.code.comment +
            "#include <migrator/revision.hpp>\n"
            "#include <migrator/operations.hpp>\n"
            "\n"
            "using namespace migrator::schema;\n"
            "\n"
            "MIGRATOR_REVISION(MIGRATOR_REVISION_ID(\"0123456789ab\")\n"
            "                  MIGRATOR_DOWN_REVISION(\"ae1027a6acf2\")\n"
            "                  MIGRATOR_MESSAGE(\"add email\")\n"
            "                  MIGRATOR_CREATE_DATE(\"2024-05-01 12:00:00\"));\n"
            "\n"
            "// Upgrade: bring the schema from the parent revision to this one. It runs in one\n"
            "// transaction with the version-table change: if anything throws (ctx.execute\n"
            "// throws on an SQL error), all of it is rolled back.\n"
            "void upgrade(migrator::Context& ctx) {\n"
            "    migrator::Operations op(ctx);\n"
            "    op.add_column(\"account\", Column(\"email\", Type::varchar(255)));\n"
            "}\n"
            "\n"
            "// Downgrade: undo exactly what upgrade did, in reverse order.\n"
            "void downgrade(migrator::Context& ctx) {\n"
            "    migrator::Operations op(ctx);\n"
            "    op.drop_column(\"account\", \"email\");\n"
            "}\n");

    // Without code, the source is the one scaffold new has always written.
    revision.code = {};
    const std::string plain = scaffold::revision_source_text(revision);
    CHECK_THAT(plain, Contains("void upgrade([[maybe_unused]] migrator::Context& ctx) {\n"
                               "    // ctx.execute(\"CREATE TABLE ...\");\n}\n"));
    CHECK_THAT(plain, !Contains("operations.hpp"));
    CHECK_THAT(plain, !Contains("Autogenerated"));
}
