// End to end: output a program can parse (--json), settings from a config file, colours only on a
// terminal and never with NO_COLOR, quiet runs, and Alembic's `revision` spelling.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>

#include "e2e.hpp"

using namespace testing;
using Catch::Matchers::Contains;
namespace json = boost::json;

namespace {

json::object parse_object(const std::string& text) {
    INFO(text);
    return json::parse(text).as_object();
}

std::vector<std::string> ids_of(const json::value& revisions) {
    std::vector<std::string> ids;
    for (const auto& revision : revisions.as_array())
        ids.emplace_back(revision.at("id").as_string().c_str());
    return ids;
}

}  // namespace

TEST_CASE("every read command prints JSON with --json", "[e2e][output]") {
    Sandbox sandbox("sqlite", fixture_dir("branched"));
    REQUIRE(sandbox.migrator({"upgrade", "d1"}).exit_code == 0);

    const auto history = parse_object(sandbox.migrator({"history", "--json", "-i"}).out);
    const auto& revisions = history.at("revisions");
    CHECK(ids_of(revisions).size() == 6);
    CHECK(ids_of(revisions).back() == "a");  // newest first, as the text form
    for (const auto& value : revisions.as_array()) {
        const auto& revision = value.as_object();
        const std::string id = revision.at("id").as_string().c_str();
        CHECK(revision.at("is_current").as_bool() == (id == "d1"));
        CHECK(revision.at("is_head").as_bool() == (id == "d1" || id == "d2"));
        CHECK(revision.at("is_branch_point").as_bool() == (id == "b"));
        CHECK(revision.at("source_sha256").as_string().size() == 64);
        if (id == "c1") {
            CHECK(revision.at("parents").as_array().at(0).as_string() == "b");
            CHECK(revision.at("branch_labels").as_array().at(0).as_string() == "c1branch");
            CHECK(revision.at("message").as_string() == "branched c1");
        }
    }

    const auto current = parse_object(sandbox.migrator({"current", "--json"}).out);
    CHECK(ids_of(current.at("current")) == std::vector<std::string>{"d1"});
    CHECK(current.at("at_heads").as_bool() == false);
    CHECK(current.at("database").as_string() == sandbox.url());

    const auto heads = parse_object(sandbox.migrator({"heads", "--json"}).out);
    CHECK(ids_of(heads.at("heads")) == std::vector<std::string>{"d1", "d2"});

    const auto branches = parse_object(sandbox.migrator({"branches", "--json"}).out);
    const auto& points = branches.at("branch_points").as_array();
    REQUIRE(points.size() == 1);
    CHECK(points.at(0).at("id").as_string() == "b");
    CHECK(points.at(0).at("children").as_array().size() == 2);

    const auto show = parse_object(sandbox.migrator({"show", "c2", "--json"}).out);
    CHECK(ids_of(show.at("revisions")) == std::vector<std::string>{"c2"});
}

TEST_CASE("settings come from the flag, then the environment, then the config file",
          "[e2e][output]") {
    ScratchDir dir;
    const auto versions = shipped_versions_dir().string();
    const auto config = dir.path() / "migrator.ini";
    std::ofstream(config) << "# deployment settings\n"
                          << "url = sqlite:///from_config.db\n"
                          << "versions_dir = " << versions << "\n"
                          << "version_table = config_version\n";
    const auto migrator = [&](std::vector<std::string> args,
                              std::map<std::string, std::string> env = {}) {
        args.insert(args.begin(), MIGRATOR_BIN);
        for (const auto& [name, value] : Sandbox::clean_environment()) env.emplace(name, value);
        env.emplace("MIGRATOR_CONFIG", "");
        return run_process(args, env, dir.path().string());
    };

    SECTION("the config file alone") {
        REQUIRE(migrator({"upgrade", "+1"}).exit_code == 0);
        CHECK(fs::exists(dir.path() / "from_config.db"));
        CHECK(migrator({"current"}).out == "1975ea83b712\n");
    }
    SECTION("the environment beats the config file, the flag beats both") {
        REQUIRE(migrator({"upgrade", "+1"}, {{"SQLALCHEMY_DATABASE_URL", "sqlite:///from_env.db"}})
                    .exit_code == 0);
        CHECK(fs::exists(dir.path() / "from_env.db"));
        CHECK_FALSE(fs::exists(dir.path() / "from_config.db"));
        REQUIRE(migrator({"--url", "sqlite:///from_flag.db", "upgrade", "+1"},
                         {{"MIGRATOR_DATABASE_URL", "sqlite:///from_env.db"}})
                    .exit_code == 0);
        CHECK(fs::exists(dir.path() / "from_flag.db"));
    }
    SECTION("a flag beats the config file's version table") {
        REQUIRE(migrator({"--version-table", "flag_version", "upgrade", "+1"}).exit_code == 0);
        CHECK(migrator({"--version-table", "flag_version", "current"}).out == "1975ea83b712\n");
        CHECK(migrator({"current"}).out.empty());  // config_version is still empty
    }
    SECTION("--config and MIGRATOR_CONFIG name another file; a bad one is a usage error") {
        const auto other = dir.path() / "other.ini";
        std::ofstream(other) << "[migrator]\nurl = sqlite:///other.db\nversions_dir = " << versions
                             << "\n";
        REQUIRE(migrator({"--config", other.string(), "upgrade", "+1"}).exit_code == 0);
        CHECK(fs::exists(dir.path() / "other.db"));
        REQUIRE(migrator({"current"}, {{"MIGRATOR_CONFIG", other.string()}}).out ==
                "1975ea83b712\n");
        std::ofstream(dir.path() / "bad.ini") << "colour = yes\n";
        const auto bad = migrator({"--config", "bad.ini", "history"});
        CHECK(bad.exit_code == 2);
        CHECK_THAT(bad.err, Contains("bad.ini"));
        CHECK_THAT(bad.err, Contains("colour"));
        CHECK(migrator({"--config", "missing.ini", "history"}).exit_code == 2);
    }
}

TEST_CASE("colours appear only on a terminal, and never with NO_COLOR", "[e2e][output]") {
    Sandbox sandbox("sqlite", shipped_versions_dir());
    // script(1) gives the command a pseudo-terminal.
    const auto on_terminal = [&](std::map<std::string, std::string> env) {
        std::string command;
        for (const auto& arg : sandbox.migrator_command({"upgrade", "+1"})) command += arg + " ";
        for (const auto& [name, value] : Sandbox::clean_environment()) env.emplace(name, value);
        env.emplace("TERM", "xterm");
        return run_process({"/usr/bin/script", "-qec", command, "/dev/null"}, env);
    };
    const auto coloured = on_terminal({{"NO_COLOR", ""}});
    REQUIRE(coloured.exit_code == 0);
    CHECK_THAT(coloured.out, Contains("\033["));
    REQUIRE(sandbox.migrator({"downgrade", "base"}).exit_code == 0);
    const auto plain = on_terminal({{"NO_COLOR", "1"}});
    REQUIRE(plain.exit_code == 0);
    CHECK_THAT(plain.out, Contains("Running upgrade"));
    CHECK_THAT(plain.out, !Contains("\033["));
    REQUIRE(sandbox.migrator({"downgrade", "base"}).exit_code == 0);
    CHECK_THAT(sandbox.migrator({"upgrade", "+1"}).out, !Contains("\033["));  // not a terminal
}

TEST_CASE("a quiet run (-q) prints nothing but errors", "[e2e][output]") {
    Sandbox sandbox("sqlite", shipped_versions_dir());
    const auto quiet = sandbox.migrator({"-q", "upgrade", "head"});
    CHECK(quiet.exit_code == 0);
    CHECK(quiet.out.empty());
    CHECK(sandbox.version_rows() == std::vector<std::string>{"ae1027a6acf2"});
    const auto failing = sandbox.migrator({"-q", "upgrade", "nonexistent"});
    CHECK(failing.exit_code == 3);
    CHECK_FALSE(failing.err.empty());
}

TEST_CASE("migrator revision -m is scaffold new", "[e2e][output]") {
    ScratchDir dir;
    fs::create_directories(dir.path() / "revisions");
    const auto created =
        run_process({MIGRATOR_BIN, "revision", "-m", "create account", "--rev-id", "abcdef012345"},
                    {}, dir.path().string());
    REQUIRE(created.exit_code == 0);
    CHECK(fs::exists(dir.path() / "revisions" / "abcdef012345_create_account" /
                     "abcdef012345_create_account.cpp"));
}

TEST_CASE("control characters a plugin provides are printed escaped, and exactly in JSON",
          "[e2e][output]") {
    Sandbox sandbox("sqlite", fixture_dir("escapes"));
    const std::string raw = "add tag\x1b[2J\rOK: all revisions verified";
    const std::string escaped = "add tag\\x1b[2J\\rOK: all revisions verified";
    const auto printable = [](const ProcessResult& result) {
        INFO(result.out << result.err);
        for (const std::string* text : {&result.out, &result.err}) {
            CHECK(text->find('\x1b') == std::string::npos);
            CHECK(text->find('\r') == std::string::npos);
            CHECK(text->find('\x7f') == std::string::npos);
            CHECK(text->find('\x07') == std::string::npos);
        }
    };

    SECTION("upgrade's progress line and the revision's log line") {
        const auto result = sandbox.migrator({"upgrade", "head"});
        CHECK(result.exit_code == 0);
        CHECK_THAT(result.out, Contains("[2/2] Running upgrade a1a1a1a1a1a1 -> e2e2e2e2e2e2, " +
                                        escaped + "\n      tagged\\x1b]0;owned\\x07\\r\n"));
        printable(result);
    }
    SECTION("the error line of the revision that fails") {
        const auto result = sandbox.migrator({"upgrade", "head"}, {{"MIGRATOR_TEST_FAIL", "1"}});
        CHECK(result.exit_code == 1);
        CHECK_THAT(result.err,
                   Contains("upgrade of revision e2e2e2e2e2e2 (" + escaped +
                            ") failed: tag failed\\x1b[1A\\r\\x7f; it was rolled back"));
        CHECK(lines_of(result.err).size() == 1);
        printable(result);
    }
    SECTION("history, show, heads and current") {
        REQUIRE(sandbox.migrator({"upgrade", "head"}).exit_code == 0);
        const std::vector<std::vector<std::string>> with_message{
            {"history"},      {"history", "-v"}, {"history", "-i"},
            {"show", "e2e2"}, {"heads", "-v"},   {"current", "-v"}};
        for (const auto& command : with_message) {
            const auto result = sandbox.migrator(command);
            INFO(command.front());
            CHECK(result.exit_code == 0);
            CHECK_THAT(result.out, Contains(escaped));
            printable(result);
        }
    }
    SECTION("JSON carries the message exactly") {
        const auto document = parse_object(sandbox.migrator({"--json", "show", "e2e2"}).out);
        CHECK(document.at("revisions").as_array().at(0).at("message").as_string() == raw);
    }
}
