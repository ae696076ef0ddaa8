// End-to-end test support: a scratch folder, the real binaries, and direct looks into SQLite.
#ifndef MIGRATOR_TEST_E2E_HPP
#define MIGRATOR_TEST_E2E_HPP

#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "process.hpp"

namespace testing {

namespace fs = std::filesystem;

/// A fresh temporary folder, removed when the test ends.
class ScratchDir {
public:
    ScratchDir() {
        char name[] = "/tmp/migrator-e2e-XXXXXX";
        path_ = mkdtemp(name);
    }
    ~ScratchDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

/// The whole content of a file, empty if it does not exist.
inline std::string read_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The versions directory of a fixture scenario built by tests/fixtures/CMakeLists.txt.
inline fs::path fixture_dir(const std::string& scenario) {
    return fs::path(MIGRATOR_FIXTURES_DIR) / scenario;
}

/// The shipped example revisions, as built into build/versions/.
inline fs::path shipped_versions_dir() { return fs::path(MIGRATOR_BUILD_DIR) / "versions"; }

/// A SQLite database file in a scratch folder and the way to run migrator on it.
class SqliteSandbox {
public:
    explicit SqliteSandbox(fs::path versions_dir) : versions_dir_(std::move(versions_dir)) {}

    fs::path db_path() const { return scratch_.path() / "test.db"; }
    std::string url() const { return "sqlite:///" + db_path().string(); }
    const fs::path& dir() const { return scratch_.path(); }

    /// Runs build/bin/migrator with --url and --versions-dir set, then `args`.
    ProcessResult migrator(const std::vector<std::string>& args,
                           std::map<std::string, std::string> env = {}) const {
        std::vector<std::string> argv{MIGRATOR_BIN, "--url", url(), "--versions-dir",
                                      versions_dir_.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        // Keep the developer's own settings out of the test.
        env.emplace("MIGRATOR_DATABASE_URL", "");
        env.emplace("SQLALCHEMY_DATABASE_URL", "");
        env.emplace("MIGRATOR_VERSIONS_DIR", "");
        return run_process(argv, env, scratch_.path().string());
    }

    /// Rows of the first column of `sql`, NULL as "NULL".
    std::vector<std::string> column(const std::string& sql) const {
        SQLite::Database db(db_path().string(), SQLite::OPEN_READONLY);
        SQLite::Statement statement(db, sql);
        std::vector<std::string> values;
        while (statement.executeStep())
            values.push_back(statement.getColumn(0).isNull() ? "NULL"
                                                             : statement.getColumn(0).getString());
        return values;
    }

    /// The version rows.
    std::vector<std::string> version_rows(const std::string& table = "migrator_version") const {
        return column("SELECT version_num FROM " + table + " ORDER BY version_num");
    }

    /// The application's schema: every table and index definition, migrator's own excluded.
    std::set<std::string> schema() const {
        const auto rows = column(
            "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master "
            "WHERE name NOT LIKE 'migrator_version%' AND name NOT LIKE 'sqlite_%'");
        return {rows.begin(), rows.end()};
    }

    /// Names of tables, migrator's own excluded.
    std::set<std::string> tables() const {
        const auto rows = column(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
            "'migrator_version%' AND name NOT LIKE 'sqlite_%'");
        return {rows.begin(), rows.end()};
    }

private:
    ScratchDir scratch_;
    fs::path versions_dir_;
};

}  // namespace testing

#endif  // MIGRATOR_TEST_E2E_HPP
