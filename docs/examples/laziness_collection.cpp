// docs/laziness-and-caching.md — only the most downstream non-lazy inputs pull;
// a non-lazy input runs its setter, not its observers' getters.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <cstdio>

namespace {

class Block {
 public:
  connectors::Output<int> output{this, &Block::read};
  connectors::Input<int> input{this, &Block::write, output};
  int reads = 0;
  int writes = 0;

 private:
  int read() {
    ++reads;
    return value_ + 1;
  }
  void write(int value) {
    ++writes;
    value_ = value;
  }
  int value_ = 0;
};
}  // namespace

int main() {
  // --- the non-lazy collection
  Block a, b, c;
  b.input.connect(a.output);
  c.input.connect(b.output);
  b.input.set_laziness(connectors::Laziness::ON_ANNOUNCE);
  c.input.set_laziness(connectors::Laziness::ON_ANNOUNCE);
  a.input(10);
  // c is the most downstream non-lazy input: its pull ran b's setter and getter.
  CHECK(b.writes == 1 && b.reads == 1 && c.writes == 1);
  CHECK(c.reads == 0);  // c's own getter waits for a request
  CHECK(c.output() == 13);
  // ---
  return failures == 0 ? 0 : 1;
}
