// Started by test_process_hostile: the program's first PROCESS call, with
// every allocation of the calling thread failing from the Nth on (argv[1]),
// memory staying exhausted. The call must fail with an exception, never end
// the program. Exit code: 0 the call returned its value, 1 it failed with an
// exception, 2 it returned a wrong value.
#include "failing_allocations.hpp"

#include <connectors/connectors.hpp>

#include <cstdlib>
#include <exception>
#include <new>

namespace {

struct Echo {
  template <class Archive>
  void serialize(Archive&) {}
  int echo(int x) const { return x; }
};

}  // namespace

int main(int argc, char** argv) {
  connectors::init(argc, argv);
  const long failing = argc > 1 ? std::atol(argv[1]) : -1;
  connectors::MultiprocessingExecutor executor{1};
  Echo echo;
  auto call = [&]() -> connectors::Task<int> {
    co_return co_await executor.run_method(connectors::Parallelization::PROCESS, &Echo::echo, echo, 7);
  };
  auto task = call();
  int result = -1;
  int outcome = 0;
  failing_allocations::arm(failing, true);
  try {
    result = executor.run_coroutine(std::move(task));
  } catch (const std::exception&) {
    outcome = 1;
  }
  failing_allocations::disarm();
  if (outcome == 0 && result != 7) outcome = 2;
  return outcome;
}
