// docs/multi-outputs.md — keys compute in parallel and once; PROCESS.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

// Not in an anonymous namespace: g++ wants classes whose connectors run in
// coroutines to have linkage (-Wsubobject-linkage).

// Keys 1 and 2 wait until the other one is running too (or give up).
struct Rendezvous {
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0;
  bool meet() {
    std::unique_lock lock{mutex};
    ++arrived;
    cv.notify_all();
    return cv.wait_for(lock, std::chrono::seconds{5}, [&] { return arrived >= 2; });
  }
};

// Counts how often each key is computed.
class Counted {
 public:
  explicit Counted(Rendezvous& rendezvous) : rendezvous_(rendezvous) { get_value.set_keys(&Counted::keys); }

  connectors::MultiOutput<int(int)> get_value{this, &Counted::compute};
  connectors::Input<int> set_factor{this, &Counted::factor, get_value};
  std::atomic<bool> met{true};

  int computations(int key) {
    std::lock_guard lock{mutex_};
    return computations_[key];
  }

 private:
  int compute(int key) {
    {
      std::lock_guard lock{mutex_};
      ++computations_[key];
    }
    if ((key == 1 || key == 2) && !rendezvous_.meet()) met = false;
    return factor_ * key;
  }
  std::vector<int> keys() const { return {1, 2}; }
  void factor(int value) { factor_ = value; }
  Rendezvous& rendezvous_;
  std::mutex mutex_;
  std::map<int, int> computations_;
  int factor_ = 1;
};

class Collector {
 public:
  Collector() { add_value.set_replace(&Collector::replace); }

  connectors::Output<std::vector<int>> get_values{this, &Collector::values};
  connectors::MultiInput<int, int> add_value{this, &Collector::add, &Collector::remove, get_values};

 private:
  std::vector<int> values() const {
    std::vector<int> result;
    for (const auto& [id, value] : data_) result.push_back(value);
    return result;
  }
  int add(int value) { return data_.add(value); }
  void remove(int id) { data_.erase(id); }
  void replace(int id, int value) { data_[id] = value; }
  connectors::MultiInputData<int, int> data_;
};

// Pulls two inputs at once.
class Pair {
 public:
  connectors::Output<std::vector<int>> get_both{this, &Pair::both};
  connectors::Input<std::vector<int>> set_first{this, &Pair::first, get_both};
  connectors::Input<std::vector<int>> set_second{this, &Pair::second, get_both};

 private:
  std::vector<int> both() const {
    std::vector<int> result = first_;
    result.insert(result.end(), second_.begin(), second_.end());
    return result;
  }
  void first(std::vector<int> values) { first_ = std::move(values); }
  void second(std::vector<int> values) { second_ = std::move(values); }
  std::vector<int> first_, second_;
};

// --- PROCESS
// Can run in a worker process: default-constructible, cereal-serializable,
// and int keys and results travel.
class Squares {
 public:
  Squares() { get_value.set_parallelization(connectors::Parallelization::PROCESS); }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(offset_);
  }

  connectors::MultiOutput<long(int)> get_value{this, &Squares::compute};
  connectors::Input<long> set_offset{this, &Squares::offset, get_value};

 private:
  long compute(int key) const { return offset_ + 1L * key * key; }
  void offset(long value) { offset_ = value; }
  long offset_ = 0;
};
// ---

int main(int argc, char** argv) {
  connectors::init(argc, argv);  // first thing: worker processes start from here
  connectors::set_default_executor(connectors::executor(2, 0));
  {
    // --- in parallel and once
    Rendezvous rendezvous;
    Counted counted{rendezvous};
    connectors::blocks::PassThrough<int> a, b, c;
    a.input.connect(counted.get_value[1]);
    b.input.connect(counted.get_value[1]);
    c.input.connect(counted.get_value[2]);
    Collector collector;
    for (auto* block : {&a, &b, &c}) collector.add_value.connect(block->output);
    CHECK(collector.get_values() == (std::vector<int>{1, 1, 2}));
    CHECK(counted.met);                   // keys 1 and 2 ran at the same time
    CHECK(counted.computations(1) == 1);  // key 1 once, for two consumers
    // ---
  }
  {
    // --- two whole pulls at once
    Rendezvous rendezvous;
    Counted counted{rendezvous};
    Collector first, second;
    first.add_value.connect(counted.get_value);
    second.add_value.connect(counted.get_value);
    Pair pair;  // pulls both collectors at once
    pair.set_first.connect(first.get_values);
    pair.set_second.connect(second.get_values);
    counted.set_factor(10);
    CHECK(pair.get_both() == (std::vector<int>{10, 20, 10, 20}));         // both got every key...
    CHECK(counted.computations(1) == 1 && counted.computations(2) == 1);  // ...computed once
    // ---
  }
  {
    // --- PROCESS in use
    Squares squares;  // accepted: the getter can travel with its key
    squares.set_offset(100);
    squares.get_value.set_executor(connectors::executor(0, 2));  // worker processes, no threads
    CHECK(squares.get_value(3) == 109);
    Rendezvous rendezvous;
    Counted counted{rendezvous};  // holds a reference: it cannot travel
    CHECK(throws<std::invalid_argument>(
        [&] { counted.get_value.set_parallelization(connectors::Parallelization::PROCESS); }));
    // ---
  }
  connectors::set_default_executor(nullptr);
  return failures == 0 ? 0 : 1;
}
