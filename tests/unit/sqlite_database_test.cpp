// Tests of the SQLite backend through the Database interface, on temporary files and in memory.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <string>
#include <vector>

#include "database_context.hpp"

namespace fs = std::filesystem;
using migrator::Database;
using migrator::DatabaseError;
using migrator::DatabaseOptions;
using migrator::DatabaseStorageError;
using migrator::DatabaseUrl;
using migrator::HistoryRecord;
using migrator::open_database;

using testing::error_of;
using testing::query_error_of;
using testing::Rows;
using testing::rows_of;

namespace {

/// An SQLite database file made for one test (testing::ScratchDatabase), not created yet.
class TempDatabaseFile : public testing::ScratchDatabase {
public:
    TempDatabaseFile() : ScratchDatabase("sqlite") {}
    fs::path path() const { return file(); }
    std::string url() const { return "sqlite:///" + file(); }
};

std::unique_ptr<Database> open(const std::string& url, DatabaseOptions options = {}) {
    return open_database(DatabaseUrl::parse(url), options);
}

}  // namespace

TEST_CASE("ensure_version_tables creates the Alembic-shaped version table and the history table",
          "[db]") {
    TempDatabaseFile file;
    auto db = open(file.url());
    CHECK(db->dialect() == "sqlite");
    CHECK(db->describe() == file.url());
    db->ensure_version_tables();
    db->ensure_version_tables();  // idempotent

    const auto tables =
        rows_of(*db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    // No sqlite_sequence: the history id is a plain rowid, not AUTOINCREMENT.
    Rows expected{{"migrator_version"},
                  {"migrator_version_history"},
                  {"migrator_version_plugins"},
                  {"migrator_version_signed"}};
    CHECK(tables == expected);
    const auto columns =
        rows_of(*db, "SELECT name, type, pk FROM pragma_table_info('migrator_version')");
    CHECK(columns == Rows{{"version_num", "VARCHAR(32)", "1"}});
    CHECK(fs::exists(file.path()));
}

TEST_CASE("A configured version table name is used for both tables", "[db]") {
    DatabaseOptions options;
    options.version_table = "alembic_version";
    auto db = open("sqlite://", options);
    db->ensure_version_tables();
    db->replace_heads({}, {"abc123"});
    CHECK(rows_of(*db, "SELECT version_num FROM alembic_version") == Rows{{"abc123"}});
    CHECK(rows_of(*db, "SELECT count(*) FROM alembic_version_history") == Rows{{"0"}});
}

TEST_CASE("Heads written with replace_heads read back sorted, also after reopening", "[db]") {
    TempDatabaseFile file;
    {
        auto db = open(file.url());
        db->ensure_version_tables();
        CHECK(db->read_heads().empty());
        db->begin();
        db->replace_heads({}, {"ccc", "aaa", "bbb"});
        db->commit();
        CHECK(db->read_heads() == std::vector<std::string>{"aaa", "bbb", "ccc"});
        db->begin();
        db->replace_heads({"aaa", "bbb"}, {"ddd"});
        db->commit();
    }
    auto db = open(file.url());
    CHECK(db->read_heads() == std::vector<std::string>{"ccc", "ddd"});
}

TEST_CASE("read_heads is empty when the version table does not exist", "[db]") {
    auto db = open("sqlite://");
    CHECK(db->read_heads().empty());
}

TEST_CASE("SQL errors are DatabaseErrors carrying SQLite's own message", "[db]") {
    auto db = open("sqlite://");
    SECTION("execute") {
        CHECK(error_of(*db, "DELETE FROM no_such_table") == "no such table: no_such_table");
    }
    SECTION("a failing statement after a good one") {
        CHECK_THAT(error_of(*db, "CREATE TABLE t (x); SELEC 1"), Catch::Contains("syntax error"));
    }
    SECTION("query") {
        CHECK(query_error_of(*db, "SELECT * FROM no_such_table") == "no such table: no_such_table");
    }
    SECTION("a constraint failure while stepping") {
        db->execute("CREATE TABLE t (x INTEGER NOT NULL)");
        CHECK_THAT(error_of(*db, "INSERT INTO t VALUES (NULL)"),
                   Catch::Contains("NOT NULL constraint failed: t.x"));
    }
}

TEST_CASE("A read-only open of a missing file creates nothing and reads as empty", "[db]") {
    TempDatabaseFile file;
    DatabaseOptions options;
    options.read_only = true;
    auto db = open(file.url(), options);
    CHECK(db->read_heads().empty());
    CHECK(db->describe() == file.url());
    CHECK_THROWS_AS(db->execute("CREATE TABLE t (x)"), DatabaseError);
    CHECK_FALSE(fs::exists(file.path()));

    SECTION("and an existing file is opened read-only") {
        {
            auto writer = open(file.url());
            writer->ensure_version_tables();
            writer->replace_heads({}, {"a1"});
        }
        auto reader = open(file.url(), options);
        CHECK(reader->read_heads() == std::vector<std::string>{"a1"});
        CHECK_THAT(error_of(*reader, "DELETE FROM migrator_version"), Catch::Contains("readonly"));
    }
}

TEST_CASE("A bad version table name is rejected", "[db]") {
    DatabaseOptions options;
    SECTION("SQL in the name") { options.version_table = "v; DROP TABLE x"; }
    SECTION("a quote") { options.version_table = "v\"x"; }
    SECTION("a leading digit") { options.version_table = "1version"; }
    SECTION("empty") { options.version_table = ""; }
    SECTION("too long for the history table's name") {
        options.version_table = std::string(60, 'v');
    }
    CHECK_THROWS_AS(open("sqlite://", options), DatabaseError);
}

TEST_CASE("A file that cannot be opened is a DatabaseError naming it", "[db]") {
    SECTION("a missing directory, reported at the first write (reads see an empty database)") {
        auto db = open("sqlite:////nonexistent_dir_for_migrator/x.db");
        CHECK(db->read_heads().empty());
        try {
            db->ensure_version_tables();
            FAIL("no DatabaseError");
        } catch (const DatabaseError& e) {
            CHECK_THAT(e.what(),
                       Catch::StartsWith(
                           "cannot open SQLite database /nonexistent_dir_for_migrator/x.db: "));
        }
    }
    SECTION("a file that is not a database") {
        TempDatabaseFile file;
        {
            std::FILE* out = std::fopen(file.path().c_str(), "w");
            REQUIRE(out != nullptr);
            std::fputs(
                "this is not a SQLite database, just some text long enough to matter\n"
                "this is not a SQLite database, just some text long enough to matter\n",
                out);
            std::fclose(out);
        }
        CHECK_THROWS_WITH(open(file.url()), Catch::Contains("not a database"));
    }
}

TEST_CASE("A SQLite path that exists and is not a regular file is refused when it is opened",
          "[db]") {
    TempDatabaseFile file;
    std::string kind;
    SECTION("a directory") {
        fs::create_directory(file.path());
        kind = "a directory";
    }
    SECTION("a FIFO, which SQLite would wait on forever") {
        REQUIRE(mkfifo(file.path().c_str(), 0600) == 0);
        kind = "a FIFO (named pipe)";
    }
    for (const bool read_only : {true, false}) {
        DatabaseOptions options;
        options.read_only = read_only;
        CHECK_THROWS_WITH(open(file.url(), options),
                          "SQLite database " + file.path().string() + " is " + kind +
                              ", not a database file; point the URL at a database file, or at a "
                              "path where migrator may create one");
    }
}

TEST_CASE("A read-only open rolls back the hot journal a stopped writer left, and says so",
          "[db]") {
    TempDatabaseFile file;
    {
        auto writer = open(file.url());
        writer->ensure_version_tables();
        writer->begin();
        writer->replace_heads({}, {"a1"});
        writer->commit();
    }
    // A writer whose transaction outgrows its page cache writes to the file, after syncing the
    // journal that undoes it; it then dies without committing.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        auto writer = open(file.url());
        writer->execute("PRAGMA cache_size = 10");
        writer->begin();
        writer->replace_heads({"a1"}, {"b2"});
        writer->execute(
            "CREATE TABLE big AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 500) SELECT i, zeroblob(1000) AS filler FROM n");
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    const std::string journal = file.path().string() + "-journal";
    std::ifstream in(journal, std::ios::binary);
    std::string magic(8, '\0');
    in.read(magic.data(), 8);
    REQUIRE(magic == "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7");  // hot: its header was synced

    std::vector<std::string> warnings;
    DatabaseOptions options;
    options.read_only = true;
    options.warn = [&](const std::string& text) { warnings.push_back(text); };
    auto reader = open(file.url(), options);
    CHECK(reader->read_heads() == std::vector<std::string>{"a1"});
    CHECK(warnings ==
          std::vector<std::string>{"rolled back an interrupted transaction left in " + journal});
    CHECK_FALSE(fs::exists(journal));
    CHECK(rows_of(*reader, "SELECT count(*) FROM sqlite_master WHERE name = 'big'") ==
          Rows{{std::string("0")}});
}

TEST_CASE("A statement that meets a full database says what to fix, as a storage failure", "[db]") {
    TempDatabaseFile file;
    auto db = open(file.url());
    db->ensure_version_tables();
    // The connection's page limit fills up exactly as a disk does: SQLITE_FULL.
    db->execute("PRAGMA max_page_count = 20");
    db->begin();
    try {
        db->execute(
            "CREATE TABLE big AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 500) SELECT i, zeroblob(1000) AS filler FROM n");
        FAIL("no error on a full database");
    } catch (const DatabaseStorageError& e) {
        CHECK_THAT(e.what(), Catch::StartsWith("the disk holding " + file.path().string() +
                                               " is full: free space on it, then run again "
                                               "(SQLite: database or disk is full)"));
    }
    db->rollback();
    CHECK(db->read_heads().empty());
}
