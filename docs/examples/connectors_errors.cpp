// docs/connectors.md — exceptions from user methods.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <stdexcept>

namespace {

// --- a flaky block
class Flaky {
 public:
  connectors::Output<int> output{this, &Flaky::read};
  connectors::Input<int> input{this, &Flaky::write, output};
  int fail_reads = 0;

 private:
  int read() {
    if (fail_reads > 0) {
      --fail_reads;
      throw std::runtime_error("read failed");
    }
    return value_;
  }
  void write(int value) {
    if (value < 0) throw std::domain_error("negative");
    value_ = value;
  }
  int value_ = 0;
};
// ---
}  // namespace

int main() {
  // --- errors
  Flaky source, sink;
  sink.input.connect(source.output);
  source.input(1);
  source.fail_reads = 1;
  bool caught = false;
  try {
    sink.output();
  } catch (const std::runtime_error&) {  // the getter's exception, unchanged
    caught = true;
  }
  CHECK(caught);
  CHECK(sink.output() == 1);  // the next request retries

  caught = false;
  try {
    source.input(-5);  // a setter that throws in a direct call
  } catch (const std::domain_error&) {
    caught = true;
  }
  CHECK(caught);
  CHECK(sink.output() == 1);  // the announced change was cancelled
  // ---
  return failures == 0 ? 0 : 1;
}
