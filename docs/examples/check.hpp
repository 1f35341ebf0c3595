#pragma once

// The assertion of the documentation examples: a failed CHECK is reported and
// makes the example's main return 1 (ctest runs every example).

#include <cstdio>

inline int failures = 0;

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

#define CHECK(x) check((x), #x)

// Whether calling `f` throws an E.
template <class E, class F>
bool throws(F f) {
  try {
    f();
  } catch (const E&) {
    return true;
  } catch (...) {
  }
  return false;
}
