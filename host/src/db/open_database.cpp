// Choosing the backend for a database URL.
#include <migrator/db.hpp>
#include <migrator/errors.hpp>

#include "postgresql_database.hpp"
#include "sqlite_database.hpp"

namespace migrator {

std::unique_ptr<Database> open_database(const DatabaseUrl& url, const DatabaseOptions& options) {
    if (url.dialect == "sqlite") return detail::open_sqlite_database(url, options);
    if (url.dialect == "postgresql") return detail::open_postgresql_database(url, options);
    throw DatabaseError("database URL " + url.masked() + " names dialect '" + url.dialect +
                        "', which migrator does not support; use sqlite:// or postgresql://");
}

}  // namespace migrator
