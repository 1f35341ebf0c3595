// Networks, side by side with the same network built from oneTBB flow-graph
// function_nodes: set at the head + get at the tail of a chain (per block),
// a cache hit, a 16-branch CPU fan-out, and memory per block.
#include <connectors/connectors.hpp>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace {

class Block {
 public:
  connectors::Output<long> output{this, &Block::read};
  connectors::Input<long> input{this, &Block::write, output};

 private:
  long read() const { return value_ + 1; }
  void write(long value) { value_ = value; }
  long value_ = 0;
};

std::shared_ptr<connectors::Executor> executor_for(bool threads) {
  return threads ? connectors::executor(2, 0) : connectors::executor(0, 0);
}

void chain_set_get(benchmark::State& state, bool threads) {
  const auto length = static_cast<std::size_t>(state.range(0));
  auto executor = executor_for(threads);
  connectors::set_default_executor(executor);
  std::vector<Block> chain(length);
  for (std::size_t i = 1; i < length; ++i) chain[i].input.connect(chain[i - 1].output);
  long value = 0;
  for (auto _ : state) {
    chain.front().input(++value);
    benchmark::DoNotOptimize(chain.back().output());
  }
  state.counters["per_block"] = benchmark::Counter(
      static_cast<double>(length), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  connectors::set_default_executor(nullptr);
}

void BM_Chain_Sequential(benchmark::State& state) { chain_set_get(state, false); }
void BM_Chain_Threads(benchmark::State& state) { chain_set_get(state, true); }

// The same with a connectors::Trace recording every method and operation
// (docs/observability.md); few iterations, since a trace keeps everything.
void BM_Chain_Sequential_Traced(benchmark::State& state) {
  connectors::Trace trace;
  chain_set_get(state, false);
}
void BM_Chain_Threads_Traced(benchmark::State& state) {
  connectors::Trace trace;
  chain_set_get(state, true);
}

void BM_Chain_TBB(benchmark::State& state) {
  const auto length = static_cast<std::size_t>(state.range(0));
  tbb::global_control parallelism{tbb::global_control::max_allowed_parallelism,
                                  static_cast<std::size_t>(state.range(1))};
  tbb::flow::graph graph;
  std::vector<std::unique_ptr<tbb::flow::function_node<long, long>>> nodes;
  long tail = 0;
  for (std::size_t i = 0; i < length; ++i) {
    nodes.push_back(
        std::make_unique<tbb::flow::function_node<long, long>>(graph, tbb::flow::serial, [](long v) { return v + 1; }));
    if (i > 0) tbb::flow::make_edge(*nodes[i - 1], *nodes[i]);
  }
  tbb::flow::function_node<long, long> sink(graph, tbb::flow::serial, [&](long v) { return tail = v; });
  tbb::flow::make_edge(*nodes.back(), sink);
  long value = 0;
  for (auto _ : state) {
    nodes.front()->try_put(++value);
    graph.wait_for_all();
    benchmark::DoNotOptimize(tail);
  }
  state.counters["per_block"] = benchmark::Counter(
      static_cast<double>(length), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void chain_sizes(benchmark::internal::Benchmark* bench) {
  for (long n : {1L, 10L, 100L, 1000L, 100000L}) bench->Arg(n);
}
void chain_sizes_tbb(benchmark::internal::Benchmark* bench) {
  for (long threads : {1L, 2L}) {
    for (long n : {1L, 10L, 100L, 1000L, 100000L}) bench->Args({n, threads});
  }
}
BENCHMARK(BM_Chain_Sequential)->Apply(chain_sizes)->UseRealTime();
BENCHMARK(BM_Chain_Threads)->Apply(chain_sizes)->UseRealTime();
BENCHMARK(BM_Chain_TBB)->Apply(chain_sizes_tbb)->UseRealTime();
BENCHMARK(BM_Chain_Sequential_Traced)->Arg(1000)->Iterations(200)->UseRealTime();
BENCHMARK(BM_Chain_Threads_Traced)->Arg(1000)->Iterations(200)->UseRealTime();

void BM_CacheHit(benchmark::State& state) {
  Block block;
  block.input(1);
  benchmark::DoNotOptimize(block.output());
  for (auto _ : state) benchmark::DoNotOptimize(block.output());
}
BENCHMARK(BM_CacheHit);

// ---- 16 × 20 ms CPU fan-out ---------------------------------------------------

double burn(double seed) {
  // About 20 ms of floating point work on this machine.
  double x = seed;
  for (int i = 0; i < 1'530'000; ++i) x = std::sin(x) + 1.0;
  return x;
}

class Worker {
 public:
  connectors::Output<double> output{this, &Worker::compute};
  connectors::Input<double> input{this, &Worker::write, output};

 private:
  double compute() const { return burn(seed_); }
  void write(double seed) { seed_ = seed; }
  double seed_ = 0.5;
};

class Collector {
 public:
  connectors::Output<double> total{this, &Collector::sum};
  connectors::Input<double> add0{this, &Collector::put<0>, total}, add1{this, &Collector::put<1>, total},
      add2{this, &Collector::put<2>, total}, add3{this, &Collector::put<3>, total},
      add4{this, &Collector::put<4>, total}, add5{this, &Collector::put<5>, total},
      add6{this, &Collector::put<6>, total}, add7{this, &Collector::put<7>, total},
      add8{this, &Collector::put<8>, total}, add9{this, &Collector::put<9>, total},
      add10{this, &Collector::put<10>, total}, add11{this, &Collector::put<11>, total},
      add12{this, &Collector::put<12>, total}, add13{this, &Collector::put<13>, total},
      add14{this, &Collector::put<14>, total}, add15{this, &Collector::put<15>, total};
  connectors::Input<double>* inputs[16] = {&add0, &add1, &add2,  &add3,  &add4,  &add5,  &add6,  &add7,
                                           &add8, &add9, &add10, &add11, &add12, &add13, &add14, &add15};

 private:
  template <int I>
  void put(double value) {
    values_[I] = value;
  }
  double sum() const {
    double total = 0.0;
    for (double v : values_) total += v;
    return total;
  }
  double values_[16] = {};
};

void fan_out(benchmark::State& state, bool threads) {
  Worker source;  // its output feeds the seed of every branch
  std::vector<std::unique_ptr<Worker>> branches;
  Collector collector;
  collector.total.set_executor(executor_for(threads));
  source.output.set_parallelization(connectors::Parallelization::SEQUENTIAL);
  for (int i = 0; i < 16; ++i) {
    branches.push_back(std::make_unique<Worker>());
    collector.inputs[i]->connect(branches.back()->output);
  }
  double seed = 0.1;
  for (auto _ : state) {
    for (auto& branch : branches) branch->input(seed += 0.001);
    benchmark::DoNotOptimize(collector.total());
  }
}
void BM_FanOut16x20ms_Sequential(benchmark::State& state) { fan_out(state, false); }
void BM_FanOut16x20ms_Threads(benchmark::State& state) { fan_out(state, true); }
BENCHMARK(BM_FanOut16x20ms_Sequential)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_FanOut16x20ms_Threads)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(5);

// ---- memory per block ----------------------------------------------------------
// Heap bytes in use (glibc mallinfo2) per block of a 10^4 chain: once built
// and connected, and after a set and a get (which leaves the caches filled).

std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

void BM_MemoryPerBlock_Chain10k(benchmark::State& state) {
  constexpr std::size_t length = 10'000;
  connectors::set_default_executor(connectors::executor(0, 0));
  double built = 0.0;
  double used = 0.0;
  for (auto _ : state) {
    const std::size_t before = heap_in_use();
    auto chain = std::make_unique<std::vector<Block>>(length);
    for (std::size_t i = 1; i < length; ++i) (*chain)[i].input.connect((*chain)[i - 1].output);
    built = static_cast<double>(heap_in_use() - before) / length;
    chain->front().input(1);
    benchmark::DoNotOptimize(chain->back().output());
    used = static_cast<double>(heap_in_use() - before) / length;
  }
  state.counters["bytes_per_block_built"] = built;
  state.counters["bytes_per_block_after_get"] = used;
  connectors::set_default_executor(nullptr);
}
BENCHMARK(BM_MemoryPerBlock_Chain10k)->Iterations(1);

void BM_MemoryPerBlock_TBB10k(benchmark::State& state) {
  constexpr std::size_t length = 10'000;
  double built = 0.0;
  double used = 0.0;
  for (auto _ : state) {
    const std::size_t before = heap_in_use();
    auto graph = std::make_unique<tbb::flow::graph>();
    std::vector<std::unique_ptr<tbb::flow::function_node<long, long>>> nodes;
    nodes.reserve(length);
    for (std::size_t i = 0; i < length; ++i) {
      nodes.push_back(std::make_unique<tbb::flow::function_node<long, long>>(*graph, tbb::flow::serial,
                                                                             [](long v) { return v + 1; }));
      if (i > 0) tbb::flow::make_edge(*nodes[i - 1], *nodes[i]);
    }
    built = static_cast<double>(heap_in_use() - before) / length;
    nodes.front()->try_put(1);
    graph->wait_for_all();
    used = static_cast<double>(heap_in_use() - before) / length;
  }
  state.counters["bytes_per_block_built"] = built;
  state.counters["bytes_per_block_after_get"] = used;
}
BENCHMARK(BM_MemoryPerBlock_TBB10k)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
