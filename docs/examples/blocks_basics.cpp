// docs/blocks.md — PassThrough and Multiplexer.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

// Not in an anonymous namespace: g++ wants classes whose connectors run in
// coroutines to have linkage (-Wsubobject-linkage).

using connectors::blocks::Multiplexer;
using connectors::blocks::PassThrough;

class Collector {
 public:
  connectors::Output<std::vector<int>> get_values{this, &Collector::values};
  connectors::MultiInput<int> add_value{this, &Collector::add, &Collector::remove, get_values};

 private:
  std::vector<int> values() const {
    std::vector<int> result;
    for (const auto& [id, value] : data_) result.push_back(value);
    return result;
  }
  std::size_t add(int value) { return data_.add(value); }
  void remove(std::size_t id) { data_.erase(id); }
  connectors::MultiInputData<int> data_;
};

// Records what it receives; pulls by itself when a change upstream is announced.
class Tester {
 public:
  Tester() { input.set_laziness(connectors::Laziness::ON_ANNOUNCE); }
  connectors::Input<std::optional<std::string>> input{this, &Tester::receive};
  std::vector<std::string> received;

 private:
  void receive(const std::optional<std::string>& value) { received.push_back(value.value_or("<none>")); }
};

using Strings = std::vector<std::string>;

int main() {
  {
    // --- PassThrough
    PassThrough<int> source{7};
    PassThrough<int> copy;
    Collector collector;
    copy.input.connect(source.output);
    collector.add_value.connect(source.output);
    collector.add_value.connect(copy.output);  // the same value a second time, through the copy
    CHECK(collector.get_values() == (std::vector<int>{7, 7}));
    source.input(8);
    CHECK(collector.get_values() == (std::vector<int>{8, 8}));
    // ---
  }
  {
    // --- Multiplexer
    Multiplexer<std::string, std::string> mux;
    mux.input["a"]("apple");
    PassThrough<std::string> source{"banana"};
    mux.input["b"].connect(source.output);
    CHECK(mux.output() == std::nullopt);  // no selector yet
    mux.select("b");
    CHECK(mux.output() == "banana");
    mux.select("c");
    CHECK(mux.output() == std::nullopt);  // nothing stored under "c"
    mux.select("a");
    CHECK(mux.output() == "apple");
    // ---
  }
  {
    // --- only the selected input reaches downstream
    Multiplexer<std::string, int> mux{1};
    PassThrough<std::string> source1{"one"}, source2{"two"};
    mux.input[1].connect(source1.output);
    mux.input[2].connect(source2.output);
    Tester tester;
    mux.output.connect(tester.input);
    source1.input("new one");
    CHECK(tester.received == (Strings{"new one"}));
    source2.input("new two");  // not selected: cancelled, nothing runs downstream
    CHECK(tester.received == (Strings{"new one"}));
    mux.select(2);
    CHECK(tester.received == (Strings{"new one", "new two"}));
    // ---
  }
  {
    // --- generated keys
    Multiplexer<std::string> numbered;  // Key = std::size_t
    numbered.input("first");
    const std::size_t second = numbered.input("second");  // a new key
    numbered.select(second);
    CHECK(numbered.output() == "second");
    Multiplexer<std::string, std::string> named;
    CHECK(throws<std::logic_error>([&] { named.input("no key"); }));
    // ---
  }
  return failures == 0 ? 0 : 1;
}
