// docs/executors.md — what throws what.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace {

using connectors::Parallelization;
using connectors::Task;

struct Worker {
  int ok(int x) const { return x; }
  int fail(int x) const { throw std::out_of_range("slice " + std::to_string(x)); }
};
}  // namespace

int main() {
  connectors::ThreadingExecutor executor{2};
  Worker worker;

  // --- gather waits for all, then rethrows the first
  int finished = 0;
  auto run = [&](int x, bool fail) -> Task<int> {
    int value = fail ? co_await executor.run_method(Parallelization::THREAD, &Worker::fail, worker, x)
                     : co_await executor.run_method(Parallelization::THREAD, &Worker::ok, worker, x);
    ++finished;
    co_return value;
  };
  auto main_task = [&]() -> Task<void> {
    co_await connectors::gather(run(0, false), run(1, true), run(2, false), run(3, true));
  };
  try {
    executor.run_coroutine(main_task());
  } catch (const std::out_of_range& error) {
    CHECK(std::strcmp(error.what(), "slice 1") == 0);  // the first in argument order
  }
  CHECK(finished == 2);  // both healthy tasks ran to their end
  // ---

  // --- misuse
  // run_method outside a run of the same executor: the await throws
  auto wrong_executor = [&]() -> Task<int> {
    co_return co_await executor.run_method(Parallelization::THREAD, &Worker::ok, worker, 1);
  };
  connectors::SequentialExecutor other;
  CHECK(throws<std::logic_error>([&] { other.run_coroutine(wrong_executor()); }));
  // a Future completes once
  connectors::Future<int> future;
  future.set_result(1);
  CHECK(throws<std::logic_error>([&] { future.set_result(2); }));
  // ---

  // --- the factory
  CHECK(throws<std::invalid_argument>([] { connectors::executor(-1, 0); }));
  CHECK(throws<std::invalid_argument>([] { connectors::executor(0, -2); }));
  CHECK(dynamic_cast<connectors::ThreadingMultiprocessingExecutor*>(connectors::executor(2, 1).get()) != nullptr);
  CHECK(dynamic_cast<connectors::MultiprocessingExecutor*>(connectors::executor(0, std::nullopt).get()) != nullptr);
  CHECK(throws<std::invalid_argument>([] { connectors::ThreadingExecutor{0}; }));
  CHECK(dynamic_cast<connectors::SequentialExecutor*>(connectors::executor(0, 0).get()) != nullptr);
  // ---

  // --- the default executor
  auto shared = connectors::default_executor();  // executor(), created on first use
  CHECK(shared == connectors::default_executor());
  connectors::set_default_executor(std::make_shared<connectors::SequentialExecutor>());
  CHECK(dynamic_cast<connectors::SequentialExecutor*>(connectors::default_executor().get()) != nullptr);
  connectors::set_default_executor(nullptr);  // back to a fresh executor()
  CHECK(dynamic_cast<connectors::ThreadingExecutor*>(connectors::default_executor().get()) != nullptr);
  // ---
  return failures == 0 ? 0 : 1;
}
