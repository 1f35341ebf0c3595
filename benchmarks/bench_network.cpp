// Networks, side by side with the same network built from oneTBB flow-graph
// function_nodes: set at the head + get at the tail of a chain (per block),
// a cache hit, a 16-branch CPU fan-out, and memory per block.
#include <connectors/connectors.hpp>

#include <benchmark/benchmark.h>
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>

#include <malloc.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
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

// K user threads, each setting and getting its own 100-block chain with its
// own SequentialExecutor: networks with no path between them must not wait
// for each other (items_per_second is the throughput of all threads).
void BM_IndependentNetworks(benchmark::State& state) {
  constexpr std::size_t length = 100;
  auto executor = std::make_shared<connectors::SequentialExecutor>();
  std::vector<Block> chain(length);
  chain.back().output.set_executor(executor);
  chain.front().input.set_executor(executor);
  for (std::size_t i = 1; i < length; ++i) chain[i].input.connect(chain[i - 1].output);
  long value = 0;
  for (auto _ : state) {
    chain.front().input(++value);
    benchmark::DoNotOptimize(chain.back().output());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndependentNetworks)->ThreadRange(1, 32)->Threads(2)->UseRealTime();

// The same with plain CPU work of about the same cost: what the machine
// itself gives K threads.
void BM_IndependentNetworks_PlainWork(benchmark::State& state) {
  std::vector<long> values(100);
  long value = 0;
  for (auto _ : state) {
    values.front() = ++value;
    for (std::size_t i = 1; i < values.size(); ++i) {
      values[i] = values[i - 1] + 1;
      benchmark::ClobberMemory();
    }
    benchmark::DoNotOptimize(values.back());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndependentNetworks_PlainWork)->ThreadRange(1, 32)->Threads(2)->UseRealTime();

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

// ---- wide networks -------------------------------------------------------------
// One multi-input with n sources, and one output with n observers: every step
// must cost about linear time in n (seconds per step as counters; compare the
// counters of n = 10^4 and 10^5: a ratio of about 10 is linear).

class Total {
 public:
  connectors::Output<long> sum{this, &Total::add_up};
  connectors::MultiInput<long> in{this, &Total::add, &Total::remove, sum};

 private:
  long add_up() const {
    long total = 0;
    for (const auto& [id, value] : values_) total += value;
    return total;
  }
  std::size_t add(long value) {
    values_.emplace(next_id_, value);
    return next_id_++;
  }
  void remove(std::size_t id) { values_.erase(id); }
  std::unordered_map<std::size_t, long> values_;
  std::size_t next_id_ = 0;
};

template <class Step>
double seconds_of(Step step) {
  const auto start = std::chrono::steady_clock::now();
  step();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double thread_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Times one step as two counters: `<name>_s` (wall) and `<name>_cpu_s` (this
// thread's CPU time, which a busy machine's waiting for a core does not
// inflate; every step here runs on the calling thread).
template <class Step>
void time_step(benchmark::State& state, const std::string& name, Step step) {
  const double cpu_start = thread_cpu_seconds();
  state.counters[name + "_s"] = seconds_of(step);
  state.counters[name + "_cpu_s"] = thread_cpu_seconds() - cpu_start;
}

// The same with user methods that cost next to nothing (a vector indexed by
// the data id, and `replace`): what is left is the library's own cost.
class LightTotal {
 public:
  connectors::Output<long> sum{this, &LightTotal::add_up};
  connectors::MultiInput<long> in{this, &LightTotal::add, &LightTotal::remove, sum};

  LightTotal() { in.set_replace(&LightTotal::replace); }

 private:
  long add_up() const {
    long total = 0;
    for (long value : values_) total += value;
    return total;
  }
  std::size_t add(long value) {
    values_.push_back(value);
    return values_.size() - 1;
  }
  void remove(std::size_t id) { values_[id] = 0; }
  // Whole multi-outputs store under their keys, never added first.
  void replace(std::size_t id, long value) {
    if (id >= values_.size()) values_.resize(id + 1);
    values_[id] = value;
  }
  std::vector<long> values_;
};

// n blocks in storage of their own, so that destroying them (the library's
// work: each disconnects) and giving their storage back (the allocator's and
// the kernel's: 10^5 blocks are 37 MB, unmapped page by page when freed,
// 10^4 are not) are timed apart.
class BlockArray {
 public:
  explicit BlockArray(std::size_t size) : blocks_(std::allocator<Block>{}.allocate(size)), size_(size) {
    try {
      std::uninitialized_default_construct_n(blocks_, size);
    } catch (...) {
      std::allocator<Block>{}.deallocate(blocks_, size_);
      throw;
    }
  }
  BlockArray(const BlockArray&) = delete;
  BlockArray& operator=(const BlockArray&) = delete;
  ~BlockArray() {
    destroy_blocks();
    release_storage();
  }
  Block* begin() const noexcept { return constructed_ ? blocks_ : nullptr; }
  Block* end() const noexcept { return constructed_ ? blocks_ + size_ : nullptr; }
  Block& back() const noexcept { return blocks_[size_ - 1]; }
  void destroy_blocks() noexcept {
    if (constructed_) std::destroy_n(blocks_, size_);
    constructed_ = false;
  }
  void release_storage() noexcept {
    if (blocks_ != nullptr) std::allocator<Block>{}.deallocate(blocks_, size_);
    blocks_ = nullptr;
  }

 private:
  Block* blocks_;
  std::size_t size_;
  bool constructed_ = true;
};

// One iteration each, medians of three repetitions, in ms: steps that take
// long enough alone, and whose repetitions move with this VM's memory.
void three_repetitions_in_ms(benchmark::internal::Benchmark* benchmark) {
  benchmark->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);
}

template <class Sum>
void wide_multi_input(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  connectors::set_default_executor(connectors::executor(0, 0));
  for (auto _ : state) {
    BlockArray sources{n};
    Sum total;
    time_step(state, "connect", [&] {
      for (Block& source : sources) total.in.connect(source.output);
    });
    time_step(state, "first_get", [&] { benchmark::DoNotOptimize(total.sum()); });
    long value = 0;
    time_step(state, "set_all", [&] {
      for (Block& source : sources) source.input(++value);
    });
    time_step(state, "get", [&] { benchmark::DoNotOptimize(total.sum()); });
    time_step(state, "destroy_sources", [&] { sources.destroy_blocks(); });
    time_step(state, "free_sources_storage", [&] { sources.release_storage(); });
  }
  connectors::set_default_executor(nullptr);
}
void BM_WideMultiInput(benchmark::State& state) { wide_multi_input<Total>(state); }
void BM_WideMultiInputLightMethods(benchmark::State& state) { wide_multi_input<LightTotal>(state); }
// n = 10^4, 10^5 and 10^6, five repetitions of one iteration each: the
// medians are the figures (one iteration alone moves by 2-5x on a shared VM).
void wide_sizes(benchmark::internal::Benchmark* benchmark) {
  benchmark->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Iterations(1)->Repetitions(5)->ReportAggregatesOnly(true);
  benchmark->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_WideMultiInput)->Apply(wide_sizes);
BENCHMARK(BM_WideMultiInputLightMethods)->Apply(wide_sizes);

// The same multi-input's sources connected and disconnected through a macro
// input that exports it (docs/macros.md): each macro connect asks whether the
// multi-input has the source already.
void BM_WideMultiInputThroughMacro(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  connectors::set_default_executor(connectors::executor(0, 0));
  for (auto _ : state) {
    BlockArray sources{n};
    LightTotal total;
    connectors::MacroInput<long> exported{total.in};
    time_step(state, "connect", [&] {
      for (Block& source : sources) exported.connect(source.output);
    });
    time_step(state, "first_get", [&] { benchmark::DoNotOptimize(total.sum()); });
    time_step(state, "disconnect", [&] {
      for (Block& source : sources) exported.disconnect(source.output);
    });
  }
  connectors::set_default_executor(nullptr);
}
BENCHMARK(BM_WideMultiInputThroughMacro)->Arg(10'000)->Arg(40'000)->Arg(100'000)->Apply(three_repetitions_in_ms);

void BM_WideOutput(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  connectors::set_default_executor(connectors::executor(0, 0));
  for (auto _ : state) {
    Block source;
    BlockArray observers{n};
    time_step(state, "connect", [&] {
      for (Block& observer : observers) observer.input.connect(source.output);
    });
    source.input(1);
    time_step(state, "get", [&] { benchmark::DoNotOptimize(observers.back().output()); });
    time_step(state, "destroy_observers", [&] { observers.destroy_blocks(); });
    time_step(state, "free_observers_storage", [&] { observers.release_storage(); });
  }
  connectors::set_default_executor(nullptr);
}
BENCHMARK(BM_WideOutput)->Apply(wide_sizes);

// n whole multi-outputs of one key each into one multi-input: a get applies
// n key -> value maps, each found and taken in constant time
// (docs/multi-inputs.md, Wide networks).
class OneKeySource {
 public:
  explicit OneKeySource(std::size_t key) : key_(key) { values.set_keys(&OneKeySource::keys); }
  connectors::MultiOutput<long(std::size_t)> values{this, &OneKeySource::value_of};
  connectors::Input<long> input{this, &OneKeySource::write, values};

 private:
  long value_of(std::size_t) const { return value_; }
  std::vector<std::size_t> keys() const { return {key_}; }
  void write(long value) { value_ = value; }
  std::size_t key_;
  long value_ = 0;
};

void BM_ManyWholeMultiOutputs(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  connectors::set_default_executor(connectors::executor(0, 0));
  for (auto _ : state) {
    LightTotal total;
    std::vector<std::unique_ptr<OneKeySource>> sources;
    sources.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      sources.push_back(std::make_unique<OneKeySource>(i));
      total.in.connect(sources.back()->values);
    }
    time_step(state, "first_get", [&] { benchmark::DoNotOptimize(total.sum()); });
    for (auto& source : sources) source->input(1);
    time_step(state, "get", [&] { benchmark::DoNotOptimize(total.sum()); });
    time_step(state, "destroy_sources", [&] { sources.clear(); });
  }
  connectors::set_default_executor(nullptr);
}
BENCHMARK(BM_ManyWholeMultiOutputs)->Arg(5'000)->Arg(40'000)->Apply(three_repetitions_in_ms);

// One whole multi-output of n keys into one multi-input: a get stores n
// values, a get after every value changed replaces them, a get after half of
// the keys vanished removes those (docs/multi-inputs.md, Wide networks).
class ManyKeySource {
 public:
  explicit ManyKeySource(std::size_t count) : count_(count) { values.set_keys(&ManyKeySource::keys); }
  connectors::MultiOutput<long(std::size_t)> values{this, &ManyKeySource::value_of};
  connectors::Input<long> input{this, &ManyKeySource::write, values};
  connectors::Input<std::size_t> count{this, &ManyKeySource::set_count, values};

 private:
  long value_of(std::size_t key) const { return value_ + static_cast<long>(key); }
  std::vector<std::size_t> keys() const {
    std::vector<std::size_t> keys(count_);
    for (std::size_t key = 0; key < count_; ++key) keys[key] = key;
    return keys;
  }
  void write(long value) { value_ = value; }
  void set_count(std::size_t count) { count_ = count; }
  std::size_t count_;
  long value_ = 0;
};

void BM_OneWholeMultiOutputManyKeys(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  connectors::set_default_executor(connectors::executor(0, 0));
  for (auto _ : state) {
    LightTotal total;
    ManyKeySource source{n};
    total.in.connect(source.values);
    time_step(state, "first_get", [&] { benchmark::DoNotOptimize(total.sum()); });
    source.input(1);
    time_step(state, "get_all_replaced", [&] { benchmark::DoNotOptimize(total.sum()); });
    source.count(n / 2);
    time_step(state, "get_half_vanished", [&] { benchmark::DoNotOptimize(total.sum()); });
    time_step(state, "disconnect", [&] { total.in.disconnect(source.values); });
  }
  connectors::set_default_executor(nullptr);
}
BENCHMARK(BM_OneWholeMultiOutputManyKeys)->Arg(2'000)->Arg(16'000)->Arg(128'000)->Apply(three_repetitions_in_ms);

// One output feeding n ON_NOTIFY multi-inputs: a get of another block pulls
// the output, whose push reaches all of them; each is served once after the
// request (docs/design.md#deferred-notify).
void BM_WideOutputOnNotifyMultiInputs(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  connectors::set_default_executor(connectors::executor(0, 0));
  for (auto _ : state) {
    Block source;
    Block puller;
    std::vector<std::unique_ptr<LightTotal>> collectors;
    collectors.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      collectors.push_back(std::make_unique<LightTotal>());
      collectors.back()->in.set_laziness(connectors::Laziness::ON_NOTIFY);
      collectors.back()->in.connect(source.output);
    }
    puller.input.connect(source.output);
    source.input(1);
    time_step(state, "get", [&] { benchmark::DoNotOptimize(puller.output()); });
  }
  connectors::set_default_executor(nullptr);
}
BENCHMARK(BM_WideOutputOnNotifyMultiInputs)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Iterations(1)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);

// ---- mixed: a chain of 100 light blocks feeding 16 branches of 20 ms ------------
// The light part should cost no more per block than the threaded chain; the
// branches should overlap (2 threads: about 2x over sequential).

void mixed(benchmark::State& state, bool threads) {
  connectors::set_default_executor(executor_for(threads));
  {
    std::vector<Block> chain(100);
    for (std::size_t i = 1; i < chain.size(); ++i) chain[i].input.connect(chain[i - 1].output);
    std::vector<std::unique_ptr<Worker>> branches;
    Collector collector;
    for (int i = 0; i < 16; ++i) {
      branches.push_back(std::make_unique<Worker>());
      branches.back()->input.connect(chain.back().output);
      collector.inputs[i]->connect(branches.back()->output);
    }
    long value = 0;
    for (auto _ : state) {
      chain.front().input(++value);
      benchmark::DoNotOptimize(collector.total());
    }
  }
  connectors::set_default_executor(nullptr);
}
void BM_Mixed100Light16x20ms_Sequential(benchmark::State& state) { mixed(state, false); }
void BM_Mixed100Light16x20ms_Threads(benchmark::State& state) { mixed(state, true); }
BENCHMARK(BM_Mixed100Light16x20ms_Sequential)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_Mixed100Light16x20ms_Threads)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(5);

// The light part alone: a chain of light blocks feeding 16 branches that do
// no work, into one multi-input, whose retrieval forks into 16 concurrent
// requests on threads (the chain is pulled by one of them). Two such
// networks, with chains of 100 and 100 + n blocks, are set and read in turn;
// `per_light_block` is the difference of their times per block of the
// difference, which leaves out what the branches and the collector cost.
// `per_block_whole` is the longer network's time per block of its chain,
// branches included.
class LightNetwork {
 public:
  explicit LightNetwork(std::size_t length) : chain_(length) {
    for (std::size_t i = 1; i < chain_.size(); ++i) chain_[i].input.connect(chain_[i - 1].output);
    for (int i = 0; i < 16; ++i) {
      branches_.push_back(std::make_unique<Block>());
      branches_.back()->input.connect(chain_.back().output);
      // Inline: the operation still forks into 16 concurrent requests, but
      // no pool hand-off's wake-ups blur the chain's cost.
      branches_.back()->output.set_parallelization(connectors::Parallelization::SEQUENTIAL);
      collector_.in.connect(branches_.back()->output);
    }
  }
  // Sets the head and reads the collector; returns the seconds it took and
  // this thread's CPU seconds.
  std::pair<double, double> run(long value) {
    const double cpu_start = thread_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    chain_.front().input(value);
    benchmark::DoNotOptimize(collector_.sum());
    return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            thread_cpu_seconds() - cpu_start};
  }

 private:
  std::vector<Block> chain_;
  std::vector<std::unique_ptr<Block>> branches_;
  LightTotal collector_;
};

void mixed_light(benchmark::State& state, bool threads) {
  connectors::set_default_executor(executor_for(threads));
  {
    constexpr std::size_t shorter = 100;
    const auto extra = static_cast<std::size_t>(state.range(0));
    LightNetwork short_network{shorter};
    LightNetwork long_network{shorter + extra};
    double short_seconds = 0, short_cpu = 0;
    double long_seconds = 0, long_cpu = 0;
    long value = 0;
    for (auto _ : state) {
      ++value;
      const auto [short_wall, short_thread_cpu] = short_network.run(value);
      const auto [long_wall, long_thread_cpu] = long_network.run(value);
      short_seconds += short_wall;
      short_cpu += short_thread_cpu;
      long_seconds += long_wall;
      long_cpu += long_thread_cpu;
    }
    const auto iterations = static_cast<double>(state.iterations());
    state.counters["per_light_block"] = (long_seconds - short_seconds) / iterations / static_cast<double>(extra);
    state.counters["per_light_block_cpu"] = (long_cpu - short_cpu) / iterations / static_cast<double>(extra);
    state.counters["per_block_whole"] = long_seconds / iterations / static_cast<double>(shorter + extra);
  }
  connectors::set_default_executor(nullptr);
}
void BM_MixedLightPart_Sequential(benchmark::State& state) { mixed_light(state, false); }
void BM_MixedLightPart_Threads(benchmark::State& state) { mixed_light(state, true); }
BENCHMARK(BM_MixedLightPart_Sequential)->Arg(1000)->UseRealTime();
BENCHMARK(BM_MixedLightPart_Threads)->Arg(1000)->UseRealTime();

// ---- parallel light branches ------------------------------------------------------
// Two chains of n light blocks below one source, into one multi-input: the
// multi-input's retrieval pulls both chains at once, so on threads neither
// chain's methods are the only runnable work (docs/parallelization.md,
// Work-first). `per_block` is per block of both chains.
// `flags`: the blocks' own (getters THREAD, setters SEQUENTIAL), every getter
// SEQUENTIAL, or every setter THREAD too (a branch then continues on the pool
// thread that ran its last method: docs/design.md#continuation).
enum class ChainFlags { own, sequential_getters, thread_setters };
void parallel_chains(benchmark::State& state, bool threads, ChainFlags flags = ChainFlags::own) {
  const auto length = static_cast<std::size_t>(state.range(0));
  connectors::set_default_executor(executor_for(threads));
  {
    Block source;
    std::vector<Block> left(length);
    std::vector<Block> right(length);
    for (std::vector<Block>* chain : {&left, &right}) {
      chain->front().input.connect(source.output);
      for (std::size_t i = 1; i < length; ++i) (*chain)[i].input.connect((*chain)[i - 1].output);
      for (Block& block : *chain) {
        if (flags == ChainFlags::sequential_getters) {
          block.output.set_parallelization(connectors::Parallelization::SEQUENTIAL);
        } else if (flags == ChainFlags::thread_setters) {
          block.input.set_parallelization(connectors::Parallelization::THREAD);
        }
      }
    }
    LightTotal total;
    total.in.connect(left.back().output);
    total.in.connect(right.back().output);
    long value = 0;
    for (auto _ : state) {
      source.input(++value);
      benchmark::DoNotOptimize(total.sum());
    }
    state.counters["per_block"] = benchmark::Counter(
        static_cast<double>(2 * length), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  }
  connectors::set_default_executor(nullptr);
}
void BM_ParallelLightChains_Sequential(benchmark::State& state) { parallel_chains(state, false); }
void BM_ParallelLightChains_Threads(benchmark::State& state) { parallel_chains(state, true); }
void BM_ParallelLightChains_ThreadsSequentialFlag(benchmark::State& state) {
  parallel_chains(state, true, ChainFlags::sequential_getters);
}
void BM_ParallelLightChains_ThreadsThreadSetters(benchmark::State& state) {
  parallel_chains(state, true, ChainFlags::thread_setters);
}

void BM_ParallelLightChains_TBB(benchmark::State& state) {
  const auto length = static_cast<std::size_t>(state.range(0));
  tbb::global_control parallelism{tbb::global_control::max_allowed_parallelism,
                                  static_cast<std::size_t>(state.range(1))};
  tbb::flow::graph graph;
  tbb::flow::broadcast_node<long> source(graph);
  std::vector<std::unique_ptr<tbb::flow::function_node<long, long>>> nodes;
  for (int chain = 0; chain < 2; ++chain) {
    for (std::size_t i = 0; i < length; ++i) {
      nodes.push_back(std::make_unique<tbb::flow::function_node<long, long>>(graph, tbb::flow::serial,
                                                                             [](long v) { return v + 1; }));
      if (i == 0) {
        tbb::flow::make_edge(source, *nodes.back());
      } else {
        tbb::flow::make_edge(*nodes[nodes.size() - 2], *nodes.back());
      }
    }
  }
  long value = 0;
  for (auto _ : state) {
    source.try_put(++value);
    graph.wait_for_all();
  }
  state.counters["per_block"] = benchmark::Counter(
      static_cast<double>(2 * length), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ParallelLightChains_Sequential)->Arg(100)->Arg(1000)->UseRealTime();
BENCHMARK(BM_ParallelLightChains_Threads)->Arg(100)->Arg(1000)->UseRealTime();
BENCHMARK(BM_ParallelLightChains_ThreadsSequentialFlag)->Arg(100)->Arg(1000)->UseRealTime();
BENCHMARK(BM_ParallelLightChains_ThreadsThreadSetters)->Arg(100)->Arg(1000)->UseRealTime();
BENCHMARK(BM_ParallelLightChains_TBB)->Args({100, 1})->Args({100, 2})->Args({1000, 1})->Args({1000, 2})->UseRealTime();

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
