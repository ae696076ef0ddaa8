// The SQLite backend's entry point, private to host/db/src so SQLiteCpp stays out of public
// headers.
#ifndef MIGRATOR_DB_SQLITE_DATABASE_HPP
#define MIGRATOR_DB_SQLITE_DATABASE_HPP

#include <memory>
#include <migrator/db/db.hpp>

namespace migrator::detail {

/// Opens the SQLite database `url` names (a file, or memory). With options.read_only a missing
/// file is not created and reads as an empty database. Throws DatabaseError.
std::unique_ptr<Database> open_sqlite_database(const DatabaseUrl& url,
                                               const DatabaseOptions& options);

}  // namespace migrator::detail

#endif  // MIGRATOR_DB_SQLITE_DATABASE_HPP
