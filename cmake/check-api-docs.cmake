# ctest docs.api_reference: runs Doxygen over the public headers and fails on
# any warning, an undocumented public class or member in the first place.
# Arguments: -DDOXYGEN=<doxygen> -DDOXYFILE=<Doxyfile-check> -DOUTPUT=<its OUTPUT_DIRECTORY>
if(NOT DOXYGEN)
  message(FATAL_ERROR "doxygen not found: run scripts/install-dependencies, then configure again")
endif()
file(REMOVE_RECURSE ${OUTPUT})
file(MAKE_DIRECTORY ${OUTPUT})
execute_process(COMMAND ${DOXYGEN} ${DOXYFILE} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
set(log "")
if(EXISTS ${OUTPUT}/warnings.log)
  file(READ ${OUTPUT}/warnings.log log)
endif()
if(NOT result EQUAL 0 OR NOT log STREQUAL "")
  string(REGEX MATCHALL "(warning|error):" warnings "${log}")
  list(LENGTH warnings count)
  message("${output}${errors}${log}")
  message(FATAL_ERROR "the API reference has ${count} problem(s) (above); every public class and member "
                      "needs a doc comment saying what it does, what it throws and what may run concurrently with it (docs/api/mainpage.md)")
endif()
message(STATUS "API reference: no warnings")
