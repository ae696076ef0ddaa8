# Assembles a release bundle (run by the build target migrator_add_bundle() creates):
# DESTINATION/bin/migrator, DESTINATION/versions/*.so, and ARCHIVE holding both folders.
# MANIFEST names the file, written at generate time, that sets those variables, PLUGINS (the
# plugin files), FILES (other files for versions/: the declared schema.sql) and STRIP (the
# toolchain's strip program, if any).
include("${MANIFEST}")

# Start from empty folders so that a revision removed from the project leaves the bundle too.
file(REMOVE_RECURSE "${DESTINATION}/bin" "${DESTINATION}/versions")
file(MAKE_DIRECTORY "${DESTINATION}/bin" "${DESTINATION}/versions")

get_filename_component(program "${MIGRATOR_PROGRAM}" REALPATH)
if(NOT EXISTS "${program}")
  message(FATAL_ERROR "cannot bundle ${MIGRATOR_PROGRAM}: no such file")
endif()
get_filename_component(program_name "${program}" NAME)
file(COPY "${program}" DESTINATION "${DESTINATION}/bin")
if(NOT program_name STREQUAL "migrator")
  file(RENAME "${DESTINATION}/bin/${program_name}" "${DESTINATION}/bin/migrator")
endif()
# A build-tree migrator carries its debug information (ten times the program); a release does not
# need it. Symbols stay, for readable stack traces.
if(STRIP)
  execute_process(COMMAND "${STRIP}" --strip-debug "${DESTINATION}/bin/migrator"
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "cannot strip ${DESTINATION}/bin/migrator with ${STRIP}")
  endif()
endif()

list(LENGTH PLUGINS count)
if(count GREATER 0)
  file(COPY ${PLUGINS} DESTINATION "${DESTINATION}/versions")
endif()
if(FILES)
  file(COPY ${FILES} DESTINATION "${DESTINATION}/versions")
endif()

get_filename_component(archive_dir "${ARCHIVE}" DIRECTORY)
file(MAKE_DIRECTORY "${archive_dir}")
file(REMOVE "${ARCHIVE}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E tar czf "${ARCHIVE}" bin versions
                WORKING_DIRECTORY "${DESTINATION}"
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cannot write the bundle archive ${ARCHIVE}")
endif()
set(extra "")
if(FILES)
  set(extra " and schema.sql")
endif()
message(STATUS "Bundle: ${DESTINATION} (migrator and ${count} revision plugins${extra}), ${ARCHIVE}")
