// Stamping a standalone revision project (scaffold init) that builds against the installed package.
#ifndef MIGRATOR_SCAFFOLD_PROJECT_TEMPLATE_HPP
#define MIGRATOR_SCAFFOLD_PROJECT_TEMPLATE_HPP

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace migrator::scaffold {

/// A CMake project name made from a folder name: letters, digits, '_' and '-' kept, every other
/// character turned into '_'; "migrations" when nothing is left.
std::string project_name_for(std::string_view folder_name);

/// Writes a plugin project into `dir` (created if missing): CMakeLists.txt (find_package(migrator),
/// every revisions/*/ folder, a `bundle` target), revisions/.gitkeep, migrator.ini and .gitignore.
/// Returns the paths written. Throws migrator::Error when `dir` is a file or a folder that is not
/// empty, or when a file cannot be written.
std::vector<std::filesystem::path> write_plugin_project(const std::filesystem::path& dir,
                                                        const std::string& project_name);

}  // namespace migrator::scaffold

#endif  // MIGRATOR_SCAFFOLD_PROJECT_TEMPLATE_HPP
