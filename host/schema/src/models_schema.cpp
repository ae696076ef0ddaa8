// Runs the shipped sqlalchemy_schema.py with the team's Python and takes the SQL it prints.
#include <cstring>
#include <migrator/common/errors.hpp>
#include <migrator/common/helper_program.hpp>
#include <migrator/schema/models_schema.hpp>
#include <string>
#include <vector>

namespace migrator {
namespace {

namespace fs = std::filesystem;

/// More declared schema than any application has; a runaway script is stopped there.
constexpr std::size_t max_output = 64u << 20;

}  // namespace

fs::path sqlalchemy_schema_script() {
    std::error_code error;
    const fs::path program = fs::read_symlink("/proc/self/exe", error);
    const fs::path folder = error ? fs::current_path() : program.parent_path();
    return (folder.parent_path() / "share" / "migrator" / "sqlalchemy_schema.py")
        .lexically_normal();
}

std::string models_schema_sql(const std::string& models, const std::string& dialect) {
    const fs::path script = sqlalchemy_schema_script();
    std::error_code error;
    if (!fs::is_regular_file(script, error))
        throw ConfigError("the SQLAlchemy schema script " + script.string() +
                          " does not exist; --models needs it (it is installed beside the "
                          "program, in share/migrator/)");
    const std::string python = python_program();
    const std::string who = python_program(true);
    const HelperRun run =
        run_helper_program({python, script.string(), models, "--dialect", dialect}, max_output);
    if (run.spawn_error != 0)
        throw ConfigError("cannot run " + who + " for --models " + models + ": " +
                          std::strerror(run.spawn_error) +
                          "; install Python 3 with SQLAlchemy, or set MIGRATOR_PYTHON to the "
                          "application's python");
    if (run.too_long)
        throw ConfigError("sqlalchemy_schema.py printed more than 64 MiB for --models " + models +
                          "; stopped");
    if (run.succeeded()) return run.out;
    const std::string sentence = last_line(run.err);
    if (run.exit_status == 2 && !sentence.empty()) throw ConfigError(sentence);
    // Anything else is a failure of the team's Python or of the models themselves (127: the
    // interpreter could not run the script): its last line says what.
    throw ConfigError(script.string() + " failed (" + run.how_it_ended() + ") under " + who +
                      " for --models " + models +
                      (sentence.empty() ? std::string() : ": " + sentence));
}

}  // namespace migrator
