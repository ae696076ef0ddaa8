# migrator_add_revision(): turns one revision source file into one revision plugin (.so); and
# migrator_add_schema_file(), migrator_add_releases_file(): the files that travel beside them.
#
#   migrator_add_revision(<source.cpp>
#                         [TARGET <name>]               default: the source's file stem
#                         [OUTPUT_DIRECTORY <dir>])     default: ${MIGRATOR_VERSIONS_OUTPUT_DIR}
#                                                       or ${CMAKE_BINARY_DIR}/versions
#
# The plugin is named <stem>.so, compiled with hidden visibility and linked with a version script
# so that it exports nothing but the entry point. The SHA-256 of the source file is computed at
# build time (so it follows every edit) and embedded in the plugin's metadata section. After every
# link the plugin is sealed (seal_plugin.cmake): a SHA-256 of the whole file is appended, which
# migrator checks before loading it, so a plugin damaged or changed after its build is refused.
#
# The helper files it uses (source_sha256.cmake, seal_plugin.cmake, revision.map) are found
# beside this file, both in this repository (plugin-api/cmake/) and in an installed package
# (lib/cmake/migrator/). Every revision, and every file copied beside them, is recorded for
# migrator_add_bundle() (MigratorBundle.cmake, included here).
#
#   migrator_add_schema_file(<schema.sql>
#                            [TARGET <name>]            default: migrator_schema_file
#                            [OUTPUT_DIRECTORY <dir>])  default: as for migrator_add_revision
#
# copies the declared schema (what `migrator check --schema` compares the database with) to
# <dir>/schema.sql, where migrator looks for it by default, at every build that finds it changed;
# a bundle of that versions directory carries it too.
#
#   migrator_add_releases_file(<releases.txt>
#                              [TARGET <name>]            default: migrator_releases_file
#                              [OUTPUT_DIRECTORY <dir>])  default: as for migrator_add_revision
#
# does the same for the project's releases (`scaffold release NAME` appends to it), copied to
# <dir>/releases.txt, where migrator reads them (`@NAME` targets, `converge`, `releases`).

include("${CMAKE_CURRENT_LIST_DIR}/MigratorBundle.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/sign_plugins.cmake")  # MIGRATOR_SIGNING_KEY: sign each build

# How revision plugins are linked, decided once per build folder (cached):
# - --gc-sections drops every function of the support library (compiled one per section) that the
#   revision does not reach. The metadata section stays because the entry point refers to it
#   (MIGRATOR_REVISION's does, and the ABI has it return that metadata): a hand-written entry point
#   must do the same, or the linker drops the section and migrator refuses the plugin.
# - gold, when the compiler can use it, links a plugin in a third of ld's time; ld otherwise, with
#   -z noseparate-code so that code shares a page with read-only data instead of being padded.
# MIGRATOR_REVISION_LINKER=gold|default overrides the choice.
if(NOT DEFINED MIGRATOR_REVISION_LINKER)
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_LINK_OPTIONS -fuse-ld=gold -Wl,--gc-sections)
  set(CMAKE_REQUIRED_QUIET ON)
  check_cxx_source_compiles("int main() { return 0; }" MIGRATOR_GOLD_LINKS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  unset(CMAKE_REQUIRED_QUIET)
  if(MIGRATOR_GOLD_LINKS)
    set(linker gold)
  else()
    set(linker default)
  endif()
  set(MIGRATOR_REVISION_LINKER "${linker}" CACHE STRING
      "Linker of revision plugins: gold (faster) or default (the compiler's)")
  unset(linker)
endif()

function(migrator_add_revision source)
  set(MIGRATOR_REVISION_CMAKE_DIR "${CMAKE_CURRENT_FUNCTION_LIST_DIR}")
  cmake_parse_arguments(ARG "" "TARGET;OUTPUT_DIRECTORY" "" ${ARGN})
  # Relative to the list file that calls this (CMAKE_CURRENT_LIST_DIR is the caller's here), so
  # that a revision's CMakeLists.txt works both add_subdirectory()'d and include()d.
  get_filename_component(source "${source}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_LIST_DIR}")
  get_filename_component(stem "${source}" NAME_WE)
  if(NOT ARG_TARGET)
    set(ARG_TARGET "${stem}")
  endif()
  _migrator_versions_dir(ARG_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")

  set(sha_header "${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}_source_sha256.h")
  add_custom_command(
    OUTPUT "${sha_header}"
    COMMAND "${CMAKE_COMMAND}" "-DSOURCE=${source}" "-DOUTPUT=${sha_header}"
            -P "${MIGRATOR_REVISION_CMAKE_DIR}/source_sha256.cmake"
    DEPENDS "${source}" "${MIGRATOR_REVISION_CMAKE_DIR}/source_sha256.cmake"
    COMMENT "Checksumming revision source ${stem}"
    VERBATIM)

  add_library(${ARG_TARGET} MODULE "${source}" "${sha_header}")
  target_link_libraries(${ARG_TARGET} PRIVATE migrator::plugin_api)
  target_compile_options(${ARG_TARGET} PRIVATE -include "${sha_header}")
  set_target_properties(${ARG_TARGET} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${stem}"
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${MIGRATOR_REVISION_CMAKE_DIR}/revision.map;${MIGRATOR_REVISION_CMAKE_DIR}/seal_plugin.cmake")
  target_link_options(${ARG_TARGET} PRIVATE
    "LINKER:--version-script=${MIGRATOR_REVISION_CMAKE_DIR}/revision.map"
    "LINKER:--no-undefined"
    "LINKER:--gc-sections")
  if(MIGRATOR_REVISION_LINKER STREQUAL "gold")
    target_link_options(${ARG_TARGET} PRIVATE -fuse-ld=gold)
  else()
    target_link_options(${ARG_TARGET} PRIVATE "LINKER:-z,noseparate-code")
  endif()

  # Last, after the link (and any strip a toolchain does there): the seal covers the final bytes.
  add_custom_command(TARGET ${ARG_TARGET} POST_BUILD
    COMMAND "${CMAKE_COMMAND}" "-DPLUGIN=$<TARGET_FILE:${ARG_TARGET}>"
            -P "${MIGRATOR_REVISION_CMAKE_DIR}/seal_plugin.cmake"
    COMMENT "Sealing revision plugin ${stem}"
    VERBATIM)

  _migrator_record_versions_target(${ARG_TARGET} "${ARG_OUTPUT_DIRECTORY}")
  migrator_sign_revision(${ARG_TARGET} "${ARG_OUTPUT_DIRECTORY}")  # sign_plugins.cmake
endfunction()

# Copies `file` to <versions dir>/<name> at every build that finds it changed, by a target a
# bundle of that versions directory picks the copy up from (MIGRATOR_VERSIONS_FILE_OUTPUT).
function(_migrator_add_versions_file file name default_target what)
  cmake_parse_arguments(ARG "" "TARGET;OUTPUT_DIRECTORY" "" ${ARGN})
  get_filename_component(file "${file}" ABSOLUTE)
  if(NOT ARG_TARGET)
    set(ARG_TARGET ${default_target})
  endif()
  _migrator_versions_dir(ARG_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  set(output "${ARG_OUTPUT_DIRECTORY}/${name}")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${ARG_OUTPUT_DIRECTORY}"
    COMMAND "${CMAKE_COMMAND}" -E copy "${file}" "${output}"
    DEPENDS "${file}"
    COMMENT "Copying ${what} ${file}"
    VERBATIM)
  add_custom_target(${ARG_TARGET} ALL DEPENDS "${output}")
  set_target_properties(${ARG_TARGET} PROPERTIES MIGRATOR_VERSIONS_FILE_OUTPUT "${output}")
  _migrator_record_versions_target(${ARG_TARGET} "${ARG_OUTPUT_DIRECTORY}")
endfunction()

function(migrator_add_schema_file file)
  _migrator_add_versions_file("${file}" schema.sql migrator_schema_file "the declared schema"
                              ${ARGN})
endfunction()

function(migrator_add_releases_file file)
  _migrator_add_versions_file("${file}" releases.txt migrator_releases_file "the releases file"
                              ${ARGN})
endfunction()
