# Signs revision plugins at build time: when a signing key is given, every versions directory
# migrator_add_revision() builds into gets a signature file (migrator.signatures, written by
# `scaffold sign`) after its plugins are built and sealed, and bundles are signed again after their
# plugins are stripped and resealed (assemble_bundle.cmake).
#
# The key (the secret key file `scaffold keygen DIR` wrote) is the CMake variable
# MIGRATOR_SIGNING_KEY where migrator_add_revision() / migrator_add_bundle() are called, else the
# environment variable MIGRATOR_SIGNING_KEY when CMake configures the project. Without a key
# nothing is signed. The scaffold program used is this repository's target `scaffold`, or the
# installed package's migrator::scaffold.

# Sets `out` to the absolute signing key file, or "" when none is given.
function(_migrator_signing_key out)
  set(key "${MIGRATOR_SIGNING_KEY}")
  if(NOT key AND DEFINED ENV{MIGRATOR_SIGNING_KEY})
    set(key "$ENV{MIGRATOR_SIGNING_KEY}")
  endif()
  if(key)
    get_filename_component(key "${key}" ABSOLUTE)
    if(NOT EXISTS "${key}")
      message(FATAL_ERROR "MIGRATOR_SIGNING_KEY names ${key}, which does not exist")
    endif()
  endif()
  set(${out} "${key}" PARENT_SCOPE)
endfunction()

# Sets `out` to the scaffold program (a generator expression) and `out_target` to the target to
# depend on ("" for an installed one).
function(_migrator_scaffold_program out out_target)
  if(TARGET migrator::scaffold)
    set(${out} "$<TARGET_FILE:migrator::scaffold>" PARENT_SCOPE)
    set(${out_target} "" PARENT_SCOPE)
  elseif(TARGET scaffold)
    set(${out} "$<TARGET_FILE:scaffold>" PARENT_SCOPE)
    set(${out_target} scaffold PARENT_SCOPE)
  elseif(MIGRATOR_SCAFFOLD_EXECUTABLE)
    set(${out} "${MIGRATOR_SCAFFOLD_EXECUTABLE}" PARENT_SCOPE)
    set(${out_target} "" PARENT_SCOPE)
  else()
    message(FATAL_ERROR "MIGRATOR_SIGNING_KEY is set but no scaffold program signs with it; "
                        "call find_package(migrator) first")
  endif()
endfunction()

# migrator_sign_revision(<target> <dir>): when a key is given, the signature file of `dir` is
# written after `target` (a revision plugin writing into `dir`) is built, at every build, by the
# target named in `target`'s property MIGRATOR_SIGN_TARGET.
function(migrator_sign_revision target dir)
  _migrator_signing_key(key)
  if(NOT key)
    return()
  endif()
  string(MD5 tag "${dir}")
  string(SUBSTRING "${tag}" 0 12 tag)
  set(sign_target "migrator_sign_${tag}")
  if(NOT TARGET ${sign_target})
    _migrator_scaffold_program(scaffold scaffold_target)
    add_custom_target(${sign_target} ALL
      COMMAND "${scaffold}" sign --key "${key}" "${dir}"
      COMMENT "Signing the revision plugins of ${dir}"
      VERBATIM)
    if(scaffold_target)
      add_dependencies(${sign_target} ${scaffold_target})
    endif()
  endif()
  add_dependencies(${sign_target} ${target})
  set_target_properties(${target} PROPERTIES MIGRATOR_SIGN_TARGET ${sign_target})
endfunction()
