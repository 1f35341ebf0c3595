#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

namespace {

class TimesTwo {
 public:
  explicit TimesTwo(double value = 0.0) : value_{value} {}

  connectors::Output<double> get_double{this, &TimesTwo::compute};
  connectors::Input<double> set_value{this, &TimesTwo::store, get_double};

 private:
  double compute() const { return 2.0 * value_; }
  void store(double value) { value_ = value; }
  double value_;
};

TEST(TimesTwo, TheReadmeExample) {
  TimesTwo d1, d2;
  d2.set_value.connect(d1.get_double);
  EXPECT_EQ(d2.get_double(), 0.0);
  d1.set_value(2.0);
  EXPECT_EQ(d2.get_double(), 8.0);
}

TEST(TimesTwo, ConnectFromTheOutputSide) {
  TimesTwo d1{1.5}, d2;
  d1.get_double.connect(d2.set_value);
  EXPECT_EQ(d2.get_double(), 6.0);
}

}  // namespace
