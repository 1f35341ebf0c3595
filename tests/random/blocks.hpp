#pragma once

// The processing classes the random networks are built from. Their methods
// count their runs (for the laziness checks) and throw on chosen values (a
// setter given `poison`, a getter whose fail input is set). Owners are
// default-constructible and cereal-serializable so that their getters can run
// in worker processes; what a worker computes is not counted.

#include "operations.hpp"

#include <connectors/connectors.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <stdexcept>
#include <utility>
#include <vector>

namespace connectors::random_test {

struct InjectedFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs of user methods in this process: all of them, and per getter slot
// (a block's slot times 8 plus a key index).
struct Stats {
  static constexpr int slots = 8192;
  std::atomic<long> calls{0};
  std::array<std::atomic<int>, slots> getter_runs{};
  std::array<std::atomic<int>, slots> setter_runs{};  // a block's slot times 8 plus the input's index

  void count(int slot) {
    ++calls;
    if (slot >= 0 && slot < slots) ++getter_runs[slot];
  }
  void count_setter(int slot) {
    ++calls;
    if (slot >= 0 && slot < slots) ++setter_runs[slot];
  }
  void reset_getters() {
    for (auto& runs : getter_runs) runs = 0;
  }
  void reset_setters() {
    for (auto& runs : setter_runs) runs = 0;
  }
};

// Counts through a pointer that never travels to a worker (it stays null there).
class Counted {
 public:
  void attach(Stats* stats, int slot) {
    stats_ = stats;
    slot_ = slot;
  }

 protected:
  void tally(int key_index = 0) const {
    if (stats_ != nullptr) stats_->count(slot_ * 8 + key_index);
  }
  void tally_setter(int input = 0) const {
    if (stats_ != nullptr) stats_->count_setter(slot_ * 8 + input);
  }

 private:
  Stats* stats_ = nullptr;
  int slot_ = -1;
};

// out = a*x + c (mod modulus); while `fail` holds 1 the getter throws, while
// it holds 2 the setter of `in` does (so it fails inside a request), while it
// holds 3 or 4 the getter calls into its own network (a call, a connect).
class Unary : public Counted {
 public:
  Unary() = default;
  Unary(const Unary&) = delete;
  Unary& operator=(const Unary&) = delete;
  void configure(long a, long c) {
    a_ = a;
    c_ = c;
  }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(a_, c_, x_, fail_);
  }

  Output<long> out{this, &Unary::compute};
  Input<long> in{this, &Unary::store, out};
  Input<long> fail{this, &Unary::store_fail, out};

 private:
  long compute() {
    tally();
    if (fail_ == 1) throw InjectedFailure{"injected getter failure"};
    // Operations from inside the network being computed: the library must
    // refuse them with std::logic_error (which then leaves the getter).
    if (fail_ == 3) fail(3);
    if (fail_ == 4) out.connect(fail);
    return (a_ * x_ + c_) % modulus;
  }
  void store(long value) {
    tally_setter();
    // (Only on a real change: whether an unchanged value is applied again is open.)
    if (value == poison || (fail_ == 2 && value != x_)) throw InjectedFailure{"injected setter failure"};
    x_ = value;
  }
  void store_fail(long value) {
    tally_setter(1);
    fail_ = value;
  }

  long a_ = 1, c_ = 0, x_ = 0, fail_ = 0;
};

// out = sum of the stored values + 7 * their number (mod modulus): order does
// not matter, a lost or duplicated value does. While `fail` holds 1 the getter
// throws, while it holds 2 add and replace do (on a change).
class Sum : public Counted {
 public:
  Sum() = default;
  Sum(const Sum&) = delete;
  Sum& operator=(const Sum&) = delete;
  void configure(bool with_replace) {
    if (with_replace) in.set_replace(&Sum::replace);
  }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(data_, counter_, fail_);
  }

  Output<long> out{this, &Sum::compute};
  MultiInput<long, long> in{this, &Sum::add, &Sum::remove, out};
  Input<long> fail{this, &Sum::store_fail, out};

 private:
  auto find(long id) {
    return std::find_if(data_.begin(), data_.end(), [id](const auto& entry) { return entry.first == id; });
  }
  long compute() const {
    tally();
    if (fail_ == 1) throw InjectedFailure{"injected getter failure"};
    long sum = 0;
    for (const auto& entry : data_) sum = (sum + entry.second) % modulus;
    return (sum + 7 * static_cast<long>(data_.size())) % modulus;
  }
  long add(long value) {
    tally_setter();
    if (fail_ == 2) throw InjectedFailure{"injected setter failure"};
    while (find(counter_) != data_.end()) ++counter_;
    data_.emplace_back(counter_, value);
    return counter_;
  }
  void remove(long id) {
    tally_setter();
    auto found = find(id);
    // The library must remove only what it stored.
    if (found == data_.end()) throw std::logic_error("Sum::remove of an id that holds nothing");
    data_.erase(found);
  }
  void replace(long id, long value) {
    tally_setter();
    auto found = find(id);
    if (fail_ == 2 && (found == data_.end() || found->second != value))
      throw InjectedFailure{"injected setter failure"};
    if (found == data_.end())
      data_.emplace_back(id, value);
    else
      found->second = value;
  }

  void store_fail(long value) {
    tally_setter(1);
    fail_ = value;
  }

  std::vector<std::pair<long, long>> data_;
  long counter_ = 0;
  long fail_ = 0;
};

// out(k) = base*(k%1000 + 2) + k; a whole connection delivers the keys
// key0 .. key0 + keys_delivered(count) - 1. While `fail` holds 1 the getter
// throws, while it holds 2 the setter of `base` does (on a change). Getter
// runs are counted for the first 8 keys (those mo[k] connects to among them).
class Keyed : public Counted {
 public:
  Keyed() { out.set_keys(&Keyed::keys); }
  Keyed(const Keyed&) = delete;
  Keyed& operator=(const Keyed&) = delete;
  void configure(long key0) { key0_ = key0; }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(base_, count_, key0_, fail_);
  }

  MultiOutput<long(long)> out{this, &Keyed::compute};
  Input<long> base{this, &Keyed::store_base, out};
  Input<long> count{this, &Keyed::store_count, out};
  Input<long> fail{this, &Keyed::store_fail, out};

 private:
  long compute(long key) const {
    if (key - key0_ >= 0 && key - key0_ < 8) tally(static_cast<int>(key - key0_));
    if (fail_ == 1) throw InjectedFailure{"injected getter failure"};
    return (base_ * (key % 1000 + 2) + key) % modulus;
  }
  std::vector<long> keys() const {
    std::vector<long> result;
    for (long k = 0; k < keys_delivered(count_); ++k) result.push_back(key0_ + k);
    return result;
  }
  void store_base(long value) {
    tally_setter();
    if (fail_ == 2 && value != base_) throw InjectedFailure{"injected setter failure"};
    base_ = value;
  }
  void store_count(long value) {
    tally_setter(1);
    count_ = value;
  }

  void store_fail(long value) {
    tally_setter(2);
    fail_ = value;
  }

  long base_ = 0, count_ = 0, key0_ = 0, fail_ = 0;
};

// A macro: one input feeding two unary blocks, their sum as the output.
class Chain {
 public:
  Chain() = default;
  Chain(const Chain&) = delete;
  Chain& operator=(const Chain&) = delete;
  // The model names the second block's parameters the same way.
  void configure(long a, long c) {
    u1.configure(a, c);
    u2.configure((a * 3) % (modulus - 1) + 1, c + 1);
    s.configure(true);
  }
  void wire() {
    s.in.connect(u1.out);
    s.in.connect(u2.out);
  }

  Unary u1, u2;
  Sum s;
  MacroInput<long> in{u1.in, u2.in};
  MacroOutput<long> out{s.out};
};

}  // namespace connectors::random_test
