// Names of the version and history tables, and the identity recorded with each history row.
#include "version_tables.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <migrator/common/errors.hpp>

namespace migrator::detail {
namespace {

// PostgreSQL truncates identifiers beyond 63 bytes; the longest derived name must still fit.
constexpr std::size_t max_identifier_length = 63;
constexpr std::string_view history_suffix = "_history";

bool is_identifier(std::string_view name) {
    auto letter = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    };
    if (name.empty() || !letter(name.front())) return false;
    for (char c : name)
        if (!letter(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

}  // namespace

bool is_plain_identifier(std::string_view name) {
    return is_identifier(name) && name.size() <= max_identifier_length;
}

VersionTableNames version_table_names(const std::string& version_table) {
    if (!is_identifier(version_table))
        throw DatabaseError("version table name '" + version_table +
                            "' is not a plain SQL identifier; use letters, digits and '_', "
                            "starting with a letter or '_'");
    if (version_table.size() + history_suffix.size() > max_identifier_length)
        throw DatabaseError("version table name '" + version_table + "' is too long; at most " +
                            std::to_string(max_identifier_length - history_suffix.size()) +
                            " characters, so that '" + version_table + std::string(history_suffix) +
                            "' fits in 63");
    VersionTableNames names;
    names.version = version_table;
    names.history = version_table + std::string(history_suffix);
    // "_plugins" and "_signed" are no longer than "_history": the same limit covers them.
    names.plugins = version_table + "_plugins";
    names.signed_files = version_table + "_signed";
    names.primary_key = version_table + "_pkc";
    names.quoted_plugins = sql::quote_identifier(names.plugins);
    names.quoted_signed_files = sql::quote_identifier(names.signed_files);
    names.quoted_version = sql::quote_identifier(names.version);
    names.quoted_history = sql::quote_identifier(names.history);
    names.quoted_primary_key = sql::quote_identifier(names.primary_key);
    return names;
}

std::string current_user_name() {
    for (const char* variable : {"USER", "LOGNAME"})
        if (const char* value = std::getenv(variable); value != nullptr && *value != '\0')
            return value;
    if (const passwd* entry = getpwuid(geteuid()); entry != nullptr && entry->pw_name != nullptr)
        return entry->pw_name;
    return {};
}

std::string current_host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0) return {};
    return name;
}

}  // namespace migrator::detail
