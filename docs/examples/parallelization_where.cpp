// docs/parallelization.md — where user methods run.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <memory>
#include <thread>

namespace {

using connectors::Parallelization;

// Records the thread each of its methods last ran on.
class Probe {
 public:
  connectors::Output<int> output{this, &Probe::read};
  connectors::Input<int> input{this, &Probe::write, output};
  std::thread::id getter_thread;
  std::thread::id setter_thread;

 private:
  int read() {
    getter_thread = std::this_thread::get_id();
    return value_;
  }
  void write(int value) {
    setter_thread = std::this_thread::get_id();
    value_ = value;
  }
  int value_ = 0;
};

// Adds two branches.
class Join {
 public:
  connectors::Output<int> sum{this, &Join::add};
  connectors::Input<int> left{this, &Join::set_left, sum};
  connectors::Input<int> right{this, &Join::set_right, sum};

 private:
  int add() const { return left_ + right_; }
  void set_left(int value) { left_ = value; }
  void set_right(int value) { right_ = value; }
  int left_ = 0;
  int right_ = 0;
};
}  // namespace

int main() {
  connectors::set_default_executor(connectors::executor(2, 0));
  const std::thread::id me = std::this_thread::get_id();

  {
    // --- a chain
    Probe a, b;
    b.input.connect(a.output);
    a.input(1);  // a direct call: the caller's thread
    CHECK(a.setter_thread == me);
    CHECK(b.output() == 1);
    CHECK(a.getter_thread == me);  // THREAD, but nothing could run beside it: work-first
    CHECK(b.getter_thread == me);
    CHECK(b.setter_thread == me);  // inputs are SEQUENTIAL: the coordinating thread
    // ---
  }
  {
    // --- branches
    Probe a, b;
    Join join;
    join.left.connect(a.output);
    join.right.connect(b.output);
    a.input(1);
    b.input(2);
    CHECK(join.sum() == 3);
    CHECK(a.getter_thread != me);  // two THREAD getters that can overlap: the pool
    CHECK(b.getter_thread != me);
    // ---
  }
  {
    // --- flags
    Probe a, b;
    Join join;
    join.left.connect(a.output);
    join.right.connect(b.output);
    b.output.set_parallelization(Parallelization::SEQUENTIAL);
    a.input(3);
    b.input(4);
    CHECK(join.sum() == 7);
    CHECK(a.getter_thread != me);  // THREAD, with b to run beside it: the pool
    CHECK(b.getter_thread == me);  // SEQUENTIAL: always the coordinating thread
    // ---
  }
  {
    // --- the starting connector's executor drives everything
    Probe a, b;
    Join join;
    join.left.connect(a.output);
    join.right.connect(b.output);
    join.sum.set_executor(std::make_shared<connectors::SequentialExecutor>());
    a.input(5);
    b.input(6);
    CHECK(join.sum() == 11);       // started by join.sum: sequential
    CHECK(a.getter_thread == me);  // although a.output and b.output use the default executor
    CHECK(b.getter_thread == me);
    // ---
  }
  connectors::set_default_executor(nullptr);
  return failures == 0 ? 0 : 1;
}
