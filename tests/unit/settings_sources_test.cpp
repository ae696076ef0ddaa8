// Tests of settings_sources: the database URL's precedence, finding the config file, and reading
// it by the rules migrator.ini has always been read by.
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <migrator/command_line/settings_sources.hpp>
#include <migrator/common/errors.hpp>
#include <optional>
#include <string>
#include <vector>

using Catch::Matchers::Contains;
using migrator::ConfigError;
using migrator::ConfigFile;
using migrator::database_url_from;
using migrator::DatabaseError;
using migrator::find_config_file;
using migrator::read_config_file;

namespace fs = std::filesystem;

namespace {

/// Sets (or, given nullptr, unsets) an environment variable for one test, restoring it after.
class ScopedVariable {
public:
    ScopedVariable(const char* name, const char* value) : name_(name) {
        if (const char* old = getenv(name)) old_ = old;
        if (value)
            setenv(name, value, 1);
        else
            unsetenv(name);
    }
    ~ScopedVariable() {
        if (old_)
            setenv(name_, old_->c_str(), 1);
        else
            unsetenv(name_);
    }
    ScopedVariable(const ScopedVariable&) = delete;
    ScopedVariable& operator=(const ScopedVariable&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

/// A fresh folder made the working directory for one test; the previous one is restored after.
class ScratchWorkingDir {
public:
    ScratchWorkingDir() : previous_(fs::current_path()) {
        std::string pattern = (fs::temp_directory_path() / "settings_sources_XXXXXX").string();
        if (!mkdtemp(pattern.data())) FAIL("cannot create a scratch folder");
        path_ = pattern;
        fs::current_path(path_);
    }
    ~ScratchWorkingDir() {
        fs::current_path(previous_);
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    ScratchWorkingDir(const ScratchWorkingDir&) = delete;
    ScratchWorkingDir& operator=(const ScratchWorkingDir&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path previous_;
    fs::path path_;
};

/// The config file holding `text`, read back.
ConfigFile read_text(const std::string& text) {
    ScratchWorkingDir dir;
    std::ofstream(dir.path() / "settings.ini") << text;
    return read_config_file("settings.ini");
}

/// The values of each line of `config`, key first, in the file's order.
std::vector<std::vector<std::string>> lines_of(const ConfigFile& config) {
    std::vector<std::vector<std::string>> lines;
    for (const auto& setting : config.settings) {
        lines.push_back({setting.key});
        lines.back().insert(lines.back().end(), setting.values.begin(), setting.values.end());
        if (!setting.top_level) lines.back().push_back("<not top level>");
    }
    return lines;
}

}  // namespace

TEST_CASE("The database URL is the flag, then the environment, then the config file",
          "[settings]") {
    ScopedVariable migrator_url("MIGRATOR_DATABASE_URL", nullptr);
    ScopedVariable sqlalchemy_url("SQLALCHEMY_DATABASE_URL", nullptr);

    SECTION("the flag wins over everything") {
        ScopedVariable set_migrator("MIGRATOR_DATABASE_URL", "sqlite:///migrator.db");
        ScopedVariable set_sqlalchemy("SQLALCHEMY_DATABASE_URL", "sqlite:///sqlalchemy.db");
        CHECK(database_url_from("sqlite:///flag.db", "sqlite:///config.db") == "sqlite:///flag.db");
    }
    SECTION("MIGRATOR_DATABASE_URL wins over SQLALCHEMY_DATABASE_URL and the config file") {
        ScopedVariable set_migrator("MIGRATOR_DATABASE_URL", "sqlite:///migrator.db");
        ScopedVariable set_sqlalchemy("SQLALCHEMY_DATABASE_URL", "sqlite:///sqlalchemy.db");
        CHECK(database_url_from("", "sqlite:///config.db") == "sqlite:///migrator.db");
    }
    SECTION("SQLALCHEMY_DATABASE_URL wins over the config file") {
        ScopedVariable set_sqlalchemy("SQLALCHEMY_DATABASE_URL", "sqlite:///sqlalchemy.db");
        CHECK(database_url_from("", "sqlite:///config.db") == "sqlite:///sqlalchemy.db");
    }
    SECTION("an empty variable counts as unset") {
        ScopedVariable set_migrator("MIGRATOR_DATABASE_URL", "");
        CHECK(database_url_from("", "sqlite:///config.db") == "sqlite:///config.db");
    }
    SECTION("the config file's url comes last") {
        CHECK(database_url_from("", "sqlite:///config.db") == "sqlite:///config.db");
    }
    SECTION("none: an error naming every way to give one") {
        CHECK_THROWS_MATCHES(
            database_url_from("", ""), DatabaseError,
            Catch::Matchers::Message(
                "no database URL given: pass --url, or set MIGRATOR_DATABASE_URL or "
                "SQLALCHEMY_DATABASE_URL (e.g. sqlite:///local.db), or put url = ... in "
                "migrator.ini"));
    }
}

TEST_CASE("The config file is the one named, then $MIGRATOR_CONFIG, then ./migrator.ini",
          "[settings]") {
    ScopedVariable config_variable("MIGRATOR_CONFIG", nullptr);
    ScratchWorkingDir dir;
    std::ofstream("other.ini") << "url = sqlite:///other.db\n";

    SECTION("no file named and no ./migrator.ini: none") { CHECK(!find_config_file("")); }
    SECTION("./migrator.ini when it exists") {
        std::ofstream("migrator.ini") << "url = sqlite:///here.db\n";
        CHECK(find_config_file("") == std::optional<std::string>("migrator.ini"));
        CHECK(find_config_file("other.ini") == std::optional<std::string>("other.ini"));
    }
    SECTION("$MIGRATOR_CONFIG before ./migrator.ini, the named file before both") {
        std::ofstream("migrator.ini") << "url = sqlite:///here.db\n";
        std::ofstream("environment.ini") << "url = sqlite:///environment.db\n";
        ScopedVariable named_by_environment("MIGRATOR_CONFIG", "environment.ini");
        CHECK(find_config_file("") == std::optional<std::string>("environment.ini"));
        CHECK(find_config_file("other.ini") == std::optional<std::string>("other.ini"));
    }
    SECTION("a named file that does not exist is an error") {
        CHECK_THROWS_MATCHES(find_config_file("missing.ini"), ConfigError,
                             Catch::Matchers::Message("config file missing.ini does not exist"));
        ScopedVariable named_by_environment("MIGRATOR_CONFIG", "gone.ini");
        CHECK_THROWS_MATCHES(find_config_file(""), ConfigError,
                             Catch::Matchers::Message("config file gone.ini does not exist"));
    }
}

TEST_CASE("The config file is read by CLI11's INI rules, as migrator.ini always was",
          "[settings]") {
    using Lines = std::vector<std::vector<std::string>>;
    SECTION("keys at the top level and under [migrator]; comments and short lines skipped") {
        const auto config = read_text(
            "; a comment\n# another\nurl = sqlite:///app.db ; where\n\n"
            "[migrator]\nversions_dir = build/versions\n[other]\nurl = x\n[default]\n"
            "migrator.version_table = v\n");
        CHECK(lines_of(config) == Lines{{"url", "sqlite:///app.db"},
                                        {"versions_dir", "build/versions"},
                                        {"url", "x", "<not top level>"},
                                        {"version_table", "v"}});
    }
    SECTION("a value is several at commas or spaces, unless quoted; a bare key is true") {
        const auto config = read_text(
            "trusted_keys = a.pub, b.pub\ntrusted_keys = \"a.pub, b.pub\"\n"
            "url = sqlite:///app.db  # not a comment\nschema_file = 'my schema.sql'\n"
            "permission_check\nlock_timeout = [1,\n 2]\n");
        CHECK(lines_of(config) == Lines{{"trusted_keys", "a.pub", "b.pub", "a.pub, b.pub"},
                                        {"url", "sqlite:///app.db", "#", "not", "a", "comment"},
                                        {"schema_file", "my schema.sql"},
                                        {"permission_check", "true"},
                                        {"lock_timeout", "1", "2"}});
    }
    SECTION("value() is the last line's; a setting of several values is no setting") {
        const auto config = read_text(
            "url = sqlite:///first.db\nscratch_url = s\n"
            "url = sqlite:///last.db\nversions_dir = a b\n");
        CHECK(config.value("url") == "sqlite:///last.db");
        CHECK(config.value("schema_file").empty());
        CHECK_THROWS_MATCHES(
            config.value("versions_dir"), ConfigError,
            Catch::Matchers::Message("config file settings.ini: 'versions_dir' is not a setting "
                                     "migrator knows (url, versions_dir, schema_file, scratch_url, "
                                     "version_table, version_table_schema, lock_timeout, "
                                     "statement_timeout, step_timeout, permission_check, "
                                     "trusted_keys, revisions_dir, models)"));
    }
    SECTION("a file that cannot be opened is an error naming it") {
        CHECK_THROWS_WITH(read_config_file("/nonexistent/migrator.ini"),
                          Contains("cannot read config file /nonexistent/migrator.ini"));
    }
}
