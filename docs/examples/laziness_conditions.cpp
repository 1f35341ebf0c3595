// docs/laziness-and-caching.md — announce and notify conditions.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <algorithm>
#include <cstdio>

namespace {

class Source {
 public:
  connectors::Output<int> output{this, &Source::read};
  connectors::Input<int> input{this, &Source::write, output};

 private:
  int read() const { return value_; }
  void write(int value) { value_ = value; }
  int value_ = 0;
};

// --- a notify condition
// Clamps to [0, 10]; a value that does not change the clamped state
// does not count as a change.
class Clamp {
 public:
  Clamp() { input.set_notify_condition(&Clamp::changed); }

  connectors::Output<int> output{this, &Clamp::read};
  connectors::Input<int> input{this, &Clamp::write, output};
  int reads = 0;

 private:
  int read() {
    ++reads;
    return value_;
  }
  void write(int value) {
    const int clamped = std::clamp(value, 0, 10);
    changed_ = clamped != value_;
    value_ = clamped;
  }
  bool changed(const int&) const { return changed_; }
  int value_ = 0;
  bool changed_ = false;
};
// ---

// --- an announce condition
class Gate {
 public:
  Gate() { input.set_announce_condition(&Gate::is_open); }

  connectors::Output<int> output{this, &Gate::read};
  connectors::Input<int> input{this, &Gate::write, output};
  bool open = true;

 private:
  int read() const { return value_; }
  void write(int value) { value_ = value; }
  bool is_open() const { return open; }
  int value_ = 0;
};
// ---
}  // namespace

int main() {
  {
    // --- notify condition in use
    Source source;
    Clamp clamp;
    Source consumer;  // any downstream block
    clamp.input.connect(source.output);
    consumer.input.connect(clamp.output);
    source.input(12);
    CHECK(consumer.output() == 10);
    CHECK(clamp.reads == 1);
    source.input(15);                // announced all the way down...
    CHECK(consumer.output() == 10);  // ...but clamps to 10 again: cancelled
    CHECK(clamp.reads == 1);         // the cache was re-validated, nothing recomputed
    // ---
  }
  {
    // --- announce condition in use
    Source source;
    Gate gate;
    gate.input.connect(source.output);
    source.input(1);
    CHECK(gate.output() == 1);
    gate.open = false;
    source.input(2);  // ignored by the closed gate
    CHECK(gate.output() == 1);
    gate.open = true;
    CHECK(gate.output() == 1);  // still ignored: the announcement is gone
    source.input(3);
    CHECK(gate.output() == 3);
    gate.open = false;
    gate.input(4);  // direct calls do not consult the condition
    CHECK(gate.output() == 4);
    // ---
  }
  return failures == 0 ? 0 : 1;
}
