// Test support: a migrator::Context over the host's Database, and scratch databases to open.
#include "database_context.hpp"

#include <cstdlib>
#include <filesystem>
#include <migrator/common/errors.hpp>
#include <random>
#include <sstream>
#include <stdexcept>

namespace testing {

DatabaseContext::DatabaseContext(const std::string& url)
    : DatabaseContext(migrator::DatabaseUrl::parse(url)) {}

DatabaseContext::DatabaseContext(const migrator::DatabaseUrl& url)
    : db_(migrator::open_database(url, {})),
      session_(std::make_unique<migrator::HostSession>(
          *db_, [this](const std::string& message) { log_.push_back(message); })),
      context_(session_->host()) {}

DatabaseContext::~DatabaseContext() = default;

namespace {

std::string random_suffix() {
    std::random_device device;
    std::ostringstream text;
    text << std::hex << device() << device();
    return text.str();
}

}  // namespace

ScratchDatabase::ScratchDatabase(const std::string& backend, const std::string& folder) {
    if (backend == "sqlite") {
        std::string where = folder;
        if (where.empty()) {
            own_folder_ =
                (std::filesystem::temp_directory_path() / ("migrator-test-" + random_suffix()))
                    .string();
            std::filesystem::create_directory(own_folder_);
            where = own_folder_;
        }
        url_ = migrator::DatabaseUrl::parse("sqlite:///" + where + "/test.db");
    } else if (backend == "postgresql") {
        const char* server = std::getenv("MIGRATOR_TEST_POSTGRES_URL");
        if (server == nullptr || *server == '\0')
            throw std::runtime_error(
                "MIGRATOR_TEST_POSTGRES_URL is not set; run the tests through tests/with-postgres");
        server_ = migrator::DatabaseUrl::parse(server);
        url_ = server_;
        postgres_name_ = "migrator_test_" + random_suffix();
        migrator::open_database(server_, {})->execute("CREATE DATABASE " + postgres_name_);
        url_.database = postgres_name_;
    } else {
        throw std::invalid_argument("unknown backend " + backend);
    }
}

ScratchDatabase::~ScratchDatabase() {
    try {
        if (!own_folder_.empty()) std::filesystem::remove_all(own_folder_);
        if (!postgres_name_.empty())
            migrator::open_database(server_, {})
                ->execute("DROP DATABASE IF EXISTS " + postgres_name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
        // The folder and the server are thrown away after the run; leftovers harm nothing.
    }
}

std::unique_ptr<migrator::Database> ScratchDatabase::open_read_only() const {
    migrator::DatabaseOptions options;
    options.read_only = true;
    return open(options);
}

Rows rows_of(migrator::Database& db, const std::string& sql) {
    Rows rows;
    db.query(sql, [&](const std::vector<std::string>&,
                      const std::vector<std::optional<std::string>>& values) {
        rows.push_back(values);
        return true;
    });
    return rows;
}

std::string error_of(migrator::Database& db, const std::string& sql) {
    try {
        db.execute(sql);
    } catch (const migrator::DatabaseError& e) {
        return e.what();
    }
    throw std::logic_error("no DatabaseError for " + sql);
}

std::string query_error_of(migrator::Database& db, const std::string& sql) {
    try {
        db.query(sql, [](const std::vector<std::string>&,
                         const std::vector<std::optional<std::string>>&) { return true; });
    } catch (const migrator::DatabaseError& e) {
        return e.what();
    }
    throw std::logic_error("no DatabaseError for the query " + sql);
}

namespace {

std::string list_text(const std::vector<std::string>& names) {
    std::string text = "(";
    for (const auto& name : names) text += (text.size() > 1 ? ", " : "") + name;
    return text + ")";
}

}  // namespace

std::vector<std::string> table_lines(const migrator::schema::Table& table) {
    std::vector<std::string> lines{"table " + table.name};
    for (const auto& column : table.columns)
        lines.push_back("column " + table.name + "." + column.name + " " +
                        migrator::schema::portable_name(column.type) +
                        (column.nullable ? " null" : " not null") +
                        (column.autoincrement ? " autoincrement" : "") +
                        (column.default_sql ? " default " + *column.default_sql : ""));
    if (!table.primary_key_columns.empty())
        lines.push_back("primary key " + table.name + " " + list_text(table.primary_key_columns));
    for (const auto& unique : table.unique_constraints)
        lines.push_back("unique " + table.name + " '" + unique.name + "' " +
                        list_text(unique.columns));
    for (const auto& key : table.foreign_keys)
        lines.push_back("foreign key " + table.name + " '" + key.name + "' " +
                        list_text(key.columns) + " -> " + key.referred_table + " " +
                        list_text(key.referred_columns) +
                        (key.on_delete.empty() ? "" : " on delete " + key.on_delete) +
                        (key.on_update.empty() ? "" : " on update " + key.on_update));
    return lines;
}

std::vector<std::string> schema_lines(const migrator::schema::Schema& schema) {
    std::vector<std::string> lines;
    for (const auto& table : schema.tables) {
        const auto more = table_lines(table);
        lines.insert(lines.end(), more.begin(), more.end());
    }
    for (const auto& index : schema.indexes)
        lines.push_back("index " + index.name + " on " + index.table + " " +
                        list_text(index.columns) + (index.unique ? " unique" : ""));
    return lines;
}

}  // namespace testing
