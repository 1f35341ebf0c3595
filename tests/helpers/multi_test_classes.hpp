#pragma once

// The processing classes of the original tests (docs/design.md#test-helpers) with multi-inputs,
// multi-outputs and macros.

#include "test_classes.hpp"

#include <connectors/connectors.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

namespace connectors::testing {

// Insertion-ordered storage with the original's id counter (docs/design.md#multi-input), for
// ids of any Value.
class ValueStore {
 public:
  Value add(const Value& value) {
    while (data_.contains(Value(counter_))) ++counter_;
    data_[Value(counter_)] = value;
    return Value(counter_);
  }
  void set(const Value& id, const Value& value) { data_[id] = value; }
  void erase(const Value& id) { data_.erase(id); }
  Value values() const {
    Value::List list;
    for (const auto& [id, value] : data_) list.push_back(value);
    return Value{list};
  }
  Value truths() const {
    Value::List list;
    for (const auto& [id, value] : data_) list.emplace_back(static_cast<bool>(value));
    return Value{list};
  }

 private:
  MultiInputData<Value, Value> data_;
  int counter_ = 0;
};

// The storage and the logged companions (add, remove, replace) that the
// multi-input test classes share; replace returns the id.
class LoggedStore : public Logged {
 public:
  using Logged::Logged;

  LoggedStore& remove_value(const Value& id) {
    store_.erase(id);
    log(*this, "remove_value", {id}, Value::object(*this));
    return *this;
  }
  Value replace_value(const Value& id, const Value& value) {
    store_.set(id, value);
    log(*this, "replace_value", {id, value}, id);
    return id;
  }

 protected:
  Value add(const Value& value) {
    Value id = store_.add(value);
    log(*this, "add_value", {value}, id);
    return id;
  }
  Value read() const {
    Value result = store_.values();
    log(*this, "get_values", {}, result);
    return result;
  }
  Value truths() const {
    Value result = store_.truths();
    log(*this, "get_bools", {}, result);
    return result;
  }

  ValueStore store_;
};

// Without replace: an update removes and adds again (docs/design.md#multi-input).
class NonReplacingMultiInput : public LoggedStore {
 public:
  explicit NonReplacingMultiInput(CallLogger* logger = nullptr) : LoggedStore(logger) {}

  Output<Value> get_values{this, &NonReplacingMultiInput::read};
  MultiInput<Value, Value> add_value{this, &NonReplacingMultiInput::add, &NonReplacingMultiInput::remove_value,
                                     get_values};
};

class ReplacingMultiInput : public NonReplacingMultiInput {
 public:
  explicit ReplacingMultiInput(CallLogger* logger = nullptr) : NonReplacingMultiInput(logger) {
    add_value.set_replace(&ReplacingMultiInput::replace_value);
  }

  template <class Archive>
  void serialize(Archive&) {}
};

// Sinks: inputs without observers that pull on announcements.
class NonLazyMultiInputs : public LoggedStore {
 public:
  explicit NonLazyMultiInputs(CallLogger* logger = nullptr) : LoggedStore(logger) {
    set_value.set_laziness(Laziness::ON_ANNOUNCE);
    add_value.set_laziness(Laziness::ON_ANNOUNCE);
    add_value.set_replace(&NonLazyMultiInputs::replace_value);
  }

  Input<Value> set_value{this, &NonLazyMultiInputs::write};
  MultiInput<Value, Value> add_value{this, &NonLazyMultiInputs::add, &NonLazyMultiInputs::remove_value};

 private:
  NonLazyMultiInputs& write(const Value& value) { return logged_setter(*this, "set_value", value); }
};

class ConditionalMultiInputAnnouncement : public ReplacingMultiInput {
 public:
  explicit ConditionalMultiInputAnnouncement(CallLogger* logger = nullptr) : ReplacingMultiInput(logger) {
    add_value.set_announce_condition(&ConditionalMultiInputAnnouncement::check);
  }
  bool condition = true;

 private:
  bool check(const Value&) const { return condition; }
};

class ConditionalMultiInputNotification : public ReplacingMultiInput {
 public:
  explicit ConditionalMultiInputNotification(CallLogger* logger = nullptr) : ReplacingMultiInput(logger) {
    add_value.set_notify_condition(&ConditionalMultiInputNotification::check);
  }
  bool condition = true;

  Input<Value> set_condition{this, &ConditionalMultiInputNotification::write_condition, get_values};

 private:
  bool check(const Value&, const std::optional<Value>&) const { return condition; }
  ConditionalMultiInputNotification& write_condition(const Value& value) {
    condition = static_cast<bool>(value);
    return logged_setter(*this, "set_condition", value);
  }
};

// value * key for every key; keys {2, 3, 5} unless set.
class MultiOutputWithoutKeys : public Logged {
 public:
  explicit MultiOutputWithoutKeys(CallLogger* logger = nullptr) : Logged(logger) {}

  MultiOutput<Value(Value)> get_value{this, &MultiOutputWithoutKeys::compute};
  Input<Value> set_value{this, &MultiOutputWithoutKeys::write, get_value};

 protected:
  Value compute(const Value& key) const {
    Value result{value_.as_double() * key.as_double()};
    log(*this, "get_value", {key}, result);
    return result;
  }
  MultiOutputWithoutKeys& write(const Value& value) {
    value_ = value;
    return logged_setter(*this, "set_value", value);
  }

  Value value_{0};
};

class MultiOutputWithKeys : public MultiOutputWithoutKeys {
 public:
  explicit MultiOutputWithKeys(CallLogger* logger = nullptr) : MultiOutputWithoutKeys(logger) {
    get_value.set_keys(&MultiOutputWithKeys::keys);
  }

  Input<Value> set_keys{this, &MultiOutputWithKeys::write_keys, get_value};

  std::vector<Value> keys() const {
    log(*this, "keys", {}, Value{keys_});
    return keys_;
  }

 private:
  MultiOutputWithKeys& write_keys(const Value& keys) {
    keys_ = keys.as_list();
    return logged_setter(*this, "set_keys", keys);
  }

  std::vector<Value> keys_{Value(2), Value(3), Value(5)};
};

// A range that can be iterated once, like a Python generator.
class OneShotKeys {
 public:
  explicit OneShotKeys(std::vector<Value> keys) : keys_(std::make_shared<std::vector<Value>>(std::move(keys))) {}
  class iterator {
   public:
    using value_type = Value;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(std::shared_ptr<std::vector<Value>> keys) : keys_(std::move(keys)) {}
    const Value& operator*() const { return keys_->front(); }
    iterator& operator++() {
      keys_->erase(keys_->begin());
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !keys_ || keys_->empty(); }

   private:
    std::shared_ptr<std::vector<Value>> keys_;
  };
  iterator begin() const { return iterator{keys_}; }
  std::default_sentinel_t end() const { return {}; }

 private:
  std::shared_ptr<std::vector<Value>> keys_;
};

class MultiOutputWithVolatileKeys : public MultiOutputWithoutKeys {
 public:
  explicit MultiOutputWithVolatileKeys(CallLogger* logger = nullptr) : MultiOutputWithoutKeys(logger) {
    get_value.set_keys(&MultiOutputWithVolatileKeys::keys);
  }

  Input<Value> set_keys{this, &MultiOutputWithVolatileKeys::write_keys, get_value};

  OneShotKeys keys() const {
    log(*this, "keys", {}, None);
    return OneShotKeys{keys_};
  }

 private:
  MultiOutputWithVolatileKeys& write_keys(const Value& keys) {
    keys_ = keys.as_list();
    return logged_setter(*this, "set_keys", keys);
  }

  std::vector<Value> keys_{Value(2), Value(3), Value(5)};
};

// The constructor calls its own connectors (docs/design.md#test-helpers).
class ConstructorMethodCall : public Logged {
 public:
  explicit ConstructorMethodCall(CallLogger* logger = nullptr) : Logged(logger) {
    add_value.set_replace(&ConstructorMethodCall::replace_value);
    set_first_value(None);
    Value id = add_value(None);
    add_value.replace(id, Value(0.0));
    add_value.remove(id);
    constructed_values = get_values();
  }

  Output<Value> get_values{this, &ConstructorMethodCall::read};
  Input<Value> set_first_value{this, &ConstructorMethodCall::write_first, get_values};
  MultiInput<Value, Value> add_value{this, &ConstructorMethodCall::add, &ConstructorMethodCall::remove_value,
                                     get_values};

  Value constructed_values;

  ConstructorMethodCall& remove_value(const Value& id) {
    store_.erase(id);
    log(*this, "remove_value", {id}, Value::object(*this));
    return *this;
  }
  void replace_value(const Value& id, const Value& value) {
    store_.set(id, value);
    log(*this, "replace_value", {id, value}, Value::object(*this));
  }

 private:
  Value read() const {
    Value::List result{first_};
    const Value stored = store_.values();
    for (const Value& value : stored.as_list()) result.push_back(value);
    log(*this, "get_values", {}, Value{result});
    return Value{result};
  }
  ConstructorMethodCall& write_first(const Value& value) {
    first_ = value;
    return logged_setter(*this, "set_first_value", value);
  }
  Value add(const Value& value) {
    Value id = store_.add(value);
    log(*this, "add_value", {value}, Value::object(*this));
    return id;
  }

  Value first_;
  ValueStore store_;
};

}  // namespace connectors::testing

namespace connectors::testing {

// The original tests' Macro (docs/design.md#test-helpers): ((in1, in2), in3) through two MultipleInputs into
// MultipleOutputs.
class Macro {
 public:
  Macro() {
    h1.set_value1.connect(in1.get_value);
    h1.set_value2.connect(in2.get_value);
    h2.set_value1.connect(h1.get_values);
    h2.set_value2.connect(in3.get_value);
    out.set_value.connect(h2.get_values);
  }

 private:
  Simple in1, in2, in3;
  MultipleInputs h1, h2;
  MultipleOutputs out;

 public:
  MacroInput<Value> set_input1{in1.set_value};
  MacroInput<Value> set_input2and3{in2.set_value, in3.set_value};
  MacroOutput<Value> get_output1{out.get_value};
  MacroOutput<Value> get_output2{out.get_bool};
};

class MacroInMacro {
 private:
  Macro inner;

 public:
  MacroInput<Value> set_input{inner.set_input1, inner.set_input2and3};
  MacroOutput<Value> get_output{inner.get_output1};
};

// Real connectors stand in for the original's recording objects; the test
// reads their settings back.
class MacroPreferences {
 public:
  Simple first, second;
  MultipleOutputs exported;
  MacroInput<Value> set_input{first.set_value, second.set_value};
  MacroOutput<Value> get_output{exported.get_value};
};

}  // namespace connectors::testing
