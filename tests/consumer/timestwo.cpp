// The first network of README.md, as a user's program: two TimesTwo blocks in
// a chain. Prints the library version and exits 0 if the chain computes 8.
#include <connectors/connectors.hpp>
#include <connectors/version.hpp>

#include <cstdio>

static_assert(CONNECTORS_VERSION ==
              CONNECTORS_VERSION_MAJOR * 10000 + CONNECTORS_VERSION_MINOR * 100 + CONNECTORS_VERSION_PATCH);

class TimesTwo {
 public:
  explicit TimesTwo(double value = 0.0) : value_{value} {}

  connectors::Output<double> get_double{this, &TimesTwo::compute};
  connectors::Input<double> set_value{this, &TimesTwo::store, get_double};  // observers follow

 private:
  double compute() const { return 2.0 * value_; }
  void store(double value) { value_ = value; }
  double value_;
};

int main() {
  TimesTwo d1, d2;
  d2.set_value.connect(d1.get_double);
  d1.set_value(2.0);
  double result = d2.get_double();
  std::printf("connectors %s: d2.get_double() = %g\n", connectors::version, result);
  return result == 8.0 ? 0 : 1;
}
