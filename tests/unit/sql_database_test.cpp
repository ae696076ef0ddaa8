// Tests of the version and history tables every backend shares (host/db/src/sql_database.cpp),
// run on SQLite and PostgreSQL alike, and of the offline backend that prints them.
#include <catch2/catch.hpp>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <sstream>

#include "database_context.hpp"

using migrator::Database;
using migrator::DatabaseError;
using migrator::DatabaseOptions;
using migrator::DatabaseUrl;
using migrator::HistoryRecord;
using testing::Rows;
using testing::rows_of;

namespace {

HistoryRecord record_of(const std::string& revision, bool dirty) {
    HistoryRecord record;
    record.revision = revision;
    record.direction = migrator::HistoryDirection::upgrade;
    record.heads_before = {"a1"};
    record.heads_after = {"b2"};
    record.started_at = "2026-12-01T07:00:00.000Z";
    record.duration_ms = 1.5;
    record.success = !dirty;
    record.source_sha256 = std::string(64, 'c');
    record.error = dirty ? "it's not finished" : "";
    record.dirty = dirty;
    return record;
}

}  // namespace

TEST_CASE("History rows get ids, are updated by id and read back field by field", "[db][sql]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    testing::ScratchDatabase scratch(backend);
    auto db = scratch.open();
    db->ensure_version_tables();
    CHECK(db->read_history(false).empty());

    db->begin();
    const auto first = db->record_history(record_of("a1", false));
    const auto second = db->record_history(record_of("b2", true));
    db->commit();
    CHECK(first > 0);
    CHECK(second > first);

    auto rows = db->read_history(false);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].id == first);
    CHECK(rows[1].revision == "b2");
    CHECK(rows[1].error == "it's not finished");  // the quote survives binding
    CHECK(rows[1].dirty);
    CHECK(rows[1].duration_ms == 1.5);
    CHECK(rows[1].source_sha256 == std::string(64, 'c'));
    CHECK(!rows[1].run_by.empty());

    auto dirty = db->read_history(true);
    REQUIRE(dirty.size() == 1);
    CHECK(dirty[0].id == second);

    HistoryRecord finished = rows[1];
    finished.dirty = false;
    finished.success = true;
    finished.error.clear();
    finished.duration_ms = 20;
    db->begin();
    db->update_history(second, finished);
    db->commit();
    CHECK(db->read_history(true).empty());
    rows = db->read_history(false);
    CHECK(rows[1].success);
    CHECK(rows[1].duration_ms == 20);
    CHECK(rows[1].started_at == "2026-12-01T07:00:00.000Z");  // what update leaves alone
}

TEST_CASE(
    "Stored plugins keep every byte, are replaced and removed, and take their signature "
    "files with them",
    "[db][sql]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    testing::ScratchDatabase scratch(backend);
    auto db = scratch.open();
    CHECK(db->read_stored_plugins().empty());  // no table yet: nothing, and nothing created
    db->ensure_version_tables();

    std::string image;
    for (int i = 0; i < 70000; ++i) image += static_cast<char>((i * 7) % 256);  // NULs included
    migrator::StoredPlugin plugin;
    plugin.revision = "b2b2b2b2b2b2";
    plugin.file_name = "b2_add_price.so";
    plugin.image = image;
    plugin.size = image.size();
    plugin.file_sha256 = std::string(64, 'e');
    plugin.signatures_sha256 = std::string(64, 'f');
    plugin.release = "2.0";
    plugin.stored_at = "2026-12-04T08:00:00.000Z";
    migrator::StoredPlugin unsigned_plugin = plugin;
    unsigned_plugin.revision = "c3c3c3c3c3c3";
    unsigned_plugin.signatures_sha256.clear();
    unsigned_plugin.release.clear();

    db->begin();
    db->store_plugin(plugin, "the signature file's text");
    db->store_plugin(plugin, "ignored: stored already");  // replaced, not duplicated
    db->store_plugin(unsigned_plugin, "");
    db->commit();
    auto stored = db->read_stored_plugins();
    REQUIRE(stored.size() == 2);
    CHECK(stored[0].revision == "b2b2b2b2b2b2");
    CHECK(stored[0].file_name == "b2_add_price.so");
    CHECK(stored[0].image.empty());
    CHECK(stored[0].size == image.size());
    CHECK(stored[0].file_sha256 == std::string(64, 'e'));
    CHECK(stored[0].signatures_sha256 == std::string(64, 'f'));
    CHECK(stored[0].release == "2.0");
    CHECK(stored[1].signatures_sha256.empty());  // NULL
    CHECK(stored[1].release.empty());
    CHECK(db->read_stored_image("b2b2b2b2b2b2") == image);
    CHECK(db->read_stored_image("zzzz").empty());
    CHECK(db->read_stored_signatures(std::string(64, 'f')) == "the signature file's text");

    db->begin();
    CHECK(db->forget_stored_plugins({"c3c3c3c3c3c3", "not_stored"}) == 1);
    db->commit();
    CHECK(db->read_stored_signatures(std::string(64, 'f')) == "the signature file's text");
    db->begin();
    CHECK(db->forget_stored_plugins({"b2b2b2b2b2b2"}) == 1);
    db->rollback();  // in the transaction: a rollback keeps them
    CHECK(db->read_stored_plugins().size() == 1);
    db->begin();
    CHECK(db->forget_stored_plugins({"b2b2b2b2b2b2"}) == 1);
    db->commit();
    CHECK(db->read_stored_plugins().empty());
    CHECK(db->read_stored_signatures(std::string(64, 'f')).empty());  // no plugin names it
}

TEST_CASE("A history table from a migrator without dirty tracking is read and then upgraded",
          "[db][sql]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    testing::ScratchDatabase scratch(backend);
    {
        auto db = scratch.open();
        // The shape migrator 0.1 created.
        db->execute(
            std::string("CREATE TABLE migrator_version_history (id ") +
            (backend == "sqlite" ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY") +
            ", revision VARCHAR(32) "
            "NOT NULL, direction VARCHAR(16) NOT NULL, heads_before TEXT NOT NULL, heads_after "
            "TEXT NOT NULL, started_at VARCHAR(40) NOT NULL, duration_ms DOUBLE PRECISION NOT "
            "NULL, success INTEGER NOT NULL, source_sha256 VARCHAR(64) NOT NULL, error TEXT NOT "
            "NULL, run_by TEXT NOT NULL, run_host TEXT NOT NULL)");
        db->execute(
            "INSERT INTO migrator_version_history (revision, direction, heads_before, heads_after,"
            " started_at, duration_ms, success, source_sha256, error, run_by, run_host) VALUES "
            "('a1', 'upgrade', '', 'a1', '2026-11-01T00:00:00.000Z', 3, 1, '', '', 'deploy', "
            "'ci')");
    }
    {
        auto reader = scratch.open_read_only();
        CHECK(reader->read_history(true).empty());
        const auto rows = reader->read_history(false);
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].run_by == "deploy");
        CHECK(!rows[0].dirty);
    }
    auto db = scratch.open();
    db->ensure_version_tables();
    db->begin();
    db->record_history(record_of("b2", true));
    db->commit();
    const auto dirty = db->read_history(true);
    REQUIRE(dirty.size() == 1);
    CHECK(dirty[0].revision == "b2");
}

TEST_CASE("record_history stores every field of the record", "[db][sql]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    testing::ScratchDatabase scratch(backend);
    auto db = scratch.open();
    db->ensure_version_tables();
    HistoryRecord record;
    record.revision = "cb3cf47d9259";
    record.direction = migrator::HistoryDirection::upgrade;
    record.heads_before = {"a1", "b2"};
    record.heads_after = {"cb3cf47d9259"};
    record.started_at = "2024-05-01T12:00:00Z";
    record.duration_ms = 12.5;
    record.success = true;
    record.source_sha256 = std::string(64, 'f');
    record.error = "it's fine; '); DROP TABLE x; -- \\ $1";
    db->record_history(record);
    record.success = false;
    db->record_history(record);

    const auto rows = rows_of(*db,
                              "SELECT id, revision, direction, heads_before, heads_after, "
                              "started_at, duration_ms, success, source_sha256, error, "
                              "run_by IS NOT NULL, run_host IS NOT NULL "
                              "FROM migrator_version_history ORDER BY id");
    REQUIRE(rows.size() == 2);
    // A boolean expression is 1 in SQLite and t in PostgreSQL; the success column is 1 in both.
    const std::string yes = backend == "sqlite" ? "1" : "t";
    CHECK(rows[0] == Rows::value_type{"1", "cb3cf47d9259", "upgrade", "a1,b2", "cb3cf47d9259",
                                      "2024-05-01T12:00:00Z", "12.5", "1", std::string(64, 'f'),
                                      record.error, yes, yes});
    CHECK(rows[1][7] == "0");
    CHECK(rows_of(*db, "SELECT count(*) FROM migrator_version_history WHERE success = 1") ==
          Rows{{"1"}});
}

TEST_CASE("execute runs several statements and query returns columns and values", "[db][sql]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    testing::ScratchDatabase scratch(backend);
    auto db = scratch.open();
    db->execute(
        "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT INTO item VALUES (1, 'one');"
        "INSERT INTO item VALUES (2, NULL);"
        "INSERT INTO item VALUES (3, 'three');");

    SECTION("all rows, NULL as nullopt") {
        std::vector<std::string> seen_columns;
        Rows rows;
        db->query("SELECT id, name AS label FROM item ORDER BY id",
                  [&](const std::vector<std::string>& columns,
                      const std::vector<std::optional<std::string>>& values) {
                      seen_columns = columns;
                      rows.push_back(values);
                      return true;
                  });
        CHECK(seen_columns == std::vector<std::string>{"id", "label"});
        CHECK(rows == Rows{{"1", "one"}, {"2", std::nullopt}, {"3", "three"}});
    }
    SECTION("the callback stops early by returning false") {
        int calls = 0;
        db->query("SELECT id FROM item ORDER BY id",
                  [&](const std::vector<std::string>&,
                      const std::vector<std::optional<std::string>>&) { return ++calls < 2; });
        CHECK(calls == 2);
    }
    SECTION("a query with no rows never calls back") {
        CHECK(rows_of(*db, "SELECT * FROM item WHERE id > 10").empty());
    }
    SECTION("a statement that changes nothing (PostgreSQL sends a notice) disturbs nothing") {
        db->execute("CREATE TABLE IF NOT EXISTS item (id INTEGER)");
        CHECK(rows_of(*db, "SELECT count(*) FROM item") == Rows{{"3"}});
    }
}

TEST_CASE("A rolled-back transaction leaves no version rows, history or tables behind",
          "[db][sql]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    testing::ScratchDatabase scratch(backend);
    auto db = scratch.open();
    db->ensure_version_tables();
    db->begin();
    db->execute("CREATE TABLE item (id INTEGER PRIMARY KEY)");
    db->replace_heads({}, {"a1"});
    HistoryRecord record;
    record.revision = "a1";
    record.direction = migrator::HistoryDirection::upgrade;
    db->record_history(record);
    CHECK(db->read_heads() == std::vector<std::string>{"a1"});
    db->rollback();
    CHECK(db->read_heads().empty());
    CHECK(rows_of(*db, "SELECT count(*) FROM migrator_version_history") == Rows{{"0"}});
    CHECK(rows_of(*db, backend == "sqlite"
                           ? "SELECT count(*) FROM sqlite_master WHERE name = 'item'"
                           : "SELECT count(*) FROM pg_class WHERE relname = 'item'") ==
          Rows{{"0"}});

    SECTION("rollback without an open transaction does nothing and does not throw") {
        db->rollback();
        db->rollback();
        CHECK(db->read_heads().empty());
    }
    SECTION("a new transaction can start after the rollback") {
        db->begin();
        db->replace_heads({}, {"b2"});
        db->commit();
        CHECK(scratch.open()->read_heads() == std::vector<std::string>{"b2"});
    }
}

TEST_CASE("replace_heads refuses to remove a row that is not there", "[db][sql]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    testing::ScratchDatabase scratch(backend);
    auto db = scratch.open();
    db->ensure_version_tables();
    db->replace_heads({}, {"a1"});
    try {
        db->replace_heads({"zz9"}, {"b2"});
        FAIL("no DatabaseError");
    } catch (const DatabaseError& e) {
        CHECK_THAT(e.what(), Catch::Contains("zz9"));
        CHECK_THAT(e.what(), Catch::Contains("migrator_version"));
    }
    SECTION("adding a row that is already there is an error too") {
        CHECK_THROWS_AS(db->replace_heads({}, {"a1"}), DatabaseError);
        if (backend == "postgresql")
            CHECK_THROWS_WITH(
                db->replace_heads({}, {"a1"}),
                Catch::Contains("duplicate key") && Catch::Contains("migrator_version"));
    }
}

TEST_CASE("The offline backend prints statements with literals and reads only its own rows",
          "[db][offline]") {
    std::ostringstream out;
    auto db =
        migrator::open_offline_database(DatabaseUrl::parse("postgresql://h/app"), {}, {"a1"}, out);
    CHECK(db->offline());
    CHECK(db->dialect() == "postgresql");
    CHECK(db->read_heads() == std::vector<std::string>{"a1"});
    db->begin();
    db->replace_heads({"a1"}, {"b'2"});
    db->execute("UPDATE item SET price = 1  \n");
    db->commit();
    CHECK(db->read_heads() == std::vector<std::string>{"b'2"});
    CHECK(out.str() ==
          "\nBEGIN;\n"
          "DELETE FROM \"migrator_version\" WHERE version_num = 'a1';\n"
          "INSERT INTO \"migrator_version\" (version_num) VALUES ('b''2');\n"
          "UPDATE item SET price = 1;\n"
          "COMMIT;\n\n");
    CHECK_THROWS_AS(db->query("SELECT 1", [](auto&, auto&) { return true; }), DatabaseError);
    CHECK(db->read_history(false).empty());
    CHECK_THROWS_AS(migrator::open_offline_database(
                        DatabaseUrl::parse("sqlite://"),
                        [] {
                            DatabaseOptions options;
                            options.version_schema = "meta";
                            return options;
                        }(),
                        {}, out),
                    DatabaseError);
}
