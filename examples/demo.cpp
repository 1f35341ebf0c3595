// The demo: a small processing network computed under each executor.
//
//   Source --(frequency)--> Integrator x8 --> Sum
//
// Each integrator's getter is deliberately CPU-heavy and flagged THREAD (the
// default for outputs). The same network is computed with a sequential and a
// threading executor, side by side; then one integrator's parameter changes
// and only the blocks that depend on it run again. Started by mpirun
// (`mpirun -n 3 ./demo`, docs/distributed.md), it also computes the network
// with the integrators on the other MPI ranks.
#include <connectors/connectors.hpp>
#ifdef CONNECTORS_DEMO_MPI
#include <connectors/mpi.hpp>
#endif

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
  // What another process needs to run integrate() on a copy (PROCESS).
  Integrator() = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(index_, steps_, frequency_, phase_);
  }

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

  int index_ = 0;
  int steps_ = 0;
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
#ifdef CONNECTORS_DEMO_MPI
  // Under mpirun, ranks 1..N-1 stay in here and serve the integrators.
  connectors::init(argc, argv);
  const bool on_ranks = connectors::mpi_world_size() > 1;
#else
  const bool on_ranks = false;
#endif
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
  double results[3] = {};
  double seconds[3] = {};
  std::string names[3] = {"SequentialExecutor", "ThreadingExecutor (automatic)", ""};
  std::shared_ptr<connectors::Executor> executors[3] = {connectors::executor(0, 0), connectors::executor(), nullptr};
  int runs = 2;
#ifdef CONNECTORS_DEMO_MPI
  if (on_ranks) {
    executors[2] = std::make_shared<connectors::MpiExecutor>();
    names[2] = "MpiExecutor (" + std::to_string(connectors::mpi_world_size() - 1) + " ranks)";
    runs = 3;
  }
#endif
  for (int e = 0; e < runs; ++e) {
    // On the ranks the integrators run as PROCESS methods, each on a copy.
    for (auto& integrator : integrators) {
      integrator->integral.set_parallelization(e == 2 ? connectors::Parallelization::PROCESS
                                                      : connectors::Parallelization::THREAD);
    }
    totals.total.set_executor(executors[e]);
    source.set_frequency(2.0 + e);  // invalidates every integrator and the sum
    source.set_frequency(2.0);
    const auto start = std::chrono::steady_clock::now();
    results[e] = totals.total();
    seconds[e] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%-30s %10.3f %14.6f\n", names[e].c_str(), seconds[e], results[e]);
  }
  std::printf("\nspeed-up of threads over sequential: %.2fx on %u hardware threads\n", seconds[0] / seconds[1],
              std::thread::hardware_concurrency());
  if (runs == 3) std::printf("speed-up of the MPI ranks over sequential: %.2fx\n", seconds[0] / seconds[2]);
  if (!on_ranks) std::printf("(started by mpirun -n N, the demo also runs the integrators on N-1 MPI ranks)\n");
  totals.total.set_executor(executors[1]);

  ran.clear();
  integrators[3]->set_phase(0.5);
  const double changed = totals.total();
  std::printf("\nAfter changing integrator 3's phase, these ran:");
  for (const std::string& what : ran) std::printf(" [%s]", what.c_str());
  std::printf("\ntotal = %.6f\n", changed);

  ran.clear();
  const double cached = totals.total();
  std::printf("Asking again runs %zu methods (cached): total = %.6f\n", ran.size(), cached);

  const bool consistent = std::abs(results[0] - results[1]) < 1e-9 &&
                          (runs < 3 || std::abs(results[0] - results[2]) < 1e-9) && ran.empty() && cached == changed;
  return consistent ? 0 : 1;
}
