// Executor overheads, side by side with oneTBB and Asio in one run:
//   - run_method(SEQUENTIAL): the cost of the inline path, against a direct call
//   - THREAD round trip: submit, run on the pool, resume the awaiting coroutine
//   - 10^5 trivial THREAD tasks spawned and awaited (per task)
//   - many coroutines awaiting one Future
#include <connectors/connectors.hpp>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <vector>

namespace {

using connectors::Parallelization;
using connectors::Task;

struct Trivial {
  int value = 1;
  [[gnu::noinline]] int get() const { return value; }
};

constexpr int pool_threads = 2;
constexpr int many_tasks = 100'000;

// ---- run_method(SEQUENTIAL) -------------------------------------------------

void BM_DirectCall(benchmark::State& state) {
  Trivial trivial;
  for (auto _ : state) benchmark::DoNotOptimize(trivial.get());
}
BENCHMARK(BM_DirectCall);

void run_method_loop(benchmark::State& state, connectors::Executor& executor, Parallelization flag) {
  Trivial trivial;
  auto body = [&]() -> Task<void> {
    for (auto _ : state) benchmark::DoNotOptimize(co_await executor.run_method(flag, &Trivial::get, trivial));
  };
  executor.run_coroutine(body());
}

void BM_RunMethod_Sequential_SequentialExecutor(benchmark::State& state) {
  connectors::SequentialExecutor executor;
  run_method_loop(state, executor, Parallelization::SEQUENTIAL);
}
BENCHMARK(BM_RunMethod_Sequential_SequentialExecutor);

void BM_RunMethod_Sequential_ThreadingExecutor(benchmark::State& state) {
  connectors::ThreadingExecutor executor{pool_threads};
  run_method_loop(state, executor, Parallelization::SEQUENTIAL);
}
BENCHMARK(BM_RunMethod_Sequential_ThreadingExecutor);

// ---- loop primitives ---------------------------------------------------------

void BM_RunCoroutine_Trivial(benchmark::State& state) {
  connectors::SequentialExecutor executor;
  auto trivial = []() -> Task<int> { co_return 1; };
  for (auto _ : state) benchmark::DoNotOptimize(executor.run_coroutine(trivial()));
}
BENCHMARK(BM_RunCoroutine_Trivial);

void BM_RunCoroutines_10k(benchmark::State& state) {
  connectors::SequentialExecutor executor;
  auto trivial = []() -> Task<void> { co_return; };
  for (auto _ : state) {
    std::vector<Task<void>> tasks;
    tasks.reserve(10'000);
    for (int i = 0; i < 10'000; ++i) tasks.push_back(trivial());
    executor.run_coroutines(tasks);
  }
  state.SetItemsProcessed(state.iterations() * 10'000);
}
BENCHMARK(BM_RunCoroutines_10k);

// n coroutines awaiting one Future, which a callback completes: registering
// the awaiters must cost linear time (it was quadratic: 9.3 s for 320 000).
void BM_FutureManyAwaiters(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  connectors::SequentialExecutor executor;
  auto waits = [](connectors::Future<int> start) -> Task<int> { co_return co_await start; };
  auto main = [&]() -> Task<long> {
    connectors::Future<int> start;
    std::vector<Task<int>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) tasks.push_back(waits(start));
    executor.get_event_loop()->call_soon([start]() mutable { start.set_result(1); });
    long sum = 0;
    for (int value : co_await connectors::gather(std::move(tasks))) sum += value;
    co_return sum;
  };
  for (auto _ : state) benchmark::DoNotOptimize(executor.run_coroutine(main()));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_FutureManyAwaiters)->Arg(10'000)->Arg(320'000)->Unit(benchmark::kMillisecond);

// ---- THREAD round trip ------------------------------------------------------

void BM_RoundTrip_Connectors(benchmark::State& state) {
  connectors::ThreadingExecutor executor{pool_threads};
  run_method_loop(state, executor, Parallelization::THREAD);
}
BENCHMARK(BM_RoundTrip_Connectors)->UseRealTime();

// A one-shot flag the caller blocks on, as a user of the peers would write it.
class Done {
 public:
  void set() {
    {
      std::lock_guard lock{mutex_};
      done_ = true;
    }
    cv_.notify_one();
  }
  void wait_and_reset() {
    std::unique_lock lock{mutex_};
    cv_.wait(lock, [this] { return done_; });
    done_ = false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
};

void BM_RoundTrip_TBB(benchmark::State& state) {
  tbb::task_arena arena{pool_threads};
  Trivial trivial;
  Done done;
  for (auto _ : state) {
    int result = 0;
    arena.enqueue([&] {
      result = trivial.get();
      done.set();
    });
    done.wait_and_reset();
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_RoundTrip_TBB)->UseRealTime();

void BM_RoundTrip_Asio(benchmark::State& state) {
  asio::thread_pool pool{pool_threads};
  Trivial trivial;
  Done done;
  for (auto _ : state) {
    int result = 0;
    asio::post(pool, [&] {
      result = trivial.get();
      done.set();
    });
    done.wait_and_reset();
    benchmark::DoNotOptimize(result);
  }
  pool.join();
}
BENCHMARK(BM_RoundTrip_Asio)->UseRealTime();

// ---- 10^5 trivial tasks -----------------------------------------------------

void BM_ManyTasks_Connectors(benchmark::State& state) {
  connectors::ThreadingExecutor executor{pool_threads};
  Trivial trivial;
  auto body = [&]() -> Task<long> {
    std::vector<Task<int>> tasks;
    tasks.reserve(many_tasks);
    for (int i = 0; i < many_tasks; ++i)
      tasks.push_back(executor.run_method(Parallelization::THREAD, &Trivial::get, trivial));
    long sum = 0;
    for (int value : co_await connectors::gather(std::move(tasks))) sum += value;
    co_return sum;
  };
  for (auto _ : state) benchmark::DoNotOptimize(executor.run_coroutine(body()));
  state.SetItemsProcessed(state.iterations() * many_tasks);
}
BENCHMARK(BM_ManyTasks_Connectors)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ManyTasks_TBB(benchmark::State& state) {
  tbb::task_arena arena{pool_threads};
  Trivial trivial;
  std::vector<int> results(many_tasks);
  for (auto _ : state) {
    arena.execute([&] {
      tbb::task_group group;
      for (int i = 0; i < many_tasks; ++i) group.run([&, i] { results[static_cast<std::size_t>(i)] = trivial.get(); });
      group.wait();
    });
    benchmark::DoNotOptimize(results.data());
  }
  state.SetItemsProcessed(state.iterations() * many_tasks);
}
BENCHMARK(BM_ManyTasks_TBB)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ManyTasks_Asio(benchmark::State& state) {
  asio::thread_pool pool{pool_threads};
  Trivial trivial;
  std::vector<int> results(many_tasks);
  for (auto _ : state) {
    std::latch finished{many_tasks};
    for (int i = 0; i < many_tasks; ++i) {
      asio::post(pool, [&, i] {
        results[static_cast<std::size_t>(i)] = trivial.get();
        finished.count_down();
      });
    }
    finished.wait();
    benchmark::DoNotOptimize(results.data());
  }
  pool.join();
  state.SetItemsProcessed(state.iterations() * many_tasks);
}
BENCHMARK(BM_ManyTasks_Asio)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
