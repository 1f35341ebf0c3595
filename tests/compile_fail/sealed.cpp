// The connectors are sealed (docs/design.md#sealed-connectors): the protocol
// members of their nodes are not part of what users can call. This file must
// not compile: clang's -verify mode (tests/checks/CMakeLists.txt) checks that
// each line below is rejected with the error named, and that no other error
// appears. Each case would corrupt a network's bookkeeping if it compiled.
#include <connectors/connectors.hpp>

#include <cstddef>

// The directives stay on one line each (clang-format would wrap them).
// clang-format off
namespace {

struct Block {
  double get() const { return 0.0; }
  double get_key(int) const { return 0.0; }
  void set(double) {}
  std::size_t add(double) { return 0; }
  void remove(std::size_t) {}
};

void output_protocol(Block& block) {
  connectors::Output<double> out{&block, &Block::get};
  connectors::Input<double> in{&block, &Block::set};
  out.on_notify();  // expected-error {{'on_notify' is a private member of 'connectors::detail::OutputNode'}}
  out.on_announce();  // expected-error {{'on_announce' is a private member of 'connectors::detail::OutputNode'}}
  out.mark_changed();  // expected-error {{'mark_changed' is a private member of 'connectors::detail::OutputNode'}}
  // expected-error@+2 {{'add_connection' is a private member of 'connectors::detail::OutputNode'}}
  // expected-error@+1 {{cannot cast 'connectors::Input<double>' to its private base class 'connectors::detail::InputNode'}}
  out.add_connection(in, nullptr);
  (void)out.connections();  // expected-error {{'connections' is a private member of 'connectors::detail::OutputNode'}}
}

void input_protocol(Block& block) {
  connectors::Input<double> in{&block, &Block::set};
  in.notify_observers();  // expected-error {{'notify_observers' is a private member of 'connectors::detail::InputNode'}}
  in.cancel_observers();  // expected-error {{'cancel_observers' is a private member of 'connectors::detail::InputNode'}}
  (void)in.source();  // expected-error {{'source' is a private member of 'connectors::detail::InputNode'}}
}

void multi_connectors_protocol(Block& block) {
  connectors::MultiInput<double> mi{&block, &Block::add, &Block::remove};
  connectors::MultiOutput<double(int)> mo{&block, &Block::get_key};
  mi.notify_observers();  // expected-error {{'notify_observers' is a private member of 'connectors::detail::InputNode'}}
  mo.on_notify();  // expected-error {{'on_notify' is a private member of 'connectors::detail::OutputNode'}}
  (void)mo.items();  // expected-error {{'items' is a private member of 'connectors::detail::MultiOutputNode'}}
}

void node_behind_the_connector(Block& block) {
  connectors::Output<double> out{&block, &Block::get};
  connectors::Input<double> in{&block, &Block::set};
  // expected-error@+1 {{cannot cast 'connectors::Output<double>' to its private base class 'connectors::detail::OutputNode'}}
  [[maybe_unused]] connectors::detail::OutputNode& output_node = out;
  // expected-error@+1 {{cannot cast 'connectors::Input<double>' to its private base class 'connectors::detail::InputNode'}}
  [[maybe_unused]] connectors::detail::InputNode& input_node = in;
  (void)out.protocol_node();  // expected-error {{'protocol_node' is a private member of 'connectors::Output<double>'}}
}

}  // namespace
// clang-format on
