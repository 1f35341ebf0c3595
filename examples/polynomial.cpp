// Tutorial: a polynomial built from small blocks and wrapped in a macro
// (the original's demo D4, docs/design.md#tutorials). Each coefficient c_e gets a branch x^e -> * c_e, and a sum
// with a multi-input adds the branches up. The Polynomial class exports the
// inner network's inputs and output as one input and one output, so users
// connect it like any other block — whatever the value type: a number or a
// whole array of numbers.
#include <connectors/connectors.hpp>

#include <cmath>
#include <cstdio>
#include <memory>
#include <valarray>
#include <vector>

template <class T>
class Power {
 public:
  explicit Power(double exponent) : exponent_(exponent) {}
  connectors::Output<T> get_result{this, &Power::compute};
  connectors::Input<T> set_base{this, &Power::base, get_result};
  connectors::Input<double> set_exponent{this, &Power::exponent, get_result};

 private:
  T compute() const { return std::pow(base_, exponent_); }
  void base(T value) { base_ = std::move(value); }
  void exponent(double value) { exponent_ = value; }
  T base_{};
  double exponent_;
};

template <class T>
class Multiply {
 public:
  explicit Multiply(double factor2) : factor2_(factor2) {}
  connectors::Output<T> get_result{this, &Multiply::compute};
  connectors::Input<T> set_factor1{this, &Multiply::factor1, get_result};
  connectors::Input<double> set_factor2{this, &Multiply::factor2, get_result};

 private:
  T compute() const { return factor1_ * factor2_; }
  void factor1(T value) { factor1_ = std::move(value); }
  void factor2(double value) { factor2_ = value; }
  T factor1_{};
  double factor2_;
};

// Sums any number of summands. No replace method: an updated summand is
// removed and added again (the order of a sum does not matter).
template <class T>
class Sum {
 public:
  connectors::Output<T> get_result{this, &Sum::compute};
  connectors::MultiInput<T> add_summand{this, &Sum::add, &Sum::remove, get_result};

 private:
  T compute() const {
    T total{};
    bool first = true;
    for (const auto& [id, summand] : summands_) {
      total = first ? summand : T(total + summand);
      first = false;
    }
    return total;
  }
  std::size_t add(T summand) { return summands_.add(std::move(summand)); }
  void remove(std::size_t id) { summands_.erase(id); }
  connectors::MultiInputData<T> summands_;
};

// c_0 + c_1 x + c_2 x^2 + ...: one Power -> Multiply branch per coefficient.
template <class T>
class Polynomial {
 public:
  explicit Polynomial(const std::vector<double>& coefficients)
      : branches_(make_branches(coefficients)), set_variable(bases()), get_result(sum_.get_result) {
    for (auto& branch : branches_) {
      branch->multiply.set_factor1.connect(branch->power.get_result);
      sum_.add_summand.connect(branch->multiply.get_result);
    }
  }

 private:
  struct Branch {
    Branch(double exponent, double coefficient) : power(exponent), multiply(coefficient) {}
    Power<T> power;
    Multiply<T> multiply;
  };
  static std::vector<std::unique_ptr<Branch>> make_branches(const std::vector<double>& coefficients) {
    std::vector<std::unique_ptr<Branch>> branches;
    for (std::size_t e = 0; e < coefficients.size(); ++e) {
      branches.push_back(std::make_unique<Branch>(static_cast<double>(e), coefficients[e]));
    }
    return branches;
  }
  std::vector<connectors::Input<T>*> bases() {
    std::vector<connectors::Input<T>*> inputs;
    for (auto& branch : branches_) inputs.push_back(&branch->power.set_base);
    return inputs;
  }

  std::vector<std::unique_ptr<Branch>> branches_;
  Sum<T> sum_;

 public:
  connectors::MacroInput<T> set_variable;  // every Power's base
  connectors::MacroOutput<T> get_result;   // the Sum's result
};

int main(int argc, char** argv) {
  bool ok = true;

  Polynomial<double> polynomial{{5.0, -3.0, 2.0}};  // 5 - 3x + 2x^2
  polynomial.set_variable(4.0);
  const double at_four = polynomial.get_result();
  std::printf("p(4) = %g\n", at_four);  // 25
  ok = ok && at_four == 25.0;

  // The same network for a whole array at once.
  Polynomial<std::valarray<double>> vectorized{{5.0, -3.0, 2.0}};
  vectorized.set_variable(std::valarray<double>{-2, -1, 0, 1, 2});
  const std::valarray<double> values = vectorized.get_result();
  std::printf("p([-2 -1 0 1 2]) = [");
  for (double value : values) std::printf(" %g", value);  // 19 10 5 4 7
  std::printf(" ]\n");
  const std::valarray<double> expected{19, 10, 5, 4, 7};
  ok = ok && (values == expected).min();

  // A macro connects like any block: a source feeding the variable, a sink
  // reading the result.
  connectors::blocks::PassThrough<double> x{1.0};
  connectors::blocks::PassThrough<double> y;
  x.output.connect(polynomial.set_variable);
  y.input.connect(polynomial.get_result);
  std::printf("p(1) = %g\n", y.output());  // 4
  ok = ok && y.output() == 4.0;
  x.input(2.0);
  std::printf("p(2) = %g\n", y.output());  // 7
  ok = ok && y.output() == 7.0;
  // The network's picture (docs/observability.md), if a path is given.
  if (argc > 1) connectors::write_svg(argv[1], polynomial.get_result);
  return ok ? 0 : 1;
}
