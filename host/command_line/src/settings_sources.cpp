// Where a setting comes from: the environment, the config file and the database URL's precedence.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <migrator/command_line/settings_sources.hpp>
#include <migrator/common/errors.hpp>

namespace migrator {
namespace {

/// What an unknown key in the config file is told about.
constexpr const char* known_keys =
    "url, versions_dir, schema_file, scratch_url, version_table, version_table_schema, "
    "lock_timeout, statement_timeout, step_timeout, permission_check, trusted_keys, "
    "revisions_dir, models";

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
    std::vector<CLI::ConfigItem> items;
    try {
        items = CLI::ConfigINI().from_file(path);
    } catch (const CLI::Error& e) {
        throw ConfigError("cannot read config file " + path + ": " + e.what());
    }
    ConfigFile config{path, {}};
    for (const auto& item : items) {
        // CLI11 reports entering and leaving a [section] as items of their own.
        if (item.name == "++" || item.name == "--") continue;
        const bool top_level =
            item.parents.empty() || (item.parents.size() == 1 && item.parents[0] == "migrator");
        config.settings.push_back({item.name, item.inputs, top_level});
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
