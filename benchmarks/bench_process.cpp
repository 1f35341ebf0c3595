// Process execution costs (see docs/benchmarks.md, "Process execution"):
//   - round trip of a trivial PROCESS getter (one call per loop iteration)
//   - 1, 16 and 64 MiB results (throughput end to end), as std::vector<char>
//     and as std::vector<double>
//   - a 1 GiB result, against the same method called directly, with the
//     caller's peak memory growth per byte of result
//   - 16 branches of ~20 ms CPU work: sequential vs 2 worker processes
#include <connectors/connectors.hpp>

#include <benchmark/benchmark.h>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using connectors::Parallelization;
using connectors::Task;

struct Block {
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
  int value = 1;

  int get() const { return value; }
  std::vector<char> bytes(std::size_t size) const { return std::vector<char>(size, static_cast<char>(value)); }
  std::vector<double> doubles(std::size_t size) const {
    return std::vector<double>(size / sizeof(double), static_cast<double>(value));
  }
  // About 20 ms of arithmetic on this machine (calibrated below).
  double work(long iterations) const {
    double x = value;
    for (long i = 0; i < iterations; ++i) x = x * 1.0000001 + 1e-9;
    return x;
  }
};

void BM_ProcessRoundTrip(benchmark::State& state) {
  connectors::MultiprocessingExecutor executor{1};
  Block block;
  auto body = [&]() -> Task<void> {
    for (auto _ : state)
      benchmark::DoNotOptimize(co_await executor.run_method(Parallelization::PROCESS, &Block::get, block));
  };
  executor.run_coroutine(body());
}
BENCHMARK(BM_ProcessRoundTrip)->Repetitions(5)->ReportAggregatesOnly(true)->UseRealTime();

// A whole top-level run per call, as a connector's direct call would do.
void BM_ProcessRoundTripOwnRun(benchmark::State& state) {
  connectors::MultiprocessingExecutor executor{1};
  Block block;
  for (auto _ : state) {
    auto call = [&]() -> Task<int> {
      co_return co_await executor.run_method(Parallelization::PROCESS, &Block::get, block);
    };
    benchmark::DoNotOptimize(executor.run_coroutine(call()));
  }
}
BENCHMARK(BM_ProcessRoundTripOwnRun)->Repetitions(5)->ReportAggregatesOnly(true)->UseRealTime();

// CPU seconds used so far by process `pid` (all its threads), and by this
// process: on a loaded machine real time mostly measures waiting for a core,
// CPU time what a call costs.
double cpu_seconds(int pid) {
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  std::getline(stat, line);
  std::istringstream fields{line.substr(line.rfind(')') + 2)};
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}
double own_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

// Runs `calls` (one warm-up call first, which starts the worker) and reports
// per iteration the CPU time of the caller (all its threads) and of the
// worker, in milliseconds.
template <class Call>
void measure_calls(benchmark::State& state, connectors::MultiprocessingExecutor& executor, Call call) {
  executor.run_coroutine(call());
  const int worker = executor.worker_process_ids().front();
  const double worker_before = cpu_seconds(worker);
  const double caller_before = own_cpu_seconds();
  for (auto _ : state) executor.run_coroutine(call());
  const auto iterations = static_cast<double>(state.iterations());
  state.counters["caller_cpu_ms"] = (own_cpu_seconds() - caller_before) * 1e3 / iterations;
  state.counters["worker_cpu_ms"] = (cpu_seconds(worker) - worker_before) * 1e3 / iterations;
}

template <class Result>
void process_result(benchmark::State& state, Result (Block::*method)(std::size_t) const) {
  connectors::MultiprocessingExecutor executor{1};
  Block block;
  const auto size = static_cast<std::size_t>(state.range(0));
  measure_calls(state, executor, [&]() -> Task<void> {
    benchmark::DoNotOptimize(co_await executor.run_method(Parallelization::PROCESS, method, block, size));
  });
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_ProcessResult(benchmark::State& state) { process_result(state, &Block::bytes); }
BENCHMARK(BM_ProcessResult)
    ->Arg(1 << 20)
    ->Arg(16 << 20)
    ->Arg(64 << 20)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->UseRealTime();

// What a numerical user returns.
void BM_ProcessResultDoubles(benchmark::State& state) { process_result(state, &Block::doubles); }
BENCHMARK(BM_ProcessResultDoubles)->Arg(64 << 20)->Repetitions(5)->ReportAggregatesOnly(true)->UseRealTime();

// This process's resident memory now and at its peak since the last reset.
std::int64_t memory_field(const char* name) {
  std::ifstream status{"/proc/self/status"};
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(name, 0) == 0) return std::stoll(line.substr(std::string{name}.size())) * 1024;
  }
  return 0;
}

// A 1 GiB result: transfer speed and how much the caller's peak memory grows
// per byte of result ("peak_growth", 1.0 = the result alone).
void BM_ProcessResult1GiB(benchmark::State& state) {
  connectors::MultiprocessingExecutor executor{1};
  Block block;
  const std::size_t size = std::size_t{1} << 30;
  std::ofstream{"/proc/self/clear_refs"} << "5";
  const std::int64_t before = memory_field("VmRSS:");
  measure_calls(state, executor, [&]() -> Task<void> {
    benchmark::DoNotOptimize(co_await executor.run_method(Parallelization::PROCESS, &Block::bytes, block, size));
  });
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.counters["peak_growth"] = static_cast<double>(memory_field("VmHWM:") - before) / static_cast<double>(size);
}
BENCHMARK(BM_ProcessResult1GiB)->Unit(benchmark::kMillisecond)->Iterations(2)->Repetitions(3)->UseRealTime();

// The same method called directly: what building the result costs alone.
void BM_DirectResult1GiB(benchmark::State& state) {
  Block block;
  const std::size_t size = std::size_t{1} << 30;
  const double caller_before = own_cpu_seconds();
  for (auto _ : state) benchmark::DoNotOptimize(block.bytes(size));
  state.counters["caller_cpu_ms"] = (own_cpu_seconds() - caller_before) * 1e3 / static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(BM_DirectResult1GiB)->Unit(benchmark::kMillisecond)->Iterations(2)->Repetitions(3)->UseRealTime();

long iterations_for_20ms() {
  static const long iterations = [] {
    Block block;
    const long probe = 2'000'000;
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(block.work(probe));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return static_cast<long>(probe * 0.020 / seconds);
  }();
  return iterations;
}

void fan_out(benchmark::State& state, connectors::Executor& executor) {
  Block block;
  const long iterations = iterations_for_20ms();
  for (auto _ : state) {
    auto body = [&]() -> Task<void> {
      std::vector<Task<double>> branches;
      for (int i = 0; i < 16; ++i) {
        branches.push_back(executor.run_method(Parallelization::PROCESS, &Block::work, block, iterations));
      }
      benchmark::DoNotOptimize(co_await connectors::gather(std::move(branches)));
    };
    executor.run_coroutine(body());
  }
}

void BM_FanOut16x20ms_Sequential(benchmark::State& state) {
  connectors::SequentialExecutor executor;
  fan_out(state, executor);
}
BENCHMARK(BM_FanOut16x20ms_Sequential)->Unit(benchmark::kMillisecond)->Iterations(5)->Repetitions(3)->UseRealTime();

void BM_FanOut16x20ms_TwoProcesses(benchmark::State& state) {
  connectors::MultiprocessingExecutor executor{2};
  fan_out(state, executor);
}
BENCHMARK(BM_FanOut16x20ms_TwoProcesses)->Unit(benchmark::kMillisecond)->Iterations(5)->Repetitions(3)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  connectors::init(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
