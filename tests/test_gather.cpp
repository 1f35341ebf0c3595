// gather and the EventLoop primitives (create_task, call_soon, call_soon_threadsafe).
#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <coroutine>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace {

using connectors::Future;
using connectors::gather;
using connectors::SequentialExecutor;
using connectors::Task;
using connectors::ThreadingExecutor;

Task<int> value(int v) { co_return v; }
Task<void> nothing() { co_return; }
Task<int> fails(std::string message) {
  throw std::runtime_error(message);
  co_return 0;
}

TEST(Gather, TupleOfResults) {
  SequentialExecutor executor;
  auto main = []() -> Task<std::tuple<int, std::monostate, int>> {
    co_return co_await gather(value(1), nothing(), value(3));
  };
  auto [a, unit, c] = executor.run_coroutine(main());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(unit, std::monostate{});
  EXPECT_EQ(c, 3);
}

TEST(Gather, VectorOfResultsInOrder) {
  SequentialExecutor executor;
  auto main = []() -> Task<std::vector<int>> {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 100; ++i) tasks.push_back(value(i));
    co_return co_await gather(std::move(tasks));
  };
  std::vector<int> results = executor.run_coroutine(main());
  ASSERT_EQ(results.size(), 100U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(results[static_cast<std::size_t>(i)], i);
}

TEST(Gather, EmptyVector) {
  SequentialExecutor executor;
  auto main = []() -> Task<std::size_t> { co_return (co_await gather(std::vector<Task<int>>{})).size(); };
  EXPECT_EQ(executor.run_coroutine(main()), 0U);
  auto main_void = []() -> Task<void> { co_await gather(std::vector<Task<void>>{}); };
  executor.run_coroutine(main_void());
}

TEST(Gather, RunsConcurrently) {
  // Each task waits for a Future the other completes: possible only if both run.
  SequentialExecutor executor;
  Future<int> first;
  Future<int> second;
  auto ping = [](Future<int> mine, Future<int> theirs) -> Task<int> {
    theirs.set_result(1);
    co_return co_await mine;
  };
  auto main = [&]() -> Task<int> {
    auto [a, b] = co_await gather(ping(first, second), ping(second, first));
    co_return a + b;
  };
  EXPECT_EQ(executor.run_coroutine(main()), 2);
}

TEST(Gather, WaitsForAllThenRethrowsTheFirstError) {
  ThreadingExecutor executor{2};
  std::atomic<bool> slow_finished{false};
  struct Worker {
    std::atomic<bool>* flag;
    int slow() const {
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
      flag->store(true);
      return 1;
    }
  } worker{&slow_finished};
  auto slow = [&]() -> Task<int> {
    co_return co_await executor.run_method(connectors::Parallelization::THREAD, &Worker::slow, worker);
  };
  auto main = [&]() -> Task<void> {
    std::vector<Task<int>> tasks;
    tasks.push_back(fails("first"));
    tasks.push_back(slow());
    tasks.push_back(fails("second"));
    co_await gather(std::move(tasks));
  };
  try {
    executor.run_coroutine(main());
    FAIL() << "gather did not rethrow";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "first");
  }
  EXPECT_TRUE(slow_finished.load());
}

// Checked before any task starts, as gather does: before, the tasks ahead of
// the empty one ran, and the error came after them.
TEST(RunCoroutines, RejectsAnEmptyOrStartedTaskBeforeStartingAny) {
  SequentialExecutor executor;
  int ran = 0;
  auto counted = [&]() -> Task<void> {
    ++ran;
    co_return;
  };
  std::vector<Task<void>> with_empty;
  with_empty.push_back(counted());
  with_empty.push_back(counted());
  with_empty.emplace_back();
  try {
    executor.run_coroutines(with_empty);
    ADD_FAILURE() << "no std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string{error.what()}.find("run_coroutines"), std::string::npos) << error.what();
  }
  EXPECT_EQ(ran, 0);

  Task<void> started = counted();
  executor.run_coroutine([&]() -> Task<void> { co_await started; }());
  EXPECT_EQ(ran, 1);
  std::vector<Task<void>> with_started;
  with_started.push_back(counted());
  with_started.push_back(std::move(started));
  EXPECT_THROW(executor.run_coroutines(with_started), std::logic_error);
  EXPECT_EQ(ran, 1);
}

TEST(Gather, RejectsEmptyTasks) {
  SequentialExecutor executor;
  auto main = []() -> Task<void> {
    Task<int> empty;
    co_await gather(value(1), std::move(empty));
  };
  EXPECT_THROW(executor.run_coroutine(main()), std::invalid_argument);
}

// Whether a task was started travels with the Task object (gather reads it
// there, not in the frame): after a move it is still known, and a refused
// gather starts none of its tasks.
TEST(Gather, RejectsATaskAwaitedBeforeEvenAfterAMoveAndStartsNone) {
  SequentialExecutor executor;
  bool fresh_ran = false;
  auto fresh = [&]() -> Task<int> {
    fresh_ran = true;
    co_return 1;
  };
  auto main = [&]() -> Task<void> {
    Task<int> awaited = value(2);
    const int result = co_await awaited;
    EXPECT_EQ(result, 2);
    Task<int> moved = std::move(awaited);
    std::vector<Task<int>> tasks;
    tasks.push_back(fresh());
    tasks.push_back(std::move(moved));
    co_await gather(std::move(tasks));
  };
  EXPECT_THROW(executor.run_coroutine(main()), std::logic_error);
  EXPECT_FALSE(fresh_ran);

  auto awaited_then_run = [&]() -> Task<Task<int>> {
    Task<int> awaited = value(3);
    const int result = co_await awaited;
    EXPECT_EQ(result, 3);
    co_return std::move(awaited);
  };
  Task<int> started = executor.run_coroutine(awaited_then_run());
  EXPECT_THROW(executor.run_coroutine(std::move(started)), std::logic_error);
}

TEST(EventLoop, CreateTaskRunsConcurrentlyAndReturnsAFuture) {
  SequentialExecutor executor;
  Future<int> signal;
  auto background = [&]() -> Task<int> { co_return co_await signal * 2; };
  auto main = [&]() -> Task<int> {
    Future<int> result = executor.get_event_loop()->create_task(background());
    EXPECT_FALSE(result.done());
    signal.set_result(21);
    co_return co_await result;
  };
  EXPECT_EQ(executor.run_coroutine(main()), 42);
}

TEST(EventLoop, CreateTaskForwardsExceptions) {
  SequentialExecutor executor;
  auto main = [&]() -> Task<int> {
    Future<int> result = executor.get_event_loop()->create_task(fails("background"));
    co_return co_await result;
  };
  EXPECT_THROW(executor.run_coroutine(main()), std::runtime_error);
}

// Any copy may complete a Future: completed by hand, the task's own result
// (or exception) is dropped. Before, the driver's second completion threw
// out of a coroutine that cannot throw: std::terminate.
TEST(EventLoop, ACreateTaskFutureCompletedByHandKeepsThatResult) {
  SequentialExecutor executor;
  Future<void> go;
  auto background = [&]() -> Task<int> {
    co_await go;
    co_return 1;
  };
  auto failing = [&]() -> Task<int> {
    co_await go;
    throw std::runtime_error("dropped");
  };
  auto main = [&]() -> Task<int> {
    Future<int> result = executor.get_event_loop()->create_task(background());
    Future<int> failed = executor.get_event_loop()->create_task(failing());
    result.set_result(7);
    failed.set_result(8);
    go.set_result();
    const int first = co_await result;
    const int second = co_await failed;
    co_await executor.get_event_loop()->create_task(background());  // the loop runs: both tasks finish
    co_return first * 10 + second;
  };
  EXPECT_EQ(executor.run_coroutine(main()), 78);
}

TEST(EventLoop, CallSoonRunsInOrderOnTheLoopThread) {
  SequentialExecutor executor;
  std::vector<int> order;
  auto main = [&]() -> Task<void> {
    connectors::EventLoop* loop = executor.get_event_loop();
    loop->call_soon([&] { order.push_back(1); });
    loop->call_soon([&] { order.push_back(2); });
    Future<> done;
    loop->call_soon([done]() mutable { done.set_result(); });
    co_await done;
  };
  executor.run_coroutine(main());
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(EventLoop, CallSoonFromAnotherThreadIsRefused) {
  SequentialExecutor executor;
  auto main = [&]() -> Task<bool> {
    connectors::EventLoop* loop = executor.get_event_loop();
    bool refused = false;
    std::thread other([&] {
      try {
        loop->call_soon([] {});
      } catch (const std::logic_error&) {
        refused = true;
      }
    });
    other.join();
    co_return refused;
  };
  EXPECT_TRUE(executor.run_coroutine(main()));
}

TEST(EventLoop, CallSoonThreadsafeRunsOnTheLoopThread) {
  ThreadingExecutor executor{1};
  std::thread::id ran_on;
  std::thread::id loop_thread;
  std::thread poster;
  auto main = [&]() -> Task<void> {
    loop_thread = std::this_thread::get_id();
    connectors::EventLoop* loop = executor.get_event_loop();
    Future<> done;
    poster = std::thread([&, loop, done]() mutable {
      EXPECT_TRUE(loop->call_soon_threadsafe([&ran_on, done]() mutable {
        ran_on = std::this_thread::get_id();
        done.set_result();
      }));
    });
    co_await done;
  };
  executor.run_coroutine(main());
  poster.join();
  EXPECT_EQ(ran_on, loop_thread);
}

TEST(EventLoop, CallbackExceptionEndsTheRunWithIt) {
  SequentialExecutor executor;
  auto main = [&]() -> Task<void> {
    executor.get_event_loop()->call_soon([] { throw std::domain_error("callback"); });
    co_return;
  };
  EXPECT_THROW(executor.run_coroutine(main()), std::domain_error);
}

// The coroutine's own exception wins over a callback's, which stands in
// only for its value. Before, the callback's replaced it.
TEST(EventLoop, TheCoroutinesExceptionWinsOverACallbacks) {
  SequentialExecutor executor;
  auto main = [&]() -> Task<void> {
    executor.get_event_loop()->call_soon([] { throw std::domain_error("callback"); });
    Future<void> turned;
    executor.get_event_loop()->call_soon([turned]() mutable { turned.set_result(); });
    co_await turned;  // the throwing callback has run
    throw std::out_of_range("the run's own");
  };
  EXPECT_THROW(executor.run_coroutine(main()), std::out_of_range);
}

// A task awaited through a reference, then handed on while it waits, is
// refused with std::logic_error by gather, run_coroutine and create_task,
// and the coroutine awaiting it still gets its value. Before, the refusing
// side freed the waiting frame, which the awaited Future then resumed (a use
// after free, seen under AddressSanitizer).
enum class HandedTo { gather, run_coroutine, create_task };

Task<int> wait_for(Future<int> gate) { co_return co_await gate; }
Task<int> await_through_reference(Task<int>& task) { co_return 10 + co_await task; }

// With `complete_gate` false the run ends while the task still waits: its
// awaiter, destroyed with the run, frees it (LeakSanitizer would tell).
int refuse_started_task(HandedTo handed_to, bool& refused, bool complete_gate = true) {
  SequentialExecutor executor;
  auto main = [&]() -> Task<int> {
    connectors::EventLoop& loop = *executor.get_event_loop();
    Future<int> gate;
    Task<int> inner = wait_for(gate);
    Future<int> holder = loop.create_task(await_through_reference(inner));
    Future<void> turned;
    loop.call_soon([turned]() mutable { turned.set_result(); });
    co_await turned;  // the holder has started `inner`, which waits for the gate
    try {
      switch (handed_to) {
        case HandedTo::gather:
          (void)co_await gather(std::move(inner));
          break;
        case HandedTo::run_coroutine:
          (void)executor.run_coroutine(std::move(inner));
          break;
        case HandedTo::create_task:
          (void)co_await loop.create_task(std::move(inner));
          break;
      }
    } catch (const std::logic_error& error) {
      refused = std::string{error.what()}.find("already started") != std::string::npos;
    }
    if (!complete_gate) co_return 0;
    gate.set_result(1);
    co_return co_await holder;
  };
  return executor.run_coroutine(main());
}

TEST(Gather, AStartedTaskHandedOnIsRefusedAndItsAwaiterStillGetsItsValue) {
  for (HandedTo handed_to : {HandedTo::gather, HandedTo::run_coroutine, HandedTo::create_task}) {
    bool refused = false;
    EXPECT_EQ(refuse_started_task(handed_to, refused), 11) << static_cast<int>(handed_to);
    EXPECT_TRUE(refused) << static_cast<int>(handed_to);
    refused = false;
    EXPECT_EQ(refuse_started_task(handed_to, refused, false), 0) << static_cast<int>(handed_to);
    EXPECT_TRUE(refused) << static_cast<int>(handed_to);
  }
}

// A finished task whose awaiting coroutine has not resumed yet (its
// continuation waits in the loop's queue: the task finished on a deep stack,
// and transfer_to bounced the continuation there) still holds the result.
// Destroying the task then, or handing it to gather, run_coroutine or
// create_task (which refuse it), must leave the frame to the awaiter. Before,
// the frame was freed at once and the awaiter took the result from freed
// memory (AddressSanitizer: a use after free; otherwise `freed_before_taken`).
struct FrameProbe {
  bool* freed;
  explicit FrameProbe(bool& flag) noexcept : freed(&flag) {}
  FrameProbe(FrameProbe&& other) noexcept : freed(std::exchange(other.freed, nullptr)) {}
  FrameProbe(const FrameProbe&) = delete;
  FrameProbe& operator=(const FrameProbe&) = delete;
  FrameProbe& operator=(FrameProbe&&) = delete;
  ~FrameProbe() {
    if (freed != nullptr) *freed = true;
  }
};

// Suspends, leaving its handle to be resumed by hand.
struct Parked {
  std::coroutine_handle<>* slot;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle) const noexcept { *slot = handle; }
  void await_resume() const noexcept {}
};

// The probe is a parameter: it lives as long as the frame.
Task<int> parked_then_one(std::coroutine_handle<>* slot, FrameProbe probe) {
  (void)probe;
  co_await Parked{slot};
  co_return 1;
}

Task<int> await_and_check_frame(Task<int>& task, const bool& freed, bool& freed_before_taken) {
  int value = 0;
  // The comma: the flag is read after the result was taken and before the
  // awaiter (a temporary of this expression) is gone.
  freed_before_taken = (value = co_await task, freed);
  co_return 10 + value;
}

// Far more stack than transfer_to's budget, so that a task resumed at the
// bottom has its continuation queued instead of transferred to.
[[gnu::noinline]] void resume_deep(std::coroutine_handle<> handle, int depth) {
  volatile char pad[1024];
  pad[0] = 0;
  if (depth == 0) {
    handle.resume();
  } else {
    resume_deep(handle, depth - 1);
  }
  pad[0] = static_cast<char>(pad[0] + 1);  // no tail call: the frames stay
}

// A task parked (`inner`, its frame watched by `freed`), started by another
// task on the loop (`holder`) that awaits it by name and checks its frame
// when it takes the result. (`inner` parks, writing `parked`, before this
// returns: the slot is not written again after the struct moves.)
struct AwaitedByName {
  std::unique_ptr<Task<int>> inner;
  Future<int> holder;
  std::coroutine_handle<> parked;
};

Task<AwaitedByName> park_awaited_by_name(connectors::EventLoop& loop, bool& freed, bool& freed_before_taken) {
  AwaitedByName started;
  started.inner = std::make_unique<Task<int>>(parked_then_one(&started.parked, FrameProbe{freed}));
  started.holder = loop.create_task(await_and_check_frame(*started.inner, freed, freed_before_taken));
  Future<void> turned;
  loop.call_soon([turned]() mutable { turned.set_result(); });
  co_await turned;  // the holder has started `inner`, which is parked
  co_return started;
}

enum class FinishedTaskFate { destroyed, gather, run_coroutine, create_task };

int hand_on_finished_task(FinishedTaskFate fate, bool& freed_before_taken, bool& freed_at_end) {
  SequentialExecutor executor;
  bool freed = false;
  auto main = [&]() -> Task<int> {
    connectors::EventLoop& loop = *executor.get_event_loop();
    AwaitedByName awaited = co_await park_awaited_by_name(loop, freed, freed_before_taken);
    std::unique_ptr<Task<int>>& inner = awaited.inner;
    resume_deep(awaited.parked, 256);
    EXPECT_TRUE(inner->done());  // finished, its awaiter not resumed yet
    try {
      switch (fate) {
        case FinishedTaskFate::destroyed:
          inner.reset();
          break;
        case FinishedTaskFate::gather:
          (void)co_await gather(std::move(*inner));
          break;
        case FinishedTaskFate::run_coroutine:
          (void)executor.run_coroutine(std::move(*inner));
          break;
        case FinishedTaskFate::create_task:
          (void)co_await loop.create_task(std::move(*inner));
          break;
      }
      EXPECT_EQ(fate, FinishedTaskFate::destroyed);
    } catch (const std::logic_error& error) {
      EXPECT_NE(std::string{error.what()}.find("already started"), std::string::npos) << error.what();
    }
    inner.reset();
    co_return co_await awaited.holder;
  };
  const int result = executor.run_coroutine(main());
  freed_at_end = freed;
  return result;
}

TEST(Gather, AFinishedTaskWhoseAwaiterHasNotResumedKeepsItsFrameUntilTheResultIsTaken) {
  for (FinishedTaskFate fate : {FinishedTaskFate::destroyed, FinishedTaskFate::gather, FinishedTaskFate::run_coroutine,
                                FinishedTaskFate::create_task}) {
    bool freed_before_taken = true;
    bool freed_at_end = false;
    EXPECT_EQ(hand_on_finished_task(fate, freed_before_taken, freed_at_end), 11) << static_cast<int>(fate);
    EXPECT_FALSE(freed_before_taken) << static_cast<int>(fate);
    EXPECT_TRUE(freed_at_end) << static_cast<int>(fate);
  }
}

// Destroying a task while a coroutine awaits it (through a reference) and it
// still runs: the awaiter gets the value and frees the frame afterwards.
// Before, the frame was freed while it waited, and completing its Future
// resumed freed memory.
TEST(Task, DestroyedWhileAwaitedAndRunningLeavesItsFrameToTheAwaiter) {
  SequentialExecutor executor;
  bool freed = false;
  bool freed_before_taken = true;
  auto main = [&]() -> Task<int> {
    connectors::EventLoop& loop = *executor.get_event_loop();
    AwaitedByName awaited = co_await park_awaited_by_name(loop, freed, freed_before_taken);
    awaited.inner.reset();
    EXPECT_FALSE(freed);
    loop.call_soon([parked = awaited.parked] { parked.resume(); });
    co_return co_await awaited.holder;
  };
  EXPECT_EQ(executor.run_coroutine(main()), 11);
  EXPECT_FALSE(freed_before_taken);
  EXPECT_TRUE(freed);
}

}  // namespace
