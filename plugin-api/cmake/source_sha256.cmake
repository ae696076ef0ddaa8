# Writes a header defining MIGRATOR_SOURCE_SHA256 as the SHA-256 of SOURCE (run by the build).
file(SHA256 "${SOURCE}" digest)
set(content "#define MIGRATOR_SOURCE_SHA256 \"${digest}\"\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
endif()
if(NOT previous STREQUAL content)
  file(WRITE "${OUTPUT}" "${content}")
endif()
