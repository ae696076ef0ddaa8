# migrator_add_revision(): turns one revision source file into one revision plugin (.so).
#
#   migrator_add_revision(<source.cpp>
#                         [TARGET <name>]               default: the source's file stem
#                         [OUTPUT_DIRECTORY <dir>])     default: ${MIGRATOR_VERSIONS_OUTPUT_DIR}
#                                                       or ${CMAKE_BINARY_DIR}/versions
#
# The plugin is named <stem>.so, compiled with hidden visibility and linked with a version script
# so that it exports nothing but the entry point. The SHA-256 of the source file is computed at
# build time (so it follows every edit) and embedded in the plugin's metadata section.

function(migrator_add_revision source)
  set(MIGRATOR_REVISION_CMAKE_DIR "${CMAKE_CURRENT_FUNCTION_LIST_DIR}")
  cmake_parse_arguments(ARG "" "TARGET;OUTPUT_DIRECTORY" "" ${ARGN})
  get_filename_component(source "${source}" ABSOLUTE)
  get_filename_component(stem "${source}" NAME_WE)
  if(NOT ARG_TARGET)
    set(ARG_TARGET "${stem}")
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY)
    if(MIGRATOR_VERSIONS_OUTPUT_DIR)
      set(ARG_OUTPUT_DIRECTORY "${MIGRATOR_VERSIONS_OUTPUT_DIR}")
    else()
      set(ARG_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/versions")
    endif()
  endif()

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
    LINK_DEPENDS "${MIGRATOR_REVISION_CMAKE_DIR}/revision.map")
  target_link_options(${ARG_TARGET} PRIVATE
    "LINKER:--version-script=${MIGRATOR_REVISION_CMAKE_DIR}/revision.map"
    "LINKER:--no-undefined")
endfunction()
