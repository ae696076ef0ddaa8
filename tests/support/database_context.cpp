// Test support: a migrator::Context over the host's Database, and scratch databases to open.
#include "database_context.hpp"

#include <cstdlib>
#include <filesystem>
#include <migrator/errors.hpp>
#include <random>
#include <sstream>
#include <stdexcept>

namespace testing {

DatabaseContext::DatabaseContext(const std::string& url)
    : DatabaseContext(migrator::DatabaseUrl::parse(url)) {}

DatabaseContext::DatabaseContext(const migrator::DatabaseUrl& url)
    : db_(migrator::open_database(url, {})), dialect_(db_->dialect()), context_(&host_) {
    host_.abi_version = MIGRATOR_ABI_VERSION;
    host_.struct_size = sizeof(migrator_host);
    host_.session = this;
    host_.dialect = dialect_.c_str();
    host_.offline = 0;
    host_.execute = &DatabaseContext::execute;
    host_.query = &DatabaseContext::query;
    host_.last_error = &DatabaseContext::last_error;
    host_.log = &DatabaseContext::write_log;
}

DatabaseContext::~DatabaseContext() = default;

int DatabaseContext::execute(void* self, const char* sql) {
    auto& context = *static_cast<DatabaseContext*>(self);
    try {
        context.db_->execute(sql);
        return MIGRATOR_OK;
    } catch (const std::exception& e) {
        context.last_error_ = e.what();
        return MIGRATOR_ERROR;
    }
}

int DatabaseContext::query(void* self, const char* sql, migrator_row_fn on_row, void* user) {
    auto& context = *static_cast<DatabaseContext*>(self);
    try {
        context.db_->query(sql, [&](const std::vector<std::string>& columns,
                                    const std::vector<std::optional<std::string>>& row) {
            std::vector<const char*> names;
            std::vector<const char*> values;
            for (const auto& column : columns) names.push_back(column.c_str());
            for (const auto& value : row) values.push_back(value ? value->c_str() : nullptr);
            return on_row(user, static_cast<int>(values.size()), values.data(), names.data()) == 0;
        });
        return MIGRATOR_OK;
    } catch (const std::exception& e) {
        context.last_error_ = e.what();
        return MIGRATOR_ERROR;
    }
}

const char* DatabaseContext::last_error(void* self) {
    return static_cast<DatabaseContext*>(self)->last_error_.c_str();
}

void DatabaseContext::write_log(void* self, int, const char* message) {
    static_cast<DatabaseContext*>(self)->log_.emplace_back(message);
}

namespace {

std::string random_suffix() {
    std::random_device device;
    std::ostringstream text;
    text << std::hex << device() << device();
    return text.str();
}

}  // namespace

ScratchDatabase::ScratchDatabase(const std::string& backend) {
    if (backend == "sqlite") {
        folder_ =
            (std::filesystem::temp_directory_path() / ("migrator-ops-" + random_suffix())).string();
        std::filesystem::create_directory(folder_);
        url_ = migrator::DatabaseUrl::parse("sqlite:///" + folder_ + "/test.db");
    } else if (backend == "postgresql") {
        const char* server = std::getenv("MIGRATOR_TEST_POSTGRES_URL");
        if (server == nullptr || *server == '\0')
            throw std::runtime_error(
                "MIGRATOR_TEST_POSTGRES_URL is not set; run the tests through tests/with-postgres");
        server_ = migrator::DatabaseUrl::parse(server);
        url_ = server_;
        postgres_name_ = "migrator_ops_" + random_suffix();
        migrator::open_database(server_, {})->execute("CREATE DATABASE " + postgres_name_);
        url_.database = postgres_name_;
    } else {
        throw std::invalid_argument("unknown backend " + backend);
    }
}

ScratchDatabase::~ScratchDatabase() {
    try {
        if (!folder_.empty()) std::filesystem::remove_all(folder_);
        if (!postgres_name_.empty())
            migrator::open_database(server_, {})
                ->execute("DROP DATABASE IF EXISTS " + postgres_name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
        // The folder and the server are thrown away after the run; leftovers harm nothing.
    }
}

namespace {

std::string type_text(const migrator::schema::Type& type) {
    using migrator::schema::TypeKind;
    switch (type.kind) {
        case TypeKind::integer:
            return "integer";
        case TypeKind::big_integer:
            return "big_integer";
        case TypeKind::text:
            return "text";
        case TypeKind::varchar:
            return "varchar(" + std::to_string(type.length) + ")";
        case TypeKind::boolean:
            return "boolean";
        case TypeKind::real:
            return "real";
        case TypeKind::double_precision:
            return "double_precision";
        case TypeKind::numeric:
            return "numeric(" + std::to_string(type.precision) + "," + std::to_string(type.scale) +
                   ")";
        case TypeKind::date:
            return "date";
        case TypeKind::timestamp:
            return "timestamp";
        case TypeKind::blob:
            return "blob";
        case TypeKind::json:
            return "json";
        case TypeKind::raw:
            return "raw(" + type.sql + ")";
    }
    return "?";
}

std::string list_text(const std::vector<std::string>& names) {
    std::string text = "(";
    for (const auto& name : names) text += (text.size() > 1 ? ", " : "") + name;
    return text + ")";
}

}  // namespace

std::vector<std::string> table_lines(const migrator::schema::Table& table) {
    std::vector<std::string> lines{"table " + table.name};
    for (const auto& column : table.columns)
        lines.push_back("column " + table.name + "." + column.name + " " + type_text(column.type) +
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
