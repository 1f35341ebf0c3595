// docs/executors.md — run_coroutine, run_method, gather and the dispatch table.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <memory>
#include <thread>
#include <tuple>

namespace {

using connectors::Parallelization;
using connectors::Task;

struct Integrator {
  double integrate(int slice) const { return slice + 0.5; }
  std::thread::id where() const { return std::this_thread::get_id(); }
};
}  // namespace

int main() {
  // --- run_method and gather
  auto executor = connectors::executor(2, 0);  // a ThreadingExecutor with 2 threads
  Integrator integrator;
  auto main_task = [&]() -> Task<double> {
    auto [a, b] = co_await connectors::gather(
        executor->run_method(Parallelization::THREAD, &Integrator::integrate, integrator, 0),
        executor->run_method(Parallelization::THREAD, &Integrator::integrate, integrator, 1));
    co_return a + b;  // the two calls may run at once on the pool
  };
  double total = executor->run_coroutine(main_task());
  CHECK(total == 2.0);
  // ---

  // --- where methods run
  const std::thread::id caller = std::this_thread::get_id();
  auto where = [&](connectors::Executor& e, Parallelization p) {
    auto ask = [&]() -> Task<std::thread::id> { co_return co_await e.run_method(p, &Integrator::where, integrator); };
    return e.run_coroutine(ask());
  };
  connectors::SequentialExecutor sequential;
  connectors::ThreadingExecutor threading{2};
  CHECK(where(sequential, Parallelization::THREAD) == caller);     // inline
  CHECK(where(threading, Parallelization::SEQUENTIAL) == caller);  // inline
  CHECK(where(threading, Parallelization::THREAD) != caller);      // pool thread
  CHECK(where(threading, Parallelization::PROCESS) != caller);     // pool thread (no processes yet)
  CHECK(threading.effective_parallelization(Parallelization::PROCESS) == Parallelization::THREAD);
  CHECK(sequential.effective_parallelization(Parallelization::THREAD) == Parallelization::SEQUENTIAL);
  // ---

  // --- get_event_loop
  CHECK(executor->get_event_loop() == nullptr);  // no run on this thread
  auto inside = [&]() -> Task<bool> { co_return executor->get_event_loop() != nullptr; };
  CHECK(executor->run_coroutine(inside()));
  // ---
  return failures == 0 ? 0 : 1;
}
