// A program that never called connectors::init: process executors still
// construct and run everything but PROCESS methods, which throw
// std::logic_error instead of forking a multithreaded process.
#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using connectors::MultiprocessingExecutor;
using connectors::Parallelization;
using connectors::Task;
using connectors::ThreadingMultiprocessingExecutor;

struct Getter {
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
  int get() const { return value; }
  int value = 5;
};

template <class Executor>
int run(Executor& executor, Parallelization flag) {
  Getter getter;
  auto main = [&]() -> Task<int> { co_return co_await executor.run_method(flag, &Getter::get, getter); };
  return executor.run_coroutine(main());
}

TEST(ProcessWithoutInit, ProcessCallsThrowLogicErrorNamingInit) {
  EXPECT_FALSE(connectors::initialized());
  MultiprocessingExecutor processes{2};
  ThreadingMultiprocessingExecutor both{2, 2};
  for (auto* message : {"", ""}) {
    (void)message;
    try {
      run(processes, Parallelization::PROCESS);
      FAIL() << "no std::logic_error";
    } catch (const std::logic_error& error) {
      EXPECT_NE(std::string{error.what()}.find("connectors::init"), std::string::npos) << error.what();
    }
    EXPECT_THROW(run(both, Parallelization::PROCESS), std::logic_error);
  }
  // Everything else works as usual.
  EXPECT_EQ(run(processes, Parallelization::SEQUENTIAL), 5);
  EXPECT_EQ(run(processes, Parallelization::THREAD), 5);
  EXPECT_EQ(run(both, Parallelization::THREAD), 5);
  EXPECT_TRUE(processes.worker_process_ids().empty());
}

TEST(ProcessWithoutInit, InitRefusesAMultithreadedProgram) {
  std::atomic<bool> stop{false};
  std::thread other{[&] {
    while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }};
  EXPECT_THROW(connectors::init(0, nullptr), std::logic_error);
  stop.store(true);
  other.join();
  EXPECT_FALSE(connectors::initialized());
}

}  // namespace
