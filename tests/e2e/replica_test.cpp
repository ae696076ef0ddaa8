// End to end on a real streaming hot standby (tests/with-postgres): the read commands work there,
// every command that writes is refused before it writes, in one sentence naming the standby, and
// check --schema builds its declared schema on a writable database named by --scratch-url.
#include <catch2/catch.hpp>
#include <fstream>
#include <migrator/db/database_url.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

constexpr const char* head = "ae1027a6acf2";

/// A database at head on the primary, replayed on the standby, with the matching schema file.
struct Replicated {
    Replicated() : sandbox("postgresql", shipped_versions_dir()) {
        REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
        std::ofstream(schema_file) << shipped_schema("postgresql");
        sandbox.wait_for_standby();
    }

    /// Runs migrator on the standby's copy of the database.
    ProcessResult on_standby(const std::vector<std::string>& args,
                             std::map<std::string, std::string> env = {}) const {
        for (const auto& [name, value] : Sandbox::clean_environment()) env.emplace(name, value);
        return run_process(sandbox.migrator_command(args, sandbox.standby_url()), env,
                           sandbox.dir().string());
    }

    /// check --schema on the standby with this schema file, then `more`.
    ProcessResult check_schema(const std::vector<std::string>& more = {},
                               std::map<std::string, std::string> env = {}) const {
        std::vector<std::string> args{"--schema-file", schema_file.string(), "check", "--schema"};
        args.insert(args.end(), more.begin(), more.end());
        return on_standby(args, std::move(env));
    }

    /// The standby's URL as migrator names it: password masked.
    std::string standby_masked() const {
        return migrator::DatabaseUrl::parse(sandbox.standby_url()).masked();
    }
    std::string password() const {
        return migrator::DatabaseUrl::parse(sandbox.standby_url()).password;
    }

    /// How many steps the primary's history table records.
    std::string history_rows() const {
        return sandbox.column("SELECT count(*) FROM migrator_version_history").at(0);
    }

    Sandbox sandbox;
    fs::path schema_file = sandbox.dir() / "schema.sql";
};

}  // namespace

TEST_CASE("the read commands work against a hot standby", "[e2e][postgresql][replica]") {
    const Replicated replicated;
    {
        pqxx::connection standby(replicated.sandbox.standby_url());
        REQUIRE(pqxx::nontransaction(standby).exec1("SELECT pg_is_in_recovery()")[0].as<bool>());
    }

    const auto current = replicated.on_standby({"current"});
    INFO(current.out << current.err);
    CHECK(current.exit_code == 0);
    CHECK(current.err.empty());
    CHECK(current.out == std::string(head) + " (head)\n");
    // The session settings migrator makes on a direct connection hold in recovery too.
    CHECK(
        replicated.on_standby({"--statement-timeout", "5", "current", "--check-heads"}).exit_code ==
        0);

    const auto history = replicated.on_standby({"history", "-i"});
    CHECK(history.exit_code == 0);
    CHECK_THAT(history.out, Contains(std::string(head) + " (head) (current)"));

    const auto check = replicated.on_standby({"check"});
    INFO(check.out << check.err);
    CHECK(check.exit_code == 0);
    CHECK_THAT(check.out, Contains("OK: " + replicated.standby_masked() + " is at " + head));

    const auto log = replicated.on_standby({"log"});
    CHECK(log.exit_code == 0);
    CHECK(count_of(log.out, "upgrade ") == 4);
    CHECK(replicated.on_standby({"--json", "log"}).exit_code == 0);
    CHECK(replicated.on_standby({"heads"}).exit_code == 0);
}

TEST_CASE("a command that writes is refused on a hot standby in one sentence naming it",
          "[e2e][postgresql][replica]") {
    const Replicated replicated;
    const auto refused = [&](const std::string& command, const std::vector<std::string>& args) {
        const auto result = replicated.on_standby(args);
        INFO(result.out << result.err);
        CHECK(result.exit_code == 5);
        CHECK(result.out.empty());
        CHECK(result.err == "error: " + replicated.standby_masked() +
                                " is a hot standby (a read-only replica in recovery): " + command +
                                " cannot write there; run it against the primary\n");
        CHECK_THAT(result.err, !Contains(replicated.password()));
    };
    const std::string history_before = replicated.history_rows();
    SECTION("upgrade") { refused("upgrade", {"upgrade", "head"}); }
    SECTION("downgrade") { refused("downgrade", {"downgrade", "-1"}); }
    SECTION("stamp") { refused("stamp", {"stamp", "base"}); }
    SECTION("resolve") { refused("resolve", {"resolve", head, "--applied"}); }
    SECTION("accept-edit") { refused("accept-edit", {"accept-edit", head}); }
    // Nothing changed, on the primary or (replaying it) on the standby.
    CHECK(replicated.sandbox.version_rows() == std::vector<std::string>{head});
    CHECK(replicated.history_rows() == history_before);
    CHECK(replicated.on_standby({"current"}).out == std::string(head) + " (head)\n");
}

TEST_CASE("upgrade of a new database through its standby is refused before anything is created",
          "[e2e][postgresql][replica]") {
    const Sandbox sandbox("postgresql", shipped_versions_dir());
    sandbox.wait_for_standby();
    const auto result =
        run_process(sandbox.migrator_command({"upgrade", "head"}, sandbox.standby_url()),
                    Sandbox::clean_environment(), sandbox.dir().string());
    INFO(result.out << result.err);
    CHECK(result.exit_code == 5);
    CHECK_THAT(result.err, Contains("is a hot standby") && Contains("upgrade cannot write there"));
    CHECK_FALSE(sandbox.touched());
    // The offline script needs no connection: a standby's URL is only its dialect then.
    const auto offline =
        run_process(sandbox.migrator_command({"upgrade", "head", "--sql"}, sandbox.standby_url()),
                    Sandbox::clean_environment(), sandbox.dir().string());
    CHECK(offline.exit_code == 0);
    CHECK_THAT(offline.out, Contains("CREATE TABLE"));
    // A relative target reads the current revision there, read-only.
    const auto relative =
        run_process(sandbox.migrator_command({"upgrade", "+1", "--sql"}, sandbox.standby_url()),
                    Sandbox::clean_environment(), sandbox.dir().string());
    INFO(relative.err);
    CHECK(relative.exit_code == 0);
    CHECK_THAT(relative.out, Contains("CREATE TABLE account"));
    CHECK_FALSE(sandbox.touched());
}

TEST_CASE("check --schema on a hot standby builds the declared schema on --scratch-url",
          "[e2e][postgresql][replica][schema]") {
    const Replicated replicated;
    const std::string primary = replicated.sandbox.url();

    SECTION("without a scratch database it is refused, naming --scratch-url") {
        const auto result = replicated.check_schema();
        INFO(result.out << result.err);
        CHECK(result.exit_code == 5);
        CHECK(result.err ==
              "error: " + replicated.standby_masked() +
                  " is a hot standby (a read-only replica in recovery), where check --schema "
                  "cannot create the scratch schema it builds the declared schema in; name a "
                  "writable database of the same dialect for that with --scratch-url (e.g. the "
                  "primary)\n");
    }
    SECTION("with the primary as the scratch database the schemas match") {
        const auto result = replicated.check_schema({"--scratch-url", primary});
        INFO(result.out << result.err);
        CHECK(result.exit_code == 0);
        CHECK(result.err.empty());
        CHECK_THAT(result.out,
                   Contains("OK: " + replicated.standby_masked()) &&
                       Contains("its schema matches " + replicated.schema_file.string()));
        CHECK(replicated.sandbox.scratch_schemas().empty());
    }
    SECTION("a difference between the declared schema and the standby's is listed") {
        std::ofstream(replicated.schema_file, std::ios::app)
            << "ALTER TABLE invoice ADD COLUMN note TEXT;\n";
        const auto result = replicated.check_schema({"--scratch-url", primary});
        INFO(result.out << result.err);
        CHECK(result.exit_code == 8);
        CHECK_THAT(result.out, Contains("difference: added column invoice.note"));
        CHECK_THAT(result.err, Contains(replicated.standby_masked()));
    }
    SECTION("MIGRATOR_SCRATCH_URL and scratch_url in migrator.ini name it too, after the flag") {
        CHECK(replicated.check_schema({}, {{"MIGRATOR_SCRATCH_URL", primary}}).exit_code == 0);
        std::ofstream(replicated.sandbox.dir() / "migrator.ini")
            << "scratch_url = " << primary << "\n";
        CHECK(replicated.check_schema().exit_code == 0);
        // The flag wins over the environment, which wins over the file.
        CHECK(replicated
                  .check_schema({"--scratch-url", primary},
                                {{"MIGRATOR_SCRATCH_URL", "sqlite:///nowhere.db"}})
                  .exit_code == 0);
        CHECK(replicated.check_schema({}, {{"MIGRATOR_SCRATCH_URL", "sqlite:///nowhere.db"}})
                  .exit_code == 2);
    }
    SECTION("a scratch database of another dialect is a usage error") {
        const auto result = replicated.check_schema({"--scratch-url", "sqlite:///scratch.db"});
        CHECK(result.exit_code == 2);
        CHECK(result.err ==
              "error: the scratch database sqlite:///scratch.db (named by "
              "--scratch-url) is sqlite, but " +
                  replicated.standby_masked() +
                  " is postgresql: check --schema builds the declared schema on a "
                  "database of the same dialect\n");
        CHECK_FALSE(fs::exists(replicated.sandbox.dir() / "scratch.db"));
    }
    SECTION("a standby as the scratch database is refused too") {
        const auto result =
            replicated.check_schema({"--scratch-url", replicated.sandbox.standby_url()});
        CHECK(result.exit_code == 5);
        CHECK_THAT(result.err, Contains(replicated.standby_masked() + " is a hot standby") &&
                                   Contains("build it on a writable database") &&
                                   !Contains(replicated.password()));
    }
}
