# Seals one revision plugin: appends the integrity seal of plugin_abi.h (MIGRATOR_SEAL_MAGIC), the
# line "\nmigrator-seal-v1 sha256:<digest>\n" where <digest> is the SHA-256 of every byte before it.
#
#   cmake -DPLUGIN=<file.so> -P seal_plugin.cmake
#
# migrator_add_revision() runs it after every link; assemble_bundle.cmake include()s this file and
# calls migrator_seal_plugin() on each bundled copy after stripping it. A plugin stripped or
# otherwise rewritten after its build loses its seal (strip drops bytes past the ELF contents) and
# is refused by migrator until it is sealed again with this command. A file that carries a seal
# already is refused rather than sealed twice (rebuild it to seal it anew).

# Whether `file` ends with a seal; sets `out` to TRUE or FALSE.
function(migrator_plugin_is_sealed file out)
  # "\nmigrator-seal-v1 sha256:" in hexadecimal: CMake reads binary files only as hex text.
  set(magic_hex "0a6d69677261746f722d7365616c2d7631207368613235363a")
  set(magic_size 25)
  set(seal_size 90)  # the magic, 64 hex digits and a newline
  file(SIZE "${file}" size)
  set(sealed FALSE)
  if(size GREATER seal_size)
    math(EXPR tail "${size} - ${seal_size}")
    file(READ "${file}" tail_magic OFFSET ${tail} LIMIT ${magic_size} HEX)
    if(tail_magic STREQUAL magic_hex)
      set(sealed TRUE)
    endif()
  endif()
  set(${out} ${sealed} PARENT_SCOPE)
endfunction()

# Appends the seal to `file`; a fatal error when it is missing or sealed already.
function(migrator_seal_plugin file)
  if(NOT EXISTS "${file}" OR IS_DIRECTORY "${file}")
    message(FATAL_ERROR "cannot seal ${file}: no such file")
  endif()
  migrator_plugin_is_sealed("${file}" sealed)
  if(sealed)
    message(FATAL_ERROR "cannot seal ${file}: it is sealed already; rebuild it to seal it anew")
  endif()
  file(SHA256 "${file}" digest)
  file(APPEND "${file}" "\nmigrator-seal-v1 sha256:${digest}\n")
endfunction()

# Run as a script (cmake -P), seal the one file named by PLUGIN.
if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(NOT PLUGIN)
    message(FATAL_ERROR "seal_plugin.cmake: pass -DPLUGIN=<plugin file>")
  endif()
  migrator_seal_plugin("${PLUGIN}")
endif()
