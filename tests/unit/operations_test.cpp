// Tests of the portable operations and sql.hpp: the SQL text of each operation per dialect,
// without a database, and the operations run for real, from the revision-side builders through
// the encoding and the host's session (the SQLite table rebuild inside a transaction).
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <migrator/operations.hpp>
#include <migrator/schema/host_session.hpp>
#include <migrator/schema/introspection.hpp>
#include <migrator/schema/schema_operations.hpp>
#include <migrator/schema/sql.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "database_context.hpp"

using migrator::schema::Column;
using migrator::schema::ColumnChange;
using migrator::schema::ForeignKey;
using migrator::schema::Index;
using migrator::schema::Table;
using migrator::schema::Type;
using migrator::schema::UniqueConstraint;
using migrator::sql::Dialect;
using testing::DatabaseContext;
using testing::ScratchDatabase;

namespace {

/// A table using every part of the model: the portable types, keys, constraints, defaults.
Table invoice_table() {
    return Table("invoice")
        .column(Column("id", Type::integer()).auto_increment())
        .column(Column("number", Type::varchar(20)).not_null())
        .column(Column("customer_id", Type::big_integer()))
        .column(Column("total", Type::numeric(10, 2)).not_null().default_value("0"))
        .column(Column("paid", Type::boolean()).default_value("FALSE"))
        .column(Column("issued", Type::date()))
        .column(Column("created", Type::timestamp()).default_value("CURRENT_TIMESTAMP"))
        .column(Column("note", Type::text()))
        .column(Column("ratio", Type::real()))
        .column(Column("amount", Type::double_precision()))
        .column(Column("scan", Type::blob()))
        .column(Column("extra", Type::json()))
        .primary_key({"id"})
        .unique(UniqueConstraint::make("uq_invoice_number", {"number"}))
        .foreign_key(ForeignKey::make("fk_invoice_customer", {"customer_id"}, "customer", {"id"},
                                      "cascade"));
}

/// Runs `body` in a write transaction on the database, as the host runs a revision.
template <typename Body>
void in_transaction(DatabaseContext& db, Body&& body) {
    db.database().begin();
    try {
        body();
        db.database().commit();
    } catch (...) {
        db.database().rollback();
        throw;
    }
}

std::vector<std::string> column_of(DatabaseContext& db, const std::string& sql) {
    std::vector<std::string> values;
    for (const auto& row : db.context().query(sql))
        values.push_back(row.values.at(0) ? *row.values.at(0) : "NULL");
    return values;
}

}  // namespace

TEST_CASE("operations render each portable type per dialect", "[operations]") {
    const std::vector<std::pair<Type, std::pair<std::string, std::string>>> cases{
        {Type::integer(), {"INTEGER", "integer"}},
        {Type::big_integer(), {"BIGINT", "bigint"}},
        {Type::text(), {"TEXT", "text"}},
        {Type::varchar(40), {"VARCHAR(40)", "varchar(40)"}},
        {Type::boolean(), {"BOOLEAN", "boolean"}},
        {Type::real(), {"REAL", "real"}},
        {Type::double_precision(), {"DOUBLE PRECISION", "double precision"}},
        {Type::numeric(12, 3), {"NUMERIC(12,3)", "numeric(12,3)"}},
        {Type::date(), {"DATE", "date"}},
        {Type::timestamp(), {"TIMESTAMP", "timestamp"}},
        {Type::blob(), {"BLOB", "bytea"}},
        {Type::json(), {"JSON", "json"}},
        {Type::small_integer(), {"SMALLINT", "smallint"}},
        {Type::time(), {"TIME", "time"}},
        {Type::timestamp_tz(), {"TIMESTAMP WITH TIME ZONE", "timestamp with time zone"}},
        {Type::uuid(), {"CHAR(32)", "uuid"}},
        {Type::enumeration("mood", {"ok", "grumpy", "\xc3\xa9t\xc3\xa9"}),
         {"VARCHAR(6)", "\"mood\""}},
        {Type::raw("int4range"), {"int4range", "int4range"}},
    };
    for (const auto& [type, expected] : cases) {
        CHECK(migrator::sql::render_type("sqlite", type) == expected.first);
        CHECK(migrator::sql::render_type("postgresql", type) == expected.second);
    }
    CHECK_THROWS_AS(migrator::sql::render_type("oracle", Type::text()), std::invalid_argument);
}

TEST_CASE("operations render create_table with keys, constraints and defaults per dialect",
          "[operations]") {
    CHECK(migrator::sql::create_table_sql(Dialect::sqlite, invoice_table()) ==
          "CREATE TABLE \"invoice\" (\"id\" INTEGER NOT NULL PRIMARY KEY, \"number\" VARCHAR(20) "
          "NOT NULL, \"customer_id\" BIGINT, \"total\" NUMERIC(10,2) NOT NULL DEFAULT 0, "
          "\"paid\" BOOLEAN DEFAULT FALSE, \"issued\" DATE, \"created\" TIMESTAMP DEFAULT "
          "CURRENT_TIMESTAMP, \"note\" TEXT, \"ratio\" REAL, \"amount\" DOUBLE PRECISION, "
          "\"scan\" BLOB, \"extra\" JSON, CONSTRAINT \"uq_invoice_number\" UNIQUE (\"number\"), "
          "CONSTRAINT \"fk_invoice_customer\" FOREIGN KEY (\"customer_id\") REFERENCES "
          "\"customer\" (\"id\") ON DELETE CASCADE)");
    CHECK(migrator::sql::create_table_sql(Dialect::postgresql, invoice_table()) ==
          "CREATE TABLE \"invoice\" (\"id\" integer GENERATED BY DEFAULT AS IDENTITY NOT NULL, "
          "\"number\" varchar(20) NOT NULL, \"customer_id\" bigint, \"total\" numeric(10,2) NOT "
          "NULL DEFAULT 0, \"paid\" boolean DEFAULT FALSE, \"issued\" date, \"created\" "
          "timestamp DEFAULT CURRENT_TIMESTAMP, \"note\" text, \"ratio\" real, \"amount\" double "
          "precision, \"scan\" bytea, \"extra\" json, PRIMARY KEY (\"id\"), CONSTRAINT "
          "\"uq_invoice_number\" UNIQUE (\"number\"), CONSTRAINT \"fk_invoice_customer\" FOREIGN "
          "KEY (\"customer_id\") REFERENCES \"customer\" (\"id\") ON DELETE CASCADE)");

    SECTION("a composite key, unnamed constraints and a key to another schema") {
        Table line("line");
        line.column(Column("invoice_id", Type::integer()))
            .column(Column("position", Type::integer()))
            .column(Column("sku", Type::text()))
            .primary_key({"invoice_id", "position"})
            .unique(UniqueConstraint::make("", {"invoice_id", "sku"}))
            .foreign_key(ForeignKey::make("", {"sku"}, "stock.item", {}, "SET NULL"));
        line.foreign_keys[0].on_update = "NO ACTION";
        CHECK(migrator::sql::create_table_sql(Dialect::sqlite, line) ==
              "CREATE TABLE \"line\" (\"invoice_id\" INTEGER NOT NULL, \"position\" INTEGER NOT "
              "NULL, \"sku\" TEXT, PRIMARY KEY (\"invoice_id\", \"position\"), UNIQUE "
              "(\"invoice_id\", \"sku\"), FOREIGN KEY (\"sku\") REFERENCES \"stock.item\" ON "
              "DELETE SET NULL)");
        CHECK(migrator::sql::create_table_sql(Dialect::postgresql, line) ==
              "CREATE TABLE \"line\" (\"invoice_id\" integer NOT NULL, \"position\" integer NOT "
              "NULL, \"sku\" text, PRIMARY KEY (\"invoice_id\", \"position\"), UNIQUE "
              "(\"invoice_id\", \"sku\"), FOREIGN KEY (\"sku\") REFERENCES \"stock\".\"item\" ON "
              "DELETE SET NULL)");
    }
    SECTION("identifiers with quotes in them are quoted safely") {
        Table odd("a\"b");
        odd.column(Column("c\"d", Type::text()).default_value("'it''s'"));
        CHECK(migrator::sql::create_table_sql(Dialect::sqlite, odd) ==
              "CREATE TABLE \"a\"\"b\" (\"c\"\"d\" TEXT DEFAULT 'it''s')");
    }
    SECTION("what a dialect cannot have is refused with a sentence") {
        Table bad("bad");
        bad.column(Column("n", Type::integer()).auto_increment()).column(Column("m", Type::text()));
        CHECK_THROWS_WITH(migrator::sql::create_table_sql(Dialect::sqlite, bad),
                          Catch::Contains("not the primary key of bad"));
        CHECK_NOTHROW(migrator::sql::create_table_sql(Dialect::postgresql, bad));
        Table text_key("text_key");
        text_key.column(Column("k", Type::text()).auto_increment()).primary_key({"k"});
        CHECK_THROWS_WITH(migrator::sql::create_table_sql(Dialect::sqlite, text_key),
                          Catch::Contains("only an integer primary key"));
        Table both("both");
        both.column(Column("n", Type::integer()).auto_increment().default_value("1"));
        CHECK_THROWS_AS(migrator::sql::create_table_sql(Dialect::postgresql, both),
                        std::invalid_argument);
        Table action("action");
        action.column(Column("n", Type::integer()))
            .foreign_key(ForeignKey::make("", {"n"}, "t", {"id"}, "CASCADE; DROP TABLE t"));
        CHECK_THROWS_AS(migrator::sql::create_table_sql(Dialect::sqlite, action),
                        std::invalid_argument);
    }
    SECTION("a big integer autoincrement key is SQLite's INTEGER rowid alias") {
        Table big("big");
        big.column(Column("id", Type::big_integer()).auto_increment()).primary_key({"id"});
        CHECK(migrator::sql::create_table_sql(Dialect::sqlite, big) ==
              "CREATE TABLE \"big\" (\"id\" INTEGER NOT NULL PRIMARY KEY)");
        CHECK(migrator::sql::create_table_sql(Dialect::postgresql, big) ==
              "CREATE TABLE \"big\" (\"id\" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL, "
              "PRIMARY KEY (\"id\"))");
    }
}

TEST_CASE("operations render the column, index and constraint statements per dialect",
          "[operations]") {
    using namespace migrator::sql;
    CHECK(drop_table_sql("invoice") == "DROP TABLE \"invoice\"");
    CHECK(rename_table_sql("invoice", "bill") == "ALTER TABLE \"invoice\" RENAME TO \"bill\"");
    const auto status = Column("status", Type::varchar(16)).not_null().default_value("'open'");
    CHECK(add_column_sql(Dialect::sqlite, "invoice", status) ==
          "ALTER TABLE \"invoice\" ADD COLUMN \"status\" VARCHAR(16) NOT NULL DEFAULT 'open'");
    CHECK(add_column_sql(Dialect::postgresql, "invoice", status) ==
          "ALTER TABLE \"invoice\" ADD COLUMN \"status\" varchar(16) NOT NULL DEFAULT 'open'");
    CHECK(drop_column_sql("invoice", "status") == "ALTER TABLE \"invoice\" DROP COLUMN \"status\"");
    CHECK(rename_column_sql("invoice", "note", "memo") ==
          "ALTER TABLE \"invoice\" RENAME COLUMN \"note\" TO \"memo\"");
    CHECK(create_index_sql(Index("ix_invoice_issued", "invoice", {"issued", "number"})) ==
          "CREATE INDEX \"ix_invoice_issued\" ON \"invoice\" (\"issued\", \"number\")");
    CHECK(create_index_sql(Index("ux_invoice_scan", "invoice", {"scan"}).make_unique()) ==
          "CREATE UNIQUE INDEX \"ux_invoice_scan\" ON \"invoice\" (\"scan\")");
    CHECK(drop_index_sql("ix_invoice_issued") == "DROP INDEX \"ix_invoice_issued\"");
    CHECK(add_unique_constraint_sql("invoice", UniqueConstraint::make("uq_a", {"a", "b"})) ==
          "ALTER TABLE \"invoice\" ADD CONSTRAINT \"uq_a\" UNIQUE (\"a\", \"b\")");
    CHECK(add_unique_constraint_sql("invoice", UniqueConstraint::make("", {"a"})) ==
          "ALTER TABLE \"invoice\" ADD UNIQUE (\"a\")");
    auto key = ForeignKey::make("fk_owner", {"owner_id"}, "person", {"id"}, "RESTRICT");
    key.on_update = "cascade";
    CHECK(add_foreign_key_sql(Dialect::postgresql, "invoice", key) ==
          "ALTER TABLE \"invoice\" ADD CONSTRAINT \"fk_owner\" FOREIGN KEY (\"owner_id\") "
          "REFERENCES \"person\" (\"id\") ON DELETE RESTRICT ON UPDATE CASCADE");
    CHECK(drop_constraint_sql("invoice", "fk_owner") ==
          "ALTER TABLE \"invoice\" DROP CONSTRAINT \"fk_owner\"");
}

TEST_CASE("operations render alter_column on PostgreSQL as one ALTER TABLE", "[operations]") {
    using migrator::sql::alter_column_sql;
    CHECK(
        alter_column_sql(Dialect::postgresql, "invoice", "total",
                         ColumnChange().type(Type::numeric(12, 2)).nullable(true).drop_default()) ==
        "ALTER TABLE \"invoice\" ALTER COLUMN \"total\" DROP DEFAULT, ALTER COLUMN \"total\" "
        "TYPE numeric(12,2) USING \"total\"::numeric(12,2), ALTER COLUMN \"total\" DROP NOT "
        "NULL");
    CHECK(alter_column_sql(Dialect::postgresql, "invoice", "note",
                           ColumnChange().nullable(false).default_value("''")) ==
          "ALTER TABLE \"invoice\" ALTER COLUMN \"note\" SET NOT NULL, ALTER COLUMN \"note\" SET "
          "DEFAULT ''");
    CHECK(alter_column_sql(Dialect::postgresql, "invoice", "note", ColumnChange()).empty());
    CHECK_THROWS_AS(alter_column_sql(Dialect::sqlite, "invoice", "note", ColumnChange()),
                    std::invalid_argument);
}

TEST_CASE("operations tell which columns SQLite can add in place", "[operations]") {
    using migrator::sql::sqlite_adds_in_place;
    CHECK(sqlite_adds_in_place(Column("a", Type::text())));
    CHECK(sqlite_adds_in_place(Column("a", Type::text()).not_null().default_value("'x'")));
    CHECK(!sqlite_adds_in_place(Column("a", Type::text()).not_null()));
    CHECK(!sqlite_adds_in_place(Column("a", Type::text()).not_null().default_value("NULL")));
    CHECK(!sqlite_adds_in_place(Column("a", Type::timestamp()).default_value("CURRENT_TIMESTAMP")));
    CHECK(!sqlite_adds_in_place(Column("a", Type::text()).default_value("(lower('X'))")));
    CHECK(!sqlite_adds_in_place(Column("a", Type::integer()).auto_increment()));
}

TEST_CASE("operations find what a SQLite rebuild would lose in a table's definition",
          "[operations]") {
    using migrator::sql::sqlite_feature_lost_in_rebuild;
    CHECK(sqlite_feature_lost_in_rebuild("CREATE TABLE t (a INTEGER, b TEXT NOT NULL DEFAULT "
                                         "'CHECK', \"check\" TEXT, [collate] INT) -- AS")
              .empty());
    CHECK(sqlite_feature_lost_in_rebuild("CREATE TABLE t (a INT CHECK (a > 0))") == "CHECK");
    CHECK(sqlite_feature_lost_in_rebuild("CREATE TABLE t (a TEXT collate nocase)") == "COLLATE");
    CHECK(sqlite_feature_lost_in_rebuild("CREATE TABLE t (a INT, b INT AS (a * 2))") == "AS");
    CHECK(sqlite_feature_lost_in_rebuild("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)") ==
          "AUTOINCREMENT");
    CHECK(sqlite_feature_lost_in_rebuild("CREATE TABLE t (a INT PRIMARY KEY) WITHOUT ROWID") ==
          "WITHOUT");
    CHECK(sqlite_feature_lost_in_rebuild("CREATE TABLE 'it''s' (a /* CHECK */ INT)").empty());
}

TEST_CASE("operations plan a SQLite rebuild: rows out, drop, create, rows back, indexes",
          "[operations]") {
    migrator::sql::TableRebuild plan;
    plan.table = Table("item");
    plan.table.column(Column("id", Type::integer()).auto_increment())
        .column(Column("name", Type::text()).not_null())
        .column(Column("added", Type::text()))
        .primary_key({"id"});
    plan.old_columns = {"id", "name", "gone"};
    plan.index_sql = {"CREATE INDEX ix_item_name ON item (name)"};
    plan.trigger_sql = {"CREATE TRIGGER tr AFTER INSERT ON item BEGIN SELECT 1; END"};
    migrator::sql::TableRebuild::Dependant tag;
    tag.name = "tag";
    tag.create_sql = "CREATE TABLE tag (item_id INTEGER REFERENCES item ON DELETE CASCADE)";
    tag.columns = {"item_id"};
    tag.index_sql = {"CREATE INDEX ix_tag ON tag (item_id)"};
    tag.sequence = "7";
    plan.dependants.push_back(tag);
    CHECK(migrator::sql::sqlite_rebuild_sql(plan) ==
          std::vector<std::string>{
              "CREATE TABLE \"_migrator_tmp_item\" (\"id\", \"name\", \"gone\")",
              "INSERT INTO \"_migrator_tmp_item\" (\"id\", \"name\", \"gone\") SELECT \"id\", "
              "\"name\", \"gone\" FROM \"item\"",
              "CREATE TABLE \"_migrator_tmp_tag\" (\"item_id\")",
              "INSERT INTO \"_migrator_tmp_tag\" (\"item_id\") SELECT \"item_id\" FROM \"tag\"",
              "DROP TABLE \"tag\"",
              "DROP TABLE \"item\"",
              "CREATE TABLE \"item\" (\"id\" INTEGER NOT NULL PRIMARY KEY, \"name\" TEXT NOT "
              "NULL, \"added\" TEXT)",
              "INSERT INTO \"item\" (\"id\", \"name\") SELECT \"id\", \"name\" FROM "
              "\"_migrator_tmp_item\"",
              "CREATE TABLE tag (item_id INTEGER REFERENCES item ON DELETE CASCADE)",
              "INSERT INTO \"tag\" (\"item_id\") SELECT \"item_id\" FROM \"_migrator_tmp_tag\"",
              "DROP TABLE \"_migrator_tmp_item\"",
              "DROP TABLE \"_migrator_tmp_tag\"",
              "CREATE INDEX ix_item_name ON item (name)",
              "CREATE TRIGGER tr AFTER INSERT ON item BEGIN SELECT 1; END",
              "CREATE INDEX ix_tag ON tag (item_id)",
              "UPDATE sqlite_sequence SET seq = max(seq, 7) WHERE name = 'tag'",
              "INSERT INTO sqlite_sequence (name, seq) SELECT 'tag', 7 WHERE NOT EXISTS (SELECT 1 "
              "FROM sqlite_sequence WHERE name = 'tag')",
          });
}

TEST_CASE("operations rebuild a SQLite table keeping rows, indexes, triggers and foreign keys",
          "[operations]") {
    ScratchDatabase scratch("sqlite");
    DatabaseContext db(scratch.url());
    auto& ctx = db.context();
    ctx.execute(R"sql(
        CREATE TABLE owner (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE item (id INTEGER PRIMARY KEY, owner_id INTEGER REFERENCES owner (id),
            parent_id INTEGER REFERENCES item (id), name TEXT NOT NULL, price INTEGER);
        CREATE INDEX ix_item_name ON item (name);
        CREATE UNIQUE INDEX ux_item_owner_name ON item (owner_id, name);
        CREATE TABLE audit (n INTEGER);
        CREATE TRIGGER tr_item AFTER INSERT ON item BEGIN INSERT INTO audit VALUES (NEW.id); END;
        CREATE TABLE note (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES item (id));
        CREATE TABLE tag (id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_id INTEGER REFERENCES item (id) ON DELETE CASCADE);
        CREATE TABLE tag_use (tag_id INTEGER REFERENCES tag (id) ON DELETE SET NULL, at TEXT);
        CREATE INDEX ix_tag_item ON tag (item_id);
        CREATE VIEW item_names AS SELECT name FROM item;
        INSERT INTO owner VALUES (1, 'ann'), (2, 'bob');
        INSERT INTO item VALUES (1, 1, NULL, 'lamp', 10), (2, 2, 1, 'desk', 20);
        INSERT INTO note VALUES (1, 1), (2, 2);
        INSERT INTO tag VALUES (1, 1), (2, 2), (9, 2);
        DELETE FROM tag WHERE id = 9;
        INSERT INTO tag_use VALUES (1, 'x'), (2, 'y');
        DELETE FROM audit;
    )sql");
    migrator::Operations op(ctx);

    in_transaction(db, [&] {
        op.alter_column(
            "item", "price",
            ColumnChange().type(Type::numeric(10, 2)).nullable(false).default_value("0"));
        op.drop_column("item", "parent_id");
    });

    const auto item = migrator::reflect_table(ctx, "item");
    REQUIRE(item);
    CHECK(testing::table_lines(*item) ==
          std::vector<std::string>{
              "table item", "column item.id INTEGER not null autoincrement",
              "column item.owner_id INTEGER null", "column item.name TEXT not null",
              "column item.price NUMERIC(10, 2) not null default 0", "primary key item (id)",
              "foreign key item '' (owner_id) -> owner (id)"});
    CHECK(column_of(db,
                    "SELECT id || ':' || owner_id || ':' || name || ':' || price FROM item "
                    "ORDER BY id") == std::vector<std::string>{"1:1:lamp:10", "2:2:desk:20"});
    const auto indexes = migrator::reflect_indexes(ctx, "item");
    REQUIRE(indexes.size() == 2);
    CHECK(indexes[0].name == "ix_item_name");
    CHECK(indexes[1].name == "ux_item_owner_name");
    CHECK(indexes[1].unique);
    // Other tables' rows and keys into the rebuilt table, ON DELETE CASCADE and SET NULL
    // included, are as they were; so are the AUTOINCREMENT counter, the trigger and the view.
    CHECK(column_of(db, "SELECT count(*) FROM note") == std::vector<std::string>{"2"});
    CHECK(column_of(db, "SELECT item_id FROM tag ORDER BY id") ==
          std::vector<std::string>{"1", "2"});
    CHECK(column_of(db, "SELECT tag_id FROM tag_use ORDER BY at") ==
          std::vector<std::string>{"1", "2"});
    CHECK(column_of(db, "SELECT seq FROM sqlite_sequence WHERE name = 'tag'") ==
          std::vector<std::string>{"9"});
    CHECK(column_of(db, "SELECT count(*) FROM pragma_foreign_key_check") ==
          std::vector<std::string>{"0"});
    CHECK(migrator::reflect_indexes(ctx, "tag").size() == 1);
    CHECK(column_of(db, "SELECT count(*) FROM item_names") == std::vector<std::string>{"2"});
    ctx.execute("INSERT INTO item (id, owner_id, name) VALUES (3, 1, 'shelf')");
    CHECK(column_of(db, "SELECT n FROM audit") == std::vector<std::string>{"3"});
    CHECK(column_of(db, "SELECT price FROM item WHERE id = 3") == std::vector<std::string>{"0"});
    // Foreign keys are still enforced, both ways.
    CHECK_THROWS_AS(ctx.execute("INSERT INTO item (owner_id, name) VALUES (99, 'x')"),
                    migrator::SqlError);
    CHECK_THROWS_AS(ctx.execute("INSERT INTO note VALUES (3, 99)"), migrator::SqlError);
    CHECK(column_of(db, "PRAGMA defer_foreign_keys") == std::vector<std::string>{"0"});

    SECTION("keys and unique constraints are added and dropped by rebuilding") {
        in_transaction(db, [&] {
            op.create_unique_constraint("item", UniqueConstraint::make("uq_item_name", {"name"}));
            op.drop_foreign_key("item", ForeignKey::make("", {"owner_id"}, "owner", {"id"}));
            op.create_foreign_key("item",
                                  ForeignKey::make("", {"owner_id"}, "owner", {"id"}, "CASCADE"));
        });
        const auto changed = migrator::reflect_table(ctx, "item");
        REQUIRE(changed);
        CHECK(testing::table_lines(*changed).back() ==
              "foreign key item '' (owner_id) -> owner (id) on delete CASCADE");
        REQUIRE(changed->unique_constraints.size() == 1);
        CHECK(changed->unique_constraints[0].columns == std::vector<std::string>{"name"});
        in_transaction(
            db, [&] { op.drop_unique_constraint("item", UniqueConstraint::make("", {"name"})); });
        CHECK(migrator::reflect_table(ctx, "item")->unique_constraints.empty());
    }
    SECTION("a new key the rows break fails with a sentence, and nothing changes") {
        ctx.execute("INSERT INTO owner VALUES (5, 'cy'); INSERT INTO item VALUES (4, 5, 'x', 1)");
        ctx.execute(
            "PRAGMA foreign_keys = OFF; DELETE FROM owner WHERE id = 5; "
            "PRAGMA foreign_keys = ON");
        const auto before = testing::table_lines(*migrator::reflect_table(ctx, "item"));
        CHECK_THROWS_WITH(
            in_transaction(
                db,
                [&] { op.alter_column("item", "name", ColumnChange().type(Type::varchar(9))); }),
            Catch::Contains("cannot alter column name of table item: row 4 has no matching row "
                            "in table owner"));
        CHECK(testing::table_lines(*migrator::reflect_table(ctx, "item")) == before);
    }
    SECTION("what SQLite can add in place is added in place; other columns rebuild") {
        in_transaction(db, [&] {
            op.add_column("item", Column("memo", Type::text()));
            op.add_column(
                "item",
                Column("stamp", Type::timestamp()).not_null().default_value("CURRENT_TIMESTAMP"));
        });
        const auto added = migrator::reflect_table(ctx, "item");
        REQUIRE(added);
        CHECK(added->find_column("memo"));
        REQUIRE(added->find_column("stamp"));
        CHECK(added->find_column("stamp")->default_sql ==
              std::optional<std::string>("CURRENT_TIMESTAMP"));
        CHECK(column_of(db, "SELECT count(*) FROM item WHERE stamp IS NOT NULL") ==
              std::vector<std::string>{"3"});
    }
    SECTION("outside a transaction (a non-transactional revision) a rebuild is one of its own") {
        op.alter_column("item", "name", ColumnChange().type(Type::varchar(40)));
        CHECK(migrator::reflect_table(ctx, "item")->find_column("name")->type == Type::varchar(40));
        CHECK(column_of(db, "SELECT count(*) FROM tag") == std::vector<std::string>{"2"});
        CHECK(column_of(db, "SELECT count(*) FROM pragma_foreign_key_check") ==
              std::vector<std::string>{"0"});
        // A failing one leaves nothing behind: no holding table, the old definition.
        ctx.execute(
            "PRAGMA foreign_keys = OFF; INSERT INTO item VALUES (7, 99, 'y', 1); "
            "PRAGMA foreign_keys = ON");
        const auto before = testing::table_lines(*migrator::reflect_table(ctx, "item"));
        CHECK_THROWS_WITH(op.drop_column("item", "price"), Catch::Contains("row 7"));
        CHECK(testing::table_lines(*migrator::reflect_table(ctx, "item")) == before);
        CHECK(column_of(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE '_migrator%'") ==
              std::vector<std::string>{"0"});
        CHECK(column_of(db, "SELECT count(*) FROM tag") == std::vector<std::string>{"2"});
    }
    SECTION("a table whose definition a rebuild would lose is refused") {
        ctx.execute("CREATE TABLE checked (a INTEGER CHECK (a > 0))");
        CHECK_THROWS_WITH(in_transaction(db, [&] { op.drop_column("checked", "a"); }),
                          Catch::Contains("uses CHECK, which the rebuild cannot carry over"));
    }
}

TEST_CASE("operations refuse a SQLite rebuild offline, naming the table and the operation",
          "[operations]") {
    // An offline host: statements are collected, queries fail as the offline backend's do.
    struct Offline {
        std::vector<std::string> statements;
        static int execute(void* self, const char* sql) {
            static_cast<Offline*>(self)->statements.emplace_back(sql);
            return MIGRATOR_OK;
        }
        static int query(void*, const char*, migrator_row_fn, void*) { return MIGRATOR_ERROR; }
        static const char* last_error(void*) { return "cannot run a query in offline mode"; }
        static void log(void*, int, const char*) {}
    } offline;
    const std::string dialect = GENERATE("sqlite", "postgresql");
    migrator_host host{MIGRATOR_ABI_VERSION,
                       sizeof(migrator_host),
                       &offline,
                       dialect.c_str(),
                       1,
                       &Offline::execute,
                       &Offline::query,
                       &Offline::last_error,
                       &Offline::log,
                       nullptr,
                       nullptr};
    migrator::Context ctx(&host);
    // The host's side of the operations, over an offline host of its own making.
    migrator::SchemaOperations op(ctx);
    op.add_column("item", Column("memo", Type::text()));
    op.rename_column("item", "memo", "note");
    op.create_index(Index("ix_item_note", "item", {"note"}));
    CHECK(offline.statements.size() == 3);
    if (dialect == "sqlite") {
        CHECK_THROWS_AS(op.drop_column("item", "note"), migrator::OfflineQueryError);
        CHECK_THROWS_WITH(op.alter_column("item", "note", ColumnChange().nullable(false)),
                          "SQLite cannot alter column note of table item in place, and the table "
                          "rebuild that does it must read the table, which an offline run (--sql) "
                          "cannot: run this revision against the database instead");
    } else {
        op.drop_column("item", "note");
        op.drop_foreign_key("item",
                            ForeignKey::make("fk_item_owner", {"owner_id"}, "owner", {"id"}));
        CHECK(offline.statements.back() ==
              "ALTER TABLE \"item\" DROP CONSTRAINT \"fk_item_owner\"");
        CHECK_THROWS_WITH(op.drop_unique_constraint("item", UniqueConstraint::make("", {"note"})),
                          Catch::Contains("needs its name"));
    }
}

TEST_CASE("operations run for real on PostgreSQL, unnamed constraints dropped by their columns",
          "[operations]") {
    ScratchDatabase scratch("postgresql");
    DatabaseContext db(scratch.url());
    auto& ctx = db.context();
    migrator::Operations op(ctx);
    in_transaction(db, [&] {
        op.create_table(Table("customer")
                            .column(Column("id", Type::integer()).auto_increment())
                            .primary_key({"id"}));
        op.create_table(invoice_table());
        op.create_unique_constraint("invoice", UniqueConstraint::make("", {"issued", "note"}));
        op.alter_column(
            "invoice", "note",
            ColumnChange().type(Type::varchar(200)).nullable(false).default_value("'-'"));
    });
    const auto invoice = migrator::reflect_table(ctx, "invoice");
    REQUIRE(invoice);
    CHECK(invoice->unique_constraints.size() == 2);
    REQUIRE(invoice->find_column("note"));
    CHECK(*invoice->find_column("note") ==
          Column("note", Type::varchar(200)).not_null().default_value("'-'::character varying"));
    CHECK(invoice->find_column("id")->autoincrement);
    in_transaction(db, [&] {
        op.drop_unique_constraint("invoice", UniqueConstraint::make("", {"issued", "note"}));
        op.drop_foreign_key("invoice", ForeignKey::make("", {"customer_id"}, "customer", {}));
    });
    const auto after = migrator::reflect_table(ctx, "invoice");
    REQUIRE(after);
    CHECK(after->unique_constraints.size() == 1);
    CHECK(after->foreign_keys.empty());
}

TEST_CASE("operations create a table's enum types and the new types, on both dialects",
          "[operations]") {
    const std::string dialect = GENERATE("sqlite", "postgresql");
    ScratchDatabase scratch(dialect);
    DatabaseContext db(scratch.url());
    auto& ctx = db.context();
    migrator::Operations op(ctx);
    const Type mood = Type::enumeration("mood", {"ok", "grumpy"});
    in_transaction(db, [&] {
        op.create_table(Table("visit")
                            .column(Column("id", Type::small_integer()).not_null())
                            .column(Column("key", Type::uuid()))
                            .column(Column("at", Type::time()))
                            .column(Column("seen", Type::timestamp_tz()))
                            .column(Column("mood", mood).default_value("'ok'"))
                            .column(Column("before", mood))
                            .primary_key({"id"}));
        // The type exists already: add_column and create_enum leave it as it is.
        op.add_column("visit", Column("after", mood));
        op.create_enum(mood);
        ctx.execute(
            "INSERT INTO visit (id, key, at, seen, mood) VALUES (1, "
            "'0b7e4c6a9d3f4e21a1c2b3d4e5f60718', '12:30:00', "
            "'2026-12-04 10:00:00+01', 'grumpy')");
    });
    const auto visit = migrator::reflect_table(ctx, "visit");
    REQUIRE(visit);
    CHECK(visit->find_column("id")->type == Type::small_integer());
    CHECK(visit->find_column("key")->type == Type::uuid());
    CHECK(visit->find_column("at")->type == Type::time());
    CHECK(visit->find_column("seen")->type == Type::timestamp_tz());
    CHECK(visit->find_column("after")->type ==
          (dialect == "postgresql" ? Type::raw("mood") : Type::varchar(6)));
    const std::string types = "SELECT count(*) FROM pg_type WHERE typname = 'mood'";
    if (dialect == "postgresql") {
        CHECK(ctx.scalar(types) == std::optional<std::string>("1"));
        // A label the type does not have is the database's error.
        CHECK_THROWS(in_transaction(
            db, [&] { ctx.execute("INSERT INTO visit (id, mood) VALUES (2, 'sleepy')"); }));
    }
    in_transaction(db, [&] {
        op.drop_table("visit");
        if (dialect == "postgresql") CHECK(ctx.scalar(types) == std::optional<std::string>("1"));
        op.drop_enum("mood");
        op.drop_enum("mood");  // IF EXISTS
    });
    if (dialect == "postgresql") CHECK(ctx.scalar(types) == std::optional<std::string>("0"));
}

TEST_CASE("operations tell a revision when its host cannot run operations as data",
          "[operations]") {
    // An ABI 1 host: its struct ends before run_operation, which the revision must not read.
    struct Old {
        static int execute(void*, const char*) { return MIGRATOR_OK; }
        static int query(void*, const char*, migrator_row_fn, void*) { return MIGRATOR_OK; }
        static const char* last_error(void*) { return ""; }
        static void log(void*, int, const char*) {}
    };
    migrator_host host{1, static_cast<std::uint32_t>(offsetof(migrator_host, run_operation)),
                       nullptr, "sqlite", 0, &Old::execute, &Old::query, &Old::last_error,
                       &Old::log,
                       // Garbage where an ABI 1 host's struct has ended: never called.
                       reinterpret_cast<int (*)(void*, const void*, size_t)>(1),
                       reinterpret_cast<const char* (*)(void*, const char*)>(1)};
    migrator::Context ctx(&host);
    migrator::Operations op(ctx);
    CHECK_THROWS_WITH(op.drop_table("item"),
                      "this migrator cannot run portable operations (its plugin ABI is 1); "
                      "upgrade migrator");
    // Nor does -x exist for it: an argument reads as absent, the garbage pointer untouched.
    CHECK_FALSE(ctx.argument("tenant").has_value());
}

TEST_CASE("operations run through the host session print their SQL offline and refuse a rebuild",
          "[operations]") {
    const std::string dialect = GENERATE("sqlite", "postgresql");
    std::ostringstream printed;
    const auto db = migrator::open_offline_database(
        migrator::DatabaseUrl::parse(dialect == "sqlite" ? "sqlite:///x.db" : "postgresql://h/app"),
        {}, {}, printed);
    std::vector<std::string> log;
    migrator::HostSession session(*db, [&](const std::string& line) { log.push_back(line); });
    migrator::Context ctx(session.host());
    migrator::Operations op(ctx);
    op.create_index(Index("ix_item_note", "item", {"note"}).make_unique());
    op.rename_table("item", "thing");
    if (dialect == "sqlite")
        CHECK_THROWS_WITH(op.drop_column("thing", "note"),
                          "SQLite cannot drop column note from table thing in place, and the "
                          "table rebuild that does it must read the table, which an offline run "
                          "(--sql) cannot: run this revision against the database instead");
    else
        CHECK_NOTHROW(op.drop_column("thing", "note"));
    const std::string sql = printed.str();
    CHECK_THAT(sql, Catch::Contains("CREATE UNIQUE INDEX \"ix_item_note\" ON \"item\" (\"note\")"));
    CHECK_THAT(sql, Catch::Contains("ALTER TABLE \"item\" RENAME TO \"thing\""));
    CHECK((dialect == "sqlite") !=
          (sql.find("ALTER TABLE \"thing\" DROP COLUMN \"note\"") != std::string::npos));
}
