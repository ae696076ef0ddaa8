// Where the database URL and the versions directory come from (flag, environment, defaults).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <migrator/command_line/settings_sources.hpp>
#include <migrator/common/errors.hpp>
#include <migrator/plugins/plugins.hpp>

#include "cli.hpp"

namespace migrator::cli {
namespace {

std::string trim_text(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// Throws ConfigError unless `file` passes check_permissions as a `kind`.
void require_trusted(const std::string& file, TrustedPath kind) {
    struct stat status {};
    if (::stat(file.c_str(), &status) != 0)
        throw ConfigError(std::string(kind == TrustedPath::schema_file ? "cannot read schema file "
                                      : kind == TrustedPath::key_file
                                          ? "cannot read key file "
                                          : "cannot read config file ") +
                          file + ": " + std::strerror(errno));
    try {
        check_permissions(std::filesystem::absolute(file), kind, status.st_mode, status.st_uid,
                          ::geteuid());
    } catch (const PluginError& e) {
        throw ConfigError(e.what());
    }
}

}  // namespace

std::string resolve_database_url(const GlobalOptions& options) {
    return database_url_from(options.url, options.config_url);
}

std::optional<DatabaseUrl> resolve_scratch_url(const GlobalOptions& options,
                                               const DatabaseUrl& target) {
    std::string text = options.scratch_url;
    std::string origin = "--scratch-url";
    if (text.empty()) {
        text = environment_value("MIGRATOR_SCRATCH_URL");
        origin = "MIGRATOR_SCRATCH_URL";
    }
    if (text.empty()) {
        text = options.config_scratch_url;
        origin = "scratch_url in the config file";
    }
    if (text.empty()) return std::nullopt;
    DatabaseUrl scratch = DatabaseUrl::parse(text);
    // The declared schema is SQL in the database's dialect, and is compared with its schema.
    if (scratch.dialect != target.dialect)
        throw ConfigError("the scratch database " + scratch.masked() + " (named by " + origin +
                          ") is " + scratch.dialect + ", but " + target.masked() + " is " +
                          target.dialect +
                          ": check --schema builds the declared schema on a database of the "
                          "same dialect");
    return scratch;
}

std::filesystem::path resolve_versions_dir(const GlobalOptions& options) {
    namespace fs = std::filesystem;
    if (!options.versions_dir.empty()) return fs::absolute(options.versions_dir);
    const auto from_environment = environment_value("MIGRATOR_VERSIONS_DIR");
    if (!from_environment.empty()) return fs::absolute(from_environment);
    if (!options.config_versions_dir.empty()) return options.config_versions_dir;

    std::error_code ignored;
    const fs::path in_working_dir = fs::absolute("versions");
    if (fs::is_directory(in_working_dir, ignored)) return in_working_dir;
    // A release bundle is bin/migrator + versions/*.so: look beside the program's own folder.
    const fs::path program = boost::dll::program_location().string();
    const fs::path beside_program = program.parent_path().parent_path() / "versions";
    if (fs::is_directory(beside_program, ignored)) return beside_program;
    throw PluginError("no versions directory found (looked for " + in_working_dir.string() +
                      " and " + beside_program.string() +
                      "); pass --versions-dir or set MIGRATOR_VERSIONS_DIR");
}

std::optional<std::filesystem::path> resolve_revisions_dir(const GlobalOptions& options) {
    const auto from_environment = environment_value("MIGRATOR_REVISIONS_DIR");
    if (!from_environment.empty()) return std::filesystem::absolute(from_environment);
    if (!options.config_revisions_dir.empty()) return options.config_revisions_dir;
    return std::nullopt;
}

std::vector<PublicKey> resolve_trusted_keys(const GlobalOptions& options) {
    std::vector<std::string> files = options.trusted_key_files;
    std::string origin = "--trusted-keys";
    if (files.empty()) {
        const std::string from_environment = environment_value("MIGRATOR_TRUSTED_KEYS");
        std::size_t start = 0;
        while (start < from_environment.size()) {
            const std::size_t end =
                std::min(from_environment.find(':', start), from_environment.size());
            if (end > start) files.push_back(from_environment.substr(start, end - start));
            start = end + 1;
        }
        origin = "MIGRATOR_TRUSTED_KEYS";
    }
    if (files.empty()) {
        files = options.config_trusted_key_files;
        origin = "trusted_keys in the config file";
    }
    std::vector<PublicKey> keys;
    const std::string compiled = compiled_release_keys();
    if (!compiled.empty()) keys = parse_public_keys(compiled, "compiled into this migrator");
    for (const auto& file : files) {
        std::error_code ignored;
        if (!std::filesystem::is_regular_file(file, ignored))
            throw ConfigError("key file " + file + " (named by " + origin +
                              ") does not exist or is not a file");
        // Whoever may write a trusted key file may sign the code migrator runs.
        if (options.permission_check) require_trusted(file, TrustedPath::key_file);
        try {
            for (const auto& key : read_public_keys(file))
                if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
        } catch (const PluginError& e) {
            throw ConfigError(std::string(e.what()) + " (named by " + origin + ")");
        }
    }
    return keys;
}

std::filesystem::path resolve_schema_file(const GlobalOptions& options,
                                          const std::filesystem::path& versions_dir) {
    namespace fs = std::filesystem;
    fs::path file;
    std::string origin;
    if (!options.schema_file.empty()) {
        file = fs::absolute(options.schema_file);
        origin = "named by --schema-file";
    } else if (const auto from_environment = environment_value("MIGRATOR_SCHEMA_FILE");
               !from_environment.empty()) {
        file = fs::absolute(from_environment);
        origin = "named by MIGRATOR_SCHEMA_FILE";
    } else if (!options.config_schema_file.empty()) {
        file = options.config_schema_file;
        origin = "named by schema_file in the config file";
    } else if (const auto sources = resolve_revisions_dir(options);
               sources && fs::is_regular_file(*sources / "schema.sql")) {
        // In a project, the file autogenerate reads: the one beside the revision sources.
        file = *sources / "schema.sql";
        origin = "the default: schema.sql in the revisions folder";
    } else {
        file = versions_dir / "schema.sql";
        origin = "the default: schema.sql in the versions directory";
    }
    std::error_code ignored;
    if (!fs::is_regular_file(file, ignored))
        throw ConfigError("schema file " + file.string() + " (" + origin +
                          ") does not exist; write the declared schema there, or name it with "
                          "--schema-file, MIGRATOR_SCHEMA_FILE or schema_file in migrator.ini");
    // SQL run on the target database's server, like a plugin's: trusted on the same terms.
    if (options.permission_check) require_trusted(file.string(), TrustedPath::schema_file);
    return file;
}

DeclaredSchemaSource resolve_declared_schema(const GlobalOptions& options,
                                             const std::filesystem::path& versions_dir) {
    DeclaredSchemaSource source;
    const bool file_named =
        !options.schema_file.empty() || !environment_value("MIGRATOR_SCHEMA_FILE").empty();
    if (!options.models.empty()) {
        source.models = options.models;
    } else if (!file_named && !options.config_models.empty()) {
        if (!options.config_schema_file.empty())
            throw ConfigError(
                "the config file names both models and schema_file; the declared "
                "schema comes from one of them: remove the other");
        source.models = options.config_models;
    }
    if (source.models.empty()) source.file = resolve_schema_file(options, versions_dir);
    return source;
}

int run_scaffold(const std::string& command, const std::vector<std::string>& args) {
    const std::filesystem::path program =
        std::filesystem::path(boost::dll::program_location().string()).parent_path() / "scaffold";
    std::vector<std::string> argv{program.string(), command};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> pointers;
    for (auto& arg : argv) pointers.push_back(arg.data());
    pointers.push_back(nullptr);
    std::cout.flush();
    execv(program.c_str(), pointers.data());
    throw ConfigError("cannot run " + program.string() + " (" + std::strerror(errno) +
                      "); it is installed beside migrator");
}

void apply_config_file(const std::string& config_flag, const GivenOnCommandLine& given,
                       GlobalOptions& options) {
    namespace fs = std::filesystem;
    const auto found = find_config_file(config_flag);
    if (!found) return;
    const std::string& file = *found;
    const ConfigFile config = read_config_file(file);
    const fs::path folder = fs::absolute(file).parent_path();
    for (const auto& item : config.settings) {
        const std::string& key = item.key;
        const std::string& value = config.value_of(item);
        // A number of seconds, kept unless the command line gave the option.
        const auto seconds = [&](bool given_on_command_line, double& setting) {
            char* end = nullptr;
            const double parsed = std::strtod(value.c_str(), &end);
            if (value.empty() || *end != '\0' || parsed < 0)
                throw ConfigError("config file " + file + ": " + key + " = " + value +
                                  " is not a number of seconds");
            if (!given_on_command_line) setting = parsed;
        };
        if (key == "url") {
            options.config_url = value;
        } else if (key == "scratch_url") {
            options.config_scratch_url = value;
        } else if (key == "versions_dir") {
            options.config_versions_dir = (folder / value).lexically_normal().string();
        } else if (key == "revisions_dir") {
            options.config_revisions_dir = (folder / value).lexically_normal().string();
        } else if (key == "schema_file") {
            options.config_schema_file = (folder / value).lexically_normal().string();
        } else if (key == "models") {
            options.config_models = value;
        } else if (key == "version_table") {
            if (!given.version_table) options.version_table = value;
            options.version_table_chosen = true;
        } else if (key == "version_table_schema") {
            if (!given.version_schema) options.version_schema = value;
        } else if (key == "lock_timeout") {
            seconds(given.lock_timeout, options.lock_timeout_seconds);
        } else if (key == "statement_timeout") {
            seconds(given.statement_timeout, options.statement_timeout_seconds);
        } else if (key == "step_timeout") {
            seconds(given.step_timeout, options.step_timeout_seconds);
        } else if (key == "trusted_keys") {
            std::size_t start = 0;
            while (start < value.size()) {
                const std::size_t end = std::min(value.find(',', start), value.size());
                const std::string one(trim_text(value.substr(start, end - start)));
                if (!one.empty())
                    options.config_trusted_key_files.push_back(
                        (folder / one).lexically_normal().string());
                start = end + 1;
            }
        } else if (key == "permission_check") {
            const bool on = value == "true" || value == "yes" || value == "on" || value == "1";
            const bool off = value == "false" || value == "no" || value == "off" || value == "0";
            if (!on && !off)
                throw ConfigError("config file " + file + ": permission_check = " + value +
                                  " is not true or false");
            if (given.no_permission_check) continue;
            // A config file may turn the permission check off only if it would pass that check
            // itself: otherwise whoever can write it (or plant ./migrator.ini) could turn it off.
            if (off) require_trusted(file, TrustedPath::config_file);
            options.permission_check = on;
        } else {
            throw config.unknown(item);
        }
    }
    // A project's sources are known: revisions/ beside its config file, as scaffold init lays
    // it out, unless the file names another folder.
    std::error_code ignored;
    if (options.config_revisions_dir.empty() && fs::is_directory(folder / "revisions", ignored))
        options.config_revisions_dir = (folder / "revisions").string();
}

}  // namespace migrator::cli
