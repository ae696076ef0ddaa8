// Where the database URL and the versions directory come from (flag, environment, defaults).
#include <boost/dll/runtime_symbol_info.hpp>
#include <cstdlib>
#include <migrator/errors.hpp>

#include "cli.hpp"

namespace migrator::cli {
namespace {

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

}  // namespace

std::string resolve_database_url(const GlobalOptions& options) {
    if (!options.url.empty()) return options.url;
    for (const char* name : {"MIGRATOR_DATABASE_URL", "SQLALCHEMY_DATABASE_URL"}) {
        auto value = environment(name);
        if (!value.empty()) return value;
    }
    throw DatabaseError(
        "no database URL given: pass --url, or set MIGRATOR_DATABASE_URL or "
        "SQLALCHEMY_DATABASE_URL (e.g. sqlite:///local.db)");
}

std::filesystem::path resolve_versions_dir(const GlobalOptions& options) {
    namespace fs = std::filesystem;
    if (!options.versions_dir.empty()) return fs::absolute(options.versions_dir);
    const auto from_environment = environment("MIGRATOR_VERSIONS_DIR");
    if (!from_environment.empty()) return fs::absolute(from_environment);

    std::error_code ignored;
    const fs::path in_working_dir = fs::absolute("versions");
    if (fs::is_directory(in_working_dir, ignored)) return in_working_dir;
    // A release bundle is bin/migrator + versions/*.so: look beside the program's own folder.
    const fs::path program = boost::dll::program_location().string();
    const fs::path beside_program = program.parent_path().parent_path() / "versions";
    if (fs::is_directory(beside_program, ignored)) return beside_program;
    throw PluginError("no versions directory found (looked for " + in_working_dir.string() +
                      " and " + beside_program.string() +
                      "); pass --versions-dir or set MIGRATOR_VERSIONS_DIR");
}

}  // namespace migrator::cli
