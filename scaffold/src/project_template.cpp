// The files of a standalone revision project, as scaffold init writes them.
#include "project_template.hpp"

#include <cctype>
#include <fstream>
#include <migrator/common/errors.hpp>

namespace migrator::scaffold {
namespace fs = std::filesystem;
namespace {

// Like this repository's revisions/CMakeLists.txt, a folder that `scaffold new` creates joins the
// next build by itself (CONFIGURE_DEPENDS); unlike it, each revision's CMakeLists.txt is
// include()d rather than add_subdirectory()'d: one CMake directory per revision is what made
// adding the 1,001st revision of a large project slow (a Makefile, a cmake_install.cmake and
// their bookkeeping per folder, written at every re-glob).
const char* const cmake_lists_template =
    R"(# @PROJECT@: database migrations run by migrator, one compiled plugin per revision.
#
#   cmake -S . -B build [-G Ninja] -DCMAKE_PREFIX_PATH=<where migrator is installed>
#   cmake --build build                   every revision -> build/versions/<id>_<slug>.so
#   cmake --build build --target bundle   build/bundle/ (bin/migrator + versions/*.so, stripped
#                                         of debug information) and
#                                         build/@PROJECT@-bundle.tar.gz, to ship with a release
#
# Ninja (Debian: ninja-build) keeps a project of thousands of revisions quick to rebuild when a
# revision is added; Make works too. The plugins in build/versions/ keep their debug information
# (RelWithDebInfo, the default) for debugging; the bundled copies carry none.
cmake_minimum_required(VERSION 3.17)
project(@PROJECT@ LANGUAGES CXX)

set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "Build type" FORCE)
endif()

# migrator_add_revision() and migrator_add_bundle(); needs only migrator's headers.
find_package(migrator REQUIRED)

# Every revision plugin lands in build/versions/ (migrator.ini points migrator there).
set(MIGRATOR_VERSIONS_OUTPUT_DIR "${CMAKE_BINARY_DIR}/versions")

# Every folder under revisions/ holding a CMakeLists.txt is one revision (`scaffold new` makes
# them); CONFIGURE_DEPENDS makes a new folder part of the next build with no edit. The lists are
# include()d, all in this one CMake directory: with thousands of revisions, a directory each
# would make every re-glob slow. A revision's file names its source relative to its own folder.
add_compile_options(-Wall -Wextra)
file(GLOB revision_lists CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/revisions/*/CMakeLists.txt")
foreach(list IN LISTS revision_lists)
  include("${list}")
endforeach()

# The declared schema (revisions/schema.sql: what `migrator revision --autogenerate` and
# `migrator check --schema` compare with) travels with the plugins, into build/versions/ and the
# bundle, from the first build after it is created.
file(GLOB declared_schema CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/revisions/schema.sql")
if(declared_schema)
  migrator_add_schema_file("${declared_schema}")
endif()
# The releases (revisions/releases.txt, appended to by `scaffold release NAME`) travel the same
# way: every later build and bundle knows every earlier release.
file(GLOB releases_file CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/revisions/releases.txt")
if(releases_file)
  migrator_add_releases_file("${releases_file}")
endif()

# The release bundle: the installed migrator beside every plugin of build/versions/.
migrator_add_bundle(NAME bundle)
)";

const char* const config_text =
    R"(# migrator settings for this project, read from the folder migrator runs in.
#
# The database URL comes from --url, MIGRATOR_DATABASE_URL or SQLALCHEMY_DATABASE_URL,
# or from a line here such as:
#   url = sqlite:///local.db
# Other keys: version_table, version_table_schema, lock_timeout.
versions_dir = build/versions
# The revision sources: a revision not built into versions_dir, or edited since it was built,
# is reported before migrator acts (upgrade refuses it unless --allow-stale).
revisions_dir = revisions
)";

const char* const gitignore_text = R"(build/
*.db
*.db-journal
)";

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

void write_file(const fs::path& file, const std::string& content) {
    std::ofstream out(file, std::ios::binary);
    out << content;
    if (!out) throw Error("cannot write " + file.string());
}

}  // namespace

std::string project_name_for(std::string_view folder_name) {
    std::string name;
    for (char c : folder_name)
        name += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '_';
    if (name.find_first_not_of('_') == std::string::npos) return "migrations";
    return name;
}

std::vector<fs::path> write_plugin_project(const fs::path& dir, const std::string& project_name) {
    std::error_code error;
    if (fs::exists(dir, error)) {
        if (!fs::is_directory(dir, error))
            throw Error(dir.string() + " exists and is not a folder");
        if (!fs::is_empty(dir, error))
            throw Error("folder " + dir.string() +
                        " is not empty; scaffold init needs a new or empty folder");
    }
    fs::create_directories(dir / "revisions", error);
    if (error)
        throw Error("cannot create " + (dir / "revisions").string() + ": " + error.message());

    const std::vector<std::pair<fs::path, std::string>> files{
        {dir / "CMakeLists.txt", replace_all(cmake_lists_template, "@PROJECT@", project_name)},
        {dir / "revisions" / ".gitkeep", ""},
        {dir / "migrator.ini", config_text},
        {dir / ".gitignore", gitignore_text},
    };
    std::vector<fs::path> written;
    for (const auto& [path, content] : files) {
        write_file(path, content);
        written.push_back(path);
    }
    return written;
}

}  // namespace migrator::scaffold
