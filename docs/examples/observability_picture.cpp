// docs/observability.md — the picture of a network.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <string>

namespace {

class TimesTwo {
 public:
  connectors::Output<double> get_double{this, &TimesTwo::compute};
  connectors::Input<double> set_value{this, &TimesTwo::store, get_double};

 private:
  double compute() const { return 2.0 * value_; }
  void store(double value) { value_ = value; }
  double value_ = 0.0;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

int main() {
  // --- names
  TimesTwo d1, d2;
  d1.get_double.set_name("d1.get_double");  // owner "d1", connector "get_double"
  d1.set_value.set_name("d1.set_value");
  d2.get_double.set_name("d2.get_double");
  d2.set_value.set_name("d2.set_value");
  d2.set_value.connect(d1.get_double);
  // ---

  // --- states
  d2.get_double();
  std::string dot = connectors::to_dot(d2.get_double);  // any connector of the network
  CHECK(contains(dot, "label=\"TimesTwo d1\""));        // a cluster per owner
  CHECK(contains(dot, "get_double\\nvalid\\nTHREAD"));  // both outputs computed

  d1.set_value(3.0);  // invalidates everything downstream
  dot = connectors::to_dot(d1.set_value);
  CHECK(contains(dot, "get_double\\nstale\\nTHREAD"));             // d1's output: stale
  CHECK(contains(dot, "get_double\\nstale, announced\\nTHREAD"));  // d2's: its input has a change coming
  // ---

  // --- svg
  try {
    connectors::write_svg("/tmp/connectors-docs-network.svg", d2.get_double);
  } catch (const connectors::Error& error) {
    // Graphviz is not installed: the message says so.
    CHECK(contains(error.what(), "graphviz"));
  }
  // ---
  return failures == 0 ? 0 : 1;
}
