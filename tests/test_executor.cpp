// Every method of the seed's Executor on every executor, the factory, the
// default executor and misuse.
#include <connectors/connectors.hpp>
#include <connectors/detail/thread_pool.hpp>

#include "helpers/without_hanging.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <iterator>
#include <latch>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using connectors::Executor;
using connectors::Future;
using connectors::Parallelization;
using connectors::SequentialExecutor;
using connectors::Task;
using connectors::ThreadingExecutor;

struct Calculator {
  int base = 10;
  int add(int x) const { return base + x; }
  void set_base(int value) { base = value; }
  std::string join(const std::string& a, std::string b) const { return a + b; }
  const std::vector<int>& numbers() const { return numbers_; }
  int consume(std::unique_ptr<int> p) const { return *p; }
  int fail() const { throw std::out_of_range("calculator failed"); }
  std::vector<int> numbers_{1, 2, 3};
};

template <class E>
std::shared_ptr<Executor> make_executor();
template <>
std::shared_ptr<Executor> make_executor<SequentialExecutor>() {
  return std::make_shared<SequentialExecutor>();
}
template <>
std::shared_ptr<Executor> make_executor<ThreadingExecutor>() {
  return std::make_shared<ThreadingExecutor>(2);
}

template <class E>
class EveryExecutor : public ::testing::Test {
 protected:
  std::shared_ptr<Executor> executor_ = make_executor<E>();
};
using Executors = ::testing::Types<SequentialExecutor, ThreadingExecutor>;
TYPED_TEST_SUITE(EveryExecutor, Executors);

TYPED_TEST(EveryExecutor, GetEventLoopIsNullOutsideARunAndTheLoopInside) {
  Executor& executor = *this->executor_;
  EXPECT_EQ(executor.get_event_loop(), nullptr);
  auto main = [&]() -> Task<connectors::EventLoop*> {
    connectors::EventLoop* loop = executor.get_event_loop();
    EXPECT_NE(loop, nullptr);
    EXPECT_EQ(&loop->executor(), &executor);
    EXPECT_EQ(loop->thread_id(), std::this_thread::get_id());
    co_return loop;
  };
  EXPECT_NE(executor.run_coroutine(main()), nullptr);
  EXPECT_EQ(executor.get_event_loop(), nullptr);
}

TYPED_TEST(EveryExecutor, GetEventLoopIsPerThread) {
  Executor& executor = *this->executor_;
  auto main = [&]() -> Task<bool> {
    connectors::EventLoop* seen_elsewhere = &*executor.get_event_loop();
    std::thread other([&] { seen_elsewhere = executor.get_event_loop(); });
    other.join();
    co_return seen_elsewhere == nullptr;
  };
  EXPECT_TRUE(executor.run_coroutine(main()));
}

TYPED_TEST(EveryExecutor, RunCoroutineReturnsTheValue) {
  auto main = []() -> Task<std::string> { co_return "value"; };
  EXPECT_EQ(this->executor_->run_coroutine(main()), "value");
}

TYPED_TEST(EveryExecutor, RunCoroutineRethrows) {
  auto main = []() -> Task<int> {
    throw std::length_error("coroutine failed");
    co_return 0;
  };
  EXPECT_THROW(this->executor_->run_coroutine(main()), std::length_error);
}

TYPED_TEST(EveryExecutor, RunCoroutinesRunsAllConcurrently) {
  // Each coroutine completes the other's Future before awaiting its own.
  Future<int> first;
  Future<int> second;
  std::vector<int> seen;
  auto ping = [&](Future<int> mine, Future<int> theirs, int tag) -> Task<void> {
    theirs.set_result(tag);
    seen.push_back(co_await mine);
  };
  std::vector<Task<void>> tasks;
  tasks.push_back(ping(first, second, 1));
  tasks.push_back(ping(second, first, 2));
  this->executor_->run_coroutines(tasks);
  EXPECT_EQ(seen.size(), 2U);
}

TYPED_TEST(EveryExecutor, RunCoroutinesWaitsForAllThenRethrowsTheFirst) {
  Executor& executor = *this->executor_;
  Calculator calculator;
  int finished = 0;
  auto ok = [&]() -> Task<int> {
    int value = co_await executor.run_method(Parallelization::THREAD, &Calculator::add, calculator, 1);
    ++finished;
    co_return value;
  };
  auto bad = [](const char* message) -> Task<int> {
    throw std::invalid_argument(message);
    co_return 0;
  };
  std::vector<Task<int>> tasks;
  tasks.push_back(ok());
  tasks.push_back(bad("first"));
  tasks.push_back(ok());
  tasks.push_back(bad("second"));
  try {
    executor.run_coroutines(std::move(tasks));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "first");
  }
  EXPECT_EQ(finished, 2);
}

TYPED_TEST(EveryExecutor, RunUntilCompleteWithFutureAndTask) {
  Future<int> future;
  std::thread completer([future]() mutable { future.set_result(8); });
  EXPECT_EQ(this->executor_->run_until_complete(future), 8);
  completer.join();
  auto task = []() -> Task<int> { co_return 9; };
  EXPECT_EQ(this->executor_->run_until_complete(task()), 9);
}

TYPED_TEST(EveryExecutor, RunMethodWithEveryFlag) {
  Executor& executor = *this->executor_;
  Calculator calculator;
  auto main = [&]() -> Task<int> {
    int total = 0;
    for (Parallelization flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD, Parallelization::PROCESS}) {
      total += co_await executor.run_method(flag, &Calculator::add, calculator, 1);
    }
    co_return total;
  };
  EXPECT_EQ(executor.run_coroutine(main()), 33);
}

TYPED_TEST(EveryExecutor, RunMethodSignatures) {
  Executor& executor = *this->executor_;
  Calculator calculator;
  auto main = [&]() -> Task<void> {
    for (Parallelization flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD}) {
      co_await executor.run_method(flag, &Calculator::set_base, calculator, 5);
      EXPECT_EQ(calculator.base, 5);
      std::string left = "con";
      EXPECT_EQ(co_await executor.run_method(flag, &Calculator::join, calculator, left, std::string("nectors")),
                "connectors");
      // Arguments are copied when the task is made, not when it runs.
      std::string later = "be";
      Task<std::string> made = executor.run_method(flag, &Calculator::join, calculator, later, std::string("fore"));
      later = "after";
      EXPECT_EQ(co_await std::move(made), "before");
      std::vector<int> copy = co_await executor.run_method(flag, &Calculator::numbers, calculator);
      EXPECT_EQ(copy, calculator.numbers_);
      EXPECT_EQ(co_await executor.run_method(flag, &Calculator::consume, calculator, std::make_unique<int>(4)), 4);
      const Calculator& constant = calculator;
      EXPECT_EQ(co_await executor.run_method(flag, &Calculator::add, constant, 2), 7);
      EXPECT_EQ(co_await executor.run_method(
                    flag, [](Calculator& c, int x) { return c.base * x; }, calculator, 3),
                15);
    }
  };
  executor.run_coroutine(main());
}

TYPED_TEST(EveryExecutor, RunMethodExceptionsReachTheAwaiterUnchanged) {
  Executor& executor = *this->executor_;
  Calculator calculator;
  for (Parallelization flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD, Parallelization::PROCESS}) {
    auto main = [&]() -> Task<std::string> {
      try {
        co_await executor.run_method(flag, &Calculator::fail, calculator);
      } catch (const std::out_of_range& error) {
        co_return error.what();
      }
      co_return "no exception";
    };
    EXPECT_EQ(executor.run_coroutine(main()), "calculator failed");
  }
}

TYPED_TEST(EveryExecutor, RunMethodOutsideARunThrowsLogicError) {
  Executor& executor = *this->executor_;
  Calculator calculator;
  for (Parallelization flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD}) {
    Task<int> orphan = executor.run_method(flag, &Calculator::add, calculator, 1);
    SequentialExecutor other;
    auto main = [&]() -> Task<int> { co_return co_await std::move(orphan); };
    EXPECT_THROW(other.run_coroutine(main()), std::logic_error);
  }
}

TEST(Factory, ChoosesTheExecutorByCounts) {
  EXPECT_NE(dynamic_cast<SequentialExecutor*>(connectors::executor(0, 0).get()), nullptr);
  auto threads = connectors::executor(3, 0);
  auto* threading = dynamic_cast<ThreadingExecutor*>(threads.get());
  ASSERT_NE(threading, nullptr);
  EXPECT_EQ(threading->number_of_threads(), 3U);
  auto automatic = std::dynamic_pointer_cast<ThreadingExecutor>(connectors::executor());
  ASSERT_NE(automatic, nullptr);
  EXPECT_EQ(automatic->number_of_threads(), std::max(1U, std::thread::hardware_concurrency()));
}

TEST(Factory, RejectsNegativeCounts) {
  EXPECT_THROW(connectors::executor(-1, 0), std::invalid_argument);
  EXPECT_THROW(connectors::executor(0, -2), std::invalid_argument);
  EXPECT_THROW(ThreadingExecutor{-1}, std::invalid_argument);
  EXPECT_THROW(ThreadingExecutor{0}, std::invalid_argument);
  // More than any machine runs: a mistake, refused before a pool sizes its
  // bookkeeping for it (INT_MAX asked for hundreds of gigabytes).
  EXPECT_THROW(ThreadingExecutor{4097}, std::invalid_argument);
  EXPECT_THROW(ThreadingExecutor{std::numeric_limits<int>::max()}, std::invalid_argument);
  EXPECT_THROW(connectors::executor(4097, 0), std::invalid_argument);
  EXPECT_THROW(connectors::executor(0, 4097), std::invalid_argument);
  EXPECT_THROW(connectors::MultiprocessingExecutor{4097}, std::invalid_argument);
  EXPECT_THROW((connectors::ThreadingMultiprocessingExecutor{2, 4097}), std::invalid_argument);
  EXPECT_EQ(ThreadingExecutor{4096}.number_of_threads(), 4096U);  // started lazily: nothing runs
}

TEST(Factory, ReturnsProcessExecutorsWhenProcessesAreAsked) {
  // Constructing them needs no connectors::init; only a PROCESS call does.
  EXPECT_NE(dynamic_cast<connectors::MultiprocessingExecutor*>(connectors::executor(0, 2).get()), nullptr);
  EXPECT_NE(dynamic_cast<connectors::ThreadingMultiprocessingExecutor*>(connectors::executor(2, std::nullopt).get()),
            nullptr);
}

TEST(DefaultExecutor, IsSharedAndReplaceable) {
  auto first = connectors::default_executor();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first, connectors::default_executor());
  EXPECT_NE(dynamic_cast<ThreadingExecutor*>(first.get()), nullptr);
  auto sequential = std::make_shared<SequentialExecutor>();
  connectors::set_default_executor(sequential);
  EXPECT_EQ(connectors::default_executor(), sequential);
  connectors::set_default_executor(nullptr);
  auto restored = connectors::default_executor();
  EXPECT_NE(restored, nullptr);
  EXPECT_NE(dynamic_cast<ThreadingExecutor*>(restored.get()), nullptr);
}

std::size_t threads_in_process() {
  return static_cast<std::size_t>(
      std::distance(std::filesystem::directory_iterator("/proc/self/task"), std::filesystem::directory_iterator{}));
}

// A pool job of the tests: runs `body`.
class FunctionJob final : public connectors::detail::PoolJob {
 public:
  explicit FunctionJob(std::function<void()> body) : body_(std::move(body)) {}
  FunctionJob(const FunctionJob&) = delete;
  FunctionJob& operator=(const FunctionJob&) = delete;
  ~FunctionJob() = default;
  void run() noexcept override { body_(); }
  void deliver() noexcept override {}
  void discard() noexcept override {}

 private:
  std::function<void()> body_;
};

// A worker takes a chunk of jobs at once and runs them one by one; a job that
// waits for one held behind it in the same chunk is not stuck while another
// worker is idle: that worker takes the held job. (An idle worker only looked
// at the queue, and the job waited until its holder's wait timed out.)
TEST(ThreadPool, AnIdleWorkerRunsAJobThatABlockedWorkerHolds) {
  connectors::detail::ThreadPool pool{2};
  std::latch both_busy{2}, release_first{1}, release_second{1}, waiter_started{1}, waiter_done{1};
  FunctionJob hold_first{[&] {
    both_busy.count_down();
    release_first.wait();
  }};
  FunctionJob hold_second{[&] {
    both_busy.count_down();
    release_second.wait();
  }};
  connectors::detail::JobList holds;
  holds.push_back(hold_first);
  holds.push_back(hold_second);
  ASSERT_TRUE(pool.submit(holds));
  both_busy.wait();

  // Eight jobs queued while both workers are busy: the first one freed takes
  // two of them at once (a fair share, 8 / (2 × 2)): the waiter and the job
  // it waits for.
  connectors::testing::TimedLatch waited_for_runs{2};
  bool waiter_saw_it = false;
  FunctionJob waiter{[&] {
    waiter_started.count_down();
    waiter_saw_it = waited_for_runs.arrive_and_wait(std::chrono::seconds{20});
    waiter_done.count_down();
  }};
  FunctionJob waited_for{[&] { waited_for_runs.arrive_and_wait(std::chrono::seconds{20}); }};
  std::vector<std::unique_ptr<FunctionJob>> fillers;
  connectors::detail::JobList burst;
  burst.push_back(waiter);
  burst.push_back(waited_for);
  for (int i = 0; i < 6; ++i) {
    fillers.push_back(std::make_unique<FunctionJob>([] {}));
    burst.push_back(*fillers.back());
  }
  ASSERT_TRUE(pool.submit(burst));
  release_first.count_down();
  waiter_started.wait();
  release_second.count_down();  // this worker runs the fillers, then is idle
  waiter_done.wait();
  EXPECT_TRUE(waiter_saw_it);
}

// A method of executor `first` starts a run of `second`, whose method starts
// a run of `first` again, one pool thread each: each nested run's call waits
// in a queue whose only thread waits for that run. Before, only a worker of
// the run's own pool took its calls back, and both waited for ever.
struct CrossingRuns {
  ThreadingExecutor* first;
  ThreadingExecutor* second;
  int innermost() const { return 1; }
  int middle() const {
    auto call = [this]() -> Task<int> {
      co_return 1 + co_await first->run_method(Parallelization::THREAD, &CrossingRuns::innermost, *this);
    };
    return first->run_coroutine(call());
  }
  int outer() const {
    auto call = [this]() -> Task<int> {
      co_return 1 + co_await second->run_method(Parallelization::THREAD, &CrossingRuns::middle, *this);
    };
    return second->run_coroutine(call());
  }
};

TEST(NestedRuns, RunsOfTwoExecutorsOnEachOthersPoolThreadsTakeTheirCallsBack) {
  connectors::testing::without_hanging([] {
    ThreadingExecutor first{1};
    ThreadingExecutor second{1};
    CrossingRuns runs{&first, &second};
    auto main = [&]() -> Task<int> {
      co_return co_await first.run_method(Parallelization::THREAD, &CrossingRuns::outer, runs);
    };
    EXPECT_EQ(first.run_coroutine(main()), 3);
  });
}

// A run started in a coroutine's body (here the second task of a gather,
// which starts right after the first one queued its call) waits for the call
// the outer run queued. Before, that call went to the pool only once the
// coroutine suspended, after the nested run: never.
struct Signaller {
  void signal(Future<void> done) const { done.set_result(); }
};

TEST(NestedRuns, ARunStartedInsideACoroutineSeesTheCallsItQueuedRun) {
  connectors::testing::without_hanging([] {
    ThreadingExecutor executor{2};
    Signaller signaller;
    Future<void> signalled;
    auto wait_for_signal = [](Future<void> done) -> Task<void> { co_await done; };
    auto main = [&]() -> Task<void> {
      auto signal = [&]() -> Task<void> {
        co_await executor.run_method(Parallelization::THREAD, &Signaller::signal, signaller, signalled);
      };
      auto nested = [&]() -> Task<void> {
        executor.run_coroutine(wait_for_signal(signalled));
        co_return;
      };
      co_await connectors::gather(signal(), nested());
    };
    executor.run_coroutine(main());
    EXPECT_TRUE(signalled.done());
  });
}

// Gathers nested directly in gathers, 200 000 deep: each started its task
// with a plain resume, which no budget bounded, and the stack overflowed on
// the way in.
Task<void> gathered_chain(std::size_t depth) {
  Task<void> task = []() -> Task<void> { co_return; }();
  for (std::size_t level = 0; level < depth; ++level) {
    std::vector<Task<void>> one;
    one.push_back(std::move(task));
    task = connectors::gather(std::move(one));
  }
  return task;
}

TEST(Gather, GathersNestedDeeplyStartWithoutExhaustingTheStack) {
  SequentialExecutor executor;
  executor.run_coroutine(gathered_chain(200'000));
}

TEST(ThreadPool, IsStartedLazilyAndPersists) {
  // Sanitizer runtimes start a helper thread at the first thread creation;
  // let that happen before the baseline is taken. A joined thread may stay
  // listed in /proc for a moment after join returns: it must be gone too.
  pid_t joined = 0;
  std::thread([&] { joined = ::gettid(); }).join();
  while (std::filesystem::exists("/proc/self/task/" + std::to_string(joined))) std::this_thread::yield();
  const std::size_t before = threads_in_process();
  ThreadingExecutor executor{2};
  EXPECT_EQ(threads_in_process(), before);
  // Runs with only SEQUENTIAL work do not start the pool.
  Calculator calculator;
  auto sequential = [&]() -> Task<int> {
    co_return co_await executor.run_method(Parallelization::SEQUENTIAL, &Calculator::add, calculator, 0);
  };
  EXPECT_EQ(executor.run_coroutine(sequential()), 10);
  EXPECT_EQ(threads_in_process(), before);
  auto threaded = [&]() -> Task<int> {
    co_return co_await executor.run_method(Parallelization::THREAD, &Calculator::add, calculator, 0);
  };
  EXPECT_EQ(executor.run_coroutine(threaded()), 10);
  EXPECT_EQ(threads_in_process(), before + 2);
  EXPECT_EQ(executor.run_coroutine(threaded()), 10);
  EXPECT_EQ(threads_in_process(), before + 2);
  EXPECT_EQ(executor.effective_parallelization(Parallelization::SEQUENTIAL), Parallelization::SEQUENTIAL);
  EXPECT_EQ(executor.effective_parallelization(Parallelization::PROCESS), Parallelization::THREAD);
}

}  // namespace
