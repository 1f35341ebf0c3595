// Process execution costs (see docs/benchmarks.md, "Process execution"):
//   - round trip of a trivial PROCESS getter (one call per loop iteration)
//   - 1, 16 and 64 MiB results (throughput end to end), as std::vector<char>
//     and as std::vector<double>
//   - a 1 GiB result, against the same method called directly, with the
//     caller's peak memory growth per byte of result
//   - 16 branches of ~20 ms CPU work: sequential vs 2 worker processes
#include <connectors/connectors.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <fstream>
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

template <class Result>
void process_result(benchmark::State& state, Result (Block::*method)(std::size_t) const) {
  connectors::MultiprocessingExecutor executor{1};
  Block block;
  const auto size = static_cast<std::size_t>(state.range(0));
  auto body = [&]() -> Task<void> {
    for (auto _ : state) {
      benchmark::DoNotOptimize(co_await executor.run_method(Parallelization::PROCESS, method, block, size));
    }
  };
  executor.run_coroutine(body());
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
  auto body = [&]() -> Task<void> {
    for (auto _ : state) {
      benchmark::DoNotOptimize(co_await executor.run_method(Parallelization::PROCESS, &Block::bytes, block, size));
    }
  };
  executor.run_coroutine(body());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.counters["peak_growth"] = static_cast<double>(memory_field("VmHWM:") - before) / static_cast<double>(size);
}
BENCHMARK(BM_ProcessResult1GiB)->Unit(benchmark::kMillisecond)->Iterations(3)->Repetitions(3)->UseRealTime();

// The same method called directly: what building the result costs alone.
void BM_DirectResult1GiB(benchmark::State& state) {
  Block block;
  const std::size_t size = std::size_t{1} << 30;
  for (auto _ : state) benchmark::DoNotOptimize(block.bytes(size));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(BM_DirectResult1GiB)->Unit(benchmark::kMillisecond)->Iterations(3)->Repetitions(3)->UseRealTime();

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
