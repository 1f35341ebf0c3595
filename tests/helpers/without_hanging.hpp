#pragma once

// Runs a test's body on another thread; a body that does not finish within a
// minute is a hang (a lost wake-up, a deadlock), which ends the test program
// with a message naming the test: a hung thread cannot be stopped, and
// waiting for it would block the suite until ctest's own timeout.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>

namespace connectors::testing {

template <class Body>
void without_hanging(Body body) {
  auto done = std::async(std::launch::async, body);
  if (done.wait_for(std::chrono::seconds{60}) != std::future_status::ready) {
    std::fprintf(stderr, "%s: hung for 60 s\n", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::fflush(stderr);
    std::_Exit(3);
  }
  done.get();
}

}  // namespace connectors::testing
