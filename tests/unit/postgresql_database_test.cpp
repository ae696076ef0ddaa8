// Tests of the PostgreSQL backend through the Database interface, each in a database of its own
// on the live server tests/with-postgres starts.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "database_context.hpp"

using migrator::Database;
using migrator::DatabaseError;
using migrator::DatabaseOptions;
using migrator::DatabaseUrl;
using migrator::HistoryRecord;
using migrator::LockError;
using migrator::open_database;
using namespace std::chrono_literals;

using testing::error_of;
using testing::query_error_of;
using testing::Rows;
using testing::rows_of;

namespace {

/// The superuser URL of the test server; the tests cannot mean anything without one.
DatabaseUrl server_url() {
    const char* text = std::getenv("MIGRATOR_TEST_POSTGRES_URL");
    if (text == nullptr || *text == '\0')
        FAIL("MIGRATOR_TEST_POSTGRES_URL is not set; run the tests through tests/with-postgres");
    return DatabaseUrl::parse(text);
}

std::string random_name(const std::string& prefix) {
    std::random_device device;
    std::uniform_int_distribution<unsigned long long> digits;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", digits(device));
    return prefix + hex;
}

/// Runs a clean-up step when the test case ends, however it ends.
class Cleanup {
public:
    explicit Cleanup(std::function<void()> step) : step_(std::move(step)) {}
    ~Cleanup() { step_(); }
    Cleanup(const Cleanup&) = delete;
    Cleanup& operator=(const Cleanup&) = delete;

private:
    std::function<void()> step_;
};

/// Runs `sql` as the superuser on the server's own database, reporting rather than throwing
/// (clean-up must not hide the test's failure).
void run_as_admin(const std::string& sql) {
    try {
        open_database(server_url(), {})->execute(sql);
    } catch (const DatabaseError& e) {
        WARN("clean-up failed: " << sql << ": " << e.what());
    }
}

/// A database created for one test case and dropped, with any open sessions, at its end.
/// A database of its own on the test server, dropped afterwards.
struct ScratchDatabase : testing::ScratchDatabase {
    ScratchDatabase() : testing::ScratchDatabase("postgresql") {}
};

std::string connection_error(const DatabaseUrl& url) {
    try {
        open_database(url, {});
    } catch (const DatabaseError& e) {
        return e.what();
    }
    FAIL("no DatabaseError connecting to " << url.masked());
    return {};
}

std::string lock_error(Database& db, std::chrono::milliseconds timeout) {
    try {
        db.lock_migrations(timeout);
    } catch (const LockError& e) {
        return e.what();
    }
    FAIL("no LockError");
    return {};
}

/// A TCP port on 127.0.0.1 that is bound but not listening: connections to it are refused.
class ClosedPort {
public:
    ClosedPort() : socket_(::socket(AF_INET, SOCK_STREAM, 0)) {
        REQUIRE(socket_ >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        socklen_t length = sizeof address;
        REQUIRE(::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        port_ = ntohs(address.sin_port);
    }
    ~ClosedPort() { ::close(socket_); }
    ClosedPort(const ClosedPort&) = delete;
    ClosedPort& operator=(const ClosedPort&) = delete;

    unsigned port() const { return port_; }

private:
    int socket_;
    unsigned port_ = 0;
};

const std::vector<std::string> no_heads;

}  // namespace

TEST_CASE(
    "On PostgreSQL, ensure_version_tables creates the Alembic-shaped version table and the history "
    "table",
    "[postgresql]") {
    ScratchDatabase scratch;
    DatabaseOptions options;
    std::string schema;
    SECTION("in the connection's current schema") { schema = "public"; }
    SECTION("in a named schema, created on demand") {
        schema = "deploy_meta";
        options.version_schema = schema;
    }
    auto db = scratch.open(options);
    CHECK(db->dialect() == "postgresql");
    CHECK(db->describe() == scratch.url().masked());
    CHECK(db->read_heads() == no_heads);
    db->ensure_version_tables();
    db->ensure_version_tables();  // idempotent

    CHECK(rows_of(*db,
                  "SELECT table_schema, table_name FROM information_schema.tables"
                  " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                  " ORDER BY table_name") == Rows{{schema, "migrator_version"},
                                                  {schema, "migrator_version_history"},
                                                  {schema, "migrator_version_plugins"},
                                                  {schema, "migrator_version_signed"}});
    CHECK(rows_of(*db,
                  "SELECT column_name, data_type, character_maximum_length, is_nullable"
                  " FROM information_schema.columns WHERE table_name = 'migrator_version'") ==
          Rows{{"version_num", "character varying", "32", "NO"}});
    CHECK(rows_of(*db,
                  "SELECT conname FROM pg_constraint WHERE contype = 'p'"
                  " AND conrelid = '" +
                      schema + ".migrator_version'::regclass") == Rows{{"migrator_version_pkc"}});
    CHECK(rows_of(*db,
                  "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)"
                  " FROM information_schema.columns"
                  " WHERE table_name = 'migrator_version_history'") ==
          Rows{{"id,revision,direction,heads_before,heads_after,started_at,duration_ms,success,"
                "source_sha256,error,run_by,run_host,dirty"}});
}

TEST_CASE("On PostgreSQL, a configured version table name is used for both tables",
          "[postgresql]") {
    ScratchDatabase scratch;
    DatabaseOptions options;
    options.version_table = "alembic_version";
    auto db = scratch.open(options);
    db->ensure_version_tables();
    db->replace_heads({}, {"abc123"});
    CHECK(rows_of(*db, "SELECT version_num FROM alembic_version") == Rows{{"abc123"}});
    CHECK(rows_of(*db, "SELECT count(*) FROM alembic_version_history") == Rows{{"0"}});
}

TEST_CASE(
    "On PostgreSQL, heads written with replace_heads read back sorted, also after reconnecting",
    "[postgresql]") {
    ScratchDatabase scratch;
    {
        auto db = scratch.open();
        db->ensure_version_tables();
        CHECK(db->read_heads() == no_heads);
        db->begin();
        db->replace_heads({}, {"ccc", "aaa", "Bbb"});
        db->commit();
        CHECK(db->read_heads() == std::vector<std::string>{"Bbb", "aaa", "ccc"});
        db->begin();
        db->replace_heads({"aaa", "Bbb"}, {"ddd"});
        db->commit();
    }
    auto db = scratch.open();
    CHECK(db->read_heads() == std::vector<std::string>{"ccc", "ddd"});
}

TEST_CASE("On PostgreSQL, read_heads is empty when the version table does not exist",
          "[postgresql]") {
    ScratchDatabase scratch;
    DatabaseOptions options;
    SECTION("in the current schema") {}
    SECTION("in a named schema that does not exist either") { options.version_schema = "nowhere"; }
    SECTION("on a read-only connection") { options.read_only = true; }
    auto db = scratch.open(options);
    CHECK(db->read_heads() == no_heads);
    CHECK(rows_of(*db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'nowhere'") ==
          Rows{{"0"}});
}

TEST_CASE("On PostgreSQL, a read-only connection reads the version rows and refuses to write",
          "[postgresql]") {
    ScratchDatabase scratch;
    {
        auto writer = scratch.open();
        writer->ensure_version_tables();
        writer->replace_heads({}, {"a1"});
    }
    DatabaseOptions options;
    options.read_only = true;
    auto reader = scratch.open(options);
    CHECK(reader->read_heads() == std::vector<std::string>{"a1"});
    CHECK(error_of(*reader, "CREATE TABLE t (x INTEGER)") ==
          "cannot execute CREATE TABLE in a read-only transaction");
    CHECK_THROWS_AS(reader->replace_heads({"a1"}, {}), DatabaseError);
    CHECK(reader->read_heads() == std::vector<std::string>{"a1"});
}

TEST_CASE("On PostgreSQL, a failing statement inside a transaction leaves no DDL behind",
          "[postgresql]") {
    ScratchDatabase scratch;
    auto db = scratch.open();
    db->ensure_version_tables();
    db->begin();
    db->execute("CREATE TABLE item (id INTEGER PRIMARY KEY); CREATE INDEX item_id ON item (id)");
    db->replace_heads({}, {"a1"});
    CHECK_THAT(error_of(*db, "ALTER TABLE no_such_table ADD COLUMN x INTEGER"),
               Catch::Contains("no_such_table"));

    SECTION("rolled back by the caller") { db->rollback(); }
    SECTION("a commit refuses, saying PostgreSQL rolled it back") {
        CHECK_THROWS_WITH(db->commit(), Catch::Contains("rolled it back"));
        db->rollback();  // harmless after the commit's own rollback
    }
    CHECK(rows_of(*db, "SELECT to_regclass('item'), to_regclass('item_id')") ==
          Rows{{std::nullopt, std::nullopt}});
    CHECK(db->read_heads() == no_heads);
    db->begin();
    db->replace_heads({}, {"a1"});
    db->commit();
    CHECK(db->read_heads() == std::vector<std::string>{"a1"});
}

TEST_CASE("On PostgreSQL, record_step moves the version rows and writes history in one go",
          "[postgresql]") {
    ScratchDatabase scratch;
    auto db = scratch.open();
    db->ensure_version_tables();
    db->replace_heads({}, {"a1", "b1"});
    migrator::HistoryRecord record;
    record.revision = "m2";
    record.direction = migrator::HistoryDirection::upgrade;
    record.heads_before = {"a1", "b1"};
    record.heads_after = {"m2"};
    record.started_at = "2026-12-01T10:00:00Z";
    record.success = true;

    SECTION("a merge: two rows out, one in, one history row, committed together") {
        db->begin();
        const auto id = db->record_step({"a1", "b1"}, {"m2"}, record);
        db->commit();
        CHECK(id > 0);
        CHECK(db->read_heads() == std::vector<std::string>{"m2"});
        const auto history = db->read_history(false);
        REQUIRE(history.size() == 1);
        CHECK(history[0].id == id);
        CHECK(history[0].revision == "m2");
        CHECK(history[0].heads_after == std::vector<std::string>{"m2"});
    }
    SECTION("a row in both lists stays, untouched") {
        db->begin();
        db->record_step({"a1", "b1"}, {"a1", "c2"}, record);
        db->commit();
        CHECK(db->read_heads() == std::vector<std::string>{"a1", "c2"});
    }
    SECTION("a row to remove that is not there: refused, and nothing is kept") {
        db->begin();
        CHECK_THROWS_WITH(db->record_step({"a1", "zz9"}, {"m2"}, record),
                          Catch::Contains("revision zz9 is no longer a current head") &&
                              Catch::Contains("migrator_version"));
        db->rollback();
        CHECK(db->read_heads() == std::vector<std::string>{"a1", "b1"});
        CHECK(db->read_history(false).empty());
    }
    SECTION("a transaction in which nothing ran commits and rolls back without a statement") {
        db->begin();
        db->commit();
        db->begin();
        db->rollback();
        db->begin();
        db->execute("CREATE TABLE inside (id INTEGER)");
        db->rollback();
        CHECK(db->read_heads() == std::vector<std::string>{"a1", "b1"});
        bool exists = true;
        db->query("SELECT to_regclass('inside') IS NOT NULL", [&](const auto&, const auto& values) {
            exists = values.at(0) == std::optional<std::string>("t");
            return true;
        });
        CHECK_FALSE(exists);
    }
}

TEST_CASE("On PostgreSQL, SQL errors are DatabaseErrors carrying PostgreSQL's primary message",
          "[postgresql]") {
    ScratchDatabase scratch;
    auto db = scratch.open();
    SECTION("execute") {
        CHECK(error_of(*db, "DELETE FROM no_such_table") ==
              "relation \"no_such_table\" does not exist");
    }
    SECTION("a failing statement after a good one, in one line") {
        CHECK(error_of(*db, "CREATE TABLE t (x INTEGER);\nSELEC 1") ==
              "syntax error at or near \"SELEC\"");
    }
    SECTION("query") {
        CHECK(query_error_of(*db, "SELECT * FROM no_such_table") ==
              "relation \"no_such_table\" does not exist");
    }
    SECTION("a constraint failure, without its DETAIL line") {
        db->execute("CREATE TABLE t (x INTEGER NOT NULL)");
        CHECK(error_of(*db, "INSERT INTO t VALUES (NULL)") ==
              "null value in column \"x\" of relation \"t\" violates not-null constraint");
    }
    SECTION("a PL/pgSQL exception") {
        CHECK(error_of(*db, "DO $$ BEGIN RAISE EXCEPTION 'custom failure %', 42; END $$") ==
              "custom failure 42");
    }
}

TEST_CASE(
    "On PostgreSQL, connection failures are one line naming the masked URL, without the password",
    "[postgresql]") {
    const DatabaseUrl server = server_url();
    DatabaseUrl url = server;
    std::string expected;
    SECTION("nothing listens on the port") {
        ClosedPort closed;
        url.port = closed.port();
        const std::string message = connection_error(url);
        CHECK_THAT(message, Catch::Contains("Connection refused"));
        expected = message;
    }
    SECTION("the password is wrong") {
        url.password = "wrong'pass\\word";
        const std::string message = connection_error(url);
        CHECK_THAT(message, Catch::Contains("password authentication failed for user"));
        CHECK_THAT(message, !Catch::Contains("wrong'pass"));
        expected = message;
    }
    SECTION("the database does not exist") {
        url.database = "no_such_database_for_migrator";
        const std::string message = connection_error(url);
        CHECK_THAT(message,
                   Catch::Contains("database \"no_such_database_for_migrator\" does not exist"));
        expected = message;
    }
    SECTION("the socket directory does not exist") {
        url.host.clear();
        url.query["host"] = "/nonexistent_socket_dir_for_migrator";
        const std::string message = connection_error(url);
        CHECK_THAT(message, Catch::Contains("/nonexistent_socket_dir_for_migrator"));
        expected = message;
    }
    CHECK_THAT(expected,
               Catch::StartsWith("cannot connect to PostgreSQL at " + url.masked() + ": "));
    CHECK_THAT(url.masked(), Catch::Contains(":***@"));
    CHECK(expected.find('\n') == std::string::npos);
    CHECK_THAT(expected, !Catch::Contains(server.password));
}

TEST_CASE("On PostgreSQL, URL parts and query parameters reach libpq as connection options",
          "[postgresql]") {
    ScratchDatabase scratch;
    SECTION("application_name defaults to migrator") {
        CHECK(rows_of(*scratch.open(), "SELECT current_setting('application_name')") ==
              Rows{{"migrator"}});
    }
    SECTION("query parameters pass through") {
        DatabaseUrl url = scratch.url();
        url.query["application_name"] = "deploy 'blue'";
        url.query["options"] = "-c search_path=elsewhere,public";
        CHECK(rows_of(*open_database(url, {}),
                      "SELECT current_setting('application_name'), "
                      "current_setting('search_path')") ==
              Rows{{"deploy 'blue'", "elsewhere,public"}});
    }
    SECTION("a password with quotes, backslashes and spaces") {
        const std::string role = random_name("migrator_role_");
        scratch.open()->execute("CREATE ROLE " + role + " LOGIN PASSWORD 'it''s a \\ test'");
        Cleanup drop_role([&] { run_as_admin("DROP ROLE IF EXISTS " + role); });
        DatabaseUrl url = scratch.url();
        url.user = role;
        url.password = "it's a \\ test";
        CHECK(rows_of(*open_database(url, {}), "SELECT current_user") == Rows{{role}});
    }
    SECTION("a query parameter that is not an option name is refused") {
        DatabaseUrl url = scratch.url();
        url.query["x' host"] = "elsewhere";
        CHECK_THROWS_AS(open_database(url, {}), DatabaseError);
    }
}

TEST_CASE("On PostgreSQL, a bad version table schema name is rejected", "[postgresql]") {
    DatabaseOptions options;
    SECTION("SQL in the name") { options.version_schema = "s; DROP SCHEMA public"; }
    SECTION("a quote") { options.version_schema = "s\"x"; }
    SECTION("too long") { options.version_schema = std::string(64, 's'); }
    CHECK_THROWS_WITH(open_database(server_url(), options),
                      Catch::Contains("version table schema"));
}

TEST_CASE(
    "On PostgreSQL, lock_migrations makes a second migrator wait, then fail naming the holder",
    "[postgresql]") {
    ScratchDatabase scratch;
    auto first = scratch.open();
    auto second = scratch.open();
    first->lock_migrations(0ms);
    const auto first_pid = rows_of(*first, "SELECT pg_backend_pid()").at(0).at(0).value();

    const std::string message = lock_error(*second, 300ms);
    CHECK_THAT(message, Catch::StartsWith("another migrator holds the migration lock on " +
                                          scratch.url().masked() + " (pid " + first_pid +
                                          ", application 'migrator', user postgres, client "
                                          "127.0.0.1, since "));
    CHECK_THAT(message, Catch::Contains("waited 300 ms"));
    CHECK_THAT(message, !Catch::Contains(scratch.url().password));

    SECTION("a timeout of zero tries once") {
        CHECK_THAT(lock_error(*second, 0ms), Catch::Contains("pid " + first_pid));
    }
    SECTION("the second takes it once the first unlocks") {
        first->unlock_migrations();
        first->unlock_migrations();  // a second unlock is harmless
        CHECK_NOTHROW(second->lock_migrations(300ms));
        CHECK_THROWS_AS(first->lock_migrations(0ms), LockError);
    }
    SECTION("the second takes it once the first disconnects") {
        first.reset();
        CHECK_NOTHROW(second->lock_migrations(300ms));
    }
    SECTION("the second takes it when it is released while waiting") {
        std::thread release([&] {
            std::this_thread::sleep_for(200ms);
            first->unlock_migrations();
        });
        CHECK_NOTHROW(second->lock_migrations(30s));
        release.join();
    }
    SECTION("locking again in the same session does not need a second unlock") {
        first->lock_migrations(0ms);
        first->unlock_migrations();
        CHECK_NOTHROW(second->lock_migrations(0ms));
    }
    SECTION("the lock is held across transactions, committed or rolled back") {
        first->begin();
        first->execute("CREATE TABLE t (x INTEGER)");
        first->rollback();
        CHECK_THROWS_AS(second->lock_migrations(0ms), LockError);
    }
}

TEST_CASE("On PostgreSQL, lock keys differ for different version tables and schemas",
          "[postgresql]") {
    ScratchDatabase scratch;
    DatabaseOptions alpha;
    alpha.version_table = "alpha_version";
    DatabaseOptions beta;
    SECTION("another version table") { beta.version_table = "beta_version"; }
    SECTION("the same table in another schema") {
        beta.version_table = "alpha_version";
        beta.version_schema = "other";
    }
    auto first = scratch.open(alpha);
    auto second = scratch.open(beta);
    first->lock_migrations(0ms);
    CHECK_NOTHROW(second->lock_migrations(0ms));
    CHECK_THROWS_AS(scratch.open(alpha)->lock_migrations(0ms), LockError);
    CHECK_THROWS_AS(scratch.open(beta)->lock_migrations(0ms), LockError);
}
