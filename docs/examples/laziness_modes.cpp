// docs/laziness-and-caching.md — when each laziness pulls by itself.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <array>
#include <cstdio>

namespace {

using connectors::Laziness;

class Source {
 public:
  connectors::Output<int> output{this, &Source::read};
  connectors::Input<int> input{this, &Source::write, output};

 private:
  int read() const { return value_; }
  void write(int value) { value_ = value; }
  int value_ = 0;
};

class Sink {  // an input without observers
 public:
  connectors::Input<int> input{this, &Sink::write};
  int runs = 0;

 private:
  void write(int) { ++runs; }
};

// How often the sink's setter has run after: connecting, a direct call
// upstream, and a pull of the source by someone else.
std::array<int, 3> runs_with(Laziness laziness) {
  Source source;
  Sink sink;
  sink.input.set_laziness(laziness);
  std::array<int, 3> runs{};
  sink.input.connect(source.output);
  runs[0] = sink.runs;
  source.input(1);
  runs[1] = sink.runs;
  source.output();  // if stale: computes and pushes to all connections
  runs[2] = sink.runs;
  return runs;
}
}  // namespace

int main() {
  // --- laziness
  CHECK((runs_with(Laziness::ON_REQUEST) == std::array{0, 0, 0}));   // never by itself
  CHECK((runs_with(Laziness::ON_NOTIFY) == std::array{0, 0, 1}));    // when a value is pushed
  CHECK((runs_with(Laziness::ON_ANNOUNCE) == std::array{0, 1, 1}));  // on a change upstream
  CHECK((runs_with(Laziness::ON_CONNECT) == std::array{1, 2, 2}));   // ... and on connecting
  // ---

  // --- a cached value pushed again
  Source source;
  Sink on_notify;
  on_notify.input.set_laziness(Laziness::ON_NOTIFY);
  on_notify.input.connect(source.output);
  source.input(1);
  source.output();  // computes and pushes: the ON_NOTIFY setter runs
  CHECK(on_notify.runs == 1);
  Source late;
  late.input.connect(source.output);
  CHECK(late.output() == 1);   // served from source's cache, pushed to the new connection only
  CHECK(on_notify.runs == 1);  // the ON_NOTIFY setter does not run again for the same value
  // ---
  return failures == 0 ? 0 : 1;
}
