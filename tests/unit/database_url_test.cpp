// Tests of DatabaseUrl: SQLAlchemy URL forms, error messages, and password masking.
#include <catch2/catch.hpp>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>
#include <string>

using migrator::DatabaseError;
using migrator::DatabaseUrl;
using migrator::mask_password;

namespace {

// The message of the DatabaseError that parsing `text` throws; fails the test if none is thrown.
std::string parse_error(const std::string& text) {
    try {
        DatabaseUrl::parse(text);
    } catch (const DatabaseError& e) {
        return e.what();
    }
    FAIL("no DatabaseError for " << text);
    return {};
}

}  // namespace

TEST_CASE("SQLite URLs name a file the way SQLAlchemy does", "[db]") {
    SECTION("three slashes: a path relative to the working directory") {
        const auto url = DatabaseUrl::parse("sqlite:///relative.db");
        CHECK(url.dialect == "sqlite");
        CHECK(url.driver.empty());
        CHECK(url.database == "relative.db");
        CHECK_FALSE(url.is_sqlite_memory());
    }
    SECTION("four slashes: an absolute path") {
        CHECK(DatabaseUrl::parse("sqlite:////abs/path.db").database == "/abs/path.db");
    }
    SECTION("a relative path with folders") {
        CHECK(DatabaseUrl::parse("sqlite:///data/app.db").database == "data/app.db");
    }
    SECTION("percent-escapes are decoded") {
        CHECK(DatabaseUrl::parse("sqlite:////tmp/my%20db%23.db").database == "/tmp/my db#.db");
    }
    SECTION("the pysqlite driver") {
        const auto url = DatabaseUrl::parse("sqlite+pysqlite:///x.db");
        CHECK(url.dialect == "sqlite");
        CHECK(url.driver == "pysqlite");
        CHECK(url.database == "x.db");
    }
    SECTION("query parameters are kept") {
        CHECK(DatabaseUrl::parse("sqlite:///x.db?mode=ro").query.at("mode") == "ro");
    }
}

TEST_CASE("SQLite URLs without a path, or with :memory:, mean an in-memory database", "[db]") {
    SECTION("sqlite://") {
        const auto url = DatabaseUrl::parse("sqlite://");
        CHECK(url.database == ":memory:");
        CHECK(url.is_sqlite_memory());
    }
    SECTION("sqlite:///:memory:") {
        CHECK(DatabaseUrl::parse("sqlite:///:memory:").is_sqlite_memory());
    }
    SECTION("sqlite:///") { CHECK(DatabaseUrl::parse("sqlite:///").is_sqlite_memory()); }
}

TEST_CASE("PostgreSQL URLs give user, password, host, port, database and query", "[db]") {
    SECTION("every part") {
        const auto url =
            DatabaseUrl::parse("postgresql://scott:tiger@db.example.com:5433/shop?sslmode=require");
        CHECK(url.dialect == "postgresql");
        CHECK(url.driver.empty());
        CHECK(url.user == "scott");
        CHECK(url.password == "tiger");
        CHECK(url.host == "db.example.com");
        REQUIRE(url.port);
        CHECK(*url.port == 5433);
        CHECK(url.database == "shop");
        CHECK(url.query == std::map<std::string, std::string>{{"sslmode", "require"}});
    }
    SECTION("no port, no password") {
        const auto url = DatabaseUrl::parse("postgresql://scott@localhost/shop");
        CHECK(url.user == "scott");
        CHECK(url.password.empty());
        CHECK(url.host == "localhost");
        CHECK_FALSE(url.port);
    }
    SECTION("percent-encoded user and password are decoded") {
        const auto url = DatabaseUrl::parse("postgresql://us%40er:p%40ss%3Aw%2Frd@h/db");
        CHECK(url.user == "us@er");
        CHECK(url.password == "p@ss:w/rd");
    }
    SECTION("an empty database and host, with a socket directory in the query") {
        const auto url = DatabaseUrl::parse("postgresql:///?host=/var/run/postgresql");
        CHECK(url.host.empty());
        CHECK(url.database.empty());
        CHECK(url.query.at("host") == "/var/run/postgresql");
    }
    SECTION("a socket directory as an encoded host") {
        CHECK(DatabaseUrl::parse("postgresql://%2Fvar%2Frun%2Fpostgresql/db").host ==
              "/var/run/postgresql");
    }
    SECTION("an IPv6 host loses its brackets") {
        const auto url = DatabaseUrl::parse("postgresql://u:p@[::1]:5432/db");
        CHECK(url.host == "::1");
        CHECK(*url.port == 5432);
    }
    SECTION("the highest port") {
        CHECK(*DatabaseUrl::parse("postgresql://h:65535/d").port == 65535);
    }
}

TEST_CASE("PostgreSQL scheme spellings and drivers are all recognised", "[db]") {
    auto check = [](const std::string& text, const std::string& driver) {
        const auto url = DatabaseUrl::parse(text);
        CHECK(url.dialect == "postgresql");
        CHECK(url.driver == driver);
        CHECK(url.database == "db");
    };
    SECTION("postgres") { check("postgres://u@h/db", ""); }
    SECTION("psycopg2") { check("postgresql+psycopg2://u@h/db", "psycopg2"); }
    SECTION("psycopg") { check("postgresql+psycopg://u@h/db", "psycopg"); }
    SECTION("asyncpg") { check("postgresql+asyncpg://u@h/db", "asyncpg"); }
    SECTION("pg8000") { check("postgresql+pg8000://u@h/db", "pg8000"); }
    SECTION("upper case scheme") { check("PostgreSQL://u@h/db", ""); }
}

TEST_CASE("An unsupported scheme is an error naming it and the masked URL", "[db]") {
    const auto message = parse_error("mysql://u:secret@h/db");
    CHECK(message ==
          "unsupported database URL scheme 'mysql' in mysql://u:***@h/db; migrator supports "
          "sqlite:// and postgresql://");
    SECTION("an empty driver is not a driver") {
        CHECK_THAT(parse_error("postgresql+://u@h/db"),
                   Catch::Contains("unsupported database URL scheme"));
    }
}

TEST_CASE("An empty URL is an error that says how to give one", "[db]") {
    const auto message = parse_error("");
    CHECK_THAT(message, Catch::Contains("no database URL was given"));
    CHECK_THAT(message, Catch::Contains("--url"));
    CHECK_THAT(message, Catch::Contains("MIGRATOR_DATABASE_URL"));
    CHECK_THAT(message, Catch::Contains("SQLALCHEMY_DATABASE_URL"));
}

TEST_CASE("Malformed URLs are errors that never show the password", "[db]") {
    const std::string password = "hunter2secret";
    std::string text;
    std::string expected;
    SECTION("not a URL at all") {
        text = "local.db";
        expected = "malformed database URL local.db";
    }
    SECTION("a space in the host") {
        text = "postgresql://u:" + password + "@bad host/db";
        expected = "malformed database URL postgresql://u:***@bad host/db";
    }
    SECTION("an unencoded '@' in the password") {
        text = "postgresql://u:" + password + "@x@h/db";
        expected = "postgresql://u:***@h/db";
    }
    SECTION("an unencoded '#' in the password that still parses") {
        text = "postgresql://u:12#" + password + "@h/db";
        expected = "is ambiguous";
    }
    SECTION("an unencoded '/' in the password that still parses") {
        text = "postgresql://u:12/" + password + "@h/db";
        expected = "is ambiguous";
    }
    SECTION("an unencoded '?' in the password that still parses") {
        text = "postgresql://u:12?" + password + "@h/db";
        expected = "is ambiguous";
    }
    SECTION("a port out of range") {
        text = "postgresql://u:" + password + "@h:70000/db";
        expected = "port 70000 in database URL postgresql://u:***@h:70000/db is out of range";
    }
    SECTION("port zero") {
        text = "postgresql://u:" + password + "@h:0/db";
        expected = "is out of range";
    }
    SECTION("a huge port") {
        text = "postgresql://u:" + password + "@h:99999999999999999999/db";
        expected = "is out of range";
    }
    SECTION("a SQLite URL with a host") {
        text = "sqlite://u:" + password + "@host/x.db";
        expected = "SQLite URL sqlite://u:***@host/x.db must have the form";
    }
    SECTION("a SQLite URL without slashes") {
        text = "sqlite:x.db";
        expected = "SQLite URL sqlite:x.db must have the form";
    }
    SECTION("an unsupported scheme with a password in the query") {
        text = "mysql://h/db?password=" + password;
        expected = "mysql://h/db?password=***";
    }
    const auto message = parse_error(text);
    CHECK_THAT(message, Catch::Contains(expected));
    CHECK_THAT(message, !Catch::Contains(password));
    CHECK_THAT(message, !Catch::Contains("hunter"));
}

// Found by fuzz_database_url with the input `s:?#/ll)`: Boost.URL 1.81 reads past the end of the
// URL when it walks the parameters of an empty query followed by a fragment (boostorg/url#864).
TEST_CASE("An empty query followed by a fragment is refused without reading past the URL", "[db]") {
    for (const std::string text : {"s:?#/ll)", "sqlite:///app.db?#", "sqlite:///app.db?#x",
                                   "postgresql://u:hunter2secret@h/db?#frag"}) {
        const auto message = parse_error(text);
        CHECK_THAT(message, Catch::Contains("is ambiguous"));
        CHECK_THAT(message, !Catch::Contains("hunter2secret"));
    }
}

TEST_CASE("masked() rebuilds the URL with the password replaced", "[db]") {
    SECTION("PostgreSQL with every part") {
        const auto url = DatabaseUrl::parse(
            "postgresql+psycopg2://scott:tiger@db.example.com:5433/shop?sslmode=require");
        CHECK(url.masked() ==
              "postgresql+psycopg2://scott:***@db.example.com:5433/shop?sslmode=require");
    }
    SECTION("no password means no ***") {
        CHECK(DatabaseUrl::parse("postgresql://scott@h/db").masked() == "postgresql://scott@h/db");
        CHECK(DatabaseUrl::parse("postgresql://h/db").masked() == "postgresql://h/db");
    }
    SECTION("a password given as a query parameter") {
        const auto url = DatabaseUrl::parse("postgresql://h/db?password=tiger&sslmode=disable");
        CHECK(url.query.at("password") == "tiger");
        CHECK(url.masked() == "postgresql://h/db?password=***&sslmode=disable");
    }
    SECTION("special characters are encoded again") {
        const auto url = DatabaseUrl::parse("postgresql://us%40er:p%40ss@[::1]/db");
        CHECK(url.masked() == "postgresql://us%40er:***@[::1]/db");
    }
    SECTION("postgres:// is shown as postgresql://") {
        CHECK(DatabaseUrl::parse("postgres://h/db").masked() == "postgresql://h/db");
    }
    SECTION("SQLite forms round trip") {
        for (const std::string text :
             {"sqlite:///relative.db", "sqlite:////abs/path.db", "sqlite://",
              "sqlite+pysqlite:///x.db", "sqlite:////tmp/my%20db.db"})
            CHECK(DatabaseUrl::parse(text).masked() == text);
        CHECK(DatabaseUrl::parse("sqlite:///:memory:").masked() == "sqlite://");
    }
}

TEST_CASE("mask_password hides passwords even in text that is not a URL", "[db]") {
    SECTION("a URL") {
        CHECK(mask_password("postgresql://u:tiger@h/db") == "postgresql://u:***@h/db");
    }
    SECTION("a URL inside a sentence, twice") {
        CHECK(mask_password("from postgres://a:one@h/x to postgres://b:two@k/y.") ==
              "from postgres://a:***@h/x to postgres://b:***@k/y.");
    }
    SECTION("an unencoded '@' in the password") {
        CHECK(mask_password("postgresql://u:ti@ger@h/db") == "postgresql://u:***@h/db");
    }
    SECTION("no password") {
        CHECK(mask_password("postgresql://u@h/db") == "postgresql://u@h/db");
        CHECK(mask_password("postgresql://h:5432/db") == "postgresql://h:5432/db");
        CHECK(mask_password("sqlite:///a:b@c.db") == "sqlite:///a:b@c.db");
        CHECK(mask_password("no url here") == "no url here");
    }
    SECTION("password parameters in a query and in a keyword/value string") {
        CHECK(mask_password("postgresql://h/db?sslmode=require&password=tiger") ==
              "postgresql://h/db?sslmode=require&password=***");
        CHECK(mask_password("host=h password=tiger dbname=x") == "host=h password=*** dbname=x");
        CHECK(mask_password("host=h password='ti ger' dbname=x") == "host=h password=*** dbname=x");
        CHECK(mask_password("old_password=x") == "old_password=x");
    }
}

TEST_CASE("A control character in any decoded part of a URL is refused", "[db]") {
    SECTION("a percent-encoded NUL in a SQLite path") {
        const auto message = parse_error("sqlite:////srv/app/app.db%00.bak");
        CHECK_THAT(message, Catch::Contains("the file name in database URL "
                                            "sqlite:////srv/app/app.db%00.bak holds the control "
                                            "character %00"));
    }
    SECTION("a newline in a PostgreSQL database name") {
        CHECK_THAT(parse_error("postgresql://u@h/app%0Adb"),
                   Catch::Contains("the database name in database URL postgresql://u@h/app%0Adb "
                                   "holds the control character %0A"));
    }
    SECTION("DEL in a query parameter") {
        CHECK_THAT(parse_error("postgresql://u@h/db?application_name=a%7F"),
                   Catch::Contains("the query in database URL"));
    }
    SECTION("a NUL in the password, which stays masked") {
        const auto message = parse_error("postgresql://u:hunter2%00secret@h/db");
        CHECK_THAT(message, Catch::Contains("the password in database URL "
                                            "postgresql://u:***@h/db holds the control character "
                                            "%00"));
        CHECK_THAT(message, !Catch::Contains("hunter2"));
    }
}

TEST_CASE("A port that is not a number from 1 to 65535 is refused, naming the port", "[db]") {
    SECTION("letters only") {
        CHECK(parse_error("postgresql://u@127.0.0.1:abc/x") ==
              "port 'abc' in database URL postgresql://u@127.0.0.1:abc/x is not a number; a port "
              "is a number from 1 to 65535");
    }
    SECTION("digits followed by a letter") {
        CHECK(parse_error("postgresql://u@127.0.0.1:5a/x") ==
              "port '5a' in database URL postgresql://u@127.0.0.1:5a/x is not a number; a port is "
              "a number from 1 to 65535");
    }
    SECTION("an IPv6 host, with the password masked") {
        const auto message = parse_error("postgresql://u:hunter2secret@[::1]:54x32/db");
        CHECK_THAT(message, Catch::StartsWith("port '54x32' in database URL "
                                              "postgresql://u:***@[::1]:54x32/db is not a number"));
    }
    SECTION("a letter with no database after it") {
        CHECK_THAT(parse_error("postgresql://u@h:5432x"), Catch::Contains("port '5432x'"));
    }
    SECTION("numbers still work, and an empty port means the default") {
        CHECK(DatabaseUrl::parse("postgresql://u@h:65535/x").port == 65535u);
        CHECK_FALSE(DatabaseUrl::parse("postgresql://u@h:/x").port);
        CHECK(DatabaseUrl::parse("postgresql://u@h:/x").database == "x");
    }
}

TEST_CASE("A character a URL must hold percent-encoded is named with its encoding", "[db]") {
    SECTION("raw non-ASCII in a SQLite path") {
        CHECK(parse_error("sqlite:////srv/caf\xc3\xa9/app.db") ==
              "malformed database URL sqlite:////srv/caf\xc3\xa9/app.db; it contains the "
              "non-ASCII character '\xc3\xa9', which must be percent-encoded as its UTF-8 bytes "
              "(%C3%A9)");
    }
    SECTION("raw non-ASCII in a PostgreSQL database name") {
        CHECK_THAT(parse_error("postgresql://u@h/b\xc3\xa4"
                               "ckerei"),
                   Catch::Contains("non-ASCII character '\xc3\xa4', which must be percent-encoded "
                                   "as its UTF-8 bytes (%C3%A4)"));
    }
    SECTION("a raw control character") {
        CHECK_THAT(parse_error("sqlite:///a\x01.db"),
                   Catch::Contains("it contains a control character, which must be percent-encoded "
                                   "as %01"));
    }
    SECTION("a character outside the URL alphabet") {
        CHECK_THAT(parse_error("sqlite:///a|b.db"),
                   Catch::Contains("it contains the character '|', which must be percent-encoded "
                                   "as %7C"));
    }
    SECTION("non-ASCII in the password is not shown") {
        const auto message = parse_error("postgresql://u:p\xc3\xa4sswort@h/db");
        CHECK_THAT(message, Catch::Contains("postgresql://u:***@h/db"));
        CHECK_THAT(message, Catch::Contains("non-ASCII characters in the user name and password "
                                            "percent-encoded"));
        CHECK_THAT(message, !Catch::Contains("sswort"));
    }
}
