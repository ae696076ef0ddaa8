// Tests of printable(): what text from plugins and databases looks like on a terminal.
#include <catch2/catch.hpp>
#include <migrator/common/terminal_text.hpp>

using migrator::printable;

TEST_CASE("printable() leaves ordinary text, UTF-8 included, as it is", "[terminal]") {
    CHECK(printable("add price to item") == "add price to item");
    CHECK(printable("caf\xc3\xa9 \xe2\x82\xac \\ back") == "caf\xc3\xa9 \xe2\x82\xac \\ back");
    CHECK(printable("").empty());
}

TEST_CASE("printable() escapes every control character and DEL", "[terminal]") {
    CHECK(printable("a\rb\nc\td") == "a\\rb\\nc\\td");
    CHECK(printable("\x1b[2J") == "\\x1b[2J");
    CHECK(printable(std::string("nul\0end", 7)) == "nul\\x00end");
    CHECK(printable("bell\x07"
                    "del\x7f") == "bell\\x07del\\x7f");
    for (int c = 0; c < 0x20; ++c)
        CHECK(printable(std::string(1, static_cast<char>(c))).front() == '\\');
}

TEST_CASE("printable() escapes C1 control characters written in UTF-8", "[terminal]") {
    CHECK(printable("csi\xc2\x9b"
                    "31m") == "csi\\u009b31m");
    CHECK(printable("nel\xc2\x85") == "nel\\u0085");
    CHECK(printable("nbsp\xc2\xa0") == "nbsp\xc2\xa0");  // U+00A0 is printable
    CHECK(printable("cut\xc2") == "cut\xc2");            // a lone lead byte at the end
}
