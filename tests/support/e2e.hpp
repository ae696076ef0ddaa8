// End-to-end test support: scratch folders, the real binaries, and a database per test on
// SQLite or PostgreSQL, looked into directly.
#ifndef MIGRATOR_TEST_E2E_HPP
#define MIGRATOR_TEST_E2E_HPP

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "process.hpp"

namespace testing {

namespace fs = std::filesystem;

class ScratchDatabase;

/// A fresh temporary folder, removed when the test ends.
class ScratchDir {
public:
    ScratchDir();
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

/// The whole content of a file, empty if it does not exist.
std::string read_file(const fs::path& file);

/// Replaces the first occurrence of `from` in `file` with `to`; throws if `from` is not there.
void replace_in_file(const fs::path& file, const std::string& from, const std::string& to);

/// The text of tests/e2e/expected/<name>; throws if it is missing or empty.
std::string expected_file(const std::string& name);

/// `script` with every SHA-256 (the fixture sources' checksums) replaced by "<sha256>", so an
/// offline script compares with an expected file.
std::string without_checksums(const std::string& script);

/// The "kind" of each entry of the array `list` of a JSON document, in order: what `check --json`
/// found ("problems", "warnings", "schema_differences").
std::vector<std::string> json_kinds(const std::string& json, const std::string& list);

/// The versions directory of a fixture scenario built by tests/fixtures/CMakeLists.txt.
fs::path fixture_dir(const std::string& scenario);

/// The shipped example revisions, as built into build/versions/.
fs::path shipped_versions_dir();

/// The schema the shipped revisions build, as one would declare it in `backend`'s dialect (a
/// schema.sql that check --schema finds matching a database at head).
std::string shipped_schema(const std::string& backend);

/// The lines of `out` that start with "difference: " (check --schema), without that prefix.
std::vector<std::string> differences(const std::string& out);

/// The backends every backend-independent end-to-end test runs on.
inline std::vector<std::string> all_backends() { return {"sqlite", "postgresql"}; }

/// One empty database of the given backend ("sqlite": a file in a scratch folder; "postgresql":
/// a database created on the server named by $MIGRATOR_TEST_POSTGRES_URL, dropped afterwards),
/// and the way to run migrator on it. Throws when PostgreSQL is asked for and that variable is
/// not set: such a test fails, it is never skipped.
class Sandbox {
public:
    Sandbox(std::string backend, fs::path versions_dir);
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    const std::string& backend() const { return backend_; }
    const std::string& url() const { return url_; }
    /// A scratch folder (the working directory of migrator runs).
    const fs::path& dir() const { return scratch_.path(); }

    /// Runs build/bin/migrator with --url and --versions-dir set, then `args`.
    ProcessResult migrator(const std::vector<std::string>& args,
                           std::map<std::string, std::string> env = {}) const;
    /// The argument vector migrator() would run, for run_concurrently; `url` replaces the
    /// sandbox's own URL when given (e.g. pooled_url()).
    std::vector<std::string> migrator_command(const std::vector<std::string>& args,
                                              const std::string& url = "") const;
    /// PostgreSQL: the same database through the PgBouncer (transaction pooling) that
    /// tests/with-postgres starts, from $MIGRATOR_TEST_PGBOUNCER_URL. Throws when that variable
    /// is not set or the backend is not PostgreSQL: such a test fails, it is never skipped.
    std::string pooled_url() const;
    /// PostgreSQL: the same database on the streaming hot standby that tests/with-postgres
    /// starts, from $MIGRATOR_TEST_POSTGRES_STANDBY_URL. Throws when that variable is not set or
    /// the backend is not PostgreSQL: such a test fails, it is never skipped.
    std::string standby_url() const;
    /// PostgreSQL: waits until the standby has replayed everything the primary has written so
    /// far (its pg_last_wal_replay_lsn() reaches the primary's pg_current_wal_lsn()), polling
    /// for at most `limit`; throws std::runtime_error saying both positions when it has not.
    void wait_for_standby(std::chrono::milliseconds limit = std::chrono::seconds(30)) const;
    /// The environment migrator() adds: the developer's own settings kept out.
    static std::map<std::string, std::string> clean_environment();

    /// Later migrator() runs use this versions directory instead.
    void set_versions_dir(fs::path versions_dir) { versions_dir_ = std::move(versions_dir); }
    /// Runs an SQL script (several statements, e.g. migrator's --sql output) on the database.
    void execute_script(const std::string& sql) const;

    /// Whether anything was created yet (SQLite: the file; PostgreSQL: any table).
    bool touched() const;
    /// Rows of the first column of `sql` as text, NULL as "NULL".
    std::vector<std::string> column(const std::string& sql) const;
    /// The version rows, sorted.
    std::vector<std::string> version_rows(const std::string& table = "migrator_version") const;
    /// Names of the application's tables (migrator's own excluded).
    std::set<std::string> tables() const;
    /// The application's schema as comparable lines: columns with their types, and indexes.
    std::set<std::string> schema() const;
    /// The password in the database URL as written, which no output may show; empty when it has
    /// none (SQLite).
    std::string password() const;
    /// PostgreSQL: the scratch schemas (migrator_scratch_*) `check --schema` left in the database.
    std::vector<std::string> scratch_schemas() const;
    bool has_column(const std::string& table, const std::string& column) const;
    bool has_index(const std::string& name) const;

private:
    /// The sandbox's database on the server whose URL tests/with-postgres sets in `variable`;
    /// throws saying who `needs` it when that is not set, or the backend is not PostgreSQL.
    std::string same_database_on(const char* variable, const std::string& needs) const;

    std::string backend_;
    fs::path versions_dir_;
    ScratchDir scratch_;
    std::unique_ptr<ScratchDatabase> database_;  ///< SQLite: test.db in the scratch folder
    std::string url_;
};

/// A project like this repository's, reduced to plugin-api + a copy of revisions/, in a scratch
/// folder: what `scaffold new` writes into, and what cmake builds into build/versions/.
class ScratchProject {
public:
    ScratchProject();
    fs::path revisions() const { return root_.path() / "revisions"; }
    fs::path build() const { return root_.path() / "build"; }
    fs::path versions() const { return build() / "versions"; }
    /// Runs build/bin/scaffold with `args` in the project's root.
    ProcessResult scaffold(const std::vector<std::string>& args,
                           const std::map<std::string, std::string>& env = {}) const;
    /// Runs cmake with `args` in the project's root.
    ProcessResult cmake(const std::vector<std::string>& args) const;
    /// The revision folders whose name holds `slug`.
    std::vector<fs::path> folders_named(const std::string& slug) const;

private:
    ScratchDir root_;
};

}  // namespace testing

#endif  // MIGRATOR_TEST_E2E_HPP
