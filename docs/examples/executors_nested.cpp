// docs/executors.md — a method that starts a run of its own, on a pool of one
// thread: the blocked pool thread helps with the queued jobs.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <atomic>
#include <cstdio>
#include <vector>

namespace {

using connectors::Parallelization;
using connectors::Task;

// --- nested runs
struct Nested {
  connectors::Executor* executor;
  mutable std::atomic<int> running{0};
  mutable std::atomic<int> peak{0};

  int inner(int value) const {
    int now = ++running;
    for (int seen = peak; now > seen && !peak.compare_exchange_weak(seen, now);) {
    }
    --running;
    return value + 1;
  }
  int outer(int value) const {  // runs on the pool, starts a nested run there
    auto both = [&]() -> Task<int> {
      auto [a, b] =
          co_await connectors::gather(executor->run_method(Parallelization::THREAD, &Nested::inner, *this, value),
                                      executor->run_method(Parallelization::THREAD, &Nested::inner, *this, value));
      co_return a + b;
    };
    return executor->run_coroutine(both());
  }
};
// ---
}  // namespace

int main() {
  // --- nested runs
  connectors::ThreadingExecutor executor{1};  // one thread: outer blocks it
  Nested nested{&executor};
  auto main_task = [&]() -> Task<int> {
    std::vector<Task<int>> calls;
    for (int i = 0; i < 4; ++i)
      calls.push_back(executor.run_method(Parallelization::THREAD, &Nested::outer, nested, i));
    int sum = 0;
    for (int result : co_await connectors::gather(std::move(calls))) sum += result;
    co_return sum;
  };
  CHECK(executor.run_coroutine(main_task()) == 20);  // sum of 2 * (i + 1): no deadlock
  CHECK(nested.peak == 1);                           // and never two methods at once
  // ---
  return failures == 0 ? 0 : 1;
}
