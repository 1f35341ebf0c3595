#pragma once

// Runs a test's body on another thread; a body that does not finish within a
// minute is a hang (a lost wake-up, a deadlock), which ends the test program
// with a message naming the test: a hung thread cannot be stopped, and
// waiting for it would block the suite until ctest's own timeout.
// WITHOUT_HANGING_SECONDS=n waits n seconds instead, to attach a debugger.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>

namespace connectors::testing {

template <class Body>
void without_hanging(Body body) {
  const char* limit_text = std::getenv("WITHOUT_HANGING_SECONDS");
  const long limit = limit_text != nullptr ? std::strtol(limit_text, nullptr, 10) : 60;
  auto done = std::async(std::launch::async, body);
  if (done.wait_for(std::chrono::seconds{limit}) != std::future_status::ready) {
    std::fprintf(stderr, "%s: hung for %ld s\n", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                 limit);
    std::fflush(stderr);
    std::_Exit(3);
  }
  done.get();
}

}  // namespace connectors::testing
