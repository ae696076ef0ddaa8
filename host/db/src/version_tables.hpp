// What every backend shares about the version and history tables: their names and who ran a step.
#ifndef MIGRATOR_DB_VERSION_TABLES_HPP
#define MIGRATOR_DB_VERSION_TABLES_HPP

#include <migrator/common/sql_quoting.hpp>
#include <string>
#include <string_view>

namespace migrator::detail {

/// The tables one version-table name stands for, validated and quoted for SQL.
struct VersionTableNames {
    std::string version;         ///< e.g. migrator_version
    std::string history;         ///< <version>_history
    std::string plugins;         ///< <version>_plugins: the plugins of applied revisions
    std::string signed_files;    ///< <version>_signed: the signature files listing them
    std::string primary_key;     ///< <version>_pkc, Alembic's constraint name
    std::string quoted_version;  ///< "migrator_version", ready to splice into SQL
    std::string quoted_history;
    std::string quoted_plugins;
    std::string quoted_signed_files;
    std::string quoted_primary_key;
};

/// Validates `version_table` ([A-Za-z_][A-Za-z0-9_]*, short enough that `<name>_history` fits
/// PostgreSQL's 63-byte identifiers) and derives the other names. Throws DatabaseError.
VersionTableNames version_table_names(const std::string& version_table);

/// Whether `name` is a plain SQL identifier: [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes (PostgreSQL's
/// limit), so that it can be quoted without surprises on every backend.
bool is_plain_identifier(std::string_view name);

/// Who runs this process, for the history table's run_by: $USER, $LOGNAME, then the passwd entry.
std::string current_user_name();

/// This machine's host name, for the history table's run_host; empty if it cannot be read.
std::string current_host_name();

}  // namespace migrator::detail

#endif  // MIGRATOR_DB_VERSION_TABLES_HPP
