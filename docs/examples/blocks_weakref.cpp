// docs/blocks.md — WeakrefProxyGenerator: the memory-saving polynomial.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

// Not in an anonymous namespace: g++ wants classes whose connectors run in
// coroutines to have linkage (-Wsubobject-linkage).

using Signal = std::vector<double>;
using Reference = std::weak_ptr<const Signal>;

// --- the blocks
// base^exponent for every sample. Not cached: the generator after it holds
// the only copy of the result.
class Power {
 public:
  explicit Power(double exponent) : exponent_(exponent) { get_result.set_caching(false); }
  connectors::Output<Signal> get_result{this, &Power::compute};
  connectors::Input<Signal> set_base{this, &Power::base, get_result};

 private:
  Signal compute() const {
    Signal result(base_.size());
    for (std::size_t i = 0; i < base_.size(); ++i) result[i] = std::pow(base_[i], exponent_);
    return result;
  }
  void base(Signal value) { base_ = std::move(value); }
  Signal base_;
  double exponent_;
};

// signal * factor, reading the signal through a weak reference. Not cached.
class Multiply {
 public:
  explicit Multiply(double factor) : factor_(factor) { get_result.set_caching(false); }
  connectors::Output<Signal> get_result{this, &Multiply::compute};
  connectors::Input<Reference> set_signal{this, &Multiply::signal, get_result};
  bool signal_freed() const { return signal_.expired(); }

 private:
  Signal compute() const {
    const std::shared_ptr<const Signal> signal = signal_.lock();  // alive while its generator holds it
    if (!signal) throw std::logic_error("Multiply: the signal was freed before it was used");
    Signal result(*signal);
    for (double& sample : result) sample *= factor_;
    return result;
  }
  void signal(Reference value) { signal_ = std::move(value); }
  Reference signal_;
  double factor_;
};

// The sum of any number of signals, read through weak references. Cached: the
// end of the chain keeps its result.
class Sum {
 public:
  connectors::Output<Signal> get_result{this, &Sum::compute};
  connectors::MultiInput<Reference> add_summand{this, &Sum::add, &Sum::remove, get_result};
  bool summands_freed() const {
    for (const auto& [id, summand] : summands_) {
      if (!summand.expired()) return false;
    }
    return true;
  }

 private:
  Signal compute() const {
    Signal total;
    for (const auto& [id, reference] : summands_) {
      const std::shared_ptr<const Signal> summand = reference.lock();
      if (!summand) throw std::logic_error("Sum: a summand was freed before it was used");
      total.resize(summand->size());
      for (std::size_t i = 0; i < summand->size(); ++i) total[i] += (*summand)[i];
    }
    return total;
  }
  std::size_t add(Reference summand) { return summands_.add(std::move(summand)); }
  void remove(std::size_t id) { summands_.erase(id); }
  connectors::MultiInputData<Reference> summands_;
};
// ---

using Holder = connectors::blocks::WeakrefProxyGenerator<Signal>;

// --- the memory-saving polynomial
// c_0 + c_1 x + c_2 x^2 + ...; every intermediate signal lives in a generator
// only until the next step has used it.
class Polynomial {
 public:
  explicit Polynomial(const std::vector<double>& coefficients)
      : branches_(make_branches(coefficients)), set_variable(bases()), get_result(sum_.get_result) {
    for (auto& branch : branches_) {
      sum_.add_summand.connect(branch->scaled.output);
      branch->scaled.delete_reference.connect(sum_.get_result);  // freed once the sum has used it
    }
  }
  bool intermediates_freed() const {
    for (const auto& branch : branches_) {
      if (!branch->multiply.signal_freed()) return false;
    }
    return sum_.summands_freed();
  }

 private:
  struct Branch {
    Branch(double exponent, double coefficient) : power(exponent), multiply(coefficient) {
      powered.input.connect(power.get_result);
      multiply.set_signal.connect(powered.output);
      powered.delete_reference.connect(multiply.get_result);  // freed once multiply has used it
      scaled.input.connect(multiply.get_result);
    }
    Power power;
    Holder powered;
    Multiply multiply;
    Holder scaled;
  };
  static std::vector<std::unique_ptr<Branch>> make_branches(const std::vector<double>& coefficients) {
    std::vector<std::unique_ptr<Branch>> branches;
    for (std::size_t e = 0; e < coefficients.size(); ++e) {
      branches.push_back(std::make_unique<Branch>(static_cast<double>(e), coefficients[e]));
    }
    return branches;
  }
  std::vector<connectors::Input<Signal>*> bases() {
    std::vector<connectors::Input<Signal>*> inputs;
    for (auto& branch : branches_) inputs.push_back(&branch->power.set_base);
    return inputs;
  }

  std::vector<std::unique_ptr<Branch>> branches_;
  Sum sum_;

 public:
  connectors::MacroInput<Signal> set_variable;  // every Power's base
  connectors::MacroOutput<Signal> get_result;   // the Sum's result
};
// ---

int main() {
  // --- the memory-saving polynomial in use
  Polynomial polynomial{{5.0, -3.0, 2.0}};  // 5 - 3x + 2x^2
  polynomial.set_variable(Signal{-2, -1, 0, 1, 2});
  CHECK(polynomial.get_result() == (Signal{19, 10, 5, 4, 7}));
  CHECK(polynomial.intermediates_freed());  // only the inputs and the final result remain
  polynomial.set_variable(Signal{3});
  CHECK(polynomial.get_result() == (Signal{14}));
  CHECK(polynomial.intermediates_freed());
  // ---
  return failures == 0 ? 0 : 1;
}
