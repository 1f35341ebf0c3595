#pragma once

// A fixture for suites that run once with a sequential default executor
// (requests served inline, without coroutines) and once with two threads
// (coroutine requests): instantiate with
//   INSTANTIATE_TEST_SUITE_P(Executors, Suite, ::testing::Values(0, 2), executor_name);

#include "call_logger.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <string>

namespace connectors::testing {

class OnEveryExecutor : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { set_default_executor(executor(GetParam(), 0)); }
  void TearDown() override { set_default_executor(nullptr); }
  CallLogger log;
};

inline std::string executor_name(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? "Sequential" : "Threads";
}

}  // namespace connectors::testing
