// The first network: two TimesTwo blocks in a chain. Setting the head
// invalidates the tail; asking the tail recomputes only what is stale.
#include <connectors/connectors.hpp>

#include <cstdio>

class TimesTwo {
 public:
  explicit TimesTwo(double value = 0.0) : value_{value} {}

  connectors::Output<double> get_double{this, &TimesTwo::compute};
  connectors::Input<double> set_value{this, &TimesTwo::store, get_double};  // observers follow

 private:
  double compute() const {
    ++computations;
    return 2.0 * value_;
  }
  void store(double value) { value_ = value; }
  double value_;

 public:
  mutable int computations = 0;
};

int main(int argc, char** argv) {
  TimesTwo d1, d2;
  d2.set_value.connect(d1.get_double);                     // or d1.get_double.connect(d2.set_value)
  std::printf("d2.get_double() = %g\n", d2.get_double());  // 0
  d1.set_value(2.0);
  std::printf("d2.get_double() = %g\n", d2.get_double());  // 8
  std::printf("d2.get_double() = %g (cached: %d computations so far)\n", d2.get_double(), d2.computations);
  // The network's picture (docs/observability.md), if a path is given.
  if (argc > 1) connectors::write_svg(argv[1], d2.get_double);
  return d2.get_double() == 8.0 && d2.computations == 2 ? 0 : 1;
}
