// Started by test_process_hostile: the program's first PROCESS call, with
// every allocation of the calling thread failing from the Nth on (argv[1]),
// memory staying exhausted. The call must fail with an exception, never end
// the program. Exit code: 0 the call returned its value, 1 it failed with an
// exception, 2 it returned a wrong value.
#include <connectors/connectors.hpp>

#include <cstdlib>
#include <exception>
#include <new>

namespace {

thread_local long failing_from = -1;
thread_local long counted = 0;

}  // namespace

void* operator new(std::size_t size) {
  if (failing_from >= 0 && counted++ >= failing_from) throw std::bad_alloc{};
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc{};
}
// g++ takes the replaced operator new's memory, inlined into a caller, for
// memory that free must not release; it is malloc's.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

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
  counted = 0;
  failing_from = failing;
  try {
    result = executor.run_coroutine(std::move(task));
  } catch (const std::exception&) {
    outcome = 1;
  }
  failing_from = -1;
  if (outcome == 0 && result != 7) outcome = 2;
  return outcome;
}
