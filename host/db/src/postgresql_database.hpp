// The PostgreSQL backend's entry point, private to host/db/src so libpqxx stays out of public
// headers.
#ifndef MIGRATOR_DB_POSTGRESQL_DATABASE_HPP
#define MIGRATOR_DB_POSTGRESQL_DATABASE_HPP

#include <memory>
#include <migrator/db/db.hpp>

/// The PostgreSQL backend is a module of its own (lib/migrator/postgresql_backend.so beside the
/// program's folder), loaded only for a postgresql:// URL: libpqxx, libpq and the TLS and Kerberos
/// libraries they pull cost every other command ~8 ms and ~6 MB. The module exports this C
/// function, which returns what open_postgresql_database returns (the caller owns it).
#define MIGRATOR_POSTGRESQL_BACKEND_ENTRY migrator_postgresql_backend_open
#define MIGRATOR_DB_STRINGIFY2(name) #name
#define MIGRATOR_DB_STRINGIFY(name) MIGRATOR_DB_STRINGIFY2(name)

namespace migrator::detail {

/// Connects to the PostgreSQL database `url` names; the URL's query parameters are passed to
/// libpq as connection options. With options.read_only the session refuses every write. Throws
/// DatabaseError with one line naming the masked URL when the connection fails.
std::unique_ptr<Database> open_postgresql_database(const DatabaseUrl& url,
                                                   const DatabaseOptions& options);

}  // namespace migrator::detail

#endif  // MIGRATOR_DB_POSTGRESQL_DATABASE_HPP
