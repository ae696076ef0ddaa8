// Text from plugins and databases made safe to print on a terminal: control characters escaped.
#ifndef MIGRATOR_TERMINAL_TEXT_HPP
#define MIGRATOR_TERMINAL_TEXT_HPP

#include <string>
#include <string_view>

namespace migrator {

/// `text` with every control character written as an escape, so that text a plugin or a
/// database provides (a revision message, a log line, an error) cannot move the cursor, rewrite
/// the line (`\r`) or send the terminal escape sequences: `\n`, `\r`, `\t` as such, other C0
/// characters and DEL as `\xNN`, and C1 characters in UTF-8 (U+0080 to U+009F, which some
/// terminals obey) as `\uNNNN`. Everything else, other UTF-8 included, is unchanged. JSON output
/// does not need it (JSON escapes control characters itself).
inline std::string printable(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {
            out += "\\u00";
            out += hex[next >> 4];
            out += hex[next & 15];
            ++i;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace migrator

#endif  // MIGRATOR_TERMINAL_TEXT_HPP
