// End to end: `-x key=value` (Alembic's -x) reaches revisions through Context::argument, online
// and offline, before or after the command; a malformed pair is a usage error.
#include <catch2/catch.hpp>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

TEST_CASE("Alembic's -x key=value reaches the revisions of upgrade and downgrade",
          "[e2e][arguments]") {
    const std::string backend = GENERATE(from_range(all_backends()));
    Sandbox sandbox(backend, fixture_dir("arguments"));

    SECTION("given before and after the command, the last value of a key wins") {
        const auto up = sandbox.migrator(
            {"-x", "tenant=acme", "-x", "note=first", "upgrade", "head", "-x", "note=second note"});
        INFO(up.err);
        REQUIRE(up.exit_code == 0);
        CHECK_THAT(up.out, Contains("tenant: acme"));
        CHECK(sandbox.column("SELECT body FROM note") == std::vector<std::string>{"second note"});
        const auto down = sandbox.migrator({"downgrade", "-1", "-x", "tenant=globex"});
        REQUIRE(down.exit_code == 0);
        CHECK_THAT(down.out, Contains("downgrade tenant: globex"));
        CHECK(sandbox.tables().count("note") == 0);
    }
    SECTION("a key not given reads as absent; a value may be empty or hold '='") {
        const auto up = sandbox.migrator({"upgrade", "head", "-x", "note=", "-x", "other=a=b"});
        INFO(up.err);
        REQUIRE(up.exit_code == 0);
        CHECK_THAT(up.out, Contains("tenant: (not given)"));
        CHECK(sandbox.column("SELECT body FROM note") == std::vector<std::string>{""});
    }
    SECTION("offline, the script is written with the values given") {
        const auto script = sandbox.migrator({"upgrade", "head", "--sql", "-x", "note=offline"});
        INFO(script.err);
        REQUIRE(script.exit_code == 0);
        CHECK_THAT(script.out, Contains("INSERT INTO note (body) VALUES ('offline')"));
        CHECK_FALSE(sandbox.touched());
    }
    SECTION("a pair without '=' or without a key is refused before anything runs") {
        for (const char* bad : {"tenant", "=acme"}) {
            const auto refused = sandbox.migrator({"-x", bad, "upgrade", "head"});
            CHECK(refused.exit_code == 2);
            CHECK_THAT(lines_of(refused.err).at(0),
                       Contains(std::string("-x: '") + bad + "' is not KEY=VALUE"));
        }
        CHECK_FALSE(sandbox.touched());
    }
}
