// The executors at work: the same coroutine runs 8 CPU-bound methods on a
// sequential and on a threading executor. THREAD methods leave the loop's
// thread and run side by side; SEQUENTIAL ones stay on it.
#include <connectors/connectors.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <set>
#include <thread>
#include <vector>

namespace {

class Integrator {
 public:
  explicit Integrator(int steps) : steps_(steps) {}

  // Numerically integrates sin over [0, pi] (≈ 2), slowly on purpose.
  double integrate(int slice) const {
    const double width = 3.141592653589793 / steps_;
    double sum = 0.0;
    for (int i = 0; i < steps_; ++i) sum += std::sin((i + 0.5) * width) * width;
    return sum + 0.0 * slice;
  }
  std::thread::id where() const { return std::this_thread::get_id(); }

 private:
  int steps_;
};

struct Outcome {
  double total = 0.0;
  double seconds = 0.0;
  std::size_t threads_used = 0;
  bool left_loop_thread = false;
};

Outcome run(connectors::Executor& executor, const Integrator& integrator, int methods) {
  using connectors::Parallelization;
  auto main = [&]() -> connectors::Task<Outcome> {
    const auto loop_thread = std::this_thread::get_id();
    std::vector<connectors::Task<double>> sums;
    std::vector<connectors::Task<std::thread::id>> places;
    for (int i = 0; i < methods; ++i) {
      sums.push_back(executor.run_method(Parallelization::THREAD, &Integrator::integrate, integrator, i));
      places.push_back(executor.run_method(Parallelization::THREAD, &Integrator::where, integrator));
    }
    Outcome outcome;
    for (double sum : co_await connectors::gather(std::move(sums))) outcome.total += sum;
    std::set<std::thread::id> threads;
    for (std::thread::id id : co_await connectors::gather(std::move(places))) threads.insert(id);
    outcome.threads_used = threads.size();
    outcome.left_loop_thread = threads.count(loop_thread) == 0;
    co_return outcome;
  };
  const auto start = std::chrono::steady_clock::now();
  Outcome outcome = executor.run_coroutine(main());
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const Integrator integrator{quick ? 20'000 : 2'000'000};
  const int methods = 8;

  auto sequential = connectors::executor(0, 0);
  auto threading = connectors::executor();  // hardware concurrency, no processes
  std::printf("%d THREAD methods, each integrating sin over [0, pi]\n\n", methods);
  std::printf("%-22s %10s %12s %14s %s\n", "executor", "seconds", "sum", "threads used", "left the loop thread");
  const Outcome slow = run(*sequential, integrator, methods);
  const Outcome fast = run(*threading, integrator, methods);
  std::printf("%-22s %10.3f %12.6f %14zu %s\n", "SequentialExecutor", slow.seconds, slow.total, slow.threads_used,
              slow.left_loop_thread ? "yes" : "no");
  std::printf("%-22s %10.3f %12.6f %14zu %s\n", "ThreadingExecutor", fast.seconds, fast.total, fast.threads_used,
              fast.left_loop_thread ? "yes" : "no");
  std::printf("\nspeed-up with %u hardware threads: %.2fx\n", std::thread::hardware_concurrency(),
              slow.seconds / fast.seconds);
  const bool consistent = std::abs(slow.total - fast.total) < 1e-9 && !slow.left_loop_thread && fast.left_loop_thread;
  return consistent ? 0 : 1;
}
