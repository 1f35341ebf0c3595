// docs/connectors.md — declaring, connecting, calling, disconnecting.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <stdexcept>

namespace {

// --- a processing class
class TimesTwo {
 public:
  explicit TimesTwo(double value = 0.0) : value_{value} {}

  connectors::Output<double> get_double{this, &TimesTwo::compute};
  connectors::Input<double> set_value{this, &TimesTwo::store, get_double};  // observers follow

  int computations = 0;

 private:
  double compute() {
    ++computations;
    return 2.0 * value_;
  }
  void store(double value) { value_ = value; }
  double value_;
};
// ---
}  // namespace

int main() {
  // --- connect and call
  TimesTwo d1, d2;
  d2.set_value.connect(d1.get_double);  // or: d1.get_double.connect(d2.set_value)
  CHECK(d2.get_double() == 0.0);        // pulls d1, then computes d2
  d1.set_value(2.0);                    // runs the setter now; d2 is only invalidated
  CHECK(d2.computations == 1);
  CHECK(d2.get_double() == 8.0);  // recomputes what is stale
  CHECK(d2.get_double() == 8.0);  // cached: nothing runs
  CHECK(d1.computations == 2 && d2.computations == 2);
  // ---

  // --- one source, no duplicates, no cycles
  TimesTwo d3;
  d2.set_value.connect(d1.get_double);  // the same connection again: a no-op
  CHECK(d1.get_double.connection_count() == 1);
  CHECK(throws<connectors::ConnectionError>([&] { d2.set_value.connect(d3.get_double); }));     // second source
  CHECK(throws<connectors::CycleError>([&] { d1.set_value.connect(d2.get_double); }));          // d2 depends on d1
  CHECK(throws<connectors::ConnectionError>([&] { d3.set_value.disconnect(d1.get_double); }));  // not connected
  // ---

  // --- looking at a network
  CHECK(d2.set_value.is_connected_to(d1.get_double));
  CHECK(d1.get_double.is_connected() && !d3.get_double.is_connected());
  CHECK(d2.get_double.state() == connectors::OutputState::valid);
  d1.set_value(5.0);  // d2 learns that a change is coming, nothing runs there yet
  CHECK(d2.set_value.state() == connectors::InputState::announced);
  CHECK(d2.get_double.state() == connectors::OutputState::announced);
  // ---

  // --- disconnect keeps the last value
  d1.set_value(3.0);                       // announced to d2, not applied yet
  d2.set_value.disconnect(d1.get_double);  // applies the pending change first
  d1.set_value(100.0);                     // no longer reaches d2
  CHECK(d2.get_double() == 12.0);
  // ---
  return failures == 0 ? 0 : 1;
}
