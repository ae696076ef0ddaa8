// Parsing database URLs in SQLAlchemy syntax with Boost.URL, and keeping passwords out of text.
#include <algorithm>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <migrator/common/errors.hpp>
#include <migrator/db/database_url.hpp>

namespace migrator {
namespace {

constexpr std::string_view mask = "***";
constexpr std::string_view url_examples =
    "sqlite:///relative.db, sqlite:////absolute/path.db or "
    "postgresql://user:password@host:5432/dbname";

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// libpq also accepts the password as a query parameter (`?password=...`) and in keyword/value
// connection strings (`password=...`), so those are masked as well.
std::string mask_password_parameters(std::string text) {
    constexpr std::string_view key = "password=";
    std::size_t pos = 0;
    while ((pos = text.find(key, pos)) != std::string::npos) {
        const bool starts_parameter =
            pos == 0 || text[pos - 1] == '?' || text[pos - 1] == '&' || is_space(text[pos - 1]);
        const std::size_t value = pos + key.size();
        if (!starts_parameter) {
            pos = value;
            continue;
        }
        std::size_t end = value;
        if (end < text.size() && text[end] == '\'') {
            end = text.find('\'', end + 1);
            end = end == std::string::npos ? text.size() : end + 1;
        } else {
            while (end < text.size() && text[end] != '&' && text[end] != '#' &&
                   !is_space(text[end]))
                ++end;
        }
        text.replace(value, end - value, mask);
        pos = value + mask.size();
    }
    return text;
}

// What parse() shows of a URL that did parse: the user's own text with only the password
// replaced, so the message matches what they typed.
std::string mask_parsed(boost::urls::url_view view) {
    boost::urls::url copy(view);
    if (copy.has_password()) copy.set_password(mask);
    auto params = copy.params();
    for (auto it = params.begin(); it != params.end(); ++it)
        if ((*it).key == "password") it = params.replace(it, {"password", mask});
    return std::string(copy.buffer());
}

struct Scheme {
    std::string dialect;
    std::string driver;
};

std::optional<Scheme> scheme_of(std::string_view scheme) {
    const std::string name = lower(scheme);
    const std::size_t plus = name.find('+');
    const std::string base = name.substr(0, plus);
    const std::string driver = plus == std::string::npos ? "" : name.substr(plus + 1);
    if (plus != std::string::npos && driver.empty()) return std::nullopt;
    if (base == "sqlite") return Scheme{"sqlite", driver};
    if (base == "postgresql" || base == "postgres") return Scheme{"postgresql", driver};
    return std::nullopt;
}

std::map<std::string, std::string> query_of(boost::urls::url_view view) {
    std::map<std::string, std::string> query;
    for (const auto& param : view.params())
        query[param.key] = param.has_value ? param.value : std::string();
    return query;
}

/// "%XX" for each byte of `bytes`: how they are written in a URL.
std::string percent_encoded(std::string_view bytes) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : bytes) {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

/// The characters RFC 3986 lets a URL hold as they are; every other one is percent-encoded.
bool allowed_in_url(unsigned char c) {
    static constexpr std::string_view others = "-._~:/?#[]@!$&'()*+,;=%";
    return std::isalnum(c) != 0 || others.find(static_cast<char>(c)) != std::string_view::npos;
}

/// Why a URL that does not parse is refused when it holds a character no URL may hold as it is:
/// a sentence naming the first such character of `shown` (the masked text, so never one of the
/// password's) and how to percent-encode it; empty when there is none.
std::string unencoded_character(std::string_view shown) {
    const auto bad = std::find_if(shown.begin(), shown.end(), [](char c) {
        return !allowed_in_url(static_cast<unsigned char>(c));
    });
    if (bad == shown.end()) return {};
    const auto lead = static_cast<unsigned char>(*bad);
    if (lead < 0x80) {
        const std::string name = lead == ' ' ? std::string("a space")
                                 : lead < 0x20 || lead == 0x7f
                                     ? std::string("a control character")
                                     : "the character '" + std::string(1, *bad) + "'";
        return "; it contains " + name + ", which must be percent-encoded as " +
               percent_encoded({&*bad, 1});
    }
    // A UTF-8 sequence: its lead byte says how long it is.
    std::size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    length = std::min<std::size_t>(length, static_cast<std::size_t>(shown.end() - bad));
    const std::string_view character(&*bad, length);
    return "; it contains the non-ASCII character '" + std::string(character) +
           "', which must be percent-encoded as its UTF-8 bytes (" + percent_encoded(character) +
           ")";
}

/// Refuses a decoded part of a URL that holds a control character: a NUL would cut a file or
/// database name short where the C libraries read it, and no name or setting needs one.
void refuse_control_characters(std::string_view part, std::string_view value,
                               const std::string& shown) {
    const auto bad = std::find_if(value.begin(), value.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte < 0x20 || byte == 0x7f;
    });
    if (bad == value.end()) return;
    throw DatabaseError("the " + std::string(part) + " in database URL " + shown +
                        " holds the control character " + percent_encoded({&*bad, 1}) +
                        ", which no database name, file name or setting may contain; remove it");
}

void refuse_control_characters(const DatabaseUrl& url, const std::string& shown) {
    refuse_control_characters("user name", url.user, shown);
    refuse_control_characters("password", url.password, shown);
    refuse_control_characters("host", url.host, shown);
    refuse_control_characters(url.dialect == "sqlite" ? "file name" : "database name", url.database,
                              shown);
    for (const auto& [key, value] : url.query) {
        refuse_control_characters("query", key, shown);
        refuse_control_characters("query", value, shown);
    }
}

unsigned port_of(std::string_view digits, const std::string& shown) {
    // Boost.URL guarantees digits only; the length check keeps the arithmetic from overflowing.
    unsigned port = 0;
    if (digits.size() <= 5)
        for (char c : digits) port = port * 10 + static_cast<unsigned>(c - '0');
    if (digits.size() > 5 || port == 0 || port > 65535)
        throw DatabaseError("port " + std::string(digits) + " in database URL " + shown +
                            " is out of range; a port is a number from 1 to 65535");
    return port;
}

void parse_sqlite(boost::urls::url_view view, const std::string& shown, DatabaseUrl& url) {
    if (!view.has_authority() || view.has_userinfo() || !view.encoded_host().empty() ||
        view.has_port())
        throw DatabaseError("SQLite URL " + shown +
                            " must have the form sqlite:///relative.db, "
                            "sqlite:////absolute/path.db or sqlite:// (in memory)");
    // SQLAlchemy's rule: the path after the third slash is the file name, so a fourth slash
    // makes it absolute; no path at all means an in-memory database.
    const std::string path = view.path();
    const std::string file = path.empty() ? std::string() : path.substr(1);
    url.database = file.empty() ? ":memory:" : file;
}

void parse_postgresql(boost::urls::url_view view, const std::string& shown, DatabaseUrl& url) {
    if (!view.has_authority())
        throw DatabaseError("PostgreSQL URL " + shown +
                            " must have the form postgresql://user:password@host:port/dbname");
    url.user = view.user();
    url.password = view.password();
    url.host = view.host_address();
    const std::string path = view.path();
    // RFC 3986 ends the authority at the first '/', so "host:5a/x" has the port "5a". Boost.URL
    // 1.81 instead ends the port at its first non-digit and reads the rest as a path without
    // its leading '/' (database "a/x"): such a path is the rest of a port that is not a number.
    if (!path.empty() && path.front() != '/') {
        const std::string port = std::string(view.port()) + path.substr(0, path.find('/'));
        throw DatabaseError("port '" + port + "' in database URL " + shown +
                            " is not a number; a port is a number from 1 to 65535");
    }
    if (view.has_port() && !view.port().empty()) url.port = port_of(view.port(), shown);
    url.database = !path.empty() && path.front() == '/' ? path.substr(1) : path;
}

}  // namespace

DatabaseUrl DatabaseUrl::parse(std::string_view text) {
    if (text.empty())
        throw DatabaseError(
            "no database URL was given; pass --url or set MIGRATOR_DATABASE_URL or "
            "SQLALCHEMY_DATABASE_URL, e.g. sqlite:///local.db");
    const std::string shown = mask_password(text);
    const auto parsed = boost::urls::parse_uri(text);
    if (!parsed) {
        const std::string character = unencoded_character(shown);
        if (!character.empty()) throw DatabaseError("malformed database URL " + shown + character);
        throw DatabaseError("malformed database URL " + shown + "; expected " +
                            std::string(url_examples) +
                            ", with special and non-ASCII characters in the user name and "
                            "password percent-encoded");
    }
    const boost::urls::url_view view = *parsed;
    // An unencoded '@', '/', '?' or '#' in a password can still make a valid URL, one whose host,
    // path or query hold part of the password. The text-level mask and the parsed mask disagree
    // exactly then; refusing keeps that part of the password out of every later message.
    // The fragment is checked first: Boost.URL 1.81 reads past the end of the text when it walks
    // the parameters of an empty query followed by a fragment (`?#`, boostorg/url#864).
    if (view.has_fragment() || mask_parsed(view) != shown)
        throw DatabaseError("database URL " + shown +
                            " is ambiguous; percent-encode '@', ':', '/', '?' and '#' in the "
                            "user name and password (e.g. '@' as %40)");
    const auto scheme = scheme_of(view.scheme());
    if (!scheme)
        throw DatabaseError("unsupported database URL scheme '" + std::string(view.scheme()) +
                            "' in " + shown + "; migrator supports sqlite:// and postgresql://");

    DatabaseUrl url;
    url.dialect = scheme->dialect;
    url.driver = scheme->driver;
    if (url.dialect == "sqlite")
        parse_sqlite(view, shown, url);
    else
        parse_postgresql(view, shown, url);
    url.query = query_of(view);
    refuse_control_characters(url, shown);
    return url;
}

std::string DatabaseUrl::masked() const {
    const std::string scheme = driver.empty() ? dialect : dialect + "+" + driver;
    boost::urls::url out;
    if (dialect == "sqlite") {
        // set_path() writes a path starting "//" as "/.//" to keep it unambiguous; SQLAlchemy's
        // fourth slash must stay as typed, and after the empty authority it is unambiguous.
        const std::string path =
            is_sqlite_memory() ? ""
                               : "/" + boost::urls::encode(database, boost::urls::pchars + '/');
        out = boost::urls::url(scheme + "://" + path);
    } else {
        out.set_scheme(scheme);
        out.set_encoded_authority("");
        if (!user.empty() || !password.empty()) out.set_user(user);
        if (!password.empty()) out.set_password(mask);
        out.set_host_address(host);
        if (port) out.set_port_number(static_cast<std::uint16_t>(*port));
        if (!database.empty()) out.set_path("/" + database);
    }
    for (const auto& [key, value] : query)
        out.params().append({key, key == "password" ? std::string(mask) : value});
    return std::string(out.buffer());
}

std::string mask_password(std::string_view text) {
    std::string out;
    std::size_t pos = 0;
    std::size_t scheme_end;
    while ((scheme_end = text.find("://", pos)) != std::string_view::npos) {
        const std::size_t start = scheme_end + 3;
        std::size_t end = start;
        while (end < text.size() && !is_space(text[end])) ++end;
        out.append(text.substr(pos, start - pos));
        const std::string_view rest = text.substr(start, end - start);
        // The last '@' rather than the first: an unencoded '@' in a password must not leave the
        // rest of the password in view. A leading '/' means an empty authority (sqlite:///a@b.db).
        const std::size_t at = rest.empty() || rest.front() == '/' ? rest.npos : rest.rfind('@');
        const std::size_t colon = rest.find(':');
        if (at != rest.npos && colon < at) {
            out.append(rest.substr(0, colon + 1));
            out.append(mask);
            out.append(rest.substr(at));
        } else {
            out.append(rest);
        }
        pos = end;
    }
    out.append(text.substr(pos));
    return mask_password_parameters(std::move(out));
}

}  // namespace migrator
