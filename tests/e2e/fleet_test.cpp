// End to end: one command on a fleet of targets (--targets, --target-schemas): every target runs
// in a worker of its own, a failing or crashing one does not stop the others, plugins are loaded
// once, the report masks passwords, and a re-run does only what is left.
#include <SQLiteCpp/SQLiteCpp.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

/// `count` SQLite tenant files in `dir` (not created yet), and a targets file listing them.
struct SqliteTenants {
    SqliteTenants(const fs::path& dir, int count) : targets(dir / "targets.txt") {
        std::ofstream out(targets);
        out << "# one database a line\n\n";
        for (int i = 1; i <= count; ++i) {
            files.push_back(dir / ("tenant-" + std::to_string(i) + ".db"));
            out << "sqlite:///" << files.back().string() << "\n";
        }
    }
    fs::path targets;
    std::vector<fs::path> files;
};

/// The version rows of a SQLite file ("missing" when the file does not exist).
std::vector<std::string> sqlite_versions(const fs::path& file) {
    if (!fs::exists(file)) return {"missing"};
    SQLite::Database db(file.string(), SQLite::OPEN_READONLY);
    std::vector<std::string> rows;
    if (!db.tableExists("migrator_version")) return rows;
    SQLite::Statement query(db, "SELECT version_num FROM migrator_version ORDER BY 1");
    while (query.executeStep()) rows.push_back(query.getColumn(0).getString());
    return rows;
}

/// The line of the report that names `file`.
std::string line_naming(const std::string& out, const fs::path& file) {
    for (const auto& line : lines_of(out))
        if (line.find(file.string() + ":") != std::string::npos) return line;
    return "(no line names " + file.string() + ")";
}

/// The --json objects of a fleet's output, by "target" (masked URL, and schema when there is
/// one), and the summary under "summary".
std::map<std::string, boost::json::object> json_targets(const std::string& out) {
    std::map<std::string, boost::json::object> objects;
    for (const auto& line : lines_of(out)) {
        auto object = boost::json::parse(line).as_object();
        if (object.at("event") == "summary") {
            objects["summary"] = object;
            continue;
        }
        std::string key = object.at("target").as_string().c_str();
        if (object.at("schema").is_string())
            key += " schema " + std::string(object.at("schema").as_string().c_str());
        objects[key] = object;
    }
    return objects;
}

}  // namespace

TEST_CASE("a fleet of SQLite databases reaches head with a line per target and a summary",
          "[e2e][fleet]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    SqliteTenants tenants(sandbox.dir(), 6);
    const auto log = sandbox.dir() / "loads.log";
    const std::map<std::string, std::string> env{{"MIGRATOR_TEST_LOAD_LOG", log.string()}};

    const auto upgrade = sandbox.migrator(
        {"--targets", tenants.targets.string(), "--jobs", "3", "upgrade", "head"}, env);
    INFO(upgrade.out << upgrade.err);
    REQUIRE(upgrade.exit_code == 0);
    for (const auto& file : tenants.files) {
        CHECK_THAT(line_naming(upgrade.out, file),
                   StartsWith("ok     sqlite:///" + file.string() +
                              ": base -> c3c3c3c3c3c3 (head), 3 steps in "));
        CHECK(sqlite_versions(file) == std::vector<std::string>{"c3c3c3c3c3c3"});
    }
    CHECK_THAT(upgrade.out, Contains("upgrade on 6 targets in "));
    CHECK_THAT(upgrade.out,
               Contains("(3 jobs):\n       6  ok\n       0  failed\n       0  not run\n"
                        "Positions:\n       6  c3c3c3c3c3c3 (head)\n"));
    // The plugins were loaded once for the six databases, by the process that forked the workers.
    CHECK(lines_of(read_file(log)) ==
          std::vector<std::string>{"a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3"});

    // A re-run does only what is left: nothing.
    const auto again = sandbox.migrator({"--targets", tenants.targets.string(), "upgrade", "head"});
    REQUIRE(again.exit_code == 0);
    CHECK_THAT(line_naming(again.out, tenants.files[0]),
               Contains(": already at c3c3c3c3c3c3 (head), 0 steps in "));

    // stamp, current and check take the same targets.
    const auto stamp =
        sandbox.migrator({"--targets", tenants.targets.string(), "stamp", "b2b2b2b2b2b2"});
    REQUIRE(stamp.exit_code == 0);
    CHECK_THAT(line_naming(stamp.out, tenants.files[5]),
               Contains(": c3c3c3c3c3c3 (head) -> b2b2b2b2b2b2 in "));
    const auto current = sandbox.migrator({"--targets", tenants.targets.string(), "current"});
    REQUIRE(current.exit_code == 0);
    CHECK_THAT(line_naming(current.out, tenants.files[2]), Contains(": at b2b2b2b2b2b2 in "));
    CHECK_THAT(current.out, Contains("Positions:\n       6  b2b2b2b2b2b2\n"));
    const auto check = sandbox.migrator({"--targets", tenants.targets.string(), "check"});
    CHECK(check.exit_code == 11);
    CHECK_THAT(line_naming(check.out, tenants.files[1]),
               Contains("FAILED sqlite:///" + tenants.files[1].string() + ": at b2b2b2b2b2b2 in "));
    CHECK_THAT(line_naming(check.out, tenants.files[1]),
               Contains("not at the head revision(s) c3c3c3c3c3c3 (head)"));
    CHECK_THAT(check.err, Contains("error: 6 of 6 targets failed; running the same command again "
                                   "does only what is left"));
    const auto pending =
        sandbox.migrator({"--targets", tenants.targets.string(), "check", "--allow-pending"});
    CHECK(pending.exit_code == 0);
}

TEST_CASE("a failing target does not stop the others unless --fail-fast; a re-run finishes",
          "[e2e][fleet]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    SqliteTenants tenants(sandbox.dir(), 4);
    // a1 creates table item: on tenant 2 it exists already, so a1 fails there.
    SQLite::Database(tenants.files[1].string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE)
        .exec("CREATE TABLE item (x INTEGER)");

    const auto run =
        sandbox.migrator({"--targets", tenants.targets.string(), "-j", "2", "upgrade", "head"});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 11);
    for (const std::size_t i : {0, 2, 3})
        CHECK(sqlite_versions(tenants.files[i]) == std::vector<std::string>{"c3c3c3c3c3c3"});
    CHECK(sqlite_versions(tenants.files[1]).empty());
    const std::string failed = line_naming(run.out, tenants.files[1]);
    CHECK_THAT(failed, StartsWith("FAILED sqlite:///" + tenants.files[1].string() +
                                  ": at base, 0 steps in "));
    CHECK_THAT(failed, Contains("upgrade of revision a1a1a1a1a1a1 (create item) failed: table item "
                                "already exists"));
    CHECK_THAT(run.out, Contains("       3  ok\n       1  failed\n       0  not run\n"));
    CHECK_THAT(run.out, Contains("Failed:\n  sqlite:///" + tenants.files[1].string() +
                                 ": upgrade of revision a1a1a1a1a1a1"));
    CHECK_THAT(run.err, Contains("error: 1 of 4 targets failed"));

    // --json: one object per target, then the summary.
    const auto json = sandbox.migrator(
        {"--targets", tenants.targets.string(), "--json", "downgrade", "b2b2b2b2b2b2"});
    CHECK(json.exit_code == 11);
    const auto objects = json_targets(json.out);
    REQUIRE(objects.size() == 5);
    const auto& broken = objects.at("sqlite:///" + tenants.files[1].string());
    CHECK(broken.at("status") == "failed");
    CHECK(broken.at("exit_status") == 3);
    CHECK_THAT(std::string(broken.at("error").as_string().c_str()), Contains("b2b2b2b2b2b2"));
    const auto& first = objects.at("sqlite:///" + tenants.files[0].string());
    CHECK(first.at("status") == "ok");
    CHECK(first.at("from") == boost::json::array{"c3c3c3c3c3c3"});
    CHECK(first.at("to") == boost::json::array{"b2b2b2b2b2b2"});
    CHECK(first.at("steps") == 1);
    CHECK(objects.at("summary").at("ok") == 3);
    CHECK(objects.at("summary").at("failed") == 1);

    // --fail-fast with one job: nothing starts after the failure.
    fs::create_directories(sandbox.dir() / "fresh");
    {
        std::ofstream out(sandbox.dir() / "fresh" / "targets.txt");
        out << "sqlite:///" << tenants.files[1].string() << "\n";
        for (int i = 1; i <= 3; ++i)
            out << "sqlite:///"
                << (sandbox.dir() / "fresh" / ("t" + std::to_string(i) + ".db")).string() << "\n";
    }
    const auto targets = (sandbox.dir() / "fresh" / "targets.txt").string();
    const auto fast = sandbox.migrator(
        {"--targets", targets, "-j", "1", "--fail-fast", "--json", "upgrade", "head"});
    CHECK(fast.exit_code == 11);
    const auto fast_objects = json_targets(fast.out);
    CHECK(fast_objects.at("summary").at("failed") == 1);
    CHECK(fast_objects.at("summary").at("not_run") == 3);
    for (int i = 1; i <= 3; ++i) {
        const auto file = sandbox.dir() / "fresh" / ("t" + std::to_string(i) + ".db");
        CHECK(fast_objects.at("sqlite:///" + file.string()).at("status") == "not_run");
        CHECK_FALSE(fs::exists(file));
    }
    CHECK_THAT(fast.err, Contains("1 of 4 targets failed and 3 were not run (--fail-fast)"));

    // Repaired, the same command finishes what is left.
    SQLite::Database(tenants.files[1].string(), SQLite::OPEN_READWRITE).exec("DROP TABLE item");
    const auto finish = sandbox.migrator({"--targets", targets, "upgrade", "head"});
    INFO(finish.out << finish.err);
    CHECK(finish.exit_code == 0);
    CHECK(sqlite_versions(tenants.files[1]) == std::vector<std::string>{"c3c3c3c3c3c3"});
    CHECK(sqlite_versions(sandbox.dir() / "fresh" / "t3.db") ==
          std::vector<std::string>{"c3c3c3c3c3c3"});
}

TEST_CASE("a worker that crashes fails its own target, and the fleet reports every target",
          "[e2e][fleet]") {
    Sandbox sandbox("sqlite", fixture_dir("segfaults"));
    SqliteTenants tenants(sandbox.dir(), 3);
    const auto run = sandbox.migrator({"--targets", tenants.targets.string(), "upgrade", "head"});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 11);
    for (const auto& file : tenants.files) {
        const std::string line = line_naming(run.out, file);
        CHECK_THAT(line, StartsWith("FAILED sqlite:///" + file.string()));
        CHECK_THAT(line, Contains("SIGSEGV"));
        // a1 was committed before the crash; the crashing step was not.
        CHECK(sqlite_versions(file) == std::vector<std::string>{"a1a1a1a1a1a1"});
    }
    CHECK_THAT(run.out, Contains("       0  ok\n       3  failed\n"));
    const auto fixed = sandbox.migrator({"--targets", tenants.targets.string(), "upgrade", "head"},
                                        {{"MIGRATOR_TEST_BEHAVE", "1"}});
    CHECK(fixed.exit_code == 0);
    CHECK_THAT(line_naming(fixed.out, tenants.files[0]), Contains("a1a1a1a1a1a1 -> "));
}

TEST_CASE("targets are checked before any target runs", "[e2e][fleet]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    const auto file = sandbox.dir() / "targets.txt";
    const auto first = sandbox.dir() / "first.db";
    const auto write = [&](const std::string& text) { std::ofstream(file) << text; };
    const auto run = [&](const std::vector<std::string>& args) {
        std::vector<std::string> all{"--targets", file.string()};
        all.insert(all.end(), args.begin(), args.end());
        return sandbox.migrator(all);
    };

    write("sqlite:///" + first.string() + "\n# a comment\npostgresql://app:s3cret@db:70000/app\n");
    auto result = run({"upgrade", "head"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("error: targets file " + file.string() +
                                    ", line 3: port 70000 "
                                    "in database URL postgresql://app:***@db:70000/app"));
    CHECK_THAT(result.out + result.err, !Contains("s3cret"));
    CHECK_FALSE(fs::exists(first));

    write("sqlite:///" + first.string() + "\nsqlite:///" + first.string() + "\n");
    result = run({"current"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err,
               Contains("line 2: sqlite:///" + first.string() + " is already listed on line 1"));

    write("# nothing\n\n");
    result = run({"upgrade", "head"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("lists no database URL"));

    write("sqlite:///" + first.string() + "\n");
    result = run({"history"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("not available for 'history'"));
    result = run({"upgrade", "head", "--sql"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("--sql writes one script for one database"));
    result = run({"upgrade", "nosuchrevision"});
    CHECK(result.exit_code == 3);
    CHECK_FALSE(fs::exists(first));
    result = sandbox.migrator({"--target-schemas", "tenant_*", "current"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("--target-schemas names PostgreSQL schemas, but sqlite:///"));
    result = sandbox.migrator({"--jobs", "4", "upgrade", "head"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("--jobs and --fail-fast are for a fleet of targets"));
    result = sandbox.migrator({"--targets", (sandbox.dir() / "missing.txt").string(), "current"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("missing.txt cannot be read"));
}

TEST_CASE("SIGTERM to a fleet reaches its workers, starts no other target, and a re-run finishes",
          "[e2e][fleet]") {
    Sandbox sandbox("sqlite", fixture_dir("slow"));
    SqliteTenants tenants(sandbox.dir(), 4);
    const auto step_log = sandbox.dir() / "steps.log";
    auto env = Sandbox::clean_environment();
    env["MIGRATOR_TEST_STEP_LOG"] = step_log.string();
    env["MIGRATOR_TEST_SLEEP_SECONDS"] = "20";
    BackgroundProcess fleet(sandbox.migrator_command({"--targets", tenants.targets.string(), "-j",
                                                      "2", "upgrade", "head"}),
                            env, sandbox.dir().string());
    for (int i = 0; i < 600 && count_of(read_file(step_log), "s2 started") < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(count_of(read_file(step_log), "s2 started") == 2);
    fleet.send_signal(SIGTERM);
    const auto result = fleet.wait();
    INFO(result.out << result.err);
    CHECK(result.exit_code == 128 + SIGTERM);
    CHECK_THAT(result.out, Contains("       0  ok\n       2  failed\n       2  not run\n"));
    CHECK_THAT(result.err, Contains("error: migrator was interrupted (SIGTERM): 2 of 4 targets "
                                    "were not run; run the same command again to finish them"));
    // The two running steps were rolled back; the two other databases were never opened.
    CHECK(sqlite_versions(tenants.files[0]) == std::vector<std::string>{"a1a1a1a1a1a1"});
    CHECK(sqlite_versions(tenants.files[1]) == std::vector<std::string>{"a1a1a1a1a1a1"});
    CHECK(sqlite_versions(tenants.files[2]) == std::vector<std::string>{"missing"});

    env["MIGRATOR_TEST_SLEEP_SECONDS"] = "0";
    const auto again = run_process(
        sandbox.migrator_command({"--targets", tenants.targets.string(), "upgrade", "head"}), env,
        sandbox.dir().string());
    CHECK(again.exit_code == 0);
    for (const auto& file : tenants.files)
        CHECK(sqlite_versions(file) == std::vector<std::string>{"5105105105aa"});
}

TEST_CASE("a fleet of PostgreSQL databases, directly and through PgBouncer, passwords masked",
          "[e2e][fleet][postgresql][pooler]") {
    std::vector<std::unique_ptr<Sandbox>> databases;
    for (int i = 0; i < 3; ++i)
        databases.push_back(std::make_unique<Sandbox>("postgresql", fixture_dir("chain")));
    const auto file = databases[0]->dir() / "targets.txt";
    {
        std::ofstream out(file);
        // The first directly, the others through PgBouncer in transaction pooling mode.
        out << databases[0]->url() << "\n"
            << databases[1]->pooled_url() << "\n"
            << databases[2]->pooled_url() << "\n";
    }
    const auto upgrade =
        databases[0]->migrator({"--targets", file.string(), "-j", "3", "upgrade", "head"});
    INFO(upgrade.out << upgrade.err);
    REQUIRE(upgrade.exit_code == 0);
    for (const auto& database : databases) {
        CHECK(database->version_rows() == std::vector<std::string>{"c3c3c3c3c3c3"});
        CHECK(database->tables() == std::set<std::string>{"item"});
    }
    // postgresql://user:PASSWORD@host...: the test cluster always has one.
    const std::string& url = databases[0]->url();
    const auto colon = url.find(':', url.find("://") + 3);
    const std::string password = url.substr(colon + 1, url.find('@') - colon - 1);
    REQUIRE(password.size() >= 8);
    CHECK_THAT(upgrade.out, Contains(":***@"));
    CHECK_THAT(upgrade.out + upgrade.err, !Contains(password));
    CHECK_THAT(upgrade.out, Contains("       3  ok\n"));

    const auto current = databases[0]->migrator({"--targets", file.string(), "--json", "current"});
    REQUIRE(current.exit_code == 0);
    const auto objects = json_targets(current.out);
    CHECK(objects.size() == 4);
    for (const auto& [name, object] : objects)
        if (name != "summary") CHECK(object.at("to") == boost::json::array{"c3c3c3c3c3c3"});
}

TEST_CASE("PostgreSQL schemas as targets, directly and through PgBouncer",
          "[e2e][fleet][postgresql][pooler]") {
    Sandbox sandbox("postgresql", fixture_dir("chain"));
    sandbox.execute_script("CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b; CREATE SCHEMA other;");
    const auto items = [&] {
        return sandbox.column(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'item' ORDER "
            "BY 1");
    };
    const auto versions = [&](const std::string& schema) {
        return sandbox.column("SELECT version_num FROM " + schema + ".migrator_version");
    };

    const auto upgrade =
        sandbox.migrator({"--target-schemas", "tenant_*", "-j", "2", "upgrade", "head"});
    INFO(upgrade.out << upgrade.err);
    REQUIRE(upgrade.exit_code == 0);
    CHECK(items() == std::vector<std::string>{"tenant_a", "tenant_b"});
    CHECK(versions("tenant_a") == std::vector<std::string>{"c3c3c3c3c3c3"});
    CHECK(versions("tenant_b") == std::vector<std::string>{"c3c3c3c3c3c3"});
    CHECK_THAT(upgrade.out, Contains(" schema tenant_a: base -> c3c3c3c3c3c3 (head), 3 steps in "));

    // A plain name is a target whether it exists or not: the upgrade creates it.
    const auto more =
        sandbox.migrator({"--target-schemas", "tenant_*,tenant_new", "upgrade", "head"});
    REQUIRE(more.exit_code == 0);
    CHECK(items() == std::vector<std::string>{"tenant_a", "tenant_b", "tenant_new"});
    CHECK_THAT(more.out, Contains(" schema tenant_a: already at c3c3c3c3c3c3 (head), 0 steps"));

    // Through PgBouncer in transaction pooling mode, where no session setting survives a
    // transaction, each step still runs in its target's schema.
    const auto pooled = [&](const std::vector<std::string>& args) {
        return run_process(sandbox.migrator_command(args, sandbox.pooled_url()),
                           Sandbox::clean_environment(), sandbox.dir().string());
    };
    const auto down =
        pooled({"--target-schemas", "tenant_*", "-j", "3", "downgrade", "a1a1a1a1a1a1"});
    INFO(down.out << down.err);
    REQUIRE(down.exit_code == 0);
    for (const auto* schema : {"tenant_a", "tenant_b", "tenant_new"}) {
        CHECK(versions(schema) == std::vector<std::string>{"a1a1a1a1a1a1"});
        CHECK(sandbox.column("SELECT count(*) FROM information_schema.columns WHERE "
                             "table_schema = '" +
                             std::string(schema) + "' AND column_name = 'price'") ==
              std::vector<std::string>{"0"});
    }
    const auto up = pooled({"--target-schemas", "tenant_*", "-j", "3", "upgrade", "head"});
    REQUIRE(up.exit_code == 0);
    for (const auto* schema : {"tenant_a", "tenant_b", "tenant_new"})
        CHECK(versions(schema) == std::vector<std::string>{"c3c3c3c3c3c3"});
    // Nothing leaked into the other schemas.
    CHECK(items() == std::vector<std::string>{"tenant_a", "tenant_b", "tenant_new"});
    CHECK(sandbox.column("SELECT count(*) FROM information_schema.tables WHERE table_schema IN "
                         "('public', 'other')") == std::vector<std::string>{"0"});

    const auto none = sandbox.migrator({"--target-schemas", "nobody_*", "current"});
    CHECK(none.exit_code == 2);
    CHECK_THAT(none.err, Contains("--target-schemas nobody_* matches no schema of "));
}

TEST_CASE("on a terminal, a fleet shows how many targets are done", "[e2e][fleet]") {
    Sandbox sandbox("sqlite", fixture_dir("chain"));
    SqliteTenants tenants(sandbox.dir(), 3);
    // script(1) (util-linux, essential in Debian) gives migrator a terminal.
    std::string command;
    for (const auto& arg : sandbox.migrator_command(
             {"--targets", tenants.targets.string(), "-j", "1", "upgrade", "head"}))
        command += "'" + arg + "' ";
    const auto result = run_process({"/usr/bin/script", "-qec", command, "/dev/null"},
                                    Sandbox::clean_environment(), sandbox.dir().string());
    INFO(result.out << result.err);
    CHECK(result.exit_code == 0);
    for (const char* done : {"[0/3] targets done, 1 running", "[1/3] targets done, 1 running",
                             "[2/3] targets done, 1 running"})
        CHECK_THAT(result.out, Contains(done));
    // The progress line is erased before each target's line.
    CHECK(count_of(result.out, "\r\033[K") >= 6);
    CHECK(sqlite_versions(tenants.files[2]) == std::vector<std::string>{"c3c3c3c3c3c3"});
}

TEST_CASE("a target that outlives --step-timeout fails alone; its worker is replaced",
          "[e2e][fleet]") {
    Sandbox sandbox("sqlite", fixture_dir("hangs_in_cpp"));
    SqliteTenants tenants(sandbox.dir(), 3);
    const auto run = sandbox.migrator({"--targets", tenants.targets.string(), "-j", "1",
                                       "--step-timeout", "0.5", "--json", "upgrade", "head"});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 11);
    const auto objects = json_targets(run.out);
    REQUIRE(objects.size() == 4);
    for (const auto& file : tenants.files) {
        const auto& object = objects.at("sqlite:///" + file.string());
        CHECK(object.at("status") == "failed");
        CHECK(object.at("exit_status") == 10);
        CHECK_THAT(std::string(object.at("error").as_string().c_str()), Contains("h2h2h2h2h2h2"));
        // a1 committed; the hanging step did not.
        CHECK(sqlite_versions(file) == std::vector<std::string>{"a1a1a1a1a1a1"});
    }
    CHECK(objects.at("summary").at("failed") == 3);
}

TEST_CASE("a fleet names a hot standby among its targets and runs the others",
          "[e2e][fleet][postgresql][replica]") {
    Sandbox primary("postgresql", fixture_dir("chain"));
    Sandbox other("postgresql", fixture_dir("chain"));
    primary.wait_for_standby();
    const auto file = primary.dir() / "targets.txt";
    std::ofstream(file) << primary.standby_url() << "\n" << other.url() << "\n";
    const auto run = primary.migrator({"--targets", file.string(), "upgrade", "head"});
    INFO(run.out << run.err);
    CHECK(run.exit_code == 11);
    CHECK(other.version_rows() == std::vector<std::string>{"c3c3c3c3c3c3"});
    CHECK_FALSE(primary.touched());
    CHECK_THAT(run.out, Contains("is a hot standby (a read-only replica in recovery): upgrade "
                                 "cannot write there; run it against the primary"));
    CHECK_THAT(run.out, Contains("       1  ok\n       1  failed\n"));
    // The read commands run on it like on any target.
    const auto current = primary.migrator({"--targets", file.string(), "current"});
    CHECK(current.exit_code == 0);
    CHECK_THAT(current.out, Contains("       2  ok\n"));
}
