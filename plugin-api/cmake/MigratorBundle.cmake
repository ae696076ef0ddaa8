# migrator_add_bundle(): a build target that assembles a release bundle, bin/migrator and its
# backend modules (lib/migrator/) beside versions/*.so, and packs it into a .tar.gz.
#
#   migrator_add_bundle(NAME <target>
#                       [DESTINATION <dir>]      default: ${CMAKE_BINARY_DIR}/<target>
#                       [ARCHIVE <file>]         default: ${CMAKE_BINARY_DIR}/
#                                                         ${PROJECT_NAME}-<target>.tar.gz
#                       [VERSIONS_DIR <dir>])    default: ${MIGRATOR_VERSIONS_OUTPUT_DIR}
#                                                or ${CMAKE_BINARY_DIR}/versions
#
# `cmake --build build --target <target>` builds every revision plugin that
# migrator_add_revision() writes into VERSIONS_DIR (plugins built elsewhere, such as test
# fixtures, stay out), then fills <dir>/bin/migrator, <dir>/lib/migrator/ (its backend modules)
# and <dir>/versions/ (with the schema.sql and releases.txt that migrator_add_schema_file() and
# migrator_add_releases_file() copy there, if any), and writes the archive (holding bin/, lib/
# and versions/ at its top). The bundled copies carry no debug information (the build tree's keep
# their own): the plugins are stripped, then sealed again, since strip drops the seal the build
# appended. The bundled migrator finds versions/ beside its own folder, so the bundle works from
# any directory once moved or unpacked.
#
# The migrator copied is the target migrator::migrator (this repository's own build, or the
# imported program of an installed package), else ${MIGRATOR_EXECUTABLE}. Revisions added before
# or after this call are all included.

function(migrator_add_bundle)
  # Functions are global but variables are not: find the helper script from the function itself.
  set(helpers_dir "${CMAKE_CURRENT_FUNCTION_LIST_DIR}")
  cmake_parse_arguments(ARG "" "NAME;DESTINATION;ARCHIVE;VERSIONS_DIR" "" ${ARGN})
  if(NOT ARG_NAME)
    message(FATAL_ERROR "migrator_add_bundle: NAME <target> is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "migrator_add_bundle: unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_DESTINATION)
    set(ARG_DESTINATION "${CMAKE_BINARY_DIR}/${ARG_NAME}")
  endif()
  if(NOT ARG_ARCHIVE)
    set(ARG_ARCHIVE "${CMAKE_BINARY_DIR}/${PROJECT_NAME}-${ARG_NAME}.tar.gz")
  endif()
  _migrator_versions_dir(versions_dir "${ARG_VERSIONS_DIR}")
  get_filename_component(destination "${ARG_DESTINATION}" ABSOLUTE
                         BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  get_filename_component(archive "${ARG_ARCHIVE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")

  set(program_target "")
  if(TARGET migrator::migrator)
    set(program "$<TARGET_FILE:migrator::migrator>")
    get_target_property(imported migrator::migrator IMPORTED)
    if(NOT imported)
      get_target_property(program_target migrator::migrator ALIASED_TARGET)
      if(NOT program_target)
        set(program_target migrator::migrator)
      endif()
    endif()
  elseif(MIGRATOR_EXECUTABLE)
    set(program "${MIGRATOR_EXECUTABLE}")
  else()
    message(FATAL_ERROR "migrator_add_bundle: no migrator program to bundle; "
                        "call find_package(migrator) first")
  endif()

  # The bundled copies are stripped of their debug information (assemble_bundle.cmake); a
  # toolchain that names no strip program falls back to the one on the PATH.
  set(strip "${CMAKE_STRIP}")
  if(NOT strip)
    find_program(MIGRATOR_STRIP_PROGRAM NAMES strip)
    if(MIGRATOR_STRIP_PROGRAM)
      set(strip "${MIGRATOR_STRIP_PROGRAM}")
    endif()
  endif()

  # With a signing key (sign_plugins.cmake), the bundled plugins are signed after they are resealed.
  _migrator_signing_key(signing_key)
  set(signing_program "")
  if(signing_key)
    _migrator_scaffold_program(signing_program signing_target)
  endif()

  # The plugin list is read at generate time from a target property, so that revisions added
  # after this call (in later subdirectories) are bundled too.
  set(manifest "${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}_bundle_$<CONFIG>.cmake")
  add_custom_target(${ARG_NAME}
    COMMAND "${CMAKE_COMMAND}" "-DMANIFEST=${manifest}"
            -P "${helpers_dir}/assemble_bundle.cmake"
    COMMENT "Assembling the release bundle ${destination}"
    VERBATIM)
  if(program_target)
    add_dependencies(${ARG_NAME} ${program_target})
  endif()
  if(signing_key AND signing_target)
    add_dependencies(${ARG_NAME} ${signing_target})
  endif()
  set_target_properties(${ARG_NAME} PROPERTIES
    MIGRATOR_BUNDLE_VERSIONS_DIR "${versions_dir}"
    MIGRATOR_BUNDLE_PLUGINS ""
    MIGRATOR_BUNDLE_FILES "")
  set_property(GLOBAL APPEND PROPERTY MIGRATOR_BUNDLE_TARGETS ${ARG_NAME})
  get_property(revisions GLOBAL PROPERTY MIGRATOR_REVISION_TARGETS)
  foreach(revision IN LISTS revisions)
    _migrator_bundle_revision(${ARG_NAME} ${revision})
  endforeach()

  file(GENERATE OUTPUT "${manifest}" CONTENT
"# Written by migrator_add_bundle(${ARG_NAME}); read by assemble_bundle.cmake.
set(MIGRATOR_PROGRAM [==[${program}]==])
set(PLUGINS [==[$<GENEX_EVAL:$<TARGET_PROPERTY:${ARG_NAME},MIGRATOR_BUNDLE_PLUGINS>>]==])
set(FILES [==[$<TARGET_PROPERTY:${ARG_NAME},MIGRATOR_BUNDLE_FILES>]==])
set(DESTINATION [==[${destination}]==])
set(ARCHIVE [==[${archive}]==])
set(STRIP [==[${strip}]==])
set(SIGNING_KEY [==[${signing_key}]==])
set(SCAFFOLD [==[${signing_program}]==])
")
endfunction()

# The absolute versions directory a revision or a bundle uses: `given`, else
# ${MIGRATOR_VERSIONS_OUTPUT_DIR}, else ${CMAKE_BINARY_DIR}/versions.
function(_migrator_versions_dir out given)
  if(NOT given)
    if(MIGRATOR_VERSIONS_OUTPUT_DIR)
      set(given "${MIGRATOR_VERSIONS_OUTPUT_DIR}")
    else()
      set(given "${CMAKE_BINARY_DIR}/versions")
    endif()
  endif()
  get_filename_component(given "${given}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  set(${out} "${given}" PARENT_SCOPE)
endfunction()

# Records `target` (a revision plugin, or the copy of a schema file) as one that writes into the
# versions directory `dir`, for the bundles of that directory made before or after this call.
function(_migrator_record_versions_target target dir)
  set_target_properties(${target} PROPERTIES MIGRATOR_REVISION_VERSIONS_DIR "${dir}")
  set_property(GLOBAL APPEND PROPERTY MIGRATOR_REVISION_TARGETS ${target})
  get_property(bundles GLOBAL PROPERTY MIGRATOR_BUNDLE_TARGETS)
  foreach(bundle IN LISTS bundles)
    _migrator_bundle_revision(${bundle} ${target})
  endforeach()
endfunction()

# Adds the target `revision` (a revision plugin, or the copy of schema.sql or releases.txt) to the
# bundle target `bundle` when it writes into the bundle's versions directory.
function(_migrator_bundle_revision bundle revision)
  get_target_property(bundle_dir ${bundle} MIGRATOR_BUNDLE_VERSIONS_DIR)
  get_target_property(revision_dir ${revision} MIGRATOR_REVISION_VERSIONS_DIR)
  if(bundle_dir STREQUAL revision_dir)
    get_target_property(versions_file ${revision} MIGRATOR_VERSIONS_FILE_OUTPUT)
    if(versions_file)
      set_property(TARGET ${bundle} APPEND PROPERTY MIGRATOR_BUNDLE_FILES "${versions_file}")
    else()
      set_property(TARGET ${bundle} APPEND PROPERTY MIGRATOR_BUNDLE_PLUGINS
                   "$<TARGET_FILE:${revision}>")
    endif()
    add_dependencies(${bundle} ${revision})
  endif()
endfunction()
