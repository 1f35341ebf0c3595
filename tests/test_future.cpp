#include "support.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <array>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace {

using connectors::Future;
using connectors::SequentialExecutor;
using connectors::Task;
using connectors::ThreadingExecutor;

TEST(Future, CompletedFromAnotherThreadWakesAwaiterOnTheLoopThread) {
  ThreadingExecutor executor{2};
  Future<int> future;
  std::thread::id loop_thread;
  std::thread::id resumed_on;
  std::thread completer;
  auto waiter = [&]() -> Task<int> {
    loop_thread = std::this_thread::get_id();
    completer = std::thread([future]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
      future.set_result(17);
    });
    int value = co_await future;
    resumed_on = std::this_thread::get_id();
    co_return value;
  };
  EXPECT_EQ(executor.run_coroutine(waiter()), 17);
  completer.join();
  EXPECT_EQ(resumed_on, loop_thread);
  EXPECT_TRUE(future.done());
}

TEST(Future, AlreadyCompletedIsReadyImmediately) {
  SequentialExecutor executor;
  Future<std::string> future;
  future.set_result("ready");
  EXPECT_TRUE(future.done());
  EXPECT_EQ(executor.run_until_complete(future), "ready");
  // A Future keeps its value: awaiting it again yields the same.
  EXPECT_EQ(executor.run_until_complete(future), "ready");
}

TEST(Future, ExceptionReachesTheAwaiter) {
  SequentialExecutor executor;
  Future<int> future;
  future.set_exception(std::make_exception_ptr(std::out_of_range("nope")));
  EXPECT_THROW(executor.run_until_complete(future), std::out_of_range);
  EXPECT_THROW(future.set_exception(nullptr), std::invalid_argument);
}

// A Future is a handle: moved into the thread that completes it, the one
// left behind still refers to the result (it was empty, and crashed).
TEST(Future, AMovedFromFutureStillRefersToItsResult) {
  SequentialExecutor executor;
  Future<int> future;
  std::thread completer{[moved = std::move(future)]() mutable { moved.set_result(5); }};
  completer.join();
  EXPECT_TRUE(future.done());
  EXPECT_EQ(executor.run_until_complete(future), 5);
  Future<int> other;
  other = std::move(future);
  EXPECT_TRUE(future.done());
  EXPECT_EQ(executor.run_until_complete(other), 5);
}

TEST(Future, CompletingTwiceThrowsLogicError) {
  Future<int> future;
  future.set_result(1);
  EXPECT_THROW(future.set_result(2), std::logic_error);
  EXPECT_THROW(future.set_exception(std::make_exception_ptr(std::runtime_error("x"))), std::logic_error);
}

TEST(Future, VoidFutureFromAnotherThread) {
  ThreadingExecutor executor{1};
  Future<> future;
  std::thread completer([future]() mutable { future.set_result(); });
  executor.run_until_complete(future);
  completer.join();
  EXPECT_TRUE(future.done());
}

TEST(Future, SeveralAwaitersAllResume) {
  SequentialExecutor executor;
  Future<int> future;
  std::thread completer;
  auto awaiter = [](Future<int> shared) -> Task<int> { co_return co_await shared; };
  auto main = [&]() -> Task<int> {
    completer = std::thread([future]() mutable { future.set_result(3); });
    auto [a, b, c] = co_await connectors::gather(awaiter(future), awaiter(future), awaiter(future));
    co_return a + b + c;
  };
  EXPECT_EQ(executor.run_coroutine(main()), 9);
  completer.join();
}

TEST(Future, AwaitingOutsideALoopThrowsLogicError) {
  Future<int> future;
  auto awaiter = future.operator co_await();
  EXPECT_FALSE(awaiter.await_ready());
  EXPECT_THROW(awaiter.await_suspend(std::noop_coroutine()), std::logic_error);
}

TEST(Future, CompletedAfterItsLoopEndedIsHarmless) {
  // A task that still waits on a Future when the run ends is destroyed; the
  // late completion must neither resume it nor touch the ended loop.
  SequentialExecutor executor;
  Future<int> never_in_time;
  auto tracker = std::make_shared<int>(0);
  std::weak_ptr<int> watch = tracker;
  auto main = [&]() -> Task<int> {
    auto waits = [](Future<int> future, std::shared_ptr<int> keep) -> Task<int> { co_return co_await future + *keep; };
    (void)executor.get_event_loop()->create_task(waits(never_in_time, std::move(tracker)));
    co_return 1;
  };
  EXPECT_EQ(executor.run_coroutine(main()), 1);
  EXPECT_TRUE(watch.expired());
  std::thread late([future = never_in_time]() mutable { future.set_result(5); });
  late.join();
  EXPECT_TRUE(never_in_time.done());
}

// A task still waiting on a Future when its run ends is destroyed; its
// waiter must leave the Future. (Each run left one behind: a long-lived
// Future awaited by many runs grew until it was completed.)
TEST(Future, ATaskDestroyedWhileItWaitsLeavesNoWaiterBehind) {
  SequentialExecutor executor;
  Future<int> long_lived;
  auto waits = [](Future<int> future) -> Task<int> { co_return co_await future; };
  auto quick = []() -> Task<int> { co_return 0; };
  for (int run = 0; run < 3; ++run) {
    auto main = [&]() -> Task<int> {
      connectors::EventLoop& loop = *executor.get_event_loop();
      (void)loop.create_task(waits(long_lived));
      // Started after the waiting task, which is suspended by then.
      co_return co_await loop.create_task(quick());
    };
    EXPECT_EQ(executor.run_coroutine(main()), 0);
    EXPECT_EQ(connectors::detail::FutureAccess::waiter_count(long_lived), 0u) << "run " << run;
  }
}

// A coroutine that only records that it was resumed (as a waiter's handle).
struct Marks {
  struct promise_type {
    Marks get_return_object() { return Marks{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  explicit Marks(std::coroutine_handle<promise_type> handle) : handle(handle) {}
  Marks(Marks&& other) noexcept : handle(std::exchange(other.handle, {})) {}
  Marks& operator=(Marks&&) = delete;
  ~Marks() {
    if (handle) handle.destroy();
  }
  std::coroutine_handle<promise_type> handle;
};
Marks mark_resumed(bool& resumed) {
  resumed = true;
  co_return;
}

// Waiters leave from any place in the list, also after the list was
// squeezed (a waiter that moved leaves from its new place), and exactly
// those left are woken.
TEST(Future, AwaitersLeaveFromAnyPlaceAndTheOthersAreStillWoken) {
  SequentialExecutor executor;
  Future<int> future;
  using Awaiter = Future<int>::Awaiter;
  std::array<bool, 6> resumed{};
  std::vector<std::unique_ptr<Marks>> marks;
  for (bool& flag : resumed) marks.push_back(std::make_unique<Marks>(mark_resumed(flag)));
  auto main = [&]() -> Task<int> {
    std::vector<std::unique_ptr<Awaiter>> awaiters;
    const auto wait = [&](std::size_t index) {
      awaiters.push_back(std::make_unique<Awaiter>(future.operator co_await()));
      EXPECT_TRUE(awaiters.back()->await_suspend(marks[index]->handle));
    };
    const auto count = [&] { return connectors::detail::FutureAccess::waiter_count(future); };
    for (std::size_t i = 0; i < 5; ++i) wait(i);
    EXPECT_EQ(count(), 5u);
    awaiters[2].reset();  // from the middle
    awaiters[0].reset();  // the first
    awaiters[4].reset();  // the last: three of five gone, the list is squeezed
    EXPECT_EQ(count(), 2u);
    awaiters[3].reset();  // moved by the squeeze
    EXPECT_EQ(count(), 1u);
    wait(5);
    EXPECT_EQ(count(), 2u);
    future.set_result(8);  // wakes 1 and 5, on the loop
    EXPECT_EQ(count(), 0u);
    co_return co_await future;
  };
  EXPECT_EQ(executor.run_coroutine(main()), 8);
  EXPECT_EQ(resumed, (std::array<bool, 6>{false, true, false, false, false, true}));
}

TEST(Future, MoveOnlyValue) {
  SequentialExecutor executor;
  Future<std::unique_ptr<int>> future;
  future.set_result(std::make_unique<int>(11));
  EXPECT_EQ(*executor.run_until_complete(future), 11);
}

}  // namespace
