// The handshake between the program and its PostgreSQL backend module: what each checks first.
#ifndef MIGRATOR_DB_BACKEND_MODULE_HPP
#define MIGRATOR_DB_BACKEND_MODULE_HPP

#include <cstdint>
#include <migrator/db/database_url.hpp>
#include <migrator/db/db.hpp>

/// The module's entry point (postgresql_database.hpp) hands a C++ object across, so the program
/// and the module must agree on more than a C ABI: the same migrator build, the same layouts of
/// the types that cross. The module therefore also exports this C function, which the program
/// calls first (PostgreSQL's magic block): a stale module is refused with a sentence, before its
/// entry point is ever called.
#define MIGRATOR_BACKEND_INFO_ENTRY migrator_backend_info

/// "migb" in little-endian order: an exported function of this name that is not ours says
/// something else.
#define MIGRATOR_BACKEND_MAGIC 0x6267696du
/// The version of this struct's meaning; a change that is not an append at the end raises it.
#define MIGRATOR_BACKEND_HANDSHAKE_VERSION 1u

extern "C" {

/// What a backend module says of itself. Plain C: it is read before anything else is trusted.
struct migrator_backend_handshake {
    std::uint32_t magic;              ///< MIGRATOR_BACKEND_MAGIC
    std::uint32_t handshake_version;  ///< MIGRATOR_BACKEND_HANDSHAKE_VERSION
    std::uint32_t struct_size;        ///< sizeof(migrator_backend_handshake) as the module knows it
    const char* migrator_version;     ///< PROJECT_VERSION of the build, e.g. "0.2.0"
    std::uint32_t database_size;      ///< sizeof(migrator::Database)
    std::uint32_t database_url_size;  ///< sizeof(migrator::DatabaseUrl)
    std::uint32_t database_options_size;  ///< sizeof(migrator::DatabaseOptions)
};

using migrator_backend_info_fn = const migrator_backend_handshake* (*)();
}

namespace migrator::detail {

/// The handshake of the build that compiles this (`version`: its PROJECT_VERSION).
inline migrator_backend_handshake backend_info_of_this_build(const char* version) {
    return migrator_backend_handshake{
        MIGRATOR_BACKEND_MAGIC,
        MIGRATOR_BACKEND_HANDSHAKE_VERSION,
        static_cast<std::uint32_t>(sizeof(migrator_backend_handshake)),
        version,
        static_cast<std::uint32_t>(sizeof(Database)),
        static_cast<std::uint32_t>(sizeof(DatabaseUrl)),
        static_cast<std::uint32_t>(sizeof(DatabaseOptions))};
}

}  // namespace migrator::detail

#endif  // MIGRATOR_DB_BACKEND_MODULE_HPP
