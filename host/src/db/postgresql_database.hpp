// The PostgreSQL backend's entry point, private to host/src/db so libpqxx stays out of public
// headers.
#ifndef MIGRATOR_DB_POSTGRESQL_DATABASE_HPP
#define MIGRATOR_DB_POSTGRESQL_DATABASE_HPP

#include <memory>
#include <migrator/db.hpp>

namespace migrator::detail {

/// Connects to the PostgreSQL database `url` names; the URL's query parameters are passed to
/// libpq as connection options. With options.read_only the session refuses every write. Throws
/// DatabaseError with one line naming the masked URL when the connection fails.
std::unique_ptr<Database> open_postgresql_database(const DatabaseUrl& url,
                                                   const DatabaseOptions& options);

}  // namespace migrator::detail

#endif  // MIGRATOR_DB_POSTGRESQL_DATABASE_HPP
