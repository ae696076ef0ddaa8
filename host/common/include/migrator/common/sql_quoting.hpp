// SQL quoting, the same in every dialect migrator speaks: what the database backends (db) and
// the rendering of operations and introspection (schema) splice names and text into SQL with.
#ifndef MIGRATOR_SQL_QUOTING_HPP
#define MIGRATOR_SQL_QUOTING_HPP

#include <string>
#include <string_view>

namespace migrator::sql {

/// `text` between two `quote` characters, each `quote` inside it doubled: how SQL writes both
/// identifiers and string literals.
inline std::string enclosed(std::string_view text, char quote) {
    std::string quoted(1, quote);
    for (char c : text) {
        if (c == quote) quoted += quote;
        quoted += c;
    }
    return quoted + quote;
}

/// `name` as a double-quoted identifier, inner quotes doubled: "order", "a""b" (standard SQL,
/// read alike by SQLite and PostgreSQL).
inline std::string quote_identifier(std::string_view name) { return enclosed(name, '"'); }

/// `text` as a single-quoted string literal, inner quotes doubled: 'it''s'. Both dialects read
/// backslashes literally (PostgreSQL with standard_conforming_strings, its default).
inline std::string quote_literal(std::string_view text) { return enclosed(text, '\''); }

}  // namespace migrator::sql

#endif  // MIGRATOR_SQL_QUOTING_HPP
