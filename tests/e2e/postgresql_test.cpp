// End to end, PostgreSQL only: connection failures, URL forms and the version table schema.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <regex>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

/// The parts of the test server's URL (postgresql://postgres:PASSWORD@127.0.0.1:PORT/DB).
struct ServerUrl {
    std::string password;
    std::string port;
    std::string database;
};

ServerUrl parse_server_url(const std::string& url) {
    const std::regex shape(R"(postgresql://postgres:([^@]+)@127\.0\.0\.1:(\d+)/(\w+))");
    std::smatch match;
    if (!std::regex_match(url, match, shape))
        throw std::runtime_error("unexpected test server URL shape");
    return {match[1], match[2], match[3]};
}

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr) throw std::runtime_error(std::string(name) + " is not set");
    return value;
}

}  // namespace

TEST_CASE("connection failures are one line naming the masked URL, never the password",
          "[e2e][postgresql]") {
    Sandbox sandbox("postgresql", shipped_versions_dir());
    const auto server = parse_server_url(sandbox.url());
    const std::string secret = server.password;

    struct Case {
        std::string url;
        std::string expected;
    };
    const std::vector<Case> cases{
        {"postgresql://postgres:" + secret + "x@127.0.0.1:" + server.port + "/" + server.database,
         "password authentication failed"},
        {"postgresql://postgres:" + secret + "@127.0.0.1:" + server.port + "/no_such_database",
         "database \"no_such_database\" does not exist"},
        {"postgresql://postgres:" + secret + "@127.0.0.1:1/postgres", "Connection refused"},
    };
    for (const auto& c : cases) {
        for (const char* command : {"current", "upgrade"}) {
            std::vector<std::string> argv{
                MIGRATOR_BIN, "--url", c.url, "--versions-dir", shipped_versions_dir().string(),
                command};
            if (std::string(command) == "upgrade") argv.push_back("head");
            const auto result = run_process(argv, Sandbox::clean_environment());
            INFO(c.url.substr(0, 20) << " " << command);
            CHECK(result.exit_code == 5);
            CHECK(lines_of(result.err).size() == 1);
            CHECK_THAT(result.err, Contains(c.expected));
            CHECK_THAT(result.err, Contains("postgres:***@127.0.0.1"));
            CHECK(result.err.find(secret) == std::string::npos);
            CHECK(result.out.find(secret) == std::string::npos);
        }
    }
}

TEST_CASE("SQLAlchemy URL forms and a Unix socket reach the same database", "[e2e][postgresql]") {
    Sandbox sandbox("postgresql", shipped_versions_dir());
    const std::string url = sandbox.url();
    const auto server = parse_server_url(url);
    const std::string database = url.substr(url.rfind('/') + 1);
    const std::string socket_dir = environment("MIGRATOR_TEST_POSTGRES_SOCKET_DIR");
    const std::vector<std::string> forms{
        "postgresql+psycopg2://postgres:" + server.password + "@127.0.0.1:" + server.port + "/" +
            database + "?sslmode=disable",
        "postgres://postgres:" + server.password + "@127.0.0.1:" + server.port + "/" + database +
            "?application_name=deploy",
        "postgresql://postgres:" + server.password + "@/" + database + "?host=" + socket_dir +
            "&port=" + server.port,
    };
    REQUIRE(sandbox.migrator({"upgrade", "+1"}).exit_code == 0);
    for (const auto& form : forms) {
        INFO(form.substr(0, 25));
        const auto result = run_process({MIGRATOR_BIN, "--url", form, "--versions-dir",
                                         shipped_versions_dir().string(), "current"},
                                        Sandbox::clean_environment());
        CHECK(result.exit_code == 0);
        CHECK(result.out == "1975ea83b712\n");
    }
}

TEST_CASE("the version and history tables can live in their own schema", "[e2e][postgresql]") {
    Sandbox sandbox("postgresql", shipped_versions_dir());
    const auto up = sandbox.migrator({"--version-table-schema", "deploy", "upgrade", "head"});
    REQUIRE(up.exit_code == 0);
    CHECK(sandbox.column("SELECT version_num FROM deploy.migrator_version") ==
          std::vector<std::string>{"ae1027a6acf2"});
    CHECK(sandbox.column("SELECT count(*) FROM deploy.migrator_version_history") ==
          std::vector<std::string>{"4"});
    CHECK(sandbox.column("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                         "'public' AND table_name LIKE 'migrator_version%'") ==
          std::vector<std::string>{"0"});
    // The application's tables stay in the connection's schema.
    CHECK(sandbox.tables() == std::set<std::string>{"account", "invoice"});
    CHECK(sandbox.migrator({"--version-table-schema", "deploy", "current"}).out ==
          "ae1027a6acf2 (head)\n");
    CHECK(sandbox.migrator({"current"}).out.empty());
}
