// docs/multi-outputs.md — per-key caching, mo(key), mo[key], whole
// connections to multi-inputs, set_keys.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <atomic>
#include <cstdio>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

// Not in an anonymous namespace: g++ wants classes whose connectors run in
// coroutines to have linkage (-Wsubobject-linkage).

// --- a multi-output
// The harmonics of a tone: harmonic k has the frequency k * fundamental.
class Harmonics {
 public:
  Harmonics() { get_frequency.set_keys(&Harmonics::keys); }

  connectors::MultiOutput<double(int)> get_frequency{this, &Harmonics::frequency};
  connectors::Input<double> set_fundamental{this, &Harmonics::fundamental, get_frequency};
  connectors::Input<int> set_count{this, &Harmonics::count, get_frequency};  // also decides the keys
  std::atomic<int> computations{0};                                          // keys compute in parallel

 private:
  double frequency(int k) {
    ++computations;
    return k * fundamental_;
  }
  // The keys a whole connection delivers: any range of ints.
  std::vector<int> keys() const {
    std::vector<int> keys;
    for (int k = 1; k <= count_; ++k) keys.push_back(k);
    return keys;
  }
  void fundamental(double value) { fundamental_ = value; }
  void count(int value) { count_ = value; }
  double fundamental_ = 100.0;
  int count_ = 3;
};
// ---

// Stores values under the ids it is given (keys of a whole multi-output), or
// under new ones.
class Collector {
 public:
  Collector() { add_value.set_replace(&Collector::replace); }

  connectors::Output<std::vector<double>> get_values{this, &Collector::values};
  connectors::MultiInput<double, int> add_value{this, &Collector::add, &Collector::remove, get_values};

 private:
  std::vector<double> values() const {
    std::vector<double> result;
    for (const auto& [id, value] : data_) result.push_back(value);
    return result;
  }
  int add(double value) { return data_.add(value); }
  void remove(int id) { data_.erase(id); }
  void replace(int id, double value) { data_[id] = value; }
  connectors::MultiInputData<double, int> data_;
};

// --- keys from a one-shot range
// The keys read from a stream: a range that can be traversed once.
struct Parsed {
  std::istream* stream;
  std::istream_iterator<int> begin() const { return std::istream_iterator<int>{*stream}; }
  std::istream_iterator<int> end() const { return {}; }
};

// Its keys are listed in a text.
class Listed {
 public:
  Listed() { get_value.set_keys(&Listed::keys); }
  connectors::MultiOutput<double(int)> get_value{this, &Listed::value};
  std::string listed = "3 1 2";

 private:
  double value(int key) const { return 10.0 * key; }
  Parsed keys() {
    text_.clear();
    text_.str(listed);
    return Parsed{&text_};
  }
  std::istringstream text_;
};
// ---

// Whether `Source::connect(Target)` compiles.
template <class Source, class Target>
concept connectable = requires(Source& source, Target& target) {
  source.connect(target);
};

using Values = std::vector<double>;

int main() {
  {
    // --- calling
    Harmonics harmonics;
    CHECK(harmonics.get_frequency(2) == 200.0);
    CHECK(harmonics.get_frequency[2]() == 200.0);  // mo[key]() is mo(key)
    CHECK(harmonics.get_frequency(3) == 300.0);
    CHECK(harmonics.computations == 2);  // one result cached per key
    harmonics.set_fundamental(110.0);    // invalidates every key
    CHECK(harmonics.get_frequency(2) == 220.0);
    CHECK(harmonics.computations == 3);  // only the key asked for was computed
    // ---
  }
  {
    // --- one key to any input
    Harmonics harmonics;
    connectors::blocks::PassThrough<double> single;
    Collector collector;
    single.input.connect(harmonics.get_frequency[1]);
    collector.add_value.connect(harmonics.get_frequency[2]);
    harmonics.get_frequency[3].connect(collector.add_value[30]);  // either side, also mi[id]
    CHECK(single.output() == 100.0);
    CHECK(collector.get_values() == (Values{200.0, 300.0}));
    harmonics.get_frequency[2].disconnect(collector.add_value);
    CHECK(collector.get_values() == (Values{300.0}));
    // ---
  }
  {
    // --- a cached key reaches a new connection
    Harmonics harmonics;
    CHECK(harmonics.get_frequency(5) == 500.0);
    connectors::blocks::PassThrough<double> late;
    late.input.connect(harmonics.get_frequency[5]);
    CHECK(late.output() == 500.0);
    CHECK(harmonics.computations == 1);  // served from the cache
    // ---
  }
  {
    // --- the whole multi-output
    Harmonics harmonics;
    Collector collector;
    collector.add_value.connect(harmonics.get_frequency);  // one value per key of keys()
    CHECK(collector.get_values() == (Values{100.0, 200.0, 300.0}));
    harmonics.set_count(2);  // key 3 is no longer delivered: removed
    CHECK(collector.get_values() == (Values{100.0, 200.0}));
    harmonics.set_fundamental(50.0);
    CHECK(collector.get_values() == (Values{50.0, 100.0}));
    harmonics.get_frequency.disconnect(collector.add_value);
    CHECK(collector.get_values().empty());
    // Anything but a MultiInput does not compile:
    static_assert(!connectable<connectors::Input<double>, connectors::MultiOutput<double(int)>>);
    static_assert(!connectable<connectors::MultiOutput<double(int)>, connectors::Input<double>>);
    static_assert(!connectable<connectors::MacroInput<double>, connectors::MultiOutput<double(int)>>);
    // ---
  }
  {
    // --- keys in the range's order
    Listed listed;
    Collector collector;
    collector.add_value.connect(listed.get_value);
    CHECK(collector.get_values() == (Values{30.0, 10.0, 20.0}));  // as listed: 3 1 2
    // ---
  }
  return failures == 0 ? 0 : 1;
}
