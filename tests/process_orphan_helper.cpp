// Started by test_process_faults: a program with two workers busy in long
// calls, killed with SIGKILL by the test to show that no worker outlives it.
// Prints "ready" and the workers' pids once both run.
#include <connectors/connectors.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace {
struct Sleeper {
  template <class Archive>
  void serialize(Archive&) {}
  int sleep() const {
    std::this_thread::sleep_for(std::chrono::seconds{60});
    return 0;
  }
};
}  // namespace

int main(int argc, char** argv) {
  connectors::init(argc, argv);
  connectors::MultiprocessingExecutor executor{2};
  std::thread caller{[&] {
    Sleeper sleeper;
    auto call = [&]() -> connectors::Task<int> {
      co_return co_await executor.run_method(connectors::Parallelization::PROCESS, &Sleeper::sleep, sleeper);
    };
    auto main_task = [&]() -> connectors::Task<void> { co_await connectors::gather(call(), call()); };
    try {
      executor.run_coroutine(main_task());
    } catch (...) {
    }
  }};
  while (executor.worker_process_ids().size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds{1});
  const std::vector<int> workers = executor.worker_process_ids();
  std::printf("ready %d %d\n", workers[0], workers[1]);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds{60});
  caller.detach();
  return 1;
}
