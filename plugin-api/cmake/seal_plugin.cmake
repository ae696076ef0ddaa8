# Seals one revision plugin: appends the integrity seal of plugin_abi.h (MIGRATOR_SEAL_MAGIC), the
# line "\nmigrator-seal-v1 sha256:<digest>\n" where <digest> is the SHA-256 of every byte before it.
#
#   cmake -DPLUGIN=<file.so> -P seal_plugin.cmake
#
# migrator_add_revision() runs it after every link. A plugin stripped or otherwise rewritten after
# its build loses its seal (strip drops bytes past the ELF contents) and is refused by migrator
# until it is sealed again with this command. A file that carries a seal already is refused
# rather than sealed twice (rebuild it to seal it anew).
if(NOT PLUGIN)
  message(FATAL_ERROR "seal_plugin.cmake: pass -DPLUGIN=<plugin file>")
endif()
if(NOT EXISTS "${PLUGIN}" OR IS_DIRECTORY "${PLUGIN}")
  message(FATAL_ERROR "cannot seal ${PLUGIN}: no such file")
endif()

# "\nmigrator-seal-v1 sha256:" in hexadecimal: CMake reads binary files only as hex text.
set(magic_hex "0a6d69677261746f722d7365616c2d7631207368613235363a")
set(magic_size 25)
set(seal_size 90)  # the magic, 64 hex digits and a newline

file(SIZE "${PLUGIN}" size)
if(size GREATER seal_size)
  math(EXPR tail "${size} - ${seal_size}")
  file(READ "${PLUGIN}" tail_magic OFFSET ${tail} LIMIT ${magic_size} HEX)
  if(tail_magic STREQUAL magic_hex)
    message(FATAL_ERROR "cannot seal ${PLUGIN}: it is sealed already; rebuild it to seal it anew")
  endif()
endif()

file(SHA256 "${PLUGIN}" digest)
file(APPEND "${PLUGIN}" "\nmigrator-seal-v1 sha256:${digest}\n")
