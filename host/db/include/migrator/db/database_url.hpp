// Database URLs in SQLAlchemy syntax, parsed with Boost.URL; the password never leaves this type.
#ifndef MIGRATOR_DATABASE_URL_HPP
#define MIGRATOR_DATABASE_URL_HPP

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace migrator {

/// A parsed database URL.
///   sqlite:///relative.db   sqlite:////abs/path.db   sqlite://  (in memory)
///   postgresql://user:pass@host:port/db   postgresql+psycopg2://...   postgres://...
struct DatabaseUrl {
    std::string dialect;   ///< "sqlite" or "postgresql"
    std::string driver;    ///< the part after '+' in the scheme, e.g. "psycopg2"; may be empty
    std::string user;      ///< percent-decoded
    std::string password;  ///< percent-decoded; never print it, use masked()
    std::string host;
    std::optional<unsigned> port;
    std::string database;  ///< PostgreSQL: database name; SQLite: file path, ":memory:" for memory
    std::map<std::string, std::string> query;  ///< query parameters, decoded

    /// Parses `text`. Throws DatabaseError with the masked URL when it is malformed or its
    /// scheme is not a supported dialect.
    static DatabaseUrl parse(std::string_view text);

    /// The URL as text with the password replaced by "***": safe for any output.
    std::string masked() const;

    bool is_sqlite_memory() const { return dialect == "sqlite" && database == ":memory:"; }
};

/// `text` with any password in it replaced by "***", even when `text` does not parse.
std::string mask_password(std::string_view text);

}  // namespace migrator

#endif  // MIGRATOR_DATABASE_URL_HPP
