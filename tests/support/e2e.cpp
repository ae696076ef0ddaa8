// End-to-end test support: a database per test on SQLite (SQLiteCpp) or PostgreSQL (libpqxx).
#include "e2e.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "database_context.hpp"

namespace testing {
namespace {

/// The URL in `variable`, which tests/with-postgres sets; throws saying who `needs` it.
std::string url_from_environment(const char* variable, const std::string& needs) {
    const char* url = std::getenv(variable);
    if (url == nullptr || *url == '\0')
        throw std::runtime_error(std::string(variable) + " is not set: " + needs +
                                 " (bash tests/run does)");
    return url;
}

std::string postgres_base_url() {
    return url_from_environment("MIGRATOR_TEST_POSTGRES_URL",
                                "PostgreSQL tests need a server; run them through "
                                "tests/with-postgres");
}

/// `url` with its database (the path after the authority) replaced by `database`.
std::string with_database(const std::string& url, const std::string& database) {
    const auto authority = url.find("://") + 3;
    const auto path = url.find('/', authority);
    const auto query = url.find('?', authority);
    std::string result = url.substr(0, path == std::string::npos ? query : path) + "/" + database;
    if (query != std::string::npos) result += url.substr(query);
    return result;
}

}  // namespace

ScratchDir::ScratchDir() {
    char name[] = "/tmp/migrator-e2e-XXXXXX";
    if (mkdtemp(name) == nullptr) throw std::runtime_error("cannot create a scratch folder");
    path_ = name;
}

ScratchDir::~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

std::string read_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void replace_in_file(const fs::path& file, const std::string& from, const std::string& to) {
    std::string text = read_file(file);
    const auto at = text.find(from);
    if (at == std::string::npos)
        throw std::runtime_error("'" + from + "' is not in " + file.string());
    text.replace(at, from.size(), to);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

std::string expected_file(const std::string& name) {
    const auto path = fs::path(MIGRATOR_SOURCE_DIR) / "tests" / "e2e" / "expected" / name;
    const std::string text = read_file(path);
    if (text.empty()) throw std::runtime_error("missing expected file " + path.string());
    return text;
}

std::string without_checksums(const std::string& script) {
    return std::regex_replace(script, std::regex("[0-9a-f]{64}"), "<sha256>");
}

std::vector<std::string> json_kinds(const std::string& json, const std::string& list) {
    std::vector<std::string> kinds;
    const boost::json::value document = boost::json::parse(json);
    for (const auto& entry : document.at(list).as_array())
        kinds.emplace_back(entry.at("kind").as_string().c_str());
    return kinds;
}

fs::path fixture_dir(const std::string& scenario) {
    return fs::path(MIGRATOR_FIXTURES_DIR) / scenario;
}

fs::path shipped_versions_dir() { return fs::path(MIGRATOR_BUILD_DIR) / "versions"; }

std::string shipped_schema(const std::string& backend) {
    const std::string key =
        backend == "postgresql" ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
    return "CREATE TABLE account (\n"
           "  id " +
           key +
           ",\n"
           "  name VARCHAR(100) NOT NULL,\n"
           "  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);\n"
           "CREATE TABLE invoice (\n"
           "  id " +
           key +
           ",\n"
           "  account_id BIGINT NOT NULL REFERENCES account (id),\n"
           "  amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),\n"
           "  issued_on DATE NOT NULL,\n"
           "  status VARCHAR(16) NOT NULL DEFAULT 'open');\n"
           "CREATE INDEX ix_invoice_account_id ON invoice (account_id, issued_on);\n";
}

/// The lines of `out` that start with "difference: ", without that prefix.
std::vector<std::string> differences(const std::string& out) {
    std::vector<std::string> found;
    const std::string prefix = "difference: ";
    for (const auto& line : lines_of(out))
        if (line.compare(0, prefix.size(), prefix) == 0)
            found.push_back(line.substr(prefix.size()));
    return found;
}

Sandbox::Sandbox(std::string backend, fs::path versions_dir)
    : backend_(std::move(backend)),
      versions_dir_(std::move(versions_dir)),
      database_(std::make_unique<ScratchDatabase>(backend_, scratch_.path().string())) {
    // The URL as the server's was written (query parameters included), for migrator's --url.
    url_ = backend_ == "sqlite" ? "sqlite:///" + database_->file()
                                : with_database(postgres_base_url(), database_->postgres_name());
}

Sandbox::~Sandbox() = default;

std::map<std::string, std::string> Sandbox::clean_environment() {
    return {{"MIGRATOR_DATABASE_URL", ""}, {"SQLALCHEMY_DATABASE_URL", ""},
            {"MIGRATOR_VERSIONS_DIR", ""}, {"MIGRATOR_SCHEMA_FILE", ""},
            {"MIGRATOR_SCRATCH_URL", ""},  {"MIGRATOR_TRUSTED_KEYS", ""}};
}

std::vector<std::string> Sandbox::migrator_command(const std::vector<std::string>& args,
                                                   const std::string& url) const {
    std::vector<std::string> argv{MIGRATOR_BIN, "--url", url.empty() ? url_ : url, "--versions-dir",
                                  versions_dir_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

std::string Sandbox::same_database_on(const char* variable, const std::string& needs) const {
    if (backend_ != "postgresql")
        throw std::logic_error(std::string(variable) + " is for the postgresql backend, not " +
                               backend_);
    return with_database(url_from_environment(variable, needs), database_->postgres_name());
}

std::string Sandbox::pooled_url() const {
    return same_database_on("MIGRATOR_TEST_PGBOUNCER_URL",
                            "pooler tests need the PgBouncer that tests/with-postgres starts");
}

std::string Sandbox::standby_url() const {
    return same_database_on("MIGRATOR_TEST_POSTGRES_STANDBY_URL",
                            "replica tests need the hot standby that tests/with-postgres starts");
}

void Sandbox::wait_for_standby(std::chrono::milliseconds limit) const {
    const std::string standby_server = with_database(standby_url(), "postgres");
    pqxx::connection primary(postgres_base_url());
    const std::string target =
        pqxx::nontransaction(primary).exec("SELECT pg_current_wal_lsn()::text")[0][0].c_str();
    pqxx::connection standby(standby_server);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string replayed;
    for (;;) {
        // pg_lsn compares as a position, which its text does not.
        const pqxx::row row = pqxx::nontransaction(standby).exec1(
            "SELECT coalesce(pg_last_wal_replay_lsn() >= " + primary.quote(target) +
            "::pg_lsn, false), coalesce(pg_last_wal_replay_lsn()::text, 'none')");
        if (row[0].as<bool>()) return;
        replayed = row[1].c_str();
        if (std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("the standby has replayed the WAL up to " + replayed +
                             " only, not to the primary's " + target + ", after " +
                             std::to_string(limit.count()) + " ms");
}

ProcessResult Sandbox::migrator(const std::vector<std::string>& args,
                                std::map<std::string, std::string> env) const {
    for (const auto& [name, value] : clean_environment()) env.emplace(name, value);
    return run_process(migrator_command(args), env, scratch_.path().string());
}

bool Sandbox::touched() const {
    if (backend_ == "sqlite") return fs::exists(scratch_.path() / "test.db");
    return column(
               "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN "
               "('pg_catalog', 'information_schema')") != std::vector<std::string>{"0"};
}

std::vector<std::string> Sandbox::column(const std::string& sql) const {
    std::vector<std::string> values;
    if (backend_ == "sqlite") {
        SQLite::Database db((scratch_.path() / "test.db").string(), SQLite::OPEN_READONLY);
        SQLite::Statement statement(db, sql);
        while (statement.executeStep())
            values.push_back(statement.getColumn(0).isNull() ? "NULL"
                                                             : statement.getColumn(0).getString());
    } else {
        pqxx::connection connection(url_);
        pqxx::nontransaction work(connection);
        for (const auto& row : work.exec(sql))
            values.push_back(row[0].is_null() ? "NULL" : row[0].c_str());
    }
    return values;
}

void Sandbox::execute_script(const std::string& sql) const {
    if (backend_ == "sqlite") {
        SQLite::Database db((scratch_.path() / "test.db").string(),
                            SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec(sql);
    } else {
        // The simple query protocol runs a whole script, BEGIN/COMMIT included, as psql would.
        pqxx::connection connection(url_);
        pqxx::nontransaction work(connection);
        work.exec(sql);
    }
}

std::vector<std::string> Sandbox::version_rows(const std::string& table) const {
    return column("SELECT version_num FROM " + table + " ORDER BY version_num");
}

std::set<std::string> Sandbox::tables() const {
    const auto rows =
        backend_ == "sqlite"
            ? column(
                  "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                  "'migrator_version%' AND name NOT LIKE 'sqlite_%'")
            : column(
                  "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                  "current_schema() AND table_name NOT LIKE 'migrator_version%'");
    return {rows.begin(), rows.end()};
}

std::set<std::string> Sandbox::schema() const {
    const auto rows =
        backend_ == "sqlite"
            ? column(
                  "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master "
                  "WHERE name NOT LIKE 'migrator_version%' AND name NOT LIKE 'sqlite_%'")
            : column(
                  "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || "
                  "is_nullable || ' ' || coalesce(column_default, '') FROM "
                  "information_schema.columns WHERE table_schema = current_schema() AND "
                  "table_name NOT LIKE 'migrator_version%' UNION ALL SELECT indexdef FROM "
                  "pg_indexes WHERE schemaname = current_schema() AND tablename NOT LIKE "
                  "'migrator_version%'");
    return {rows.begin(), rows.end()};
}

std::string Sandbox::password() const {
    const auto authority = url_.find("://") + 3;
    const auto at = url_.find('@', authority);
    const auto colon = url_.find(':', authority);
    if (at == std::string::npos || colon == std::string::npos || colon > at) return {};
    return url_.substr(colon + 1, at - colon - 1);
}

std::vector<std::string> Sandbox::scratch_schemas() const {
    return column("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'migrator\\_scratch\\_%'");
}

bool Sandbox::has_column(const std::string& table, const std::string& column_name) const {
    const auto count =
        backend_ == "sqlite"
            ? column("SELECT count(*) FROM pragma_table_info('" + table + "') WHERE name = '" +
                     column_name + "'")
            : column(
                  "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                  "current_schema() AND table_name = '" +
                  table + "' AND column_name = '" + column_name + "'");
    return count == std::vector<std::string>{"1"};
}

bool Sandbox::has_index(const std::string& name) const {
    const auto count =
        backend_ == "sqlite"
            ? column("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '" + name +
                     "'")
            : column(
                  "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND "
                  "indexname = '" +
                  name + "'");
    return count == std::vector<std::string>{"1"};
}

ScratchProject::ScratchProject() {
    fs::copy(fs::path(MIGRATOR_SOURCE_DIR) / "revisions", revisions(), fs::copy_options::recursive);
    std::ofstream(root_.path() / "CMakeLists.txt")
        << "cmake_minimum_required(VERSION 3.17)\n"
        << "project(scaffold_check CXX)\n"
        << "set(CMAKE_CXX_STANDARD 17)\n"
        << "add_subdirectory(\"" << MIGRATOR_SOURCE_DIR << "/plugin-api\" plugin-api)\n"
        << "set(MIGRATOR_VERSIONS_OUTPUT_DIR \"${CMAKE_BINARY_DIR}/versions\")\n"
        << "add_subdirectory(revisions)\n";
}

ProcessResult ScratchProject::scaffold(const std::vector<std::string>& args,
                                       const std::map<std::string, std::string>& env) const {
    std::vector<std::string> argv{SCAFFOLD_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, env, root_.path().string());
}

ProcessResult ScratchProject::cmake(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{MIGRATOR_CMAKE_COMMAND};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, {}, root_.path().string());
}

std::vector<fs::path> ScratchProject::folders_named(const std::string& slug) const {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(revisions()))
        if (entry.path().filename().string().find(slug) != std::string::npos)
            found.push_back(entry.path());
    return found;
}

}  // namespace testing
