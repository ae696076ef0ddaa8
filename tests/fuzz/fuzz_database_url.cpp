// Fuzz target: database URL parsing and password masking, with a check that no password leaks.
#include <boost/url/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace {

// An invariant does not hold: say which, with the input, and crash so that libFuzzer keeps it.
[[noreturn]] void broken(const char* what, std::string_view text, std::string_view shown) {
    std::fprintf(stderr, "%s\n  input:  %.*s\n  output: %.*s\n", what,
                 static_cast<int>(text.size()), text.data(), static_cast<int>(shown.size()),
                 shown.data());
    std::abort();
}

std::optional<migrator::DatabaseUrl> parse(std::string_view text) {
    try {
        return migrator::DatabaseUrl::parse(text);
    } catch (const migrator::Error&) {
        return std::nullopt;
    }
}

// `text` with the password, where a URI parser finds it, replaced by another one: the same URL
// to everything but its password. Empty when `text` has no password or an empty one.
std::string with_other_password(std::string_view text) {
    const auto view = boost::urls::parse_uri(text);
    if (!view || view->encoded_password().empty()) return {};
    const std::string_view password = view->encoded_password();
    const auto at = static_cast<std::size_t>(password.data() - view->buffer().data());
    return std::string(text.substr(0, at)) + "0ther" +
           std::string(text.substr(at + password.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string masked_text = migrator::mask_password(text);
    const auto url = parse(text);
    if (!url) return 0;
    const std::string shown = url->masked();

    // The password never shapes what is shown: with another password, masked() and
    // mask_password() print exactly the same text.
    const std::string other_text = with_other_password(text);
    std::optional<migrator::DatabaseUrl> other;
    if (!other_text.empty()) {
        other = parse(other_text);
        if (!other) broken("a URL no longer parses when only its password changes", text, shown);
        if (other->masked() != shown) broken("masked() depends on the password", text, shown);
        if (migrator::mask_password(other_text) != masked_text)
            broken("mask_password() depends on the password", text, masked_text);
    }

    // Nor does the password itself appear, unless the user typed the same text in another part
    // of the URL (user "admin", password "admin"): then it shows with any other password too.
    const std::string& password = url->password;
    if (password.size() >= 4 && shown.find(password) != std::string::npos &&
        (!other || other->masked().find(password) == std::string::npos))
        broken("masked() shows the password", text, shown);
    return 0;
}
