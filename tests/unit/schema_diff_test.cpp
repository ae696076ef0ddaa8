// Unit tests of diff_schemas: each kind of change, its describe() line, and the order of changes.
#include <catch2/catch.hpp>
#include <migrator/schema/schema_compare.hpp>
#include <string>
#include <vector>

using migrator::diff_schemas;
using migrator::SchemaChange;
using migrator::schema::Column;
using migrator::schema::ForeignKey;
using migrator::schema::Index;
using migrator::schema::Schema;
using migrator::schema::Table;
using migrator::schema::Type;
using migrator::schema::UniqueConstraint;
using Kind = SchemaChange::Kind;
using Lines = std::vector<std::string>;

namespace {

Table account() {
    return Table("account")
        .column(Column("id", Type::big_integer()).not_null().auto_increment())
        .column(Column("name", Type::varchar(100)).not_null())
        .primary_key({"id"});
}

Table invoice() {
    return Table("invoice")
        .column(Column("id", Type::big_integer()).not_null().auto_increment())
        .column(Column("account_id", Type::big_integer()).not_null())
        .column(Column("status", Type::varchar(16)).not_null().default_value("'open'"))
        .primary_key({"id"})
        .foreign_key(
            ForeignKey::make("invoice_account_id_fkey", {"account_id"}, "account", {"id"}));
}

/// The shipped example's shape: account, invoice referring to it, one index on invoice.
Schema shop() {
    Schema schema;
    schema.tables = {account(), invoice()};
    schema.indexes = {Index("ix_invoice_account_id", "invoice", {"account_id"})};
    return schema;
}

Table& table_of(Schema& schema, const std::string& name) {
    for (auto& table : schema.tables)
        if (table.name == name) return table;
    throw std::logic_error("no table " + name);
}

Column& column_of(Schema& schema, const std::string& table, const std::string& name) {
    for (auto& column : table_of(schema, table).columns)
        if (column.name == name) return column;
    throw std::logic_error("no column " + name);
}

Lines lines_of(const std::vector<SchemaChange>& changes) {
    Lines lines;
    for (const auto& change : changes) lines.push_back(change.describe());
    return lines;
}

std::vector<Kind> kinds_of(const std::vector<SchemaChange>& changes) {
    std::vector<Kind> kinds;
    for (const auto& change : changes) kinds.push_back(change.kind);
    return kinds;
}

}  // namespace

TEST_CASE("diff_schemas finds nothing between equal schemas", "[schema][diff]") {
    CHECK(diff_schemas(shop(), shop()).empty());
    CHECK(diff_schemas(Schema{}, Schema{}).empty());
}

TEST_CASE("diff_schemas adds and drops whole tables, describing each", "[schema][diff]") {
    Schema declared = shop();
    declared.tables.push_back(
        Table("note").column(Column("body", Type::text())).column(Column("at", Type::date())));

    SECTION("a table only the declared schema has is added") {
        const auto changes = diff_schemas(shop(), declared);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::add_table);
        CHECK(changes[0].table == "note");
        REQUIRE(changes[0].new_table);
        CHECK(changes[0].new_table->columns.size() == 2);
        CHECK_FALSE(changes[0].old_table);
        CHECK(changes[0].describe() == "added table note (body, at)");
    }
    SECTION("a table only the database has is dropped") {
        const auto changes = diff_schemas(declared, shop());
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::drop_table);
        REQUIRE(changes[0].old_table);
        CHECK(changes[0].old_table->name == "note");
        CHECK_FALSE(changes[0].new_table);
        CHECK(changes[0].describe() == "dropped table note (body, at)");
    }
}

TEST_CASE("diff_schemas adds, drops and alters columns", "[schema][diff]") {
    Schema declared = shop();

    SECTION("an added column") {
        table_of(declared, "invoice").column(Column("note", Type::text()));
        const auto changes = diff_schemas(shop(), declared);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::add_column);
        CHECK(changes[0].table == "invoice");
        REQUIRE(changes[0].new_column);
        CHECK(changes[0].new_column->name == "note");
        CHECK_FALSE(changes[0].old_column);
        CHECK(changes[0].describe() == "added column invoice.note (TEXT)");
    }
    SECTION("a dropped column") {
        const auto changes = diff_schemas(declared, [] {
            Schema fewer = shop();
            auto& columns = table_of(fewer, "invoice").columns;
            columns.erase(columns.begin() + 2);
            return fewer;
        }());
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::drop_column);
        REQUIRE(changes[0].old_column);
        CHECK_FALSE(changes[0].new_column);
        CHECK(changes[0].describe() ==
              "dropped column invoice.status (VARCHAR(16) NOT NULL DEFAULT 'open')");
    }
    SECTION("a column whose type, nullability, default or autoincrement changes") {
        Column& status = column_of(declared, "invoice", "status");
        std::string line;
        SECTION("type") {
            status.type = Type::text();
            line = "changed column invoice.status: type VARCHAR(16) -> TEXT";
        }
        SECTION("varchar length") {
            status.type = Type::varchar(32);
            line = "changed column invoice.status: type VARCHAR(16) -> VARCHAR(32)";
        }
        SECTION("nullability") {
            status.nullable = true;
            line = "changed column invoice.status: NOT NULL -> NULL";
        }
        SECTION("default") {
            status.default_sql = "'paid'";
            line = "changed column invoice.status: default 'open' -> default 'paid'";
        }
        SECTION("no default any more") {
            status.default_sql.reset();
            line = "changed column invoice.status: default 'open' -> no default";
        }
        SECTION("autoincrement") {
            column_of(declared, "account", "id").autoincrement = false;
            line = "changed column account.id: autoincrement -> not autoincrement";
        }
        SECTION("several parts at once") {
            status.type = Type::raw("citext");
            status.nullable = true;
            line = "changed column invoice.status: type VARCHAR(16) -> citext, NOT NULL -> NULL";
        }
        const auto changes = diff_schemas(shop(), declared);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::alter_column);
        REQUIRE(changes[0].old_column);
        REQUIRE(changes[0].new_column);
        CHECK(changes[0].old_column->name == changes[0].new_column->name);
        CHECK(changes[0].describe() == line);
    }
}

TEST_CASE("diff_schemas compares indexes by name, table, columns and uniqueness",
          "[schema][diff]") {
    Schema declared = shop();

    SECTION("an added index") {
        declared.indexes.push_back(Index("ix_account_name", "account", {"name"}).make_unique());
        const auto changes = diff_schemas(shop(), declared);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::add_index);
        CHECK(changes[0].table == "account");
        REQUIRE(changes[0].new_index);
        CHECK(changes[0].describe() == "added unique index ix_account_name on account (name)");
    }
    SECTION("a dropped index") {
        declared.indexes.clear();
        const auto changes = diff_schemas(shop(), declared);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::drop_index);
        REQUIRE(changes[0].old_index);
        CHECK(changes[0].describe() ==
              "dropped index ix_invoice_account_id on invoice (account_id)");
    }
    SECTION("a changed index is dropped, then added again") {
        SECTION("other columns") { declared.indexes[0].columns.push_back("status"); }
        SECTION("unique now") { declared.indexes[0].unique = true; }
        const auto changes = diff_schemas(shop(), declared);
        CHECK(kinds_of(changes) == std::vector<Kind>{Kind::drop_index, Kind::add_index});
        CHECK(changes[0].old_index->columns == Lines{"account_id"});
        CHECK(changes[1].new_index->name == "ix_invoice_account_id");
    }
    SECTION("a renamed index is a drop and an add") {
        declared.indexes[0].name = "ix_invoice_by_account";
        CHECK(lines_of(diff_schemas(shop(), declared)) ==
              Lines{"dropped index ix_invoice_account_id on invoice (account_id)",
                    "added index ix_invoice_by_account on invoice (account_id)"});
    }
    SECTION("the indexes of a dropped table go with it") {
        declared.tables.erase(declared.tables.begin() + 1);
        declared.indexes.clear();
        CHECK(kinds_of(diff_schemas(shop(), declared)) == std::vector<Kind>{Kind::drop_table});
    }
    SECTION("the indexes of an added table come after it") {
        const auto changes = diff_schemas(Schema{}, shop());
        CHECK(kinds_of(changes) ==
              std::vector<Kind>{Kind::add_table, Kind::add_table, Kind::add_index});
    }
}

TEST_CASE("diff_schemas compares unique constraints by their columns", "[schema][diff]") {
    Schema database = shop();
    table_of(database, "account").unique(UniqueConstraint{"account_name_key", {"name"}});
    Schema declared = shop();

    SECTION("a name alone does not make a difference") {
        table_of(declared, "account").unique(UniqueConstraint{"uq_account_name", {"name"}});
        CHECK(diff_schemas(database, declared).empty());
    }
    SECTION("one that goes") {
        const auto changes = diff_schemas(database, declared);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::drop_unique_constraint);
        REQUIRE(changes[0].old_unique);
        CHECK(changes[0].describe() ==
              "dropped unique constraint account_name_key on account (name)");
    }
    SECTION("one that comes, without a name") {
        const auto changes = diff_schemas(declared, database);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::add_unique_constraint);
        REQUIRE(changes[0].new_unique);
        table_of(declared, "account").unique(UniqueConstraint{"", {"id", "name"}});
        CHECK(diff_schemas(shop(), declared)[0].describe() ==
              "added unique constraint on account (id, name)");
    }
    SECTION("other columns: a drop and an add") {
        table_of(declared, "account").unique(UniqueConstraint{"account_name_key", {"id", "name"}});
        CHECK(kinds_of(diff_schemas(database, declared)) ==
              std::vector<Kind>{Kind::drop_unique_constraint, Kind::add_unique_constraint});
    }
}

TEST_CASE("diff_schemas compares foreign keys names aside", "[schema][diff]") {
    Schema declared = shop();
    ForeignKey& key = table_of(declared, "invoice").foreign_keys[0];

    SECTION("SQLite does not keep the name: the same key") {
        key.name.clear();
        CHECK(diff_schemas(shop(), declared).empty());
    }
    SECTION("another ON DELETE action: a drop and an add") {
        key.on_delete = "CASCADE";
        const auto changes = diff_schemas(shop(), declared);
        CHECK(
            lines_of(changes) ==
            Lines{
                "dropped foreign key invoice_account_id_fkey invoice (account_id) -> account (id)",
                "added foreign key invoice_account_id_fkey invoice (account_id) -> account (id) "
                "ON DELETE CASCADE"});
        CHECK(changes[0].kind == Kind::drop_foreign_key);
        CHECK(changes[0].old_foreign_key->on_delete.empty());
        CHECK(changes[1].kind == Kind::add_foreign_key);
        CHECK(changes[1].new_foreign_key->on_delete == "CASCADE");
    }
    SECTION("a key that goes") {
        table_of(declared, "invoice").foreign_keys.clear();
        const auto changes = diff_schemas(shop(), declared);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].kind == Kind::drop_foreign_key);
        CHECK(changes[0].table == "invoice");
    }
    SECTION("a key that comes, without a name") {
        table_of(declared, "account")
            .column(Column("owner_id", Type::big_integer()))
            .foreign_key(ForeignKey::make("", {"owner_id"}, "account", {"id"}));
        CHECK(lines_of(diff_schemas(shop(), declared)) ==
              Lines{"added column account.owner_id (BIGINT)",
                    "added foreign key account (owner_id) -> account (id)"});
    }
}

TEST_CASE("diff_schemas reports a changed primary key as alter_primary_key", "[schema][diff]") {
    Schema declared = shop();
    table_of(declared, "account").primary_key({"id", "name"});
    const auto changes = diff_schemas(shop(), declared);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].kind == Kind::alter_primary_key);
    CHECK(changes[0].table == "account");
    REQUIRE(changes[0].old_table);
    REQUIRE(changes[0].new_table);
    CHECK(changes[0].old_table->primary_key_columns == Lines{"id"});
    CHECK(changes[0].new_table->primary_key_columns == Lines{"id", "name"});
    CHECK(changes[0].describe() == "changed the primary key of account: (id) -> (id, name)");
    table_of(declared, "account").primary_key({});
    CHECK(diff_schemas(shop(), declared)[0].describe() ==
          "changed the primary key of account: (id) -> ()");
}

TEST_CASE("diff_schemas adds tables after the tables they refer to", "[schema][diff]") {
    // line -> invoice -> account, named so that name order is the wrong order.
    Schema declared;
    declared.tables = {
        Table("a_line")
            .column(Column("invoice_id", Type::integer()))
            .foreign_key(ForeignKey::make("", {"invoice_id"}, "b_invoice", {"id"})),
        Table("b_invoice")
            .column(Column("id", Type::integer()))
            .column(Column("account_id", Type::integer()))
            .foreign_key(ForeignKey::make("", {"account_id"}, "c_account", {"id"})),
        Table("c_account")
            .column(Column("id", Type::integer()))
            .column(Column("parent_id", Type::integer()))
            .foreign_key(ForeignKey::make("", {"parent_id"}, "c_account", {"id"})),
        Table("d_other").column(Column("id", Type::integer())),
    };
    const auto changes = diff_schemas(Schema{}, declared);
    CHECK(lines_of(changes) ==
          Lines{"added table c_account (id, parent_id)", "added table b_invoice (id, account_id)",
                "added table a_line (invoice_id)", "added table d_other (id)"});
    // A reference to itself stays with the table.
    CHECK(changes[0].new_table->foreign_keys.size() == 1);

    SECTION("and drops tables before the tables they refer to") {
        CHECK(lines_of(diff_schemas(declared, Schema{})) ==
              Lines{"dropped table a_line (invoice_id)", "dropped table b_invoice (id, account_id)",
                    "dropped table c_account (id, parent_id)", "dropped table d_other (id)"});
    }
}

TEST_CASE("diff_schemas breaks a cycle of foreign keys between new or dropped tables",
          "[schema][diff]") {
    Schema cycle;
    cycle.tables = {Table("employee")
                        .column(Column("id", Type::integer()))
                        .column(Column("team_id", Type::integer()))
                        .foreign_key(ForeignKey::make("fk_team", {"team_id"}, "team", {"id"})),
                    Table("team")
                        .column(Column("id", Type::integer()))
                        .column(Column("lead_id", Type::integer()))
                        .foreign_key(ForeignKey::make("fk_lead", {"lead_id"}, "employee", {"id"}))};

    SECTION("added: the first table by name comes without its key, which follows both") {
        const auto changes = diff_schemas(Schema{}, cycle);
        CHECK(kinds_of(changes) ==
              std::vector<Kind>{Kind::add_table, Kind::add_table, Kind::add_foreign_key});
        CHECK(changes[0].table == "employee");
        CHECK(changes[0].new_table->foreign_keys.empty());
        CHECK(changes[1].table == "team");
        CHECK(changes[1].new_table->foreign_keys.size() == 1);
        CHECK(changes[2].table == "employee");
        CHECK(changes[2].new_foreign_key->name == "fk_team");
    }
    SECTION("dropped: the key referring to the first table by name goes first") {
        const auto changes = diff_schemas(cycle, Schema{});
        CHECK(kinds_of(changes) ==
              std::vector<Kind>{Kind::drop_foreign_key, Kind::drop_table, Kind::drop_table});
        CHECK(changes[0].table == "team");
        CHECK(changes[0].old_foreign_key->name == "fk_lead");
        CHECK(changes[1].table == "employee");
        CHECK(changes[2].table == "team");
        CHECK(changes[2].old_table->foreign_keys.empty());
    }
}

TEST_CASE("diff_schemas orders its changes so that they apply as they are", "[schema][diff]") {
    Schema database = shop();
    table_of(database, "account").unique(UniqueConstraint{"", {"name"}});
    database.tables.push_back(Table("legacy").column(Column("id", Type::integer())));
    database.indexes.push_back(Index("ix_account_name", "account", {"name"}));

    Schema declared = shop();
    table_of(declared, "invoice").foreign_keys[0].on_delete = "CASCADE";
    table_of(declared, "invoice").columns.erase(table_of(declared, "invoice").columns.begin() + 2);
    table_of(declared, "invoice")
        .column(Column("note", Type::text()))
        .column(Column("currency_code", Type::varchar(3)))
        .foreign_key(ForeignKey::make("", {"currency_code"}, "currency", {"code"}));
    column_of(declared, "account", "name").type = Type::varchar(200);
    table_of(declared, "account").primary_key({"id", "name"});
    table_of(declared, "account").unique(UniqueConstraint{"", {"id", "name"}});
    declared.tables.push_back(Table("currency")
                                  .column(Column("code", Type::varchar(3)).not_null())
                                  .primary_key({"code"}));
    declared.indexes.push_back(Index("ix_invoice_note", "invoice", {"note"}));

    const auto changes = diff_schemas(database, declared);
    CHECK(lines_of(changes) ==
          Lines{
              "dropped foreign key invoice_account_id_fkey invoice (account_id) -> account (id)",
              "dropped index ix_account_name on account (name)",
              "dropped unique constraint on account (name)",
              "dropped column invoice.status (VARCHAR(16) NOT NULL DEFAULT 'open')",
              "changed column account.name: type VARCHAR(100) -> VARCHAR(200)",
              "added column invoice.currency_code (VARCHAR(3))",
              "added column invoice.note (TEXT)",
              "changed the primary key of account: (id) -> (id, name)",
              "added table currency (code)",
              "dropped table legacy (id)",
              "added unique constraint on account (id, name)",
              "added foreign key invoice (currency_code) -> currency (code)",
              "added foreign key invoice_account_id_fkey invoice (account_id) -> account (id) ON "
              "DELETE CASCADE",
              "added index ix_invoice_note on invoice (note)",
          });

    SECTION("whatever order the schemas list things in") {
        std::reverse(database.tables.begin(), database.tables.end());
        std::reverse(declared.tables.begin(), declared.tables.end());
        std::reverse(declared.indexes.begin(), declared.indexes.end());
        for (auto& table : declared.tables)
            std::reverse(table.columns.begin(), table.columns.end());
        CHECK(lines_of(diff_schemas(database, declared)) == lines_of(changes));
    }
}
