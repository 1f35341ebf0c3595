#pragma once

// Which sanitizer a test program is built with, for the few tests that
// behave differently under one.

#include <gtest/gtest.h>

namespace connectors::testing {

// g++ defines __SANITIZE_*__; clang answers __has_feature, which g++ 12 lacks.
#if defined(__has_feature)
#define CONNECTORS_TEST_HAS_FEATURE(feature) __has_feature(feature)
#else
#define CONNECTORS_TEST_HAS_FEATURE(feature) 0
#endif

#if defined(__SANITIZE_THREAD__) || CONNECTORS_TEST_HAS_FEATURE(thread_sanitizer)
inline constexpr bool under_thread_sanitizer = true;
#else
inline constexpr bool under_thread_sanitizer = false;
#endif

#if defined(__SANITIZE_ADDRESS__) || CONNECTORS_TEST_HAS_FEATURE(address_sanitizer)
inline constexpr bool under_address_sanitizer = true;
#else
inline constexpr bool under_address_sanitizer = false;
#endif

}  // namespace connectors::testing

// A volume test (a million blocks, hundreds of MiB through one worker, one
// call after another) spends minutes in ThreadSanitizer's instrumentation of
// every byte while it runs no thread that the smaller tests do not: it runs in
// the ASan and release builds, and ThreadSanitizer skips it (README.md, "Build
// and pass all tests"). Call it first in the test's body.
#define CONNECTORS_SKIP_VOLUME_TEST_UNDER_THREAD_SANITIZER()                                   \
  do {                                                                                         \
    if (::connectors::testing::under_thread_sanitizer)                                         \
      GTEST_SKIP() << "a volume test: it runs in the ASan and release builds, not under TSan"; \
  } while (false)
