// Tutorial: the multiplexer (the original's demos D6 and D7,
// docs/design.md#tutorials; docs/blocks.md). A Multiplexer routes one of
// its inputs to its output; which one, a selector decides. Values arrive under
// keys — `input[key]` is a virtual single input of the multi-input — and a
// change of an input that is not selected does not trigger any work
// downstream: its notify condition cancels the change instead.
#include <connectors/connectors.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

using connectors::blocks::Multiplexer;
using connectors::blocks::PassThrough;

// Prints what it receives. ON_ANNOUNCE: it pulls by itself whenever a change
// upstream is announced by a direct call.
class Tester {
 public:
  Tester() { input.set_laziness(connectors::Laziness::ON_ANNOUNCE); }
  connectors::Input<std::optional<std::string>> input{this, &Tester::receive};
  std::vector<std::string> received;

 private:
  void receive(const std::optional<std::string>& value) {
    std::printf("  Tester received value: '%s'\n", value.value_or("<nothing>").c_str());
    received.push_back(value.value_or(""));
  }
};

int main(int argc, char** argv) {
  bool ok = true;

  std::printf("Direct calls:\n");
  Multiplexer<std::string, std::string> m;
  m.input["key 1"]("value 1");
  m.input["key 2"]("value 2");
  m.select("key 2");
  std::printf("  output: '%s'\n", m.output().value_or("<nothing>").c_str());
  ok = ok && m.output() == "value 2";
  const std::string id = m.input.replace("key 1", "value 1");  // returns the key the value is under
  ok = ok && id == "key 1";

  std::printf("Generated keys (an integral Key):\n");
  Multiplexer<std::string> numbered;
  numbered.input("value 1");
  const std::size_t second = numbered.input("value 2");
  numbered.select(second);
  std::printf("  output: '%s'\n", numbered.output().value_or("<nothing>").c_str());
  ok = ok && numbered.output() == "value 2";

  std::printf("A connected data source:\n");
  PassThrough<std::string> source{"value 3 (value from the data source)"};
  m.input["key 3"].connect(source.output);
  m.select("key 3");
  std::printf("  output: '%s'\n", m.output().value_or("<nothing>").c_str());
  ok = ok && m.output() == "value 3 (value from the data source)";

  std::printf("Only the selected input reaches downstream:\n");
  Multiplexer<std::string, int> mux;
  PassThrough<std::string> source1{"value 1"}, source2{"value 2"};
  mux.input[1].connect(source1.output);
  mux.input[2].connect(source2.output);
  Tester tester;
  mux.output.connect(tester.input);  // connecting prints nothing
  std::printf(" select(1):\n");
  mux.select(1);
  std::printf(" source1.input(\"new value 1\"):\n");
  source1.input("new value 1");
  std::printf(" source2.input(\"new value 2\"): (not selected, nothing runs)\n");
  source2.input("new value 2");
  ok = ok && tester.received == std::vector<std::string>{"value 1", "new value 1"};
  // The network's picture (docs/observability.md), if a path is given.
  if (argc > 1) connectors::write_svg(argv[1], mux.output);
  return ok ? 0 : 1;
}
