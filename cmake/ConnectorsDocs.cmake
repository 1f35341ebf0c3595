# The API reference (Doxygen, Debian package `doxygen`) and its check.
#
#   cmake --build build/release --target docs   ->  build/release/docs/api/html/index.html
#
# The test `docs.api_reference` (label `docs`) runs Doxygen over the public
# headers with WARN_IF_UNDOCUMENTED and WARN_AS_ERROR=FAIL_ON_WARNINGS, so an
# undocumented public class or member fails the test suite. It runs in the
# Release configuration only (the headers are the same in every preset).
find_package(Doxygen QUIET)

set(CONNECTORS_DOXYGEN_OUTPUT ${PROJECT_BINARY_DIR}/docs/api)
set(CONNECTORS_DOXYGEN_WARN_AS_ERROR NO)
configure_file(${PROJECT_SOURCE_DIR}/docs/api/Doxyfile.in ${PROJECT_BINARY_DIR}/docs/Doxyfile @ONLY)
set(CONNECTORS_DOXYGEN_OUTPUT ${PROJECT_BINARY_DIR}/docs/api-check)
set(CONNECTORS_DOXYGEN_WARN_AS_ERROR FAIL_ON_WARNINGS)
configure_file(${PROJECT_SOURCE_DIR}/docs/api/Doxyfile.in ${PROJECT_BINARY_DIR}/docs/Doxyfile-check @ONLY)

# Called `docs` in a build of its own; `connectors_docs` inside another
# project (add_subdirectory), whose own `docs` target it must not clash with.
set(connectors_docs_target connectors_docs)
if(PROJECT_IS_TOP_LEVEL)
  set(connectors_docs_target docs)
endif()
if(DOXYGEN_FOUND)
  add_custom_target(${connectors_docs_target}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/docs/api
    COMMAND Doxygen::doxygen ${PROJECT_BINARY_DIR}/docs/Doxyfile
    COMMAND ${CMAKE_COMMAND} -E echo "API reference: ${PROJECT_BINARY_DIR}/docs/api/html/index.html"
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Generating the API reference with Doxygen"
    VERBATIM)
endif()

if(CONNECTORS_BUILD_TESTS AND CMAKE_BUILD_TYPE STREQUAL "Release")
  # Without doxygen the test fails and says why: CI installs it
  # (scripts/install-dependencies), and the check must not pass silently.
  add_test(NAME docs.api_reference
    COMMAND ${CMAKE_COMMAND} -DDOXYGEN=${DOXYGEN_EXECUTABLE} -DDOXYFILE=${PROJECT_BINARY_DIR}/docs/Doxyfile-check
            -DOUTPUT=${PROJECT_BINARY_DIR}/docs/api-check -P ${PROJECT_SOURCE_DIR}/cmake/check-api-docs.cmake
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(docs.api_reference PROPERTIES LABELS docs TIMEOUT 120)
endif()
