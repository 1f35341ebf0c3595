// Concurrency observed directly: overlapping methods, the pool's size limit,
// user threads sharing an executor, and nested runs.
#include "support.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <thread>
#include <vector>

namespace {

using connectors::Executor;
using connectors::Future;
using connectors::Parallelization;
using connectors::SequentialExecutor;
using connectors::Task;
using connectors::ThreadingExecutor;
using connectors::testing::ConcurrencyProbe;
using connectors::testing::TimedLatch;

struct Meeting {
  TimedLatch* latch;
  bool meet() const { return latch->arrive_and_wait(); }
};

TEST(Concurrency, TwoThreadMethodsRunAtTheSameMoment) {
  ThreadingExecutor executor{2};
  TimedLatch latch{2};
  Meeting meeting{&latch};
  auto main = [&]() -> Task<std::tuple<bool, bool>> {
    co_return co_await connectors::gather(executor.run_method(Parallelization::THREAD, &Meeting::meet, meeting),
                                          executor.run_method(Parallelization::THREAD, &Meeting::meet, meeting));
  };
  auto [first, second] = executor.run_coroutine(main());
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
}

struct Busy {
  ConcurrencyProbe* probe;
  int work(int value) const {
    ConcurrencyProbe::Scope scope{*probe};
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
    return value;
  }
};

int run_many(Executor& executor, Busy& busy, int count) {
  auto main = [&]() -> Task<int> {
    std::vector<Task<int>> calls;
    for (int i = 0; i < count; ++i) calls.push_back(executor.run_method(Parallelization::THREAD, &Busy::work, busy, i));
    std::vector<int> results = co_await connectors::gather(std::move(calls));
    co_return std::accumulate(results.begin(), results.end(), 0);
  };
  return executor.run_coroutine(main());
}

TEST(Concurrency, NeverMoreThanTheConfiguredThreads) {
  for (int threads : {1, 2, 3}) {
    ThreadingExecutor executor{threads};
    ConcurrencyProbe probe;
    Busy busy{&probe};
    EXPECT_EQ(run_many(executor, busy, 24), 276);
    EXPECT_LE(probe.peak(), threads);
    EXPECT_GE(probe.peak(), 1);
  }
}

TEST(Concurrency, SequentialMethodsNeverOverlap) {
  ThreadingExecutor executor{2};
  ConcurrencyProbe probe;
  Busy busy{&probe};
  auto main = [&]() -> Task<int> {
    std::vector<Task<int>> calls;
    for (int i = 0; i < 6; ++i) calls.push_back(executor.run_method(Parallelization::SEQUENTIAL, &Busy::work, busy, i));
    std::vector<int> results = co_await connectors::gather(std::move(calls));
    co_return std::accumulate(results.begin(), results.end(), 0);
  };
  EXPECT_EQ(executor.run_coroutine(main()), 15);
  EXPECT_EQ(probe.peak(), 1);
}

TEST(Concurrency, EightUserThreadsShareOneExecutor) {
  ThreadingExecutor executor{2};
  ConcurrencyProbe probe;
  struct Adder {
    ConcurrencyProbe* probe;
    int twice(int value) const {
      ConcurrencyProbe::Scope scope{*probe};
      return 2 * value;
    }
  } adder{&probe};
  std::atomic<int> wrong{0};
  std::vector<std::thread> users;
  for (int user = 0; user < 8; ++user) {
    users.emplace_back([&, user] {
      for (int round = 0; round < 50; ++round) {
        auto main = [&]() -> Task<int> {
          EXPECT_NE(executor.get_event_loop(), nullptr);
          std::vector<Task<int>> calls;
          for (int i = 0; i < 10; ++i) {
            calls.push_back(executor.run_method(Parallelization::THREAD, &Adder::twice, adder, user * 100 + i));
          }
          std::vector<int> results = co_await connectors::gather(std::move(calls));
          co_return std::accumulate(results.begin(), results.end(), 0);
        };
        const int expected = 2 * (user * 100 * 10 + 45);
        if (executor.run_coroutine(main()) != expected) ++wrong;
        if (executor.get_event_loop() != nullptr) ++wrong;
      }
    });
  }
  for (std::thread& user : users) user.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(probe.peak(), 2);
}

// A method that starts a run of its own on the same executor.
struct Nested {
  Executor* executor;
  int inner(int value) const { return value + 1; }
  int outer(int value) const {
    auto run = [&]() -> Task<int> {
      EXPECT_NE(executor->get_event_loop(), nullptr);
      auto [a, b] =
          co_await connectors::gather(executor->run_method(Parallelization::THREAD, &Nested::inner, *this, value),
                                      executor->run_method(Parallelization::THREAD, &Nested::inner, *this, value));
      co_return a + b;
    };
    return executor->run_coroutine(run());
  }
};

TEST(Concurrency, NestedRunFromAPoolThread) {
  for (int threads : {1, 2}) {
    ThreadingExecutor executor{threads};
    Nested nested{&executor};
    auto main = [&]() -> Task<int> {
      std::vector<Task<int>> calls;
      for (int i = 0; i < 4; ++i)
        calls.push_back(executor.run_method(Parallelization::THREAD, &Nested::outer, nested, i));
      std::vector<int> results = co_await connectors::gather(std::move(calls));
      co_return std::accumulate(results.begin(), results.end(), 0);
    };
    // sum over i of 2 * (i + 1)
    EXPECT_EQ(executor.run_coroutine(main()), 20) << threads << " threads";
  }
}

TEST(Concurrency, NestedRunOnTheLoopThread) {
  ThreadingExecutor executor{2};
  Nested nested{&executor};
  auto main = [&]() -> Task<int> {
    connectors::EventLoop* outer_loop = executor.get_event_loop();
    int value = co_await executor.run_method(Parallelization::SEQUENTIAL, &Nested::outer, nested, 1);
    EXPECT_EQ(executor.get_event_loop(), outer_loop);
    co_return value;
  };
  EXPECT_EQ(executor.run_coroutine(main()), 4);
}

TEST(Concurrency, NestedRunOfAnotherExecutor) {
  ThreadingExecutor outer{2};
  SequentialExecutor inner_executor;
  Nested nested{&inner_executor};
  auto main = [&]() -> Task<int> {
    auto [a, b] = co_await connectors::gather(outer.run_method(Parallelization::THREAD, &Nested::outer, nested, 1),
                                              outer.run_method(Parallelization::SEQUENTIAL, &Nested::outer, nested, 2));
    EXPECT_NE(outer.get_event_loop(), nullptr);
    co_return a + b;
  };
  EXPECT_EQ(outer.run_coroutine(main()), 10);
}

TEST(Concurrency, FuturesCompletedFromManyThreads) {
  ThreadingExecutor executor{2};
  constexpr int count = 64;
  std::vector<Future<int>> futures(count);
  std::vector<std::thread> completers;
  auto main = [&]() -> Task<int> {
    for (int i = 0; i < count; ++i)
      completers.emplace_back([f = futures[static_cast<std::size_t>(i)], i]() mutable { f.set_result(i); });
    int sum = 0;
    for (Future<int>& future : futures) sum += co_await future;
    co_return sum;
  };
  EXPECT_EQ(executor.run_coroutine(main()), count * (count - 1) / 2);
  for (std::thread& completer : completers) completer.join();
}

TEST(Concurrency, DestroyingTheExecutorWaitsForNothingPending) {
  // A run returns only after all its methods returned; destroying the executor
  // right after joins idle workers cleanly.
  for (int i = 0; i < 20; ++i) {
    auto executor = std::make_unique<ThreadingExecutor>(2);
    ConcurrencyProbe probe;
    Busy busy{&probe};
    EXPECT_EQ(run_many(*executor, busy, 4), 6);
    executor.reset();
  }
}

}  // namespace
