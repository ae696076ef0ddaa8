// Choosing the backend for a database URL, and loading the PostgreSQL backend module on demand.
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <memory>
#include <migrator/db.hpp>
#include <migrator/errors.hpp>
#include <mutex>

#include "postgresql_database.hpp"
#include "sqlite_database.hpp"

namespace migrator {
namespace {

using PostgresqlEntry = Database* (*)(const DatabaseUrl&, const DatabaseOptions&);

/// Where the module sits: lib/migrator/ beside the program's own folder, in the build tree, an
/// installation and a release bundle alike.
boost::dll::fs::path postgresql_module_path() {
    return boost::dll::program_location().parent_path().parent_path() / "lib" / "migrator" /
           "postgresql_backend.so";
}

/// Loads the module once per process and keeps it loaded (its objects outlive any caller).
PostgresqlEntry postgresql_entry() {
    static std::once_flag once;
    static boost::dll::shared_library module;
    static PostgresqlEntry entry = nullptr;
    static std::string failure;
    std::call_once(once, [] {
        boost::dll::fs::path path;
        try {
            path = postgresql_module_path();
            module.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
            entry = module.get<Database*(const DatabaseUrl&, const DatabaseOptions&)>(
                MIGRATOR_DB_STRINGIFY(MIGRATOR_POSTGRESQL_BACKEND_ENTRY));
        } catch (const std::exception& e) {
            failure = "PostgreSQL support cannot be loaded from " + path.string() + " (" +
                      e.what() + "); reinstall migrator, or rebuild it with its lib/ folder";
        }
    });
    if (entry == nullptr) throw DatabaseError(failure);
    return entry;
}

}  // namespace

std::unique_ptr<Database> open_database(const DatabaseUrl& url, const DatabaseOptions& options) {
    if (url.dialect == "sqlite") return detail::open_sqlite_database(url, options);
    if (url.dialect == "postgresql")
        return std::unique_ptr<Database>(postgresql_entry()(url, options));
    throw DatabaseError("database URL " + url.masked() + " names dialect '" + url.dialect +
                        "', which migrator does not support; use sqlite:// or postgresql://");
}

}  // namespace migrator
