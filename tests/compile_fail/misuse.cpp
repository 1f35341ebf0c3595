// Every static_assert a user can hit in the public headers, each misused once.
// This file must not compile: clang's -verify mode (tests/compile_fail/
// CMakeLists.txt) checks that each case below fires its static_assert, in
// the header named, with its message, and that no other error appears. One
// compile covers all cases, since parsing the headers is most of the cost.
//
// A directive `expected-error@<header>:*` matches one error of that header on
// any line: line numbers change as the headers are edited, the messages are
// what users read. Several static_asserts share a message (the overloads of
// one operation); then each case names which one it reaches in its comment.
//
// Not covered, because user code cannot reach them: detail/process_call.hpp
// (the platform's layout of function pointers and member function pointers),
// detail/compact_vector.hpp (internal element types), ErasedMember in
// detail/member.hpp (the connector constructors accept only member function
// pointers through their requires-clauses before it sees them). The value and key
// mismatches of connect and disconnect, for every pair of connector kinds,
// are one static_assert in connection.hpp: tests/compile_fail/connections.cpp
// checks it, and that it is the only error.
#include <connectors/connectors.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

// The directives stay on one line each (clang-format would wrap them).
// clang-format off
namespace {

struct NoEquality {};
struct NoHash {
  bool operator==(const NoHash&) const = default;
};
struct ThrowingMoveId {
  ThrowingMoveId() = default;
  ThrowingMoveId(ThrowingMoveId&&) {}
  ThrowingMoveId& operator=(ThrowingMoveId&&) { return *this; }
  bool operator==(const ThrowingMoveId&) const = default;
};

// The owner of every connector below; each case uses the members it misuses.
struct Block {
  double get() const { return 0.0; }
  std::string get_text() const { return {}; }
  double get_with_argument(int) const { return 0.0; }
  double get_key(int) const { return 0.0; }
  std::string get_key_text(int) const { return {}; }
  double get_without_key() const { return 0.0; }
  double get_key_of_text(const std::string&) const { return 0.0; }
  void set(double) {}
  void set_text(const std::string&) {}
  std::size_t add(double) { return 0; }
  std::size_t add_text(const std::string&) { return 0; }
  void add_void(double) {}
  void remove(const std::size_t&) {}
  void remove_text(const std::string&) {}
  void replace_value_only(double) {}
  std::string replace_text_result(const std::size_t&, double) { return {}; }
  std::vector<int> keys() const { return {}; }
  int keys_not_a_range() const { return 0; }
  std::vector<std::string> keys_of_text() const { return {}; }
  double get_from_rvalue() && { return 0.0; }
  int condition_not_bool() const { return 0; }
  bool condition_of_text(const std::string&) const { return true; }
};

// ---- output.hpp ----------------------------------------------------------------

void output_const_value() {
  // expected-error@connectors/output.hpp:* {{connectors::Output<R>: R must be a non-const value type}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::Output<const double>);
}

void output_not_copyable() {
  // expected-error@connectors/output.hpp:* {{connectors::Output<R>: R must be copyable}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::Output<std::unique_ptr<int>>);
}

void output_getter_with_argument(Block& block) {
  // expected-error@connectors/output.hpp:* {{connectors::Output: the getter must take no arguments}}
  connectors::Output<double> output{&block, &Block::get_with_argument};
}

void output_getter_result(Block& block) {
  // expected-error@connectors/output.hpp:* {{connectors::Output<R>: the getter's result must convert to R}}
  connectors::Output<double> output{&block, &Block::get_text};
}

// ---- input.hpp -----------------------------------------------------------------

void input_const_value() {
  // expected-error@connectors/input.hpp:* {{connectors::Input<V>: V must be a non-const value type}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::Input<const double>);
}

void input_setter_argument(Block& block) {
  // expected-error@connectors/input.hpp:* {{connectors::Input<V>: the setter must take one V}}
  connectors::Input<double> input{&block, &Block::set_text};
}

void input_observer_not_output(Block& block) {
  connectors::Input<double> other{&block, &Block::set};
  // expected-error@connectors/input.hpp:* {{connectors::Input: observers must be output connectors of the same owner}}
  connectors::Input<double> input{&block, &Block::set, other};
}

void input_announce_condition_signature(connectors::Input<double>& input) {
  // expected-error@connectors/input.hpp:* {{connectors::Input::set_announce_condition: the condition must be bool() [const] of the owner}}
  input.set_announce_condition(&Block::get_with_argument);
}

void input_notify_condition_signature(connectors::Input<double>& input) {
  // expected-error@connectors/input.hpp:* {{connectors::Input::set_notify_condition: the condition must be bool(const V&) [const] of the owner}}
  input.set_notify_condition(&Block::condition_of_text);
}

// ---- detail/member.hpp ---------------------------------------------------------

void output_getter_for_rvalues(Block& block) {
  // expected-error@connectors/detail/member.hpp:* {{connectors: a method qualified && cannot be a connector's method: the owner it runs on is an lvalue}}
  connectors::Output<double> output{&block, &Block::get_from_rvalue};
}

// ---- multi_input.hpp -----------------------------------------------------------

void multi_input_const_value() {
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput<V, Id>: V must be a non-const value type}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiInput<const double>);
}

void multi_input_id_without_equality() {
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput<V, Id>: Id needs ==}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiInput<double, NoEquality>);
}

void multi_input_id_with_a_throwing_move() {
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput<V, Id>: Id needs a move that does not throw (it records an id the owner returned, after the owner's method stored the value)}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiInput<double, ThrowingMoveId>);
}

void multi_input_add_argument(Block& block) {
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput<V, Id>: add must take one V}}
  connectors::MultiInput<double> input{&block, &Block::add_text, &Block::remove};
}

void multi_input_add_result(Block& block) {
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput<V, Id>: add must return the new data id}}
  connectors::MultiInput<double> input{&block, &Block::add_void, &Block::remove};
}

void multi_input_remove_argument(Block& block) {
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput<V, Id>: remove must take one Id}}
  connectors::MultiInput<double> input{&block, &Block::add, &Block::remove_text};
}

void multi_input_observer_not_output(Block& block) {
  connectors::Input<double> other{&block, &Block::set};
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput: observers must be output connectors}}
  connectors::MultiInput<double> input{&block, &Block::add, &Block::remove, other};
}

void multi_input_replace_arguments(Block& block) {
  connectors::MultiInput<double> input{&block, &Block::add, &Block::remove};
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput<V, Id>::set_replace: replace must take (Id, V)}}
  input.set_replace<Block>(&Block::replace_value_only);
}

void multi_input_replace_result(Block& block) {
  connectors::MultiInput<double> input{&block, &Block::add, &Block::remove};
  // expected-error@connectors/multi_input.hpp:* {{set_replace: replace must return the data id (an Id) or void}}
  input.set_replace<Block>(&Block::replace_text_result);
}

void multi_input_announce_condition_signature(connectors::MultiInput<double>& input) {
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput::set_announce_condition: the condition must be bool(const Id&) [const] of the owner}}
  input.set_announce_condition(&Block::condition_of_text);
}

void multi_input_notify_condition_signature(connectors::MultiInput<double>& input) {
  // expected-error@connectors/multi_input.hpp:* {{connectors::MultiInput::set_notify_condition: the condition must be bool(const Id&, const std::optional<V>&) [const] of the owner}}
  input.set_notify_condition(&Block::condition_not_bool);
}

// ---- multi_input_data.hpp ------------------------------------------------------

void multi_input_data_id_without_hash() {
  // expected-error@connectors/multi_input_data.hpp:* {{connectors::MultiInputData<V, Id>: Id needs std::hash<Id> (specialise it for your type) and ==}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiInputData<double, NoHash>);
}

// ---- multi_output.hpp ----------------------------------------------------------

void multi_output_without_signature() {
  // expected-error@connectors/multi_output.hpp:* {{connectors::MultiOutput: write MultiOutput<R(Key)>}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiOutput<double>);
}

void multi_output_reference_value() {
  // expected-error@connectors/multi_output.hpp:* {{connectors::MultiOutput<R(Key)>: R must be a non-const value type}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiOutput<double&(int)>);
}

void multi_output_not_copyable() {
  // expected-error@connectors/multi_output.hpp:* {{connectors::MultiOutput<R(Key)>: R must be copyable}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiOutput<std::unique_ptr<int>(int)>);
}

void multi_output_reference_key() {
  // expected-error@connectors/multi_output.hpp:* {{connectors::MultiOutput<R(Key)>: Key must be a non-const value type}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiOutput<double(int&)>);
}

void multi_output_key_without_equality() {
  // expected-error@connectors/multi_output.hpp:* {{connectors::MultiOutput<R(Key)>: Key needs ==}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiOutput<double(NoEquality)>);
}

void multi_output_key_without_hash() {
  // expected-error@connectors/multi_output.hpp:* {{connectors::MultiOutput<R(Key)>: Key needs std::hash<Key> (specialise it for your type)}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::MultiOutput<double(NoHash)>);
}

void multi_output_getter_without_key(Block& block) {
  // expected-error@connectors/multi_output.hpp:* {{connectors::MultiOutput<R(Key)>: the getter must take one Key}}
  connectors::MultiOutput<double(int)> output{&block, &Block::get_without_key};
}

void multi_output_getter_result(Block& block) {
  // expected-error@connectors/multi_output.hpp:* {{connectors::MultiOutput<R(Key)>: the getter's result must convert to R}}
  connectors::MultiOutput<double(int)> output{&block, &Block::get_key_text};
}

void multi_output_keys_not_a_range(Block& block) {
  connectors::MultiOutput<double(int)> output{&block, &Block::get_key};
  // expected-error@connectors/multi_output.hpp:* {{set_keys: keys() must return a range of values convertible to Key}}
  output.set_keys<Block>(&Block::keys_not_a_range);
}

void multi_output_keys_of_other_type(Block& block) {
  connectors::MultiOutput<double(int)> output{&block, &Block::get_key};
  // expected-error@connectors/multi_output.hpp:* {{set_keys: keys() must return a range of values convertible to Key}}
  output.set_keys<Block>(&Block::keys_of_text);
}

// ---- macro.hpp -----------------------------------------------------------------

void macro_input_export_input(Block& block) {
  connectors::Input<double> inner{&block, &Block::set};
  // MacroInput::add(Sink&&), an Input:
  // expected-error@connectors/macro.hpp:* {{connectors::MacroInput<V>: an exported input does not accept V}}
  connectors::MacroInput<std::string> input{inner};
}

void macro_input_export_multi_input(Block& block) {
  connectors::MultiInput<double> inner{&block, &Block::add, &Block::remove};
  // MacroInput::add(Sink&&), a MultiInput:
  // expected-error@connectors/macro.hpp:* {{connectors::MacroInput<V>: an exported input does not accept V}}
  connectors::MacroInput<std::string> input{inner};
}

void macro_input_export_multi_input_item(Block& block) {
  connectors::MultiInput<double> inner{&block, &Block::add, &Block::remove};
  // MacroInput::add(Sink&&), mi[id]:
  // expected-error@connectors/macro.hpp:* {{connectors::MacroInput<V>: an exported input does not accept V}}
  connectors::MacroInput<std::string> input{inner[0]};
}

void macro_input_export_output(Block& block) {
  connectors::Output<double> inner{&block, &Block::get};
  // MacroInput::add(Sink&&):
  // expected-error@connectors/macro.hpp:* {{connectors::MacroInput<V>: it exports inputs: Input, MultiInput, mi[id] or MacroInput}}
  connectors::MacroInput<double> input{inner};
}

void macro_input_nested_other_value(Block& block) {
  connectors::Input<double> inner{&block, &Block::set};
  connectors::MacroInput<double> nested{inner};
  // expected-error@connectors/macro.hpp:* {{connectors::MacroInput<V>: a nested MacroInput must have the same V}}
  connectors::MacroInput<float> input{nested};
}

void macro_output_export_output(Block& block) {
  connectors::Output<std::string> inner{&block, &Block::get_text};
  // MacroOutput(Source&&), an Output:
  // expected-error@connectors/macro.hpp:* {{connectors::MacroOutput<R>: the exported output's value must convert to R}}
  connectors::MacroOutput<double> output{inner};
}

void macro_output_export_multi_output_item(Block& block) {
  connectors::MultiOutput<std::string(int)> inner{&block, &Block::get_key_text};
  // MacroOutput(Source&&), mo[key]:
  // expected-error@connectors/macro.hpp:* {{connectors::MacroOutput<R>: the exported output's value must convert to R}}
  connectors::MacroOutput<double> output{inner[1]};
}

void macro_output_export_macro_output(Block& block) {
  connectors::Output<std::string> inner{&block, &Block::get_text};
  connectors::MacroOutput<std::string> nested{inner};
  // MacroOutput(Source&&), a MacroOutput:
  // expected-error@connectors/macro.hpp:* {{connectors::MacroOutput<R>: the exported output's value must convert to R}}
  connectors::MacroOutput<double> output{nested};
}

// ---- task.hpp ------------------------------------------------------------------

void task_of_reference() {
  // expected-error@connectors/task.hpp:* {{connectors::Task<T>: T must not be a reference; return a value}}
  [[maybe_unused]] std::size_t size = sizeof(connectors::Task<int&>);
}

}  // namespace
// clang-format on
