# Runs one libFuzzer target for SECONDS seconds on WORK_DIR/corpus, a copy of the seed corpus
# SEEDS (the committed seeds stay as they are; inputs found by earlier runs are kept), with the
# dictionary DICTIONARY. Fails, naming the file holding the input, when the target crashes,
# throws, hangs or trips a sanitizer.
# Usage: cmake -D FUZZER=... -D SEEDS=... -D DICTIONARY=... -D WORK_DIR=... -D SECONDS=... -P run_fuzzer.cmake
foreach(variable FUZZER SEEDS DICTIONARY WORK_DIR SECONDS)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "run_fuzzer.cmake: -D ${variable}=... is missing")
  endif()
endforeach()

set(corpus "${WORK_DIR}/corpus")
set(artifacts "${WORK_DIR}/artifacts")
file(REMOVE_RECURSE "${artifacts}")
file(MAKE_DIRECTORY "${corpus}" "${artifacts}")
file(COPY "${SEEDS}/" DESTINATION "${corpus}")

execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
          -print_final_stats=1 -dict=${DICTIONARY} -artifact_prefix=${artifacts}/ "${corpus}"
  RESULT_VARIABLE status
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

get_filename_component(name "${FUZZER}" NAME)
string(REGEX MATCH "stat::number_of_executed_units:[ ]*([0-9]+)" ignored "${output}")
set(runs "${CMAKE_MATCH_1}")
string(REGEX MATCH "stat::average_exec_per_sec:[ ]*([0-9]+)" ignored "${output}")
set(per_second "${CMAKE_MATCH_1}")
file(GLOB inputs "${corpus}/*")
list(LENGTH inputs corpus_size)
if(NOT status EQUAL 0)
  file(GLOB found "${artifacts}/*")
  message("${output}")
  message(FATAL_ERROR "${name} failed (${status}) after ${runs} runs; the input is in: ${found}\n"
                      "Reproduce with: ${FUZZER} <that file>")
endif()
message("${name}: ${runs} runs in ${SECONDS} s (${per_second}/s), corpus of ${corpus_size} inputs")
