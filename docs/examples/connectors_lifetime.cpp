// docs/connectors.md — destroying an owner disconnects it.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>
#include <memory>

namespace {

class Block {
 public:
  connectors::Output<int> output{this, &Block::read};
  connectors::Input<int> input{this, &Block::write, output};

 private:
  int read() const { return value_; }
  void write(int value) { value_ = value; }
  int value_ = 0;
};
}  // namespace

int main() {
  // --- lifetime
  auto upstream = std::make_unique<Block>();
  Block downstream;
  downstream.input.connect(upstream->output);
  upstream->input(1);
  CHECK(downstream.output() == 1);
  upstream->input(2);               // downstream now waits for this change...
  upstream.reset();                 // ...which will never come: it is cancelled
  CHECK(downstream.output() == 1);  // the last value stays; nothing hangs
  CHECK(!downstream.input.is_connected());
  Block replacement;
  downstream.input.connect(replacement.output);  // the source slot is free again
  CHECK(downstream.output() == 0);
  // ---
  return failures == 0 ? 0 : 1;
}
