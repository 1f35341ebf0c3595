// Compiled once to build the precompiled header the tests share (tests/CMakeLists.txt).
