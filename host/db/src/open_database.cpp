// Choosing the backend for a database URL, and loading the PostgreSQL backend module on demand.
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdint>
#include <memory>
#include <migrator/common/errors.hpp>
#include <migrator/common/text.hpp>
#include <migrator/db/db.hpp>
#include <mutex>
#include <string>

#include "backend_module.hpp"
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

constexpr const char* reinstall = "; reinstall migrator, or rebuild it with its lib/ folder";

/// One size the program and the module must agree on, for the refusal's sentence.
struct SizeCheck {
    const char* type;
    std::uint32_t module;
    std::uint32_t program;
};

/// What is stale about the module loaded from `file`, or an empty string when its handshake
/// (backend_module.hpp) matches this program's: one sentence naming the file and what differs.
std::string stale_module(const boost::dll::shared_library& module, const std::string& file) {
    const char* symbol = MIGRATOR_DB_STRINGIFY(MIGRATOR_BACKEND_INFO_ENTRY);
    const std::string subject = "the PostgreSQL support module " + file;
    if (!module.has(symbol))
        return subject + " is stale: it has no " + symbol +
               " handshake, so it was built by a migrator older than this one (" +
               MIGRATOR_PROJECT_VERSION + ")" + reinstall;
    const migrator_backend_handshake* info =
        module.get<const migrator_backend_handshake*()>(symbol)();
    const migrator_backend_handshake ours =
        detail::backend_info_of_this_build(MIGRATOR_PROJECT_VERSION);
    if (info == nullptr || info->magic != MIGRATOR_BACKEND_MAGIC)
        return subject + " is not a migrator backend module (its " + symbol +
               " handshake is not migrator's)" + reinstall;
    if (info->handshake_version != ours.handshake_version || info->struct_size < ours.struct_size)
        return subject + " speaks backend handshake version " +
               std::to_string(info->handshake_version) + " (" + std::to_string(info->struct_size) +
               " bytes), but this migrator speaks version " +
               std::to_string(ours.handshake_version) + " (" + std::to_string(ours.struct_size) +
               " bytes)" + reinstall;
    const std::string version = info->migrator_version ? info->migrator_version : "(none)";
    if (version != ours.migrator_version)
        return subject + " was built for migrator " + version + ", but this is migrator " +
               ours.migrator_version + reinstall;
    for (const SizeCheck& size :
         {SizeCheck{"Database", info->database_size, ours.database_size},
          SizeCheck{"DatabaseUrl", info->database_url_size, ours.database_url_size},
          SizeCheck{"DatabaseOptions", info->database_options_size, ours.database_options_size}})
        if (size.module != size.program)
            return subject + " was built with another layout of migrator::" + size.type + " (" +
                   std::to_string(size.module) + " bytes there, " + std::to_string(size.program) +
                   " here) by a build of migrator " + version + " other than this one" + reinstall;
    return {};
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
        } catch (const std::exception& e) {
            failure = "PostgreSQL support cannot be loaded from " + path.string() + " (" +
                      e.what() + ")" + reinstall;
            return;
        }
        // The handshake before the entry point: a stale module's objects would not be ours.
        failure = stale_module(module, path.string());
        if (!failure.empty()) return;
        try {
            entry = module.get<Database*(const DatabaseUrl&, const DatabaseOptions&)>(
                MIGRATOR_DB_STRINGIFY(MIGRATOR_POSTGRESQL_BACKEND_ENTRY));
        } catch (const std::exception& e) {
            failure = "the PostgreSQL support module " + path.string() + " has no entry point (" +
                      e.what() + ")" + reinstall;
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

void refuse_unadopted_alembic(Database& db) {
    const auto alembic = db.unadopted_alembic_heads();
    if (!alembic) return;
    throw DatabaseError("database " + db.describe() +
                        " is managed by Alembic (alembic_version is at " +
                        (alembic->empty() ? std::string("base") : join(*alembic)) +
                        ") and has no " + db.migrator_tables().front() +
                        " table; to adopt it, set version_table = alembic_version in migrator.ini "
                        "(or pass --version-table alembic_version)");
}

}  // namespace migrator
