# cmake -DINPUT=file.py -DOUTPUT=file.cpp -P embed_text.cmake: the text of INPUT as the C++
# constant migrator::scaffold::alembic_import_script, in raw string literals of at most 16 KB
# each (concatenated by the compiler).
file(READ "${INPUT}" text)
string(FIND "${text}" ")py\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains )py\" and cannot be embedded")
endif()
string(LENGTH "${text}" length)
set(body "")
set(offset 0)
while(offset LESS length)
  string(SUBSTRING "${text}" ${offset} 16000 piece)
  string(APPEND body "R\"py(${piece})py\"\n")
  math(EXPR offset "${offset} + 16000")
endwhile()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by scaffold/embed_text.cmake; do not edit.\n"
  "namespace migrator::scaffold {\nextern const char* const alembic_import_script;\n"
  "const char* const alembic_import_script =\n${body};\n}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
