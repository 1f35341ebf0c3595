# Driver of the packaging tests (tests/checks/CMakeLists.txt), run as
#   cmake -DSTEP=<step> -D<variable>=<value>... -P packaging.cmake
# Steps:
#   install       installs BUILD_DIR into PREFIX (emptied first)
#   package       runs cpack on BUILD_DIR: a .deb and a .tar.gz in WORK_DIR
#   deb           checks the .deb in WORK_DIR: its name, dependencies, and the
#                 files EXPECTED_FILES (comma-separated, relative to /usr)
#   find_package  builds and runs tests/consumer against PREFIX
#   tarball       unpacks the .tar.gz of WORK_DIR into a prefix, then find_package
#   pkg_config    compiles tests/consumer/timestwo.cpp with pkg-config's flags
#                 for PREFIX and runs it
#   subdirectory  configures tests/consumer with add_subdirectory(SOURCE_DIR)
#                 and compiles the consumer's one source file
# Every command must succeed; the first failure ends the test with its output.
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${result}): ${command}\n${output}")
  endif()
  set(run_output "${output}" PARENT_SCOPE)
endfunction()

# Configures, builds and runs the consumer project in WORK_DIR/consumer.
function(build_consumer)
  set(dir ${WORK_DIR}/consumer)
  file(REMOVE_RECURSE ${dir})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${dir} -G ${GENERATOR}
      -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${ARGN})
  run(${CMAKE_COMMAND} --build ${dir})
  run(${dir}/timestwo)
  message(STATUS "${run_output}")
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE ${PREFIX})
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})
elseif(STEP STREQUAL "package")
  file(REMOVE_RECURSE ${WORK_DIR})
  # The generators of CPACK_GENERATOR (CMakeLists.txt): DEB and TGZ.
  run(cpack -B ${WORK_DIR} --config ${BUILD_DIR}/CPackConfig.cmake)
elseif(STEP STREQUAL "deb")
  file(GLOB deb ${WORK_DIR}/*.deb)
  if(NOT deb MATCHES "/libconnectors-dev_${VERSION}_[a-z0-9]+\\.deb$")
    message(FATAL_ERROR "expected one libconnectors-dev_${VERSION}_<arch>.deb in ${WORK_DIR}, found: ${deb}")
  endif()
  run(dpkg-deb --field ${deb} Package Version Depends)
  string(REPLACE "\n" "; " fields "${run_output}")
  if(NOT fields MATCHES "Package: libconnectors-dev; Version: ${VERSION}; Depends: libcereal-dev")
    message(FATAL_ERROR "unexpected control fields: ${fields}")
  endif()
  run(dpkg-deb --contents ${deb})
  set(contents "${run_output}")
  string(REPLACE "," ";" expected_files "${EXPECTED_FILES}")
  foreach(file IN LISTS expected_files)
    if(NOT contents MATCHES " \\./usr/${file}\n")
      message(FATAL_ERROR "the .deb lacks /usr/${file}:\n${contents}")
    endif()
  endforeach()
elseif(STEP STREQUAL "find_package")
  build_consumer(-DCMAKE_PREFIX_PATH=${PREFIX} -DCONSUMER_WITH_MPI=${WITH_MPI})
elseif(STEP STREQUAL "tarball")
  file(GLOB tarball ${WORK_DIR}/*.tar.gz)
  list(LENGTH tarball count)
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "expected one tarball in ${WORK_DIR}, found: ${tarball}")
  endif()
  set(prefix ${WORK_DIR}/unpacked)
  file(REMOVE_RECURSE ${prefix})
  file(MAKE_DIRECTORY ${prefix})
  # The tarball holds one top directory, connectors-<version>-<system>/.
  run(tar -xzf ${tarball} -C ${prefix} --strip-components=1)
  build_consumer(-DCMAKE_PREFIX_PATH=${prefix})
elseif(STEP STREQUAL "pkg_config")
  set(ENV{PKG_CONFIG_PATH} ${PREFIX}/${LIBDIR}/pkgconfig)
  run(pkg-config --cflags --libs connectors)
  separate_arguments(flags UNIX_COMMAND "${run_output}")
  if(NOT flags MATCHES "-I${PREFIX}/")
    message(FATAL_ERROR "pkg-config's flags do not point into ${PREFIX}: ${flags}")
  endif()
  if(WITH_MPI)
    run(pkg-config --exists --print-errors connectors-mpi)
  endif()
  set(dir ${WORK_DIR}/pkg_config)
  file(REMOVE_RECURSE ${dir})
  file(MAKE_DIRECTORY ${dir})
  run(${CXX_COMPILER} -std=c++20 -Wall -Wextra -Wpedantic -Werror ${SOURCE_DIR}/tests/consumer/timestwo.cpp
      -o ${dir}/timestwo ${flags})
  run(${dir}/timestwo)
  message(STATUS "${run_output}")
elseif(STEP STREQUAL "subdirectory")
  # Only the consumer's object file: building the library again would cost a
  # minute, and linking is what the find_package tests check. Ninja, whatever
  # the build's generator: it names the object file as a target, and compiles
  # it without building the library first.
  set(dir ${WORK_DIR}/subdirectory)
  file(REMOVE_RECURSE ${dir})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${dir} -G Ninja -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
      -DCONNECTORS_SOURCE_DIR=${SOURCE_DIR})
  # As a subdirectory, connectors adds none of its tests, examples or packaging.
  if(EXISTS ${dir}/connectors/tests OR EXISTS ${dir}/connectors/examples OR EXISTS ${dir}/CPackConfig.cmake)
    message(FATAL_ERROR "connectors as a subdirectory added its tests, examples or packaging")
  endif()
  run(${CMAKE_COMMAND} --build ${dir} --target CMakeFiles/timestwo.dir/timestwo.cpp.o)
else()
  message(FATAL_ERROR "unknown STEP '${STEP}'")
endif()
