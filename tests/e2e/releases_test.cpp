// End-to-end tests of releases: @NAME targets, converge, and an older release rolling a newer one
// back with the plugins it stored in the database (tests/fixtures release_1 .. release_3).
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "e2e.hpp"
#include "process.hpp"

using namespace testing;
using Catch::Matchers::Contains;

namespace {

const std::string key_file = std::string(MIGRATOR_TEST_KEYS_DIR) + "/test-signing.pub";
const std::vector<std::string> trust{"--trusted-keys", key_file};

/// Points `sandbox` at the bundle of release `n` (1, 2, 3); returns `args` trusting the test key.
std::vector<std::string> with_release(Sandbox& sandbox, int n, std::vector<std::string> args) {
    sandbox.set_versions_dir(fixture_dir("release_" + std::to_string(n)));
    std::vector<std::string> out = trust;
    out.insert(out.end(), args.begin(), args.end());
    return out;
}

/// Runs migrator and requires success, showing its output otherwise.
ProcessResult ok(const Sandbox& sandbox, const std::vector<std::string>& args) {
    auto result = sandbox.migrator(args);
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
    return result;
}

/// The account rows as "id|full name" at release 1 (full_name) or "id|given|family" after 2.
std::vector<std::string> accounts(const Sandbox& sandbox) {
    if (sandbox.has_column("account", "full_name"))
        return sandbox.column(
            "SELECT CAST(id AS TEXT) || '|' || full_name FROM account ORDER BY id");
    return sandbox.column(
        "SELECT CAST(id AS TEXT) || '|' || given_name || '|' || family_name FROM account ORDER BY "
        "id");
}

const std::vector<std::string> at_release_1{"1|Ada Lovelace", "2|Alan Turing"};
const std::vector<std::string> at_release_2{"1|Ada|Lovelace", "2|Alan|Turing"};

/// A database at release 1 holding two accounts.
void deploy_release_1(Sandbox& sandbox) {
    ok(sandbox, with_release(sandbox, 1, {"converge"}));
    sandbox.execute_script(
        "INSERT INTO account (id, full_name) VALUES (1, 'Ada Lovelace'), (2, 'Alan Turing');");
    REQUIRE(accounts(sandbox) == at_release_1);
}

std::size_t stored_plugins(const Sandbox& sandbox) {
    return std::stoul(sandbox.column("SELECT count(*) FROM migrator_version_plugins").at(0));
}

}  // namespace

TEST_CASE("a release moves forwards and back: N -> N+1 -> N by the older bundle -> N+1 again",
          "[e2e][releases]") {
    for (const auto& backend : all_backends()) {
        DYNAMIC_SECTION(backend) {
            Sandbox sandbox(backend, fixture_dir("release_1"));
            deploy_release_1(sandbox);

            // N+1: the breaking change (full_name split, then dropped) by converge.
            auto up = ok(sandbox, with_release(sandbox, 2, {"converge"}));
            CHECK_THAT(up.out, Contains("Upgraded to rel2bbbbbbbb (head) (release 2.0): 1 step"));
            CHECK(accounts(sandbox) == at_release_2);
            CHECK_FALSE(sandbox.has_column("account", "full_name"));
            CHECK(stored_plugins(sandbox) == 2);

            // Back to N with N's own bundle: refused by default, naming the revision, the
            // release that applied it and the command.
            auto refused = sandbox.migrator(with_release(sandbox, 1, {"converge"}));
            CHECK(refused.exit_code == 3);
            CHECK(lines_of(refused.err).size() == 1);
            CHECK_THAT(refused.err, Contains("is at rel2bbbbbbbb, which the versions directory"));
            CHECK_THAT(refused.err, Contains("release 2.0 applied it"));
            CHECK_THAT(refused.err, Contains("run `migrator converge --stored-downgrades`"));
            CHECK(sandbox.version_rows() == std::vector<std::string>{"rel2bbbbbbbb"});
            // The deploy pipeline of N runs upgrade head: the same refusal.
            auto upgrade = sandbox.migrator(with_release(sandbox, 1, {"upgrade", "head"}));
            CHECK(upgrade.exit_code == 3);
            CHECK_THAT(upgrade.err, Contains("release 2.0 applied it"));

            // On request, N runs the downgrade release 2.0 stored: the data come back.
            auto down = ok(sandbox, with_release(sandbox, 1, {"converge", "--stored-downgrades"}));
            CHECK_THAT(down.out, Contains("Running downgrade rel2bbbbbbbb -> rel1aaaaaaaa"));
            CHECK_THAT(down.out, Contains("(release 1.0): 1 step"));
            CHECK(sandbox.version_rows() == std::vector<std::string>{"rel1aaaaaaaa"});
            CHECK(accounts(sandbox) == at_release_1);
            CHECK(stored_plugins(sandbox) == 1);  // removed with its version row

            // N+1 again.
            ok(sandbox, with_release(sandbox, 2, {"converge"}));
            CHECK(accounts(sandbox) == at_release_2);
            // And converge at the release is a no-op that says so.
            auto again = ok(sandbox, with_release(sandbox, 2, {"converge"}));
            CHECK_THAT(again.out, Contains("is already at rel2bbbbbbbb (head) (release 2.0)"));
        }
    }
}

TEST_CASE("converge reaches the newest release from every starting point", "[e2e][releases]") {
    const std::vector<std::string> ids{"", "rel1aaaaaaaa", "rel2bbbbbbbb", "rel3cccccccc"};
    for (const auto& backend : all_backends()) {
        DYNAMIC_SECTION(backend) {
            for (int start = 0; start <= 3; ++start)
                for (int bundle = 1; bundle <= 3; ++bundle) {
                    INFO("from release " << start << ", converge with release " << bundle);
                    Sandbox sandbox(backend, fixture_dir("release_3"));
                    if (start > 0)
                        ok(sandbox, with_release(sandbox, 3,
                                                 {"upgrade", "@" + std::to_string(start) + ".0"}));
                    std::vector<std::string> args{"converge"};
                    if (bundle < start) args.push_back("--stored-downgrades");
                    ok(sandbox, with_release(sandbox, bundle, args));
                    CHECK(sandbox.version_rows() ==
                          std::vector<std::string>{ids[static_cast<std::size_t>(bundle)]});
                }
        }
    }
}

TEST_CASE("a release name is a target of upgrade, downgrade, stamp and --sql", "[e2e][releases]") {
    Sandbox sandbox("sqlite", fixture_dir("release_3"));
    ok(sandbox, {"upgrade", "@2.0"});
    CHECK(sandbox.version_rows() == std::vector<std::string>{"rel2bbbbbbbb"});
    ok(sandbox, {"upgrade", "@3.0"});
    CHECK(sandbox.version_rows() == std::vector<std::string>{"rel3cccccccc"});
    auto down = ok(sandbox, {"downgrade", "@1.0"});
    CHECK_THAT(down.out, Contains("Downgraded to rel1aaaaaaaa (release 1.0): 2 steps"));
    CHECK(stored_plugins(sandbox) == 1);
    // A stamp runs no revision: it stores no plugin, and those of revisions it un-applies go.
    ok(sandbox, {"upgrade", "@3.0"});
    CHECK(stored_plugins(sandbox) == 3);
    ok(sandbox, {"stamp", "@1.0"});
    CHECK(sandbox.version_rows() == std::vector<std::string>{"rel1aaaaaaaa"});
    CHECK(stored_plugins(sandbox) == 1);
    ok(sandbox, {"stamp", "@3.0"});
    CHECK(sandbox.version_rows() == std::vector<std::string>{"rel3cccccccc"});

    auto sql = ok(sandbox, {"upgrade", "@1.0:@3.0", "--sql"});
    CHECK_THAT(sql.out, Contains("Running upgrade rel1aaaaaaaa -> rel2bbbbbbbb"));
    CHECK_THAT(sql.out, Contains("Running upgrade rel2bbbbbbbb -> rel3cccccccc"));
    CHECK_THAT(sql.out, !Contains("-> rel1aaaaaaaa"));

    SECTION("a release name that does not exist") {
        auto unknown = sandbox.migrator({"upgrade", "@9.9"});
        CHECK(unknown.exit_code == 3);
        CHECK(lines_of(unknown.err).size() == 1);
        CHECK_THAT(unknown.err,
                   Contains("no release is named '9.9'; the releases are 1.0, 2.0, 3.0"));
        CHECK(sandbox.version_rows() == std::vector<std::string>{"rel3cccccccc"});
    }
}

TEST_CASE("releases lists the releases and marks the database's, as text and JSON",
          "[e2e][releases]") {
    Sandbox sandbox("sqlite", fixture_dir("release_3"));
    ok(sandbox, {"upgrade", "@2.0"});
    auto text = ok(sandbox, {"releases"});
    CHECK(lines_of(text.out) == std::vector<std::string>{"1.0 -> rel1aaaaaaaa",
                                                         "2.0 -> rel2bbbbbbbb (current)",
                                                         "3.0 -> rel3cccccccc (newest)"});
    auto json = ok(sandbox, {"--json", "releases"});
    CHECK_THAT(json.out, Contains("{\"name\":\"2.0\",\"rows\":[\"rel2bbbbbbbb\"],\"current\":true,"
                                  "\"newest\":false}"));
    CHECK_THAT(json.out, Contains("\"release\":\"2.0\""));

    ok(sandbox, {"converge"});
    auto ahead = ok(sandbox, with_release(sandbox, 1, {"releases"}));
    CHECK_THAT(ahead.out, Contains("The database is at rel3cccccccc, ahead of these releases "
                                   "(applied by release 3.0)."));
}

TEST_CASE("stored plugins are run only when a trusted key signed them, and unchanged",
          "[e2e][releases][signing]") {
    for (const auto& backend : all_backends()) {
        DYNAMIC_SECTION(backend) {
            Sandbox sandbox(backend, fixture_dir("release_1"));
            deploy_release_1(sandbox);

            SECTION("no key trusted") {
                ok(sandbox, with_release(sandbox, 2, {"converge"}));
                sandbox.set_versions_dir(fixture_dir("release_1"));
                auto result = sandbox.migrator({"converge", "--stored-downgrades"});
                CHECK(result.exit_code == 4);
                CHECK_THAT(result.err, Contains("only when a key it trusts signed them"));
            }
            SECTION("another signed plugin stored in its place") {
                ok(sandbox, with_release(sandbox, 2, {"converge"}));
                sandbox.execute_script(
                    "UPDATE migrator_version_plugins SET (image, size) = (SELECT image, size FROM "
                    "migrator_version_plugins WHERE revision = 'rel1aaaaaaaa') WHERE revision = "
                    "'rel2bbbbbbbb';");
                auto result =
                    sandbox.migrator(with_release(sandbox, 1, {"converge", "--stored-downgrades"}));
                CHECK(result.exit_code == 4);
                CHECK(lines_of(result.err).size() == 1);
                CHECK_THAT(result.err, Contains("a plugin stored in"));
                CHECK_THAT(result.err, Contains("metadata differ from the metadata signed"));
            }
            if (backend == "postgresql") SECTION("a byte of a stored plugin changed") {
                    ok(sandbox, with_release(sandbox, 2, {"converge"}));
                    sandbox.execute_script(
                        "UPDATE migrator_version_plugins SET image = set_byte(image, 2000, "
                        "(get_byte(image, 2000) + 1) % 256) WHERE revision = 'rel2bbbbbbbb';");
                    auto result = sandbox.migrator(
                        with_release(sandbox, 1, {"converge", "--stored-downgrades"}));
                    CHECK(result.exit_code == 4);
                    CHECK(lines_of(result.err).size() == 1);
                    CHECK_THAT(result.err, Contains("rel2_split_name.so"));
                }
            SECTION("an unsigned stored plugin") {
                sandbox.set_versions_dir(fixture_dir("release_3_unsigned"));
                ok(sandbox, {"upgrade", "@2.0"});
                auto result =
                    sandbox.migrator(with_release(sandbox, 1, {"converge", "--stored-downgrades"}));
                CHECK(result.exit_code == 4);
                CHECK_THAT(result.err, Contains("the plugin of revision rel2bbbbbbbb stored in"));
                CHECK_THAT(result.err, Contains("has no bytes: no signature file listed it"));
                // Nothing but its row is stored: an older release could not run it anyway.
                CHECK(sandbox.column("SELECT size FROM migrator_version_plugins WHERE revision = "
                                     "'rel2bbbbbbbb'") == std::vector<std::string>{"0"});
            }
            // Refused before anything ran: the data are those of release 2.
            CHECK(sandbox.version_rows() == std::vector<std::string>{"rel2bbbbbbbb"});
            CHECK(accounts(sandbox) == at_release_2);
        }
    }
}

TEST_CASE("kill -9 during a rollback by stored plugins leaves a database the next run finishes",
          "[e2e][releases]") {
    for (const auto& backend : all_backends()) {
        DYNAMIC_SECTION(backend) {
            Sandbox sandbox(backend, fixture_dir("release_1"));
            deploy_release_1(sandbox);
            ok(sandbox, with_release(sandbox, 3, {"converge"}));
            auto env = Sandbox::clean_environment();
            const fs::path mark = sandbox.dir() / "sleeping";
            env["MIGRATOR_TEST_SLOW_DOWNGRADE"] = "60";
            env["MIGRATOR_TEST_SLOW_DOWNGRADE_MARK"] = mark.string();
            BackgroundProcess rollback(sandbox.migrator_command(with_release(
                                           sandbox, 1, {"converge", "--stored-downgrades"})),
                                       env, sandbox.dir().string());
            // rel3's downgrade has dropped invoice and sleeps inside its transaction: kill it
            // there.
            for (int i = 0; i < 600 && !fs::exists(mark); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            REQUIRE(fs::exists(mark));
            rollback.send_signal(SIGKILL);
            CHECK(rollback.wait().exit_code == 128 + SIGKILL);
            CHECK(sandbox.version_rows() == std::vector<std::string>{"rel3cccccccc"});
            CHECK(sandbox.tables().count("invoice") == 1);  // the drop was rolled back
            CHECK(stored_plugins(sandbox) == 3);

            ok(sandbox, with_release(sandbox, 1, {"converge", "--stored-downgrades"}));
            CHECK(sandbox.version_rows() == std::vector<std::string>{"rel1aaaaaaaa"});
            CHECK(accounts(sandbox) == at_release_1);
            CHECK(sandbox.tables().count("invoice") == 0);
            CHECK(stored_plugins(sandbox) == 1);
        }
    }
}

TEST_CASE("releases prune removes the stored plugins a release holds", "[e2e][releases]") {
    Sandbox sandbox("sqlite", fixture_dir("release_1"));
    deploy_release_1(sandbox);
    ok(sandbox, with_release(sandbox, 3, {"converge"}));
    REQUIRE(stored_plugins(sandbox) == 3);
    auto pruned = ok(sandbox, with_release(sandbox, 3, {"releases", "prune", "2.0"}));
    CHECK_THAT(pruned.out, Contains("Removed 2 stored plugins ("));
    CHECK(sandbox.column("SELECT revision FROM migrator_version_plugins") ==
          std::vector<std::string>{"rel3cccccccc"});
    // Release 2 can still roll back release 3; release 1 can no longer roll back at all.
    auto too_old = sandbox.migrator(with_release(sandbox, 1, {"converge", "--stored-downgrades"}));
    CHECK(too_old.exit_code == 3);
    CHECK_THAT(too_old.err, Contains("do not fit the versions directory"));
    ok(sandbox, with_release(sandbox, 2, {"converge", "--stored-downgrades"}));
    CHECK(sandbox.version_rows() == std::vector<std::string>{"rel2bbbbbbbb"});
    CHECK(accounts(sandbox) == at_release_2);
}

TEST_CASE("a releases file that does not fit its plugins is refused by what reads it, and verify",
          "[e2e][releases]") {
    ScratchDir scratch;
    const fs::path versions = scratch.path() / "versions";
    fs::copy(fixture_dir("release_3"), versions);
    std::ofstream(versions / "releases.txt")
        << "1.0 rel1aaaaaaaa\n2.0 rel2bbbbbbbb\n2.1 d4d4d4d4\n";
    Sandbox sandbox("sqlite", versions);
    const std::string sentence = "release 2.1 (" + (versions / "releases.txt").string() +
                                 " line 3) names revision d4d4d4d4, which is not in the versions "
                                 "directory";
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"converge"}, {"releases"}, {"upgrade", "@2.0"}, {"stamp", "@2.0"}, {"verify"}}) {
        const auto result = sandbox.migrator(args);
        INFO(args.front());
        CHECK(result.exit_code == 3);
        CHECK(lines_of(result.err).size() == 1);
        CHECK_THAT(result.err, Contains(sentence));
    }
    CHECK_FALSE(sandbox.touched());
    // So do upgrade and downgrade (they store each plugin's release); commands that need no
    // release do not read it.
    CHECK(sandbox.migrator({"upgrade", "head"}).exit_code == 3);
    CHECK_FALSE(sandbox.touched());
    CHECK_THAT(ok(sandbox, {"history"}).out, Contains("rel2bbbbbbbb -> rel3cccccccc (head)"));
    CHECK(ok(sandbox, {"heads"}).exit_code == 0);
}

TEST_CASE("verify names the releases, and releases lists them without a database",
          "[e2e][releases]") {
    Sandbox sandbox("sqlite", fixture_dir("release_3"));
    CHECK_THAT(ok(sandbox, with_release(sandbox, 3, {"verify"})).out,
               Contains(", 3 releases (1.0 to 3.0)."));
    const auto bare =
        run_process({MIGRATOR_BIN, "--versions-dir", fixture_dir("release_3").string(), "releases"},
                    Sandbox::clean_environment(), sandbox.dir().string());
    INFO(bare.err);
    CHECK(bare.exit_code == 0);
    CHECK(lines_of(bare.out) == std::vector<std::string>{"1.0 -> rel1aaaaaaaa",
                                                         "2.0 -> rel2bbbbbbbb",
                                                         "3.0 -> rel3cccccccc (newest)"});
    CHECK_FALSE(sandbox.touched());
}
