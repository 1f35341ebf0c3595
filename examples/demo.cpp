// The demo: a small processing network computed under each executor.
//
//   Source --(frequency)--> Integrator x8 --> Sum
//
// Each integrator's getter is deliberately CPU-heavy and flagged THREAD (the
// default for outputs). The same network is computed with a sequential and a
// threading executor, side by side; then one integrator's parameter changes
// and only the blocks that depend on it run again.
#include <connectors/connectors.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::vector<std::string> ran;  // which blocks ran, in order (guarded: see note())
std::mutex ran_mutex;
void note(std::string what) {
  std::lock_guard lock{ran_mutex};
  ran.push_back(std::move(what));
}

class Source {
 public:
  connectors::Output<double> frequency{this, &Source::get};
  connectors::Input<double> set_frequency{this, &Source::set, frequency};

 private:
  double get() const { return frequency_; }
  void set(double value) { frequency_ = value; }
  double frequency_ = 1.0;
};

class Integrator {
 public:
  Integrator(int index, int steps) : index_(index), steps_(steps) {}

  connectors::Output<double> integral{this, &Integrator::integrate};
  connectors::Input<double> set_frequency{this, &Integrator::store_frequency, integral};
  connectors::Input<double> set_phase{this, &Integrator::store_phase, integral};

 private:
  // The integral of sin(f·x + phase)² over [0, 2π], by the midpoint rule.
  double integrate() const {
    note("integrator " + std::to_string(index_));
    const double width = 2.0 * 3.141592653589793 / steps_;
    double sum = 0.0;
    for (int i = 0; i < steps_; ++i) {
      const double s = std::sin(frequency_ * (i + 0.5) * width + phase_);
      sum += s * s * width;
    }
    return sum;
  }
  void store_frequency(double value) { frequency_ = value; }
  void store_phase(double value) { phase_ = value; }

  int index_;
  int steps_;
  double frequency_ = 1.0;
  double phase_ = 0.0;
};

// Adds what the integrators deliver; one input per integrator.
class Sum {
 public:
  static constexpr int inputs = 8;
  Sum() {
    for (int i = 0; i < inputs; ++i)
      terms.push_back(std::make_unique<connectors::Input<double>>(this, setters[i], total));
  }

  connectors::Output<double> total{this, &Sum::add};
  std::vector<std::unique_ptr<connectors::Input<double>>> terms;

 private:
  double add() const {
    note("sum");
    double sum = 0.0;
    for (double v : values_) sum += v;
    return sum;
  }
  template <int I>
  void set(double value) {
    values_[I] = value;
  }
  using Setter = void (Sum::*)(double);
  static constexpr Setter setters[inputs] = {&Sum::set<0>, &Sum::set<1>, &Sum::set<2>, &Sum::set<3>,
                                             &Sum::set<4>, &Sum::set<5>, &Sum::set<6>, &Sum::set<7>};
  std::array<double, inputs> values_{};
};

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int steps = quick ? 20'000 : 4'000'000;

  Source source;
  std::vector<std::unique_ptr<Integrator>> integrators;
  Sum totals;
  for (int i = 0; i < Sum::inputs; ++i) {
    integrators.push_back(std::make_unique<Integrator>(i, steps));
    integrators.back()->set_frequency.connect(source.frequency);
    totals.terms[static_cast<std::size_t>(i)]->connect(integrators.back()->integral);
  }

  std::printf("A network of %d CPU-heavy integrators feeding one sum.\n\n", Sum::inputs);
  std::printf("%-30s %10s %14s\n", "executor", "seconds", "total");
  double results[2] = {};
  double seconds[2] = {};
  const char* names[2] = {"SequentialExecutor", "ThreadingExecutor (automatic)"};
  std::shared_ptr<connectors::Executor> executors[2] = {connectors::executor(0, 0), connectors::executor()};
  for (int e = 0; e < 2; ++e) {
    totals.total.set_executor(executors[e]);
    source.set_frequency(2.0 + e);  // invalidates every integrator and the sum
    source.set_frequency(2.0);
    const auto start = std::chrono::steady_clock::now();
    results[e] = totals.total();
    seconds[e] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-30s %10.3f %14.6f\n", names[e], seconds[e], results[e]);
  }
  std::printf("\nspeed-up of threads over sequential: %.2fx on %u hardware threads\n", seconds[0] / seconds[1],
              std::thread::hardware_concurrency());

  ran.clear();
  integrators[3]->set_phase(0.5);
  const double changed = totals.total();
  std::printf("\nAfter changing integrator 3's phase, these ran:");
  for (const std::string& what : ran) std::printf(" [%s]", what.c_str());
  std::printf("\ntotal = %.6f\n", changed);

  ran.clear();
  const double cached = totals.total();
  std::printf("Asking again runs %zu methods (cached): total = %.6f\n", ran.size(), cached);

  const bool consistent = std::abs(results[0] - results[1]) < 1e-9 && ran.empty() && cached == changed;
  return consistent ? 0 : 1;
}
