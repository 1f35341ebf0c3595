// Every cell of the dispatch table, observed through thread ids.
#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace {

using connectors::Executor;
using connectors::Parallelization;
using connectors::SequentialExecutor;
using connectors::Task;
using connectors::ThreadingExecutor;

struct Where {
  std::thread::id ran_on() const { return std::this_thread::get_id(); }
};

// Runs a method with `flag` and reports whether it ran on the loop's thread.
bool runs_inline(Executor& executor, Parallelization flag) {
  Where where;
  auto main = [&]() -> Task<bool> {
    const std::thread::id loop_thread = std::this_thread::get_id();
    const std::thread::id method_thread = co_await executor.run_method(flag, &Where::ran_on, where);
    co_return method_thread == loop_thread;
  };
  return executor.run_coroutine(main());
}

TEST(Dispatch, SequentialExecutorRunsEverythingInline) {
  SequentialExecutor executor;
  EXPECT_TRUE(runs_inline(executor, Parallelization::SEQUENTIAL));
  EXPECT_TRUE(runs_inline(executor, Parallelization::THREAD));
  EXPECT_TRUE(runs_inline(executor, Parallelization::PROCESS));
}

TEST(Dispatch, ThreadingExecutorRunsSequentialInline) {
  ThreadingExecutor executor{2};
  EXPECT_TRUE(runs_inline(executor, Parallelization::SEQUENTIAL));
}

TEST(Dispatch, ThreadingExecutorNeverRunsThreadOrProcessOnTheLoopThread) {
  ThreadingExecutor executor{2};
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(runs_inline(executor, Parallelization::THREAD));
    EXPECT_FALSE(runs_inline(executor, Parallelization::PROCESS));
  }
}

TEST(Dispatch, ThreadingExecutorWithOneThreadStillLeavesTheLoopThread) {
  ThreadingExecutor executor{1};
  EXPECT_FALSE(runs_inline(executor, Parallelization::THREAD));
  EXPECT_FALSE(runs_inline(executor, Parallelization::PROCESS));
}

TEST(Dispatch, PoolThreadsArePersistentAndBounded) {
  ThreadingExecutor executor{2};
  Where where;
  std::set<std::thread::id> seen;
  for (int run = 0; run < 20; ++run) {
    auto main = [&]() -> Task<void> {
      std::vector<Task<std::thread::id>> calls;
      for (int i = 0; i < 8; ++i) calls.push_back(executor.run_method(Parallelization::THREAD, &Where::ran_on, where));
      for (std::thread::id id : co_await connectors::gather(std::move(calls))) seen.insert(id);
    };
    executor.run_coroutine(main());
  }
  // The same (at most two) pool threads served every run.
  EXPECT_LE(seen.size(), 2U);
  EXPECT_EQ(seen.count(std::this_thread::get_id()), 0U);
}

TEST(Dispatch, EffectiveParallelization) {
  SequentialExecutor sequential;
  ThreadingExecutor threading{1};
  for (Parallelization flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD, Parallelization::PROCESS}) {
    EXPECT_EQ(sequential.effective_parallelization(flag), Parallelization::SEQUENTIAL);
  }
  EXPECT_EQ(threading.effective_parallelization(Parallelization::SEQUENTIAL), Parallelization::SEQUENTIAL);
  EXPECT_EQ(threading.effective_parallelization(Parallelization::THREAD), Parallelization::THREAD);
  EXPECT_EQ(threading.effective_parallelization(Parallelization::PROCESS), Parallelization::THREAD);
}

}  // namespace
