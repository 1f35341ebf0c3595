// docs/multi-inputs.md — declaring a multi-input, direct calls, connections,
// data ids, the order of values, lifetime, MultiInputData.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <memory>
#include <vector>

// Not in an anonymous namespace: g++ wants classes whose connectors run in
// coroutines to have linkage (-Wsubobject-linkage).

// --- a multi-input
// Collects any number of values, in the order the data ids were handed out.
class Collector {
 public:
  explicit Collector(bool with_replace = true) {
    if (with_replace) add_value.set_replace(&Collector::replace);
  }

  connectors::Output<std::vector<int>> get_values{this, &Collector::values};
  connectors::MultiInput<int> add_value{this, &Collector::add, &Collector::remove, get_values};

 private:
  std::vector<int> values() const {
    std::vector<int> result;
    for (const auto& [id, value] : data_) result.push_back(value);
    return result;
  }
  std::size_t add(int value) { return data_.add(value); }  // returns the new data id
  void remove(std::size_t id) { data_.erase(id); }
  void replace(std::size_t id, int value) { data_[id] = value; }  // void: the id stays the same
  connectors::MultiInputData<int> data_;
};
// ---

class Source {
 public:
  explicit Source(int value = 0) : value_{value} {}
  connectors::Output<int> output{this, &Source::read};
  connectors::Input<int> input{this, &Source::write, output};

 private:
  int read() const { return value_; }
  void write(int value) { value_ = value; }
  int value_;
};

using Values = std::vector<int>;

int main() {
  {
    // --- direct calls
    Collector collector;
    const std::size_t first = collector.add_value(1);  // add: returns the data id
    collector.add_value(2);
    CHECK(collector.get_values() == (Values{1, 2}));
    CHECK(collector.add_value.replace(first, 3) == first);  // the id the value is stored under now
    CHECK(collector.get_values() == (Values{3, 2}));
    collector.add_value.remove(first);
    CHECK(collector.get_values() == (Values{2}));
    // ---
  }
  {
    // --- connections
    Collector replacing;                         // with a replace method
    Collector fallback{/*with_replace=*/false};  // remove, then add
    Source a{11}, b{12};
    for (Collector* collector : {&replacing, &fallback}) {
      collector->add_value.connect(a.output);
      collector->add_value.connect(b.output);
      CHECK(collector->get_values() == (Values{11, 12}));  // first values: add
    }
    a.input(13);
    CHECK(replacing.get_values() == (Values{13, 12}));  // replace keeps the place
    CHECK(fallback.get_values() == (Values{12, 13}));   // remove-then-add moves it to the end
    replacing.add_value.disconnect(a.output);           // removes what the connection stored
    CHECK(replacing.get_values() == (Values{12}));
    // ---
  }
  {
    // --- order of first values
    Collector collector;
    Source a{1}, b{2};
    collector.add_value.connect(a.output);
    collector.add_value.connect(b.output);
    CHECK(b.output() == 2);                           // b computes and delivers its value first...
    CHECK(collector.get_values() == (Values{1, 2}));  // ...but a was connected first
    // ---
  }
  {
    // --- one connection per output
    Collector collector;
    Source source{4};
    collector.add_value.connect(source.output);
    collector.add_value.connect(source.output);  // the same connection again: a no-op
    CHECK(throws<connectors::ConnectionError>([&] { collector.add_value[7].connect(source.output); }));
    CHECK(collector.get_values() == (Values{4}));  // stored once
    // ---
  }
  {
    // --- lifetime
    Collector collector;
    connectors::blocks::PassThrough<Values> downstream;
    downstream.input.connect(collector.get_values);
    auto source = std::make_unique<Source>(1);
    collector.add_value.connect(source->output);
    collector.add_value(2);
    CHECK(downstream.output() == (Values{1, 2}));
    source.reset();                             // remove() runs for what it stored...
    CHECK(downstream.output() == (Values{2}));  // ...and downstream was invalidated
    // ---
  }
  {
    // --- MultiInputData
    connectors::MultiInputData<int> data{10, 20, 30};  // ids 0, 1, 2
    CHECK(data.add(40) == 3);
    data[1] = 21;  // an existing id keeps its place
    data.erase(3);
    CHECK(data.add(50) == 3);  // an id deleted before the next add is used again
    std::vector<int> values;
    for (const auto& [id, value] : data) values.push_back(value);
    CHECK(values == (Values{10, 21, 30, 50}));
    // ---
  }
  return failures == 0 ? 0 : 1;
}
