// Parsing database URLs in SQLAlchemy syntax with Boost.URL, and keeping passwords out of text.
#include <algorithm>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <migrator/database_url.hpp>
#include <migrator/errors.hpp>

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
    if (view.has_port() && !view.port().empty()) url.port = port_of(view.port(), shown);
    const std::string path = view.path();
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
    if (!parsed)
        throw DatabaseError("malformed database URL " + shown + "; expected " +
                            std::string(url_examples) +
                            ", with special characters in the user name and password "
                            "percent-encoded");
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
