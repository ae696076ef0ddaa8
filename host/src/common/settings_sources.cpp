// Where a setting comes from: the environment, the config file and the database URL's precedence.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <migrator/errors.hpp>
#include <migrator/settings_sources.hpp>
#include <sstream>

namespace migrator {
namespace {

/// What an unknown key in the config file is told about.
constexpr const char* known_keys =
    "url, versions_dir, schema_file, scratch_url, version_table, version_table_schema, "
    "lock_timeout, statement_timeout, step_timeout, permission_check, trusted_keys, "
    "revisions_dir";

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string trimmed(const std::string& text) {
    const auto first = std::find_if_not(text.begin(), text.end(), is_space);
    const auto last = std::find_if_not(text.rbegin(), text.rend(), is_space).base();
    return first < last ? std::string(first, last) : std::string();
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return text;
}

/// `text` without one pair of matching quotes around it, as CLI11 takes a quoted value.
std::string unquoted(std::string text) {
    if (text.size() > 1 && (text.front() == '"' || text.front() == '\'') &&
        text.front() == text.back())
        text = text.substr(1, text.size() - 2);
    return text;
}

/// `text` split at `delimiter` (at white space when it is '\0'), a quoted part staying one value
/// with its quotes taken off: CLI11's split_up, which the file format was defined by.
std::vector<std::string> split_values(std::string text, char delimiter) {
    const auto at_delimiter = [delimiter](char c) {
        return delimiter == '\0' ? is_space(c) : c == delimiter;
    };
    std::vector<std::string> values;
    text = trimmed(text);
    while (!text.empty()) {
        const char quote = text.front();
        if (quote == '\'' || quote == '"' || quote == '`') {
            bool escaped_quote = false;
            auto end = text.find(quote, 1);
            while (end != std::string::npos && text[end - 1] == '\\') {
                end = text.find(quote, end + 1);
                escaped_quote = true;
            }
            if (end == std::string::npos) {
                values.push_back(text.substr(1));
                text.clear();
            } else {
                values.push_back(text.substr(1, end - 1));
                // The character after the closing quote is taken to be the delimiter.
                text = end + 2 < text.size() ? text.substr(end + 2) : std::string();
            }
            if (escaped_quote) {
                std::string& value = values.back();
                const std::string escaped{'\\', quote};
                for (auto at = value.find(escaped); at != std::string::npos;
                     at = value.find(escaped, at + 1))
                    value.replace(at, 2, 1, quote);
            }
        } else {
            const auto end = std::find_if(text.begin(), text.end(), at_delimiter);
            values.emplace_back(text.begin(), end);
            text = end == text.end() ? std::string() : std::string(end + 1, text.end());
        }
        text = trimmed(text);
    }
    return values;
}

/// `text` split at every '.', as CLI11 splits a section or key into its parents.
std::vector<std::string> dotted_parts(const std::string& text) {
    if (text.empty()) return {""};
    std::vector<std::string> parts;
    std::istringstream stream(text);
    for (std::string part; std::getline(stream, part, '.');) parts.push_back(part);
    return parts;
}

/// The value part of a `key = value` line: several values at commas, else at spaces (a quoted
/// part staying one), or a [list] that may go on over the next lines of `input`.
std::vector<std::string> values_of(std::string item, std::istream& input) {
    const auto comment = item.find(';');
    if (comment != std::string::npos) item = trimmed(item.substr(0, comment));
    std::vector<std::string> values;
    if (item.size() > 1 && item.front() == '[') {
        for (std::string next; item.back() != ']' && std::getline(input, next);)
            item += trimmed(next);
        values = split_values(item.substr(1, item.size() - 2), ',');
    } else if (item.find(',') != std::string::npos) {
        values = split_values(item, ',');
    } else if (item.find(' ') != std::string::npos) {
        values = split_values(item, '\0');
    } else {
        values = {item};
    }
    for (auto& value : values) value = unquoted(value);
    return values;
}

}  // namespace

std::string environment_value(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

const std::string& ConfigFile::value_of(const ConfigSetting& setting) const {
    if (!setting.top_level || setting.values.size() != 1) throw unknown(setting);
    return setting.values.front();
}

ConfigError ConfigFile::unknown(const ConfigSetting& setting) const {
    return ConfigError("config file " + path + ": '" + setting.key +
                       "' is not a setting migrator knows (" + known_keys + ")");
}

std::string ConfigFile::value(const std::string& key) const {
    const auto last =
        std::find_if(settings.rbegin(), settings.rend(),
                     [&](const ConfigSetting& setting) { return setting.key == key; });
    return last == settings.rend() ? std::string() : value_of(*last);
}

std::optional<std::string> find_config_file(const std::string& named) {
    namespace fs = std::filesystem;
    const std::string file = named.empty() ? environment_value("MIGRATOR_CONFIG") : named;
    std::error_code ignored;
    if (file.empty()) {
        if (!fs::is_regular_file("migrator.ini", ignored)) return std::nullopt;
        return std::string("migrator.ini");
    }
    if (!fs::is_regular_file(file, ignored))
        throw ConfigError("config file " + file + " does not exist");
    return file;
}

ConfigFile read_config_file(const std::string& path) {
    std::ifstream input(path);
    if (!input.good())
        throw ConfigError("cannot read config file " + path + ": " + path +
                          " was not readable (missing?)");
    ConfigFile config{path, {}};
    std::vector<std::string> section;  // the parents a key gets from its [section]
    // A section header ends a run of lines with the same key, whose values would otherwise join.
    bool run_ended = true;
    std::vector<std::string> previous_parents;
    for (std::string line; std::getline(input, line);) {
        line = trimmed(line);
        // CLI11 gives lines shorter than three characters no meaning.
        if (line.size() < 3) continue;
        if (line.front() == '[' && line.back() == ']') {
            std::string name = line.substr(1, line.size() - 2);
            if (name.size() > 1 && name.front() == '[' && name.back() == ']')
                name = name.substr(1, name.size() - 2);
            if (!section.empty() || lower(name) != "default") run_ended = true;
            section.clear();
            if (lower(name) != "default")
                for (const auto& part : dotted_parts(name)) section.push_back(unquoted(part));
            continue;
        }
        if (line.front() == ';' || line.front() == '#') continue;

        std::string key;
        std::vector<std::string> values;
        const auto equals = line.find('=');
        if (equals != std::string::npos) {
            key = trimmed(line.substr(0, equals));
            values = values_of(trimmed(line.substr(equals + 1)), input);
        } else {
            key = trimmed(line.substr(0, line.find(';')));
            values = {"true"};
        }
        std::vector<std::string> parents = section;
        if (key.find('.') == std::string::npos) {
            key = unquoted(key);
        } else {
            auto parts = dotted_parts(key);
            key = unquoted(parts.back());
            parts.pop_back();
            for (const auto& part : parts) parents.push_back(unquoted(part));
        }
        const bool top_level =
            parents.empty() || (parents.size() == 1 && parents.front() == "migrator");
        // Consecutive lines setting the same key in the same place are one setting of several
        // values.
        if (!run_ended && config.settings.back().key == key && previous_parents == parents) {
            auto& joined = config.settings.back().values;
            joined.insert(joined.end(), values.begin(), values.end());
        } else {
            config.settings.push_back({key, values, top_level});
        }
        run_ended = false;
        previous_parents = std::move(parents);
    }
    return config;
}

std::string database_url_from(const std::string& flag, const std::string& config_url) {
    if (!flag.empty()) return flag;
    for (const char* name : {"MIGRATOR_DATABASE_URL", "SQLALCHEMY_DATABASE_URL"}) {
        auto value = environment_value(name);
        if (!value.empty()) return value;
    }
    if (!config_url.empty()) return config_url;
    throw DatabaseError(
        "no database URL given: pass --url, or set MIGRATOR_DATABASE_URL or "
        "SQLALCHEMY_DATABASE_URL (e.g. sqlite:///local.db), or put url = ... in migrator.ini");
}

}  // namespace migrator
