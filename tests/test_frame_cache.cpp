// The per-thread cache of coroutine frames (docs/design.md §5, "Frames"):
// during a run every freed frame is kept for the next allocation, and when the
// thread's outermost run ends the frames it never used go back to malloc.
#include <connectors/connectors.hpp>
#include <connectors/detail/frame_allocator.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace {

using connectors::SequentialExecutor;
using connectors::Task;

Task<int> one() { co_return 1; }

// A run that gathers `count` tasks, all alive at once until the gather ends.
int gather_tasks(SequentialExecutor& executor, int count) {
  auto body = [count]() -> Task<int> {
    std::vector<Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) tasks.push_back(one());
    int sum = 0;
    for (int value : co_await connectors::gather(std::move(tasks))) sum += value;
    co_return sum;
  };
  return executor.run_coroutine(body());
}

// The most frames the calling thread keeps in any one size class.
std::size_t most_cached_frames() {
  std::size_t most = 0;
  for (std::size_t size = 64; size <= 1024; size += 64) most = std::max(most, connectors::detail::cached_frames(size));
  return most;
}

// On a thread of its own, so that the cache starts empty.
template <class Body>
void on_fresh_thread(Body body) {
  std::thread{body}.join();
}

constexpr int many = 20'000;
constexpr std::size_t kept_between_runs = 4096;

#if defined(CONNECTORS_PLAIN_FRAMES)
#define SKIP_WITHOUT_FRAME_CACHE() GTEST_SKIP() << "frames come from malloc under AddressSanitizer"
#else
#define SKIP_WITHOUT_FRAME_CACHE() (void)0
#endif

TEST(FrameCache, ARunKeepsEveryFrameItFreedForTheNextRun) {
  SKIP_WITHOUT_FRAME_CACHE();
  on_fresh_thread([] {
    SequentialExecutor executor;
    EXPECT_EQ(gather_tasks(executor, many), many);
    EXPECT_GE(most_cached_frames(), static_cast<std::size_t>(many));
    // The next run as large takes them all again and gives none back.
    EXPECT_EQ(gather_tasks(executor, many), many);
    EXPECT_GE(most_cached_frames(), static_cast<std::size_t>(many));
  });
}

// The bound in bytes, met through the allocator itself: the size of a
// coroutine frame differs between builds (a sanitizer's instrumentation
// enlarges it), a frame asked for with a size does not.
TEST(FrameCache, ARunKeepsAtMostItsByteBudget) {
  SKIP_WITHOUT_FRAME_CACHE();
  on_fresh_thread([] {
    namespace detail = connectors::detail;
    constexpr std::size_t budget = std::size_t{32} << 20;
    constexpr std::size_t size = 1024;     // the largest size class kept
    constexpr std::size_t count = 50'000;  // 51 MB of frames
    detail::begin_outermost_run();
    std::vector<void*> frames(count);
    for (void*& frame : frames) frame = detail::allocate_frame(size);
    for (void* frame : frames) detail::free_frame(frame, size);
    // Kept up to the budget (one frame over it at most), the rest given back.
    EXPECT_GE(detail::cached_frame_bytes(), budget);
    EXPECT_LE(detail::cached_frame_bytes(), budget + size);
    EXPECT_EQ(detail::cached_frames(size), detail::cached_frame_bytes() / size);
    // A run that used every kept frame keeps them past its end.
    detail::end_outermost_run();
    EXPECT_GE(detail::cached_frame_bytes(), budget);
    // Outside a run, the allowance per size class alone.
    for (void*& frame : frames) frame = detail::allocate_frame(size);
    for (void* frame : frames) detail::free_frame(frame, size);
    EXPECT_EQ(detail::cached_frames(size), kept_between_runs);
  });
}

TEST(FrameCache, ARunThatDidNotUseTheFramesGivesThemBack) {
  SKIP_WITHOUT_FRAME_CACHE();
  on_fresh_thread([] {
    SequentialExecutor executor;
    EXPECT_EQ(gather_tasks(executor, many), many);
    ASSERT_GE(most_cached_frames(), static_cast<std::size_t>(many));
    EXPECT_EQ(gather_tasks(executor, 10), 10);
    EXPECT_LE(most_cached_frames(), kept_between_runs);
  });
}

TEST(FrameCache, OutsideARunAThreadKeepsABoundedNumber) {
  SKIP_WITHOUT_FRAME_CACHE();
  on_fresh_thread([] {
    {
      // Tasks made and destroyed without ever running: no run is under way.
      std::vector<Task<int>> tasks;
      for (int i = 0; i < many; ++i) tasks.push_back(one());
    }
    EXPECT_LE(most_cached_frames(), kept_between_runs);
  });
}

TEST(FrameCache, ANestedRunDoesNotGiveBackTheFramesOfTheRunAroundIt) {
  SKIP_WITHOUT_FRAME_CACHE();
  on_fresh_thread([] {
    SequentialExecutor executor;
    auto outer = [&]() -> Task<std::size_t> {
      std::vector<Task<int>> tasks;
      for (int i = 0; i < many; ++i) tasks.push_back(one());
      co_await connectors::gather(std::move(tasks));
      // A run nested in this one (as a user method that starts a run does)
      // ends here: the outer run is still under way and keeps its frames.
      SequentialExecutor inner_executor;
      EXPECT_EQ(inner_executor.run_coroutine(one()), 1);
      co_return most_cached_frames();
    };
    EXPECT_GE(executor.run_coroutine(outer()), static_cast<std::size_t>(many));
  });
}

// A THREAD call of run_method lives in one frame while it is in flight, its
// pool job and reply inside (detail::PoolCall): 10^5 calls are 10^5 frames,
// and a few bytes over a size class cost every one of them the next class
// (docs/design.md#frames). The call of a member function without arguments
// fits 192 bytes (168 on g++ 12; it took 216, the 256-byte class, while the
// coroutine held a lambda beside its parameters and the job and the reply
// had a vtable pointer each).
TEST(FrameCache, AThreadCallOfRunMethodFitsA192ByteFrame) {
  SKIP_WITHOUT_FRAME_CACHE();
#if !defined(__OPTIMIZE__)
  GTEST_SKIP() << "unoptimised builds keep more in a coroutine frame";
#endif
  struct Trivial {
    int value = 1;
    int get() const { return value; }
  };
  on_fresh_thread([] {
    connectors::ThreadingExecutor executor{1};
    Trivial trivial;
    constexpr int calls = 100;
    auto body = [&]() -> Task<int> {
      std::vector<Task<int>> tasks;
      for (int i = 0; i < calls; ++i) {
        tasks.push_back(executor.run_method(connectors::Parallelization::THREAD, &Trivial::get, trivial));
      }
      int sum = 0;
      for (int value : co_await connectors::gather(std::move(tasks))) sum += value;
      co_return sum;
    };
    EXPECT_EQ(executor.run_coroutine(body()), calls);
    EXPECT_GE(connectors::detail::cached_frames(192), static_cast<std::size_t>(calls));
  });
}

}  // namespace
