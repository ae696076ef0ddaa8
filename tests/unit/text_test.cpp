// The common part's text helpers: lists of names in messages, and SQL quoting.
#include <catch2/catch.hpp>
#include <migrator/common/sql_quoting.hpp>
#include <migrator/common/text.hpp>
#include <string>
#include <vector>

TEST_CASE("join puts the separator between each two items and nowhere else", "[common]") {
    using Items = std::vector<std::string>;
    CHECK(migrator::join(Items{}).empty());
    CHECK(migrator::join(Items{"a1"}) == "a1");
    CHECK(migrator::join(Items{"a1", "b2", "c3"}) == "a1, b2, c3");
    CHECK(migrator::join(Items{"a1", "b2"}, ",") == "a1,b2");
    // Empty items stay visible as empty places.
    CHECK(migrator::join(Items{"", "b2", ""}, ",") == ",b2,");
}

TEST_CASE("SQL quoting doubles the quote character and nothing else", "[common]") {
    CHECK(migrator::sql::quote_identifier("order") == "\"order\"");
    CHECK(migrator::sql::quote_identifier("a\"b") == "\"a\"\"b\"");
    CHECK(migrator::sql::quote_identifier("") == "\"\"");
    CHECK(migrator::sql::quote_literal("it's") == "'it''s'");
    // Backslashes and the other quote are taken literally by both dialects.
    CHECK(migrator::sql::quote_literal("a\\b\"c") == "'a\\b\"c'");
    CHECK(migrator::sql::quote_literal("'; DROP TABLE x; --") == "'''; DROP TABLE x; --'");
}
