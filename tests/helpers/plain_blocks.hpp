#pragma once

// Small numeric blocks for protocol regression tests: a copy (x, or x plus an
// offset), a sum over a multi-input, and a keyed table. Each counts its
// method calls and can be told to fail, so a test sees what ran and can make
// a method throw at a chosen moment.

#include <connectors/connectors.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

namespace connectors::testing {

// `in` → `out`, with an announce condition on `in` that holds, runs
// `on_announce` once (then clears it: the hook may destroy this block), or
// throws when told to.
class ConditionalSingle {
 public:
  Output<double> out{this, &ConditionalSingle::compute};
  Input<double> in{this, &ConditionalSingle::store, out};

  ConditionalSingle() { in.set_announce_condition(&ConditionalSingle::announce); }

  bool announce_throws = false;
  std::function<void()> on_announce;

 private:
  double compute() const { return value_; }
  void store(double value) { value_ = value; }
  bool announce() {
    if (announce_throws) throw std::runtime_error("ConditionalSingle: announce condition failed");
    if (on_announce) std::exchange(on_announce, nullptr)();
    return true;
  }
  double value_ = 0.0;
};

// `in` → `out`: out = value + offset. Also serves as a source (set `in`).
class Copy {
 public:
  explicit Copy(double offset = 0.0) : offset_(offset) {}

  Output<double> out{this, &Copy::compute};
  Input<double> in{this, &Copy::store, out};

  double held() const { return value_; }

  std::atomic<int> setter_calls{0};
  mutable std::atomic<int> getter_calls{0};
  std::atomic<int> setter_failures{0};          // the next n setter calls throw
  mutable std::atomic<int> getter_failures{0};  // the next n getter calls throw
  std::function<void()> on_compute;             // runs inside the getter

 private:
  double compute() const {
    ++getter_calls;
    if (getter_failures > 0) {
      --getter_failures;
      throw std::runtime_error("Copy: getter failed");
    }
    const double result = value_ + offset_;
    if (on_compute) {
      // A copy: the hook may destroy this block, and with it on_compute.
      auto hook = on_compute;
      hook();
    }
    return result;
  }
  void store(double value) {
    ++setter_calls;
    if (setter_failures > 0) {
      --setter_failures;
      throw std::runtime_error("Copy: setter failed");
    }
    value_ = value;
  }

  double offset_;
  double value_ = 0.0;
};

// `in` (a multi-input) → `out`: the sum of all stored values.
class Sum {
 public:
  Output<double> out{this, &Sum::compute};
  MultiInput<double> in{this, &Sum::add, &Sum::remove, out};

  Sum() { in.set_replace(&Sum::replace); }

  mutable std::atomic<int> getter_calls{0};

 private:
  double compute() const {
    ++getter_calls;
    double total = 0.0;
    for (const auto& [id, value] : values_) total += value;
    return total;
  }
  std::size_t add(double value) {
    values_[next_id_] = value;
    return next_id_++;
  }
  void remove(std::size_t id) { values_.erase(id); }
  void replace(std::size_t id, double value) { values_[id] = value; }

  std::map<std::size_t, double> values_;
  std::size_t next_id_ = 0;
};

// `in` (a multi-input whose observer is the multi-output) → `out(key)`: the
// sum of the stored values times the key. A whole connection delivers the
// keys in `keys` (none unless a test sets them).
class Table {
 public:
  MultiOutput<double(int)> out{this, &Table::compute};
  MultiInput<double, int> in{this, &Table::add, &Table::remove, out};

  Table() {
    in.set_replace(&Table::replace);
    out.set_keys(&Table::list_keys);
  }

  std::vector<int> keys;
  mutable std::atomic<int> getter_calls{0};

 private:
  std::vector<int> list_keys() const { return keys; }
  double compute(int key) const {
    ++getter_calls;
    double total = 0.0;
    for (const auto& [id, value] : values_) total += value;
    return total * key;
  }
  int add(double value) {
    while (values_.contains(next_id_)) ++next_id_;
    values_[next_id_] = value;
    return next_id_++;
  }
  void remove(int id) { values_.erase(id); }
  void replace(int id, double value) { values_[id] = value; }

  std::map<int, double> values_;
  int next_id_ = 100;
};

// `in` (a single input whose observer is the multi-output) → `out(key)`:
// the value times the key.
class Scale {
 public:
  MultiOutput<double(int)> out{this, &Scale::compute};
  Input<double> in{this, &Scale::store, out};

 private:
  double compute(int key) const { return value_ * key; }
  void store(double value) { value_ = value; }

  double value_ = 0.0;
};

}  // namespace connectors::testing
