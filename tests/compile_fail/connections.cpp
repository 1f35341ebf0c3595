// One connect and one disconnect join every source kind to every sink kind
// (docs/design.md#connector-kinds). This file must not compile: clang's
// -verify mode (tests/checks/CMakeLists.txt) checks that each mismatch below
// stops with exactly one error, the one named, and that no other error
// appears (notes, which explain the error, are not checked).
//
// A mismatch of kinds (a whole multi-output into a single input) fails the
// members' constraints: the error names the call, its notes the concept
// (connectors::Joinable) that does not hold. A mismatch of value types, of
// any pair of kinds, fails connectors::connect's one static_assert.
#include <connectors/connectors.hpp>

#include <cstddef>
#include <string>

// The directives stay on one line each (clang-format would wrap them).
// clang-format off
namespace {

struct Block {
  double get() const { return 0.0; }
  std::string get_text() const { return {}; }
  int get_int() const { return 0; }
  double get_key(int) const { return 0.0; }
  std::string get_key_text(int) const { return {}; }
  double get_key_of_text(const std::string&) const { return 0.0; }
  void set(double) {}
  void set_int(int) {}
  std::size_t add(double) { return 0; }
  void remove(std::size_t) {}
  void replace(std::size_t, double) {}
};

// ---- kinds that do not fit ------------------------------------------------------

void whole_multi_output_into_input(Block& block) {
  connectors::MultiOutput<double(int)> source{&block, &Block::get_key};
  connectors::Input<double> sink{&block, &Block::set};
  sink.connect(source);  // expected-error {{no matching member function for call to 'connect'}}
  source.connect(sink);  // expected-error {{no matching member function for call to 'connect'}}
  connectors::connect(source, sink);  // expected-error {{no matching function for call to 'connect'}}
}

void whole_multi_output_into_multi_input_item(Block& block) {
  connectors::MultiOutput<double(int)> source{&block, &Block::get_key};
  connectors::MultiInput<double> sink{&block, &Block::add, &Block::remove};
  sink[0].connect(source);  // expected-error {{no matching member function for call to 'connect'}}
  sink[0].disconnect(source);  // expected-error {{no matching member function for call to 'disconnect'}}
}

void whole_multi_output_into_macro_input(Block& block) {
  connectors::MultiOutput<double(int)> source{&block, &Block::get_key};
  connectors::Input<double> inner{&block, &Block::set};
  connectors::MacroInput<double> sink{inner};
  sink.connect(source);  // expected-error {{no matching member function for call to 'connect'}}
}

void source_into_source(Block& block) {
  connectors::Output<double> a{&block, &Block::get};
  connectors::Output<double> b{&block, &Block::get};
  a.connect(b);  // expected-error {{no matching member function for call to 'connect'}}
}

void sink_into_sink(Block& block) {
  connectors::Input<double> a{&block, &Block::set};
  connectors::Input<double> b{&block, &Block::set};
  a.connect(b);  // expected-error {{no matching member function for call to 'connect'}}
}

// ---- value types that do not fit ------------------------------------------------

void output_into_input(Block& block) {
  connectors::Output<std::string> source{&block, &Block::get_text};
  connectors::Input<double> sink{&block, &Block::set};
  // expected-error@connectors/connection.hpp:* {{connectors::connect: the source's value type does not convert to the sink's value type}}
  sink.connect(source);
}

void output_to_input(Block& block) {
  connectors::Output<std::string> source{&block, &Block::get_text};
  connectors::Input<int> sink{&block, &Block::set_int};
  // expected-error@connectors/connection.hpp:* {{connectors::connect: the source's value type does not convert to the sink's value type}}
  source.connect(sink);
}

void multi_output_item_into_multi_input_item(Block& block) {
  connectors::MultiOutput<std::string(int)> source{&block, &Block::get_key_text};
  connectors::MultiInput<double> sink{&block, &Block::add, &Block::remove};
  // expected-error@connectors/connection.hpp:* {{connectors::connect: the source's value type does not convert to the sink's value type}}
  sink[0].connect(source[1]);
}

void whole_multi_output_values(Block& block) {
  connectors::MultiOutput<std::string(int)> source{&block, &Block::get_key_text};
  connectors::MultiInput<double, int> sink{&block, &Block::add, &Block::remove};
  // expected-error@connectors/connection.hpp:* {{connectors::connect: the source's value type does not convert to the sink's value type}}
  sink.connect(source);
}

void whole_multi_output_keys(Block& block) {
  connectors::MultiOutput<double(std::string)> source{&block, &Block::get_key_of_text};
  connectors::MultiInput<double> sink{&block, &Block::add, &Block::remove};
  // expected-error@connectors/connection.hpp:* {{connectors::connect: the multi-output's key type does not convert to the multi-input's id type}}
  source.connect(sink);
}

void macro_output_into_input(Block& block) {
  connectors::Output<std::string> inner{&block, &Block::get_text};
  connectors::MacroOutput<std::string> source{inner};
  connectors::Input<double> sink{&block, &Block::set};
  // expected-error@connectors/connection.hpp:* {{connectors::connect: the source's value type does not convert to the sink's value type}}
  sink.connect(source);
}

void macro_input_takes_exactly_its_value_type(Block& block) {
  connectors::Input<double> inner{&block, &Block::set};
  connectors::MacroInput<double> sink{inner};
  connectors::Output<int> source{&block, &Block::get_int};
  // expected-error@connectors/connection.hpp:* {{connectors::connect: the source's value type does not convert to the sink's value type}}
  sink.connect(source);
}

void disconnect_mismatch(Block& block) {
  connectors::Output<std::string> source{&block, &Block::get_text};
  connectors::Input<double> sink{&block, &Block::set};
  // expected-error@connectors/connection.hpp:* {{connectors::disconnect: the source's value type does not convert to the sink's value type}}
  connectors::disconnect(source, sink);
}

}  // namespace
// clang-format on
