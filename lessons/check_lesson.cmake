# Runs one lesson and checks its output:
#   cmake -DLESSON=<binary> -DEXPECT="<regex>~~<regex>..." [-DTIMEOUT=30] -P check_lesson.cmake
# Fails (a fatal error, so ctest reports it) when the lesson exits non-zero,
# runs out of time, or any regex matches nothing in its stdout + stderr. The
# output is always echoed, so `ctest --output-on-failure` shows the run.
if(NOT LESSON)
  message(FATAL_ERROR "check_lesson.cmake: -DLESSON=<binary> is required")
endif()
if(NOT TIMEOUT)
  set(TIMEOUT 30)
endif()

execute_process(
  COMMAND ${LESSON}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  TIMEOUT ${TIMEOUT})
message("${out}")
if(err)
  message("--- stderr ---\n${err}")
endif()

set(problems "")
if(NOT rc STREQUAL "0")
  string(APPEND problems "\n  exit status: ${rc} (expected 0)")
endif()
string(REPLACE "~~" ";" regexes "${EXPECT}")
foreach(re IN LISTS regexes)
  if(NOT "${out}${err}" MATCHES "${re}")
    string(APPEND problems "\n  no line matches: ${re}")
  endif()
endforeach()
if(problems)
  message(FATAL_ERROR "${LESSON} failed its check:${problems}")
endif()
