// Where a setting comes from, for migrator and scaffold alike: the environment, the config file
// (found and read as migrator finds and reads it) and the precedence of the database URL.
#ifndef MIGRATOR_SETTINGS_SOURCES_HPP
#define MIGRATOR_SETTINGS_SOURCES_HPP

#include <migrator/common/errors.hpp>
#include <optional>
#include <string>
#include <vector>

namespace migrator {

/// The value of the environment variable `name`; "" when it is unset (or empty, which counts as
/// unset everywhere a setting is read).
std::string environment_value(const char* name);

/// One `key = value` line of a config file as CLI11's INI reader (CLI::ConfigINI) reads it: a
/// value holding a comma or a space is several values unless it is quoted, and a line without `=`
/// is the value "true".
struct ConfigSetting {
    std::string key;
    std::vector<std::string> values;
    /// Whether the key is at the top level or under [migrator], the only places our keys live.
    bool top_level = true;
};

/// A config file's settings, in the file's order.
struct ConfigFile {
    std::string path;  ///< as it was named (or "migrator.ini"), for messages
    std::vector<ConfigSetting> settings;

    /// The one value of `setting`. Throws ConfigError, naming the file and the key, when the key
    /// is not where our keys live or has several values: it is then no setting migrator knows.
    const std::string& value_of(const ConfigSetting& setting) const;
    /// The ConfigError for a setting migrator does not know, naming the keys it knows.
    ConfigError unknown(const ConfigSetting& setting) const;
    /// The value of the last line setting `key`; "" when no line does. Throws as value_of.
    std::string value(const std::string& key) const;
};

/// The config file migrator reads: `named` (its --config flag) if given, else the file named by
/// $MIGRATOR_CONFIG, else ./migrator.ini if it exists; std::nullopt when none is named and
/// ./migrator.ini does not exist. Throws ConfigError when a named file does not exist.
std::optional<std::string> find_config_file(const std::string& named);

/// The settings of the config file `path`. Throws ConfigError when it cannot be read.
ConfigFile read_config_file(const std::string& path);

/// The database URL: `flag` (the --url given on the command line), then MIGRATOR_DATABASE_URL,
/// then SQLALCHEMY_DATABASE_URL, then `config_url` (`url` in the config file); the first that is
/// not empty. Throws DatabaseError naming every way to give one when none does.
std::string database_url_from(const std::string& flag, const std::string& config_url);

}  // namespace migrator

#endif  // MIGRATOR_SETTINGS_SOURCES_HPP
