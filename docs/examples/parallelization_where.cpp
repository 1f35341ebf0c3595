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
}  // namespace

int main() {
  connectors::set_default_executor(connectors::executor(2, 0));
  const std::thread::id me = std::this_thread::get_id();

  {
    // --- defaults
    Probe a, b;
    b.input.connect(a.output);
    a.input(1);  // a direct call: the caller's thread
    CHECK(a.setter_thread == me);
    CHECK(b.output() == 1);
    CHECK(a.getter_thread != me);  // outputs are THREAD: a pool thread
    CHECK(b.getter_thread != me);
    CHECK(b.setter_thread == me);  // inputs are SEQUENTIAL: the coordinating thread
    // ---
  }
  {
    // --- flags
    Probe a, b;
    b.input.connect(a.output);
    a.output.set_parallelization(Parallelization::SEQUENTIAL);
    b.input.set_parallelization(Parallelization::THREAD);
    a.input(2);
    CHECK(b.output() == 2);
    CHECK(a.getter_thread == me);
    CHECK(b.setter_thread != me);
    b.input(3);  // direct calls ignore the flag
    CHECK(b.setter_thread == me);
    // ---
  }
  {
    // --- the starting connector's executor drives everything
    Probe a, b;
    b.input.connect(a.output);
    b.output.set_executor(std::make_shared<connectors::SequentialExecutor>());
    a.input(4);
    CHECK(b.output() == 4);        // started by b.output: sequential
    CHECK(a.getter_thread == me);  // although a.output uses the default executor
    CHECK(b.getter_thread == me);
    a.input(5);
    CHECK(a.output() == 5);  // started by a.output: its own (threading) executor
    CHECK(a.getter_thread != me);
    // ---
  }
  connectors::set_default_executor(nullptr);
  return failures == 0 ? 0 : 1;
}
