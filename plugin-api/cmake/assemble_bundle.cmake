# Assembles a release bundle (run by the build target migrator_add_bundle() creates):
# DESTINATION/bin/migrator, DESTINATION/lib/migrator/ (the backend modules migrator loads from
# ../lib/migrator beside its folder), DESTINATION/versions/*.so, and ARCHIVE holding the three.
# MANIFEST names the file, written at generate time, that sets those variables, PLUGINS (the
# plugin files), FILES (other files for versions/: the declared schema.sql, the releases.txt) and
# STRIP (the toolchain's strip program, if any). The bundled program, modules and plugins carry no debug
# information; the plugins are sealed again after stripping (seal_plugin.cmake, found beside this).
include("${MANIFEST}")

# Start from empty folders so that a revision removed from the project leaves the bundle too.
file(REMOVE_RECURSE "${DESTINATION}/bin" "${DESTINATION}/lib" "${DESTINATION}/versions")
file(MAKE_DIRECTORY "${DESTINATION}/bin" "${DESTINATION}/lib/migrator" "${DESTINATION}/versions")

get_filename_component(program "${MIGRATOR_PROGRAM}" REALPATH)
if(NOT EXISTS "${program}")
  message(FATAL_ERROR "cannot bundle ${MIGRATOR_PROGRAM}: no such file")
endif()
get_filename_component(program_name "${program}" NAME)
file(COPY "${program}" DESTINATION "${DESTINATION}/bin")
if(NOT program_name STREQUAL "migrator")
  file(RENAME "${DESTINATION}/bin/${program_name}" "${DESTINATION}/bin/migrator")
endif()
# The backend modules (PostgreSQL) sit in lib/migrator/ beside the program's folder, in a build
# tree and an installation alike.
get_filename_component(program_dir "${program}" DIRECTORY)
file(GLOB modules "${program_dir}/../lib/migrator/*.so")
if(NOT modules)
  message(FATAL_ERROR "cannot bundle ${MIGRATOR_PROGRAM}: its backend modules are not in "
                      "${program_dir}/../lib/migrator")
endif()
file(COPY ${modules} DESTINATION "${DESTINATION}/lib/migrator")
# A build-tree migrator carries its debug information (ten times the program); a release does not
# need it. Symbols stay, for readable stack traces.
if(STRIP)
  file(GLOB bundled_modules "${DESTINATION}/lib/migrator/*.so")
  foreach(binary "${DESTINATION}/bin/migrator" ${bundled_modules})
    execute_process(COMMAND "${STRIP}" --strip-debug "${binary}" RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR "cannot strip ${binary} with ${STRIP}")
    endif()
  endforeach()
endif()

list(LENGTH PLUGINS count)
if(count GREATER 0)
  file(COPY ${PLUGINS} DESTINATION "${DESTINATION}/versions")
  # The build-tree plugins keep their debug information for the developers who debug them; the
  # bundled copies lose it and their local symbols (a fifth of the size, or less), then are sealed
  # anew: strip rewrites the file from its ELF contents and drops the seal appended after them.
  set(bundled_plugins "")
  foreach(plugin IN LISTS PLUGINS)
    get_filename_component(name "${plugin}" NAME)
    list(APPEND bundled_plugins "${DESTINATION}/versions/${name}")
  endforeach()
  if(STRIP)
    execute_process(COMMAND "${STRIP}" --strip-unneeded ${bundled_plugins}
                    RESULT_VARIABLE status ERROR_VARIABLE strip_error)
    if(NOT status EQUAL 0)
      message(FATAL_ERROR "cannot strip the bundled revision plugins with ${STRIP}: ${strip_error}")
    endif()
    include("${CMAKE_CURRENT_LIST_DIR}/seal_plugin.cmake")
    foreach(plugin IN LISTS bundled_plugins)
      migrator_seal_plugin("${plugin}")
    endforeach()
  else()
    message(WARNING "no strip program (CMAKE_STRIP is empty): the bundled revision plugins keep "
                    "their debug information")
  endif()
endif()
if(FILES)
  file(COPY ${FILES} DESTINATION "${DESTINATION}/versions")
endif()
# Last: the signature file lists the bytes that ship (sign_plugins.cmake).
if(SIGNING_KEY AND count GREATER 0)
  execute_process(COMMAND "${SCAFFOLD}" sign --key "${SIGNING_KEY}" ${bundled_plugins}
                  RESULT_VARIABLE status ERROR_VARIABLE sign_error OUTPUT_QUIET)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "cannot sign the bundled revision plugins: ${sign_error}")
  endif()
endif()

get_filename_component(archive_dir "${ARCHIVE}" DIRECTORY)
file(MAKE_DIRECTORY "${archive_dir}")
file(REMOVE "${ARCHIVE}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E tar czf "${ARCHIVE}" bin lib versions
                WORKING_DIRECTORY "${DESTINATION}"
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cannot write the bundle archive ${ARCHIVE}")
endif()
set(extra "")
foreach(file IN LISTS FILES)
  get_filename_component(name "${file}" NAME)
  string(APPEND extra " and ${name}")
endforeach()
message(STATUS "Bundle: ${DESTINATION} (migrator, its backend modules and ${count} revision "
               "plugins${extra}), ${ARCHIVE}")
