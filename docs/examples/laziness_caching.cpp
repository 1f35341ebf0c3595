// docs/laziness-and-caching.md — caching on and off, and cancellations.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace {

class Source {
 public:
  connectors::Output<int> output{this, &Source::read};
  connectors::Input<int> input{this, &Source::write, output};
  int reads = 0;

 private:
  int read() {
    ++reads;
    return value_;
  }
  void write(int value) { value_ = value; }
  int value_ = 0;
};

// Two inputs; y only counts when it changes the clamped state.
class Pair {
 public:
  Pair() { y.set_notify_condition(&Pair::changed); }

  connectors::Output<int> sum{this, &Pair::add};
  connectors::Input<int> x{this, &Pair::set_x, sum};
  connectors::Input<int> y{this, &Pair::set_y, sum};
  int reads = 0;

 private:
  int add() {
    ++reads;
    return x_ + y_;
  }
  void set_x(int value) { x_ = value; }
  void set_y(int value) {
    const int clamped = std::clamp(value, 0, 10);
    changed_ = clamped != y_;
    y_ = clamped;
  }
  bool changed(const int&) const { return changed_; }
  int x_ = 0;
  int y_ = 0;
  bool changed_ = false;
};
}  // namespace

int main() {
  {
    // --- caching on and off
    Source source;
    Source a, b;
    a.input.connect(source.output);
    b.input.connect(source.output);
    source.input(1);
    CHECK(a.output() == 1 && b.output() == 1);
    CHECK(source.reads == 1);  // one computation fed both connections
    CHECK(source.output() == 1);
    CHECK(source.reads == 1);  // cached

    source.output.set_caching(false);
    CHECK(source.output() == 1);
    CHECK(source.output() == 1);
    CHECK(source.reads == 3);  // every call runs the getter again
    // ---
  }
  {
    // --- a cancel does not hide another change
    // pair.sum = x + y; pair.y clamps to [0, 10] and counts only real changes
    Source upstream;
    Pair pair;
    Source downstream;
    pair.y.connect(upstream.output);
    downstream.input.connect(pair.sum);
    upstream.input(10);
    CHECK(downstream.output() == 10);
    pair.x(1);                         // a real change of pair.sum
    upstream.input(20);                // y clamps to 10 again: cancelled
    CHECK(downstream.output() == 11);  // still recomputed, because of x
    CHECK(pair.reads == 2);
    // ---
  }
  {
    // --- a new connection receives the cached value after a cancel
    Source upstream;
    Pair pair;
    pair.y.connect(upstream.output);
    upstream.input(10);
    CHECK(pair.sum() == 10);
    Source late;
    late.input.connect(pair.sum);  // connected while pair.sum is valid
    upstream.input(30);            // y clamps to 10 again: cancelled
    CHECK(late.output() == 10);    // got pair.sum's cached value
    CHECK(pair.reads == 1);
    // ---
  }
  return failures == 0 ? 0 : 1;
}
