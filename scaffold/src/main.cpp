// scaffold: stamps new revision projects (scaffold new "message", or --autogenerate from the
// database and schema.sql) under revisions/, merge revisions (scaffold merge heads), releases
// (scaffold release NAME, in revisions/releases.txt), standalone plugin projects (scaffold init
// DIR), and signing keys and signatures (scaffold keygen, scaffold sign).
#include <migrator/plugin_abi.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <migrator/command_line/completion.hpp>
#include <migrator/command_line/error_report.hpp>
#include <migrator/command_line/errors.hpp>
#include <migrator/command_line/settings_sources.hpp>
#include <migrator/common/errors.hpp>
#include <migrator/common/text.hpp>
#include <migrator/db/database_url.hpp>
#include <migrator/scaffold/scaffold.hpp>
#include <optional>

#include "project_template.hpp"
#include "signing.hpp"

namespace {

using namespace migrator;
namespace fs = std::filesystem;

/// The database autogenerate compares with: --url, then MIGRATOR_DATABASE_URL, then
/// SQLALCHEMY_DATABASE_URL, then `url` in the config file (--config, then $MIGRATOR_CONFIG, then
/// ./migrator.ini), as migrator takes it; and the declared schema's models, when no schema file
/// is named (--schema-file, MIGRATOR_SCHEMA_FILE), from `models` in the same file; the version
/// table and its schema, when not given, from `version_table` and `version_table_schema` there.
std::string database_url(const std::string& given, const std::string& config_flag,
                         scaffold::AutogenerateOptions& source) {
    const auto config_file = find_config_file(config_flag);
    if (!config_file) return database_url_from(given, "");
    const ConfigFile config = read_config_file(*config_file);
    if (source.models.empty() && source.schema_file.empty()) source.models = config.value("models");
    // The version table as migrator finds it: --version-table, then the config file's.
    if (!source.version_table_chosen && !config.value("version_table").empty()) {
        source.version_table = config.value("version_table");
        source.version_table_chosen = true;
    }
    if (source.version_schema.empty()) source.version_schema = config.value("version_table_schema");
    return database_url_from(given, config.value("url"));
}

/// The prefix this scaffold was installed into (holding lib/cmake/migrator/), if it was.
std::optional<fs::path> installed_prefix() {
    std::error_code error;
    const fs::path program = fs::read_symlink("/proc/self/exe", error);
    if (error) return std::nullopt;
    const fs::path prefix = program.parent_path().parent_path();
    if (!fs::exists(prefix / "lib" / "cmake" / "migrator" / "migratorConfig.cmake", error))
        return std::nullopt;
    return prefix;
}

/// Whether `program` is an executable file in a folder of $PATH.
bool on_path(const std::string& program) {
    const std::string path = environment_value("PATH");
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find(':', start), path.size());
        const fs::path candidate = fs::path(path.substr(start, end - start)) / program;
        std::error_code error;
        if (end > start && fs::is_regular_file(candidate, error) &&
            ::access(candidate.c_str(), X_OK) == 0)
            return true;
        start = end + 1;
    }
    return false;
}

int run_init(const std::string& dir_text) {
    const fs::path dir = fs::absolute(dir_text).lexically_normal();
    const fs::path folder = dir.has_filename() ? dir : dir.parent_path();
    const std::string name = scaffold::project_name_for(folder.filename().string());
    for (const auto& path : scaffold::write_plugin_project(folder, name))
        std::cout << "Generating " << path.string() << " ... done\n";

    // Where CMake finds the package, and how to call migrator: nothing to add for a system-wide
    // installation; the installation's own paths otherwise.
    const auto prefix = installed_prefix();
    const bool system_wide = prefix && (*prefix == "/usr" || *prefix == "/usr/local");
    const std::string prefix_option = system_wide ? ""
                                      : prefix
                                          ? " -DCMAKE_PREFIX_PATH=" + prefix->string()
                                          : " -DCMAKE_PREFIX_PATH=<where migrator is installed>";
    const std::string bin = prefix && !system_wide ? (*prefix / "bin").string() + "/" : "";
    const std::vector<std::pair<std::string, std::string>> steps{
        {"cd " + folder.string(), ""},
        {bin + "scaffold new \"create account\"", "a revision under revisions/"},
        // Ninja regenerates a project of a thousand revisions several times faster than Make
        // when a new revision joins it, and its no-op build is instant.
        {"cmake -S . -B build" + std::string(on_path("ninja") ? " -G Ninja" : "") + prefix_option,
         ""},
        {"cmake --build build", "every revision -> build/versions/"},
        {bin + "migrator --url sqlite:///local.db upgrade head", "versions_dir: migrator.ini"},
        {"cmake --build build --target bundle", "build/bundle/, build/" + name + "-bundle.tar.gz"},
    };
    std::cout << "\nNext steps:\n";
    for (const auto& [command, comment] : steps) {
        std::cout << "  " << command;
        if (!comment.empty())
            std::cout << std::string(command.size() < 40 ? 40 - command.size() : 2, ' ') << "# "
                      << comment;
        std::cout << '\n';
    }
    return 0;
}

/// scaffold import-alembic: the projects, then the report (what to review, what to do next).
int run_import(const scaffold::ImportOptions& request) {
    const auto report = scaffold::import_alembic(request, std::cout);
    std::cout << "\nImported " << count_of(report.revisions, "revision") << " from "
              << request.alembic_versions_dir << ": " << count_of(report.translated, "statement")
              << " translated, " << report.review.size() << " left for review.\n";
    for (const auto& item : report.review)
        std::cout << "  review " << item.file << ":" << item.line << ": " << item.call << " ("
                  << item.why << ")\n";
    if (!report.review.empty())
        std::cout << "Each statement left for review is kept as a comment in its revision, beside "
                     "a line that fails the step until it is written in C++.\n";
    std::cout << "Next: build with `cmake --build build`; to continue an Alembic database, set "
                 "version_table = alembic_version in migrator.ini.\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"scaffold: stamps new migrator revision projects"};
    app.set_version_flag("--version", std::string("scaffold " MIGRATOR_VERSION ", plugin-api ") +
                                          MIGRATOR_PLUGIN_API_VERSION);
    app.require_subcommand(1);

    scaffold::NewCommandLine line;
    scaffold::NewOptions& options = line.options;
    auto* create = app.add_subcommand("new", "Create a new revision under revisions/");
    scaffold::add_new_options(*create, line);
    std::string url;
    std::string config_file;
    scaffold::AutogenerateOptions source;
    create->add_option("--url", url,
                       "--autogenerate: database URL (default: $MIGRATOR_DATABASE_URL, then "
                       "$SQLALCHEMY_DATABASE_URL, then url in the config file)");
    create->add_option("--config", config_file,
                       "--autogenerate: settings file for url, as migrator's (default: "
                       "$MIGRATOR_CONFIG, then ./migrator.ini if present)");
    auto* schema_file =
        create->add_option("--schema-file", source.schema_file,
                           "--autogenerate: the declared schema, SQL (default: "
                           "$MIGRATOR_SCHEMA_FILE, then schema.sql in the revisions folder)");
    create
        ->add_option("--models", source.models,
                     "--autogenerate: the declared schema from SQLAlchemy models instead of a "
                     "file, MODULE:ATTRIBUTE (e.g. myapp.models:Base.metadata; default: models "
                     "in the config file), printed by share/migrator/sqlalchemy_schema.py with "
                     "$MIGRATOR_PYTHON or python3")
        ->type_name("MODULE:ATTRIBUTE")
        ->excludes(schema_file);
    auto* version_table_flag =
        create->add_option("--version-table", source.version_table,
                           "--autogenerate: version table name (default: migrator_version)");
    create->add_option("--version-table-schema", source.version_schema,
                       "--autogenerate: PostgreSQL schema of the version table (default: the "
                       "connection's current schema)");
    auto* merge = app.add_subcommand("merge", "Create a merge revision joining several revisions");
    merge->add_option("revisions", options.merge, "Revisions to join, or `heads`")->required();
    scaffold::add_revision_options(*merge, options);
    scaffold::ReleaseCommandLine release_request;
    auto* release = app.add_subcommand(
        "release",
        "Record the heads of the revision sources as a release in revisions/releases.txt");
    scaffold::add_release_options(*release, release_request);
    std::string init_dir;
    auto* init = app.add_subcommand(
        "init", "Create a standalone revision project that builds against the installed migrator");
    init->add_option("dir", init_dir, "Folder to create (new or empty)")->required();

    scaffold::ImportOptions import_request;
    auto* import_alembic = app.add_subcommand(
        "import-alembic",
        "Import an Alembic history: one revision project per script of ALEMBIC_VERSIONS_DIR, its "
        "body translated into the portable operations");
    import_alembic
        ->add_option("alembic_versions_dir", import_request.alembic_versions_dir,
                     "The folder of Alembic revision scripts (e.g. alembic/versions)")
        ->required();
    import_alembic->add_option("--revisions-dir", import_request.revisions_dir,
                               "Where to write the revision projects (default: ./revisions)");

    std::string keygen_dir;
    auto* keygen = app.add_subcommand(
        "keygen",
        "Write an Ed25519 key pair for signing revisions: DIR/migrator-signing.key "
        "(secret, mode 0600) and DIR/migrator-signing.pub (trust it in migrator)");
    keygen->add_option("dir", keygen_dir, "Folder to write the two files into")->required();
    std::string key_file = environment_value("MIGRATOR_SIGNING_KEY");
    std::string signature_name;
    std::vector<std::string> sign_paths;
    auto* sign = app.add_subcommand(
        "sign", "Sign prebuilt plugins: writes the signature file of their directory");
    sign->add_option("--key", key_file,
                     "Secret key file from scaffold keygen (default: $MIGRATOR_SIGNING_KEY)");
    sign->add_option("--output", signature_name,
                     "Name of the signature file in that directory (default: "
                     "migrator.signatures; it must end in .signatures)");
    sign->add_option("paths", sign_paths,
                     "A versions directory (every .so in it), or plugin files of one directory")
        ->required();

    // `scaffold __complete WORD...`: the candidates for the shell's completion (host/completion/).
    if (migrator::answer_completion_request(app, argc, argv)) return 0;
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return migrator::report_command_line_error(app, e, "scaffold");
    }
    if (init->parsed()) {
        try {
            return run_init(init_dir);
        } catch (...) {
            return report_current_exception(false);
        }
    }
    if (release->parsed()) {
        try {
            scaffold::record_release(release_request, std::cout);
            return 0;
        } catch (...) {
            return report_current_exception(false);
        }
    }
    if (import_alembic->parsed()) {
        try {
            return run_import(import_request);
        } catch (...) {
            return report_current_exception(false);
        }
    }
    if (keygen->parsed() || sign->parsed()) {
        try {
            if (keygen->parsed()) {
                for (const auto& path : scaffold::write_key_pair(keygen_dir))
                    std::cout << "Wrote " << path.string() << '\n';
                return 0;
            }
            if (key_file.empty()) {
                std::cerr << "error: scaffold sign needs a secret key: pass --key FILE or set "
                             "MIGRATOR_SIGNING_KEY\n";
                return exit_usage;
            }
            scaffold::sign_plugins(key_file, {sign_paths.begin(), sign_paths.end()}, signature_name,
                                   &std::cout);
            return 0;
        } catch (...) {
            return report_current_exception(false);
        }
    }
    if (options.message.empty()) options.message = line.positional_message;
    if (options.message.empty() && options.merge.empty()) {
        std::cerr << "error: a revision needs a message: scaffold new \"create account\"\n";
        return exit_usage;
    }
    try {
        if (line.autogenerate) {
            if (source.schema_file.empty() && source.models.empty())
                source.schema_file = environment_value("MIGRATOR_SCHEMA_FILE");
            source.version_table_chosen = version_table_flag->count() > 0;
            source.url = database_url(url, config_file, source);
            scaffold::autogenerate_revision(options, source, std::cout);
        } else {
            scaffold::create_revision(options, std::cout);
        }
        return 0;
    } catch (...) {
        return report_current_exception(false);
    }
}
