// docs/multi-inputs.md — announce and notify conditions of a multi-input.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <vector>

// Not in an anonymous namespace: g++ wants classes whose connectors run in
// coroutines to have linkage (-Wsubobject-linkage).

// --- a notify condition
// Shows the readings of the watched sensors only; a change of another sensor
// does not change what it shows.
class Display {
 public:
  Display() {
    set_reading.set_replace(&Display::replace);
    set_reading.set_notify_condition(&Display::watched);
  }

  connectors::Output<std::vector<double>> get_shown{this, &Display::shown};
  connectors::MultiInput<double, std::string> set_reading{this, &Display::add, &Display::remove, get_shown};
  std::set<std::string> watch;
  int draws = 0;

 private:
  std::vector<double> shown() {
    ++draws;
    std::vector<double> result;
    for (const auto& [id, value] : readings_) {
      if (watch.contains(id)) result.push_back(value);
    }
    return result;
  }
  std::string add(double value) {
    const std::string id = "sensor " + std::to_string(readings_.size());
    readings_[id] = value;
    return id;
  }
  void remove(const std::string& id) { readings_.erase(id); }
  void replace(const std::string& id, double value) { readings_[id] = value; }
  bool watched(const std::string& id, const std::optional<double>&) const { return watch.contains(id); }
  connectors::MultiInputData<double, std::string> readings_;
};
// ---

// --- an announce condition
// Ignores upstream changes for the ids in `frozen`.
class Freezer {
 public:
  Freezer() {
    set_value.set_replace(&Freezer::replace);
    set_value.set_announce_condition(&Freezer::accepts);
  }

  connectors::Output<std::vector<int>> get_values{this, &Freezer::values};
  connectors::MultiInput<int> set_value{this, &Freezer::add, &Freezer::remove, get_values};
  std::set<std::size_t> frozen;

 private:
  std::vector<int> values() const {
    std::vector<int> result;
    for (const auto& [id, value] : data_) result.push_back(value);
    return result;
  }
  std::size_t add(int value) { return data_.add(value); }
  void remove(std::size_t id) { data_.erase(id); }
  void replace(std::size_t id, int value) { data_[id] = value; }
  bool accepts(const std::size_t& id) const { return !frozen.contains(id); }
  connectors::MultiInputData<int> data_;
};
// ---

class Sensor {
 public:
  connectors::Output<double> output{this, &Sensor::read};
  connectors::Input<double> input{this, &Sensor::write, output};

 private:
  double read() const { return value_; }
  void write(double value) { value_ = value; }
  double value_ = 0.0;
};

class Counter {
 public:
  connectors::Output<int> output{this, &Counter::read};
  connectors::Input<int> input{this, &Counter::write, output};

 private:
  int read() const { return value_; }
  void write(int value) { value_ = value; }
  int value_ = 0;
};

using Shown = std::vector<double>;

int main() {
  {
    // --- notify condition in use
    Display display;
    display.watch = {"inside"};
    Sensor inside, outside;
    display.set_reading["inside"].connect(inside.output);
    display.set_reading["outside"].connect(outside.output);
    connectors::blocks::PassThrough<Shown> screen;
    screen.input.connect(display.get_shown);
    CHECK(screen.output() == (Shown{0.0}));
    CHECK(display.draws == 1);
    outside.input(5.0);  // not watched: cancelled
    CHECK(screen.output() == (Shown{0.0}));
    CHECK(display.draws == 1);              // nothing was redrawn
    display.set_reading.remove("outside");  // direct removes and replaces are checked too
    CHECK(display.draws == 1);
    inside.input(21.0);  // watched: notified
    CHECK(screen.output() == (Shown{21.0}));
    CHECK(display.draws == 2);
    // ---
  }
  {
    // --- any change that passes counts
    Display display;
    display.watch = {"inside"};
    Sensor inside, outside;
    display.set_reading["inside"].connect(inside.output);
    display.set_reading["outside"].connect(outside.output);
    CHECK(display.get_shown() == (Shown{0.0}));
    outside.input(7.0);
    inside.input(22.0);
    CHECK(display.get_shown() == (Shown{22.0}));  // applied together: one passed, so it redraws
    // ---
  }
  {
    // --- announce condition in use
    Freezer freezer;
    Counter a, b;
    a.input(1);
    b.input(2);
    freezer.frozen = {0};
    freezer.set_value.connect(a.output);  // no id yet: the first value always arrives...
    freezer.set_value.connect(b.output);
    CHECK(freezer.get_values() == (std::vector<int>{1, 2}));  // ...a's under id 0, b's under id 1
    // id 0 is frozen: a's change is ignored
    a.input(10);
    b.input(20);
    CHECK(freezer.get_values() == (std::vector<int>{1, 20}));
    freezer.set_value.replace(0, 3);  // direct changes do not consult it
    CHECK(freezer.get_values() == (std::vector<int>{3, 20}));
    // ---
  }
  return failures == 0 ? 0 : 1;
}
