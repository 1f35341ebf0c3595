// docs/multi-inputs.md — virtual single inputs mi[id], and direct changes
// that first apply what upstream announced.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

// Not in an anonymous namespace: g++ wants classes whose connectors run in
// coroutines to have linkage (-Wsubobject-linkage).

// Values stored under ids the user chooses (strings here).
class Table {
 public:
  Table() { set_value.set_replace(&Table::replace); }

  connectors::Output<std::vector<std::string>> get_values{this, &Table::values};
  connectors::MultiInput<std::string, std::string> set_value{this, &Table::add, &Table::remove, get_values};

 private:
  std::vector<std::string> values() const {
    std::vector<std::string> result;
    for (const auto& [id, value] : data_) result.push_back(id + "=" + value);
    return result;
  }
  std::string add(const std::string&) { throw std::logic_error("Table: store values under an id"); }
  void remove(const std::string& id) { data_.erase(id); }
  // Must also accept an id that holds nothing yet: mi[id] relies on it.
  void replace(const std::string& id, const std::string& value) { data_[id] = value; }
  connectors::MultiInputData<std::string, std::string> data_;
};

class Text {
 public:
  explicit Text(std::string value = {}) : value_{std::move(value)} {}
  connectors::Output<std::string> output{this, &Text::read};
  connectors::Input<std::string> input{this, &Text::write, output};

 private:
  std::string read() const { return value_; }
  void write(std::string value) { value_ = std::move(value); }
  std::string value_;
};

// Without a replace method.
class Bag {
 public:
  connectors::Output<int> get_count{this, &Bag::count};
  connectors::MultiInput<int> add_value{this, &Bag::add, &Bag::remove, get_count};

 private:
  int count() const { return static_cast<int>(data_.size()); }
  std::size_t add(int value) { return data_.add(value); }
  void remove(std::size_t id) { data_.erase(id); }
  connectors::MultiInputData<int> data_;
};

using Strings = std::vector<std::string>;

int main() {
  {
    // --- virtual inputs
    Table table;
    Text source{"1 m"};
    table.set_value["width"]("2 m");                   // replace("width", "2 m")
    table.set_value["height"].connect(source.output);  // every value: replace("height", ...)
    CHECK(table.get_values() == (Strings{"width=2 m", "height=1 m"}));
    source.input("3 m");
    table.set_value["width"]("4 m");  // an existing id keeps its place
    CHECK(table.get_values() == (Strings{"width=4 m", "height=3 m"}));
    table.set_value.disconnect(source.output);  // also breaks a connection made through an id
    CHECK(table.get_values() == (Strings{"width=4 m"}));
    // ---

    // --- nothing stored, nothing removed
    table.set_value["depth"].connect(source.output);
    table.set_value["depth"].disconnect(source.output);  // no remove("depth"): it would throw
    CHECK(table.get_values() == (Strings{"width=4 m"}));
    // ---

    // --- one source per id
    Text other{"5 m"};
    table.set_value["depth"].connect(source.output);
    CHECK(throws<connectors::ConnectionError>([&] { table.set_value["depth"].connect(other.output); }));
    table.set_value["depth"].disconnect(source.output);
    table.set_value["depth"].connect(other.output);  // free again
    CHECK(table.get_values() == (Strings{"width=4 m", "depth=5 m"}));
    // ---
  }
  {
    // --- virtual inputs need replace
    Bag bag;  // a multi-input without replace
    CHECK(throws<std::logic_error>([&] { bag.add_value[0](5); }));
    // ---
  }
  {
    // --- direct changes apply announced values first
    Table table;
    Text source;
    table.set_value["up"].connect(source.output);
    source.input("new");                 // announced to the table, not applied yet
    table.set_value["direct"]("value");  // applies "new" first, then stores "value"
    CHECK(table.get_values() == (Strings{"up=new", "direct=value"}));
    // ---
  }
  return failures == 0 ? 0 : 1;
}
