#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace {

using connectors::SequentialExecutor;
using connectors::Task;

Task<int> forty_two() { co_return 42; }

Task<int> add_one(Task<int> inner) { co_return 1 + co_await std::move(inner); }

Task<void> throws_runtime_error() {
  throw std::runtime_error("boom");
  co_return;
}

Task<int> depth(int remaining) {
  if (remaining == 0) co_return 0;
  co_return 1 + co_await depth(remaining - 1);
}

TEST(Task, IsLazyUntilAwaited) {
  bool ran = false;
  auto make = [&]() -> Task<int> {
    ran = true;
    co_return 1;
  };
  SequentialExecutor executor;
  Task<int> task = make();
  EXPECT_FALSE(ran);
  EXPECT_FALSE(task.done());
  EXPECT_EQ(executor.run_coroutine(std::move(task)), 1);
  EXPECT_TRUE(ran);
}

TEST(Task, ReturnsValueThroughNestedAwaits) {
  SequentialExecutor executor;
  EXPECT_EQ(executor.run_coroutine(add_one(add_one(forty_two()))), 44);
}

TEST(Task, ExceptionPropagatesToAwaiter) {
  SequentialExecutor executor;
  auto outer = []() -> Task<std::string> {
    try {
      co_await throws_runtime_error();
    } catch (const std::runtime_error& error) {
      co_return std::string("caught ") + error.what();
    }
    co_return "not thrown";
  };
  EXPECT_EQ(executor.run_coroutine(outer()), "caught boom");
  EXPECT_THROW(executor.run_coroutine(throws_runtime_error()), std::runtime_error);
}

TEST(Task, DestroyedUnawaitedFreesItsFrame) {
  // The frame owns the argument; destroying the task must destroy it (and ASan
  // would report the frame itself).
  auto tracker = std::make_shared<int>(7);
  std::weak_ptr<int> watch = tracker;
  {
    auto holds = [](std::shared_ptr<int> value) -> Task<int> { co_return *value; };
    Task<int> task = holds(std::move(tracker));
    EXPECT_FALSE(watch.expired());
  }
  EXPECT_TRUE(watch.expired());
}

TEST(Task, MoveTransfersOwnership) {
  Task<int> first = forty_two();
  Task<int> second = std::move(first);
  EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(second.valid());
  SequentialExecutor executor;
  EXPECT_EQ(executor.run_coroutine(std::move(second)), 42);
}

TEST(Task, AwaitingAnEmptyTaskThrowsLogicError) {
  SequentialExecutor executor;
  auto awaits_empty = []() -> Task<int> {
    Task<int> empty;
    co_return co_await std::move(empty);
  };
  EXPECT_THROW(executor.run_coroutine(awaits_empty()), std::logic_error);
  EXPECT_THROW(executor.run_coroutine(Task<int>{}), std::invalid_argument);
}

// A finished task awaited again: before, a Task<void> passed silently and a
// failed one rethrew its error again, where a second await throws
// std::logic_error.
TEST(Task, AFinishedTaskAwaitedAgainThrowsLogicError) {
  SequentialExecutor executor;
  int runs = 0;
  auto counted = [&]() -> Task<void> {
    ++runs;
    co_return;
  };
  auto twice = [&]() -> Task<void> {
    Task<void> inner = counted();
    co_await inner;
    co_await inner;
  };
  EXPECT_THROW(executor.run_coroutine(twice()), std::logic_error);
  EXPECT_EQ(runs, 1);
  auto failed_twice = []() -> Task<void> {
    Task<void> inner = throws_runtime_error();
    try {
      co_await inner;
    } catch (const std::runtime_error&) {
    }
    co_await inner;
  };
  EXPECT_THROW(executor.run_coroutine(failed_twice()), std::logic_error);
}

TEST(Task, ResultCanBeTakenOnce) {
  SequentialExecutor executor;
  auto twice = []() -> Task<int> {
    Task<int> inner = forty_two();
    int first = co_await inner;
    int second = co_await inner;  // already taken
    co_return first + second;
  };
  EXPECT_THROW(executor.run_coroutine(twice()), std::logic_error);
}

TEST(Task, MillionNestedAwaitsDoNotOverflowTheStack) {
  SequentialExecutor executor;
  EXPECT_EQ(executor.run_coroutine(depth(1'000'000)), 1'000'000);
}

TEST(Task, MillionNestedAwaitsOnThreadingExecutor) {
  connectors::ThreadingExecutor executor{2};
  EXPECT_EQ(executor.run_coroutine(depth(1'000'000)), 1'000'000);
}

TEST(Task, MoveOnlyResults) {
  SequentialExecutor executor;
  auto make = []() -> Task<std::unique_ptr<int>> { co_return std::make_unique<int>(5); };
  auto outer = [&]() -> Task<int> {
    std::unique_ptr<int> value = co_await make();
    co_return *value;
  };
  EXPECT_EQ(executor.run_coroutine(outer()), 5);
}

}  // namespace
