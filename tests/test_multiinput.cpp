// Catalog tests of test_multiinput.py (docs/design.md#catalog-tests): T22,
// T23, T24, T26, T27, T28, T29, T30, T31 (T21 is Python-only), and the
// deliberate deviations for multi-inputs (docs/design.md#multi-input; the
// A-ids in test names are mapped in docs/design.md#spec-map).
#include "helpers/call_logger.hpp"
#include "helpers/executor_fixture.hpp"
#include "helpers/multi_test_classes.hpp"
#include "helpers/values_of.hpp"

#include <gtest/gtest.h>

#include <string>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace connectors::testing;
using connectors::Laziness;
using List = Value::List;

class MultiInputTest : public OnEveryExecutor {};

template <class Tested>
void check_manual_method_calls(bool replacing) {
  Simple t1;
  Simple t2;
  t2.set_value.set_laziness(Laziness::ON_ANNOUNCE);
  Tested not_connected;
  not_connected.add_value(None);
  Tested connected;
  connected.add_value.connect(t1.get_value);
  t2.set_value.connect(connected.get_values);
  for (Tested* tested : {&not_connected, &connected}) {
    EXPECT_EQ(tested->get_values(), (List{None}));
    if (!replacing) {
      Value id1 = tested->add_value(1.0);
      EXPECT_EQ(tested->get_values(), (List{None, 1.0}));
      tested->add_value(2.0);
      EXPECT_EQ(tested->get_values(), (List{None, 1.0, 2.0}));
      tested->add_value.remove(id1);
      EXPECT_EQ(tested->get_values(), (List{None, 2.0}));
    } else {
      Value id1 = tested->add_value(10);
      EXPECT_EQ(tested->get_values(), (List{None, 10}));
      tested->add_value(20);
      EXPECT_EQ(tested->get_values(), (List{None, 10, 20}));
      EXPECT_EQ(tested->add_value.replace(id1, 30), id1);
      EXPECT_EQ(tested->get_values(), (List{None, 30, 20}));
      tested->add_value.remove(id1);
      EXPECT_EQ(tested->get_values(), (List{None, 20}));
    }
  }
  // t2 pulled the connected object's values after every direct call.
  EXPECT_EQ(t2.get_value(), connected.get_values());
}

TEST_P(MultiInputTest, T22_ManualMethodCalls) {
  check_manual_method_calls<NonReplacingMultiInput>(false);
  check_manual_method_calls<ReplacingMultiInput>(true);
}

TEST_P(MultiInputTest, T23_NonReplacingMultiInput) {
  NonReplacingMultiInput t3;
  EXPECT_EQ(t3.get_values(), List{});
  Value id0 = t3.add_value(1);
  EXPECT_EQ(id0, 0);
  EXPECT_EQ(t3.get_values(), List{1});
  t3.add_value(2);
  EXPECT_EQ(t3.get_values(), (List{1, 2}));
  t3.add_value.remove(id0);
  EXPECT_EQ(t3.get_values(), List{2});
  Simple t1, t2;
  t1.set_value(11);
  t2.set_value(12);
  t3.add_value.connect(t1.get_value);
  t3.add_value.connect(t2.get_value);
  EXPECT_EQ(t3.get_values(), (List{2, 11, 12}));
  t1.set_value(13);
  EXPECT_EQ(t3.get_values(), (List{2, 12, 13}));  // the fallback re-adds at the end
}

TEST_P(MultiInputTest, T24_ReplacingMultiInput) {
  ReplacingMultiInput t3;
  EXPECT_EQ(t3.get_values(), List{});
  Value id0 = t3.add_value(1);
  EXPECT_EQ(t3.get_values(), List{1});
  t3.add_value(2);
  EXPECT_EQ(t3.get_values(), (List{1, 2}));
  t3.add_value.replace(id0, 3);
  EXPECT_EQ(t3.get_values(), (List{3, 2}));
  t3.add_value.remove(id0);
  EXPECT_EQ(t3.get_values(), List{2});
  Simple t1, t2;
  t1.set_value(11);
  t2.set_value(12);
  t3.add_value.connect(t1.get_value);
  t3.add_value.connect(t2.get_value);
  EXPECT_EQ(t3.get_values(), (List{2, 11, 12}));
  t1.set_value(13);
  EXPECT_EQ(t3.get_values(), (List{2, 13, 12}));  // replace keeps the position
}

TEST_P(MultiInputTest, T26_Disconnect) {
  Simple t1, t2;
  ReplacingMultiInput t3;
  t3.add_value.connect(t1.get_value);
  t3.add_value.connect(t2.get_value);
  t1.set_value(1.0);
  t2.set_value(2.0);
  EXPECT_EQ(t3.get_values(), (List{1.0, 2.0}));
  t3.add_value.disconnect(t2.get_value);
  EXPECT_EQ(t3.get_values(), List{1.0});
  EXPECT_THROW(t3.add_value.disconnect(t2.get_value), connectors::ConnectionError);
}

TEST_P(MultiInputTest, T27_LazinessOnConnect) {
  NonReplacingMultiInput t1{&log};
  NonLazyMultiInputs t2{&log};
  t2.add_value.set_laziness(Laziness::ON_CONNECT);
  t2.add_value.connect(t1.get_values);
  EXPECT_TRUE(log.compare({call(t1, "get_values"), call(t2, "add_value")}));
  log.clear();
  t1.add_value(1.0);
  EXPECT_TRUE(
      log.compare({call(t1, "add_value", {1.0}), call(t1, "get_values", {}, List{1.0}), call(t2, "replace_value")}));
  log.clear();
  t2.add_value.set_laziness(Laziness::ON_REQUEST);
  t1.add_value(2.0);
  EXPECT_TRUE(log.compare({call(t1, "add_value", {2.0})}));
}

TEST_P(MultiInputTest, T28_LazinessOnAnnounce) {
  NonReplacingMultiInput t1{&log};
  NonLazyMultiInputs t2{&log};
  t2.add_value.connect(t1.get_values);
  EXPECT_TRUE(log.compare({}));
  t1.add_value(1.0);
  EXPECT_TRUE(log.compare(
      {call(t1, "add_value", {1.0}), call(t1, "get_values", {}, List{1.0}), call(t2, "add_value", {List{1.0}})}));
  log.clear();
  t2.add_value.set_laziness(Laziness::ON_REQUEST);
  t1.add_value(2.0);
  EXPECT_TRUE(log.compare({call(t1, "add_value", {2.0})}));
  log.clear();
  ReplacingMultiInput t3{&log};
  t3.add_value.set_laziness(Laziness::ON_ANNOUNCE);
  t3.add_value.connect(t1.get_values);
  EXPECT_TRUE(log.compare({}));
  t1.add_value(3.0);
  EXPECT_TRUE(log.compare({call(t1, "add_value", {3.0}), call(t1, "get_values", {}, List{1.0, 2.0, 3.0}),
                           call(t3, "add_value", {List{1.0, 2.0, 3.0}})}));
}

TEST_P(MultiInputTest, T29_LazinessOnNotify) {
  Simple t1{&log}, t2{&log};
  NonReplacingMultiInput t3{&log};
  t2.set_value.connect(t1.get_value);
  t3.add_value.connect(t1.get_value);
  t3.add_value.set_laziness(Laziness::ON_NOTIFY);
  EXPECT_TRUE(log.compare({}));
  t1.set_value(1.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {1.0}, Value::object(t1))}));
  log.clear();
  EXPECT_EQ(t2.get_value(), 1.0);
  EXPECT_TRUE(log.compare({call(t1, "get_value", {}, 1.0),
                           any_order({{call(t2, "set_value", {1.0}, Value::object(t2)), call(t2, "get_value", {}, 1.0)},
                                      {call(t3, "add_value", {1.0})}})}));
  log.clear();
  EXPECT_EQ(t3.get_values(), List{1.0});
  EXPECT_TRUE(log.compare({call(t3, "get_values", {}, List{1.0})}));
}

// The first part of T30 and T31: t1 -> t2 (conditional) -> t3, condition true.
template <class Conditional>
void connect_and_pass_a_first_value(CallLogger& log, Simple& t1, Conditional& t2, Simple& t3) {
  t2.add_value.connect(t1.get_value);
  t3.set_value.connect(t2.get_values);
  EXPECT_TRUE(log.compare({}));
  t1.set_value(1.0);
  EXPECT_EQ(t3.get_value(), List{Value(1.0)});
  EXPECT_TRUE(log.compare({call(t1, "set_value", {1.0}, Value::object(t1)), call(t1, "get_value", {}, 1.0),
                           call(t2, "add_value", {1.0}), call(t2, "get_values", {}, List{Value(1.0)}),
                           call(t3, "set_value", {List{Value(1.0)}}, Value::object(t3)),
                           call(t3, "get_value", {}, List{Value(1.0)})}));
}

TEST_P(MultiInputTest, T30_ConditionOnAnnounce) {
  Simple t1{&log};
  ConditionalMultiInputAnnouncement t2{&log};
  Simple t3{&log};
  connect_and_pass_a_first_value(log, t1, t2, t3);
  t2.condition = false;
  log.clear();
  t1.set_value(2.0);
  EXPECT_EQ(t3.get_value(), List{1.0});
  EXPECT_TRUE(log.compare({call(t1, "set_value", {2.0}, Value::object(t1))}));
  EXPECT_EQ(t2.get_values(), List{1.0});
  log.clear();
  t2.add_value(3.0);  // the announce condition does not apply to direct calls
  EXPECT_EQ(t3.get_value(), (List{1.0, 3.0}));
  EXPECT_TRUE(log.compare({call(t2, "add_value", {3.0}), call(t2, "get_values", {}, List{1.0, 3.0}),
                           call(t3, "set_value", {List{1.0, 3.0}}, Value::object(t3)),
                           call(t3, "get_value", {}, List{1.0, 3.0})}));
  log.clear();
  t1.get_value.disconnect(t2.add_value);  // no flush, no t1.get_value call
  EXPECT_EQ(t3.get_value(), List{3.0});
  EXPECT_TRUE(
      log.compare({call(t2, "remove_value"), call(t2, "get_values", {}, List{3.0}),
                   call(t3, "set_value", {List{3.0}}, Value::object(t3)), call(t3, "get_value", {}, List{3.0})}));
}

TEST_P(MultiInputTest, T31_ConditionOnNotify) {
  Simple t1{&log};
  ConditionalMultiInputNotification t2{&log};
  Simple t3{&log};
  connect_and_pass_a_first_value(log, t1, t2, t3);
  t2.condition = false;
  log.clear();
  t1.set_value(2.0);
  EXPECT_EQ(t3.get_value(), List{1.0});
  EXPECT_TRUE(log.compare(
      {call(t1, "set_value", {2.0}, Value::object(t1)), call(t1, "get_value", {}, 2.0), call(t2, "replace_value")}));
  EXPECT_EQ(t2.get_values(), List{1.0});  // re-validated by the cancel
  log.clear();
  t2.add_value(3.0);
  EXPECT_EQ(t3.get_value(), List{1.0});
  EXPECT_TRUE(log.compare({call(t2, "add_value", {3.0})}));
  EXPECT_EQ(t2.get_values(), List{1.0});
  Value id = t2.add_value(4.0);
  t2.add_value.remove(id);  // repair R (docs/design.md#cancel): the condition applies to direct removes too
  log.clear();
  t1.get_value.disconnect(t2.add_value);
  EXPECT_EQ(t3.get_value(), List{1.0});
  EXPECT_TRUE(log.compare({call(t2, "remove_value", {0}, Value::object(t2))}));
  log.clear();
  t2.set_condition(true);
  EXPECT_EQ(t3.get_value(), List{3.0});
  EXPECT_TRUE(
      log.compare({call(t2, "set_condition", {true}, Value::object(t2)), call(t2, "get_values", {}, List{3.0}),
                   call(t3, "set_value", {List{3.0}}, Value::object(t3)), call(t3, "get_value", {}, List{3.0})}));
}

// A direct change first applies what upstream announced (repair A12,
// docs/design.md#multi-input).
TEST_P(MultiInputTest, A12_DirectChangesApplyAnnouncedValuesFirst) {
  Simple up;
  ReplacingMultiInput mi;
  mi.add_value.connect(up.get_value);
  up.set_value("up");
  mi.add_value[5]("v5");
  EXPECT_EQ(mi.get_values(), (List{"up", "v5"}));
  up.set_value("again");
  mi.add_value(7);
  EXPECT_EQ(mi.get_values(), (List{"again", "v5", 7}));
}

// Repair R (docs/design.md#cancel): a cancelled change must not re-validate a
// cache that another change invalidated.
TEST_P(MultiInputTest, A13_CancelDoesNotHideAnotherChange) {
  MultipleInputs source;
  ConditionalMultiInputNotification mi;
  Simple downstream;
  mi.add_value[0].connect(source.get_values);
  downstream.set_value.connect(mi.get_values);
  EXPECT_EQ(downstream.get_value(), (List{Value{List{None, None}}}));
  mi.condition = false;
  mi.set_condition(false);  // a change of an observed input: get_values changed
  source.set_value1(1);     // announced, then cancelled by the notify condition
  EXPECT_EQ(downstream.get_value(), mi.get_values());
  EXPECT_EQ(mi.get_values(), (List{Value{List{1, None}}}));
}

// First values are stored in connection order, whichever source delivered first
// (docs/design.md#multi-input, Pending values).
TEST_P(MultiInputTest, FirstValuesKeepConnectionOrder) {
  Simple first, second;
  ReplacingMultiInput mi;
  first.set_value(1);
  mi.add_value.connect(first.get_value);
  EXPECT_EQ(mi.get_values(), List{1});
  mi.add_value.connect(second.get_value);
  first.set_value(2);
  EXPECT_EQ(mi.get_values(), (List{2, None}));  // the second delivered its value (None) on request
}

// docs/design.md#cancel: a new connection whose source's change is cancelled before the
// first pull still delivers its value then, never an empty placeholder.
TEST_P(MultiInputTest, A15_NoEmptyPlaceholderAfterACancelledChange) {
  ConditionalInputNotification source;
  source.set_value(1);
  EXPECT_EQ(source.get_value(), 1);  // cached
  ReplacingMultiInput mi;
  mi.add_value.connect(source.get_value);
  source.condition = false;
  source.set_value(2);  // cancelled: get_value re-validates its cached 1
  EXPECT_EQ(mi.get_values(), List{1});
}

// Disconnecting mi[key] before any value was stored does not remove
// (docs/design.md#multi-input, Disconnect).
TEST_P(MultiInputTest, A18_DisconnectBeforeFirstValueRemovesNothing) {
  Simple source{&log};
  ReplacingMultiInput mi{&log};
  mi.add_value["k"].connect(source.get_value);
  mi.add_value["k"].disconnect(source.get_value);
  EXPECT_TRUE(log.compare({}));
  EXPECT_EQ(mi.get_values(), List{});
}

// replace's returned id is used from then on; void means the same id
// (docs/design.md#replace-id).
class RenamingMultiInput {
 public:
  connectors::Output<std::vector<int>> get_values{this, &RenamingMultiInput::values};
  connectors::MultiInput<int, int> add_value{this, &RenamingMultiInput::add, &RenamingMultiInput::remove, get_values};
  RenamingMultiInput() { add_value.set_replace(&RenamingMultiInput::replace); }

 private:
  std::vector<int> values() const {
    std::vector<int> result;
    for (const auto& [id, value] : data_) result.push_back(id * 1000 + value);
    return result;
  }
  int add(int value) { return data_.add(value); }
  void remove(int id) { data_.erase(id); }
  int replace(int id, int value) {  // moves the value to id + 10
    data_.erase(id);
    data_[id + 10] = value;
    return id + 10;
  }
  connectors::MultiInputData<int, int> data_;
};

TEST_P(MultiInputTest, A19_ReplaceReturnsTheIdToUse) {
  RenamingMultiInput mi;
  connectors::blocks::PassThrough<int> source{1};
  mi.add_value.connect(source.output);
  EXPECT_EQ(mi.get_values(), std::vector<int>{1});  // id 0
  source.input(2);
  EXPECT_EQ(mi.get_values(), std::vector<int>{10002});  // replace(0, 2) -> id 10
  source.input(3);
  EXPECT_EQ(mi.get_values(), std::vector<int>{20003});  // replace(10, 3) -> id 20
  mi.add_value.disconnect(source.output);
  EXPECT_EQ(mi.get_values(), std::vector<int>{});
}

TEST_P(MultiInputTest, VirtualInputWithoutReplaceIsALogicError) {
  NonReplacingMultiInput mi;
  Simple source;
  EXPECT_THROW(mi.add_value[1](2), std::logic_error);
  EXPECT_THROW(mi.add_value[1].connect(source.get_value), std::logic_error);
  EXPECT_EQ(mi.get_values(), List{});
}

TEST_P(MultiInputTest, ConnectingTheSameOutputThroughAnotherIdIsAConnectionError) {
  ReplacingMultiInput mi;
  Simple source;
  mi.add_value[1].connect(source.get_value);
  mi.add_value[1].connect(source.get_value);  // identical, no-op (docs/design.md#connect)
  EXPECT_THROW(mi.add_value[2].connect(source.get_value), connectors::ConnectionError);
  EXPECT_THROW(mi.add_value.connect(source.get_value), connectors::ConnectionError);
  source.set_value(4);
  EXPECT_EQ(mi.get_values(), List{4});
}

TEST_P(MultiInputTest, CyclesThroughMultiInputsAreRejected) {
  ReplacingMultiInput a, b;
  b.add_value.connect(a.get_values);
  EXPECT_THROW(a.add_value.connect(b.get_values), connectors::CycleError);
  EXPECT_EQ(b.get_values(), List{Value{List{}}});
}

// A multi-input losing a destroyed source removes what it stored
// (docs/design.md#lifetime).
TEST_P(MultiInputTest, DestroyedSourceIsRemoved) {
  ReplacingMultiInput mi;
  Simple downstream;
  downstream.set_value.connect(mi.get_values);
  {
    Simple source;
    source.set_value(1);
    mi.add_value.connect(source.get_value);
    EXPECT_EQ(downstream.get_value(), List{1});
  }
  EXPECT_EQ(downstream.get_value(), List{});
}

// Failures: a throwing add is retried with the same value on the next pull.
class FailingOnce {
 public:
  connectors::Output<std::vector<int>> get_values{this, &FailingOnce::values};
  connectors::MultiInput<int> add_value{this, &FailingOnce::add, &FailingOnce::remove, get_values};
  bool fail = true;

 private:
  std::vector<int> values() const { return values_of(data_); }
  std::size_t add(int value) {
    if (std::exchange(fail, false)) throw std::runtime_error("add failed");
    return data_.add(value);
  }
  void remove(std::size_t id) { data_.erase(id); }
  connectors::MultiInputData<int> data_;
};

TEST_P(MultiInputTest, FailedApplicationIsRetried) {
  FailingOnce mi;
  connectors::blocks::PassThrough<int> source{5};
  mi.add_value.connect(source.output);
  EXPECT_THROW(mi.get_values(), std::runtime_error);
  EXPECT_EQ(mi.get_values(), std::vector<int>{5});
  mi.fail = true;
  EXPECT_THROW(mi.add_value(6), std::runtime_error);
  EXPECT_EQ(mi.get_values(), std::vector<int>{5});
  mi.add_value(6);
  EXPECT_EQ(mi.get_values(), (std::vector<int>{5, 6}));
}

// A destroyed source makes the multi-input call remove; a remove that starts
// an operation on another network works (docs/design.md#nested-operations) instead of deadlocking.
class AuditingStore {
 public:
  explicit AuditingStore(Simple& audit) : audit_(audit) {}
  connectors::Output<std::vector<int>> get_values{this, &AuditingStore::values};
  connectors::MultiInput<int> add_value{this, &AuditingStore::add, &AuditingStore::remove, get_values};

 private:
  std::vector<int> values() const { return values_of(data_); }
  std::size_t add(int value) { return data_.add(value); }
  void remove(std::size_t id) {
    audit_.set_value(static_cast<int>(id));  // an operation on another network
    data_.erase(id);
  }
  Simple& audit_;
  connectors::MultiInputData<int> data_;
};

TEST_P(MultiInputTest, RemoveOfADestroyedSourceMayUseAnotherNetwork) {
  Simple audit;
  AuditingStore store{audit};
  {
    connectors::blocks::PassThrough<int> source{5};
    store.add_value.connect(source.output);
    EXPECT_EQ(store.get_values(), std::vector<int>{5});
  }
  EXPECT_EQ(store.get_values(), std::vector<int>{});
  EXPECT_EQ(audit.get_value(), 0);  // the removed id
}

// A whole multi-output's delivery that fails half-way is retried whole: the
// keys stored before the failure are not removed by the retry.
class FlakyReplace {
 public:
  FlakyReplace() { add_value.set_replace(&FlakyReplace::replace); }
  connectors::Output<std::vector<double>> get_values{this, &FlakyReplace::values};
  connectors::MultiInput<Value, Value> add_value{this, &FlakyReplace::add, &FlakyReplace::remove, get_values};
  int failures = 1;

 private:
  std::vector<double> values() const {
    std::vector<double> result;
    for (const auto& [id, value] : data_) result.push_back(value.as_double());
    std::sort(result.begin(), result.end());
    return result;
  }
  Value add(const Value& value) {
    data_[Value(static_cast<int>(data_.size()) + 100)] = value;
    return Value(static_cast<int>(data_.size()) + 99);
  }
  void remove(const Value& id) { data_.erase(id); }
  void replace(const Value& id, const Value& value) {
    if (id == Value(3) && failures-- > 0) throw std::runtime_error("replace failed");
    data_[id] = value;
  }
  connectors::MultiInputData<Value, Value> data_;
};

TEST_P(MultiInputTest, AFailedWholeDeliveryIsRetriedWhole) {
  MultiOutputWithKeys source;
  FlakyReplace mi;
  mi.add_value.connect(source.get_value);
  source.set_value(1);
  EXPECT_THROW(mi.get_values(), std::runtime_error);
  EXPECT_EQ(mi.get_values(), (std::vector<double>{2, 3, 5}));
}

// Several whole multi-outputs: a failure applying the second one's map
// leaves it and the third waiting, in order, behind the first one's, which
// was applied (docs/multi-inputs.md, Wide networks); the retry applies both.
TEST_P(MultiInputTest, AFailedWholeDeliveryAmongSeveralIsRetriedWithTheOnesAfterIt) {
  MultiOutputWithKeys first, second, third;
  first.set_keys(List{2});
  second.set_keys(List{3});  // FlakyReplace fails on id 3 once
  third.set_keys(List{5});
  FlakyReplace mi;
  mi.failures = 0;
  mi.add_value.connect(first.get_value);
  mi.add_value.connect(second.get_value);
  mi.add_value.connect(third.get_value);
  EXPECT_EQ(mi.get_values(), (std::vector<double>{0, 0, 0}));
  mi.failures = 1;
  first.set_value(1);
  second.set_value(1);
  third.set_value(1);
  EXPECT_THROW(mi.get_values(), std::runtime_error);
  EXPECT_EQ(mi.get_values(), (std::vector<double>{2, 3, 5}));
  second.set_value(2);  // a map of its own again, after the retry
  EXPECT_EQ(mi.get_values(), (std::vector<double>{2, 5, 6}));
}

// A disconnect removes what the source stored even if applying another
// source's announced value fails on the way (the error is still reported).
TEST_P(MultiInputTest, AFailedDisconnectStillRemoves) {
  connectors::blocks::PassThrough<int> first{1}, second{2};
  FailingOnce mi;
  mi.fail = false;
  mi.add_value.connect(first.output);
  mi.add_value.connect(second.output);
  EXPECT_EQ(mi.get_values(), (std::vector<int>{1, 2}));
  second.input(3);  // announced
  mi.fail = true;   // the fallback replace (remove, then add) of 3 fails
  EXPECT_THROW(mi.add_value.disconnect(first.output), std::runtime_error);
  EXPECT_EQ(mi.get_values(), std::vector<int>{3});
}

// Many sources (past the linear search), values kept for a retry after a
// failing replace while sources are destroyed (which moves others in the
// multi-input's table) and connected (which takes the places they left),
// and the entries of applied values used again round after round: every
// value still lands under its own source's id (docs/design.md#multi-input,
// Pending values).
class FailingReplace {
 public:
  connectors::Output<std::vector<int>> get_values{this, &FailingReplace::values};
  connectors::MultiInput<int> add_value{this, &FailingReplace::add, &FailingReplace::remove, get_values};
  FailingReplace() { add_value.set_replace(&FailingReplace::replace); }
  bool fail_next = false;  // the next replace throws

 private:
  std::vector<int> values() const { return values_of(data_); }
  std::size_t add(int value) { return data_.add(value); }
  void remove(std::size_t id) { data_.erase(id); }
  void replace(std::size_t id, int value) {
    if (std::exchange(fail_next, false)) throw std::runtime_error("replace failed");
    data_[id] = value;
  }
  connectors::MultiInputData<int> data_;
};

TEST_P(MultiInputTest, ValuesLandUnderTheirSourcesThroughMovedAndReusedEntries) {
  FailingReplace mi;
  std::vector<std::unique_ptr<connectors::blocks::PassThrough<int>>> sources;
  std::vector<int> held;
  auto connect_new = [&](int value) {
    sources.push_back(std::make_unique<connectors::blocks::PassThrough<int>>(value));
    held.push_back(value);
    mi.add_value.connect(sources.back()->output);
  };
  for (int i = 0; i < 40; ++i) connect_new(i);
  auto expected = [&] {
    std::vector<int> values;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (sources[i]) values.push_back(held[i]);
    }
    std::sort(values.begin(), values.end());
    return values;
  };
  auto sorted = [](std::vector<int> values) {
    std::sort(values.begin(), values.end());
    return values;
  };
  EXPECT_EQ(sorted(mi.get_values()), expected());
  for (int round = 1; round <= 6; ++round) {
    const std::size_t count = sources.size();
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t i = k * 7 % count;
      if (!sources[i]) continue;
      held[i] = round * 1000 + static_cast<int>(i);
      sources[i]->input(held[i]);
    }
    // The first replace fails: every value waits for the retry, and the
    // sources destroyed and connected meanwhile move the others' entries.
    mi.fail_next = true;
    EXPECT_THROW(mi.get_values(), std::runtime_error);
    for (std::size_t i = static_cast<std::size_t>(round) * 3; i < count; i += 11) {
      if (!sources[i]) continue;
      sources[i].reset();
      connect_new(round * 1000 + 500 + static_cast<int>(i));
    }
    EXPECT_EQ(sorted(mi.get_values()), expected()) << "round " << round;
  }
}

// ---- direct changes and removals that fail part way (found by a review) ----------

// A multi-input whose methods can destroy a block of the network (`victim`,
// connected below it) or throw, and whose values downstream see.
class Striking {
 public:
  Striking() { add_value.set_replace(&Striking::replace); }
  connectors::Output<std::vector<int>> get_values{this, &Striking::values};
  connectors::MultiInput<int> add_value{this, &Striking::add, &Striking::remove, get_values};
  std::unique_ptr<connectors::blocks::PassThrough<std::vector<int>>> victim;
  bool strike = false;
  std::vector<int> held() const { return values(); }

 private:
  std::vector<int> values() const { return values_of(data_); }
  void maybe_strike() {
    if (std::exchange(strike, false)) victim.reset();
  }
  std::size_t add(int value) {
    const std::size_t id = data_.add(value);
    maybe_strike();
    return id;
  }
  void remove(std::size_t id) {
    data_.erase(id);
    maybe_strike();
  }
  void replace(std::size_t id, int value) {
    data_[id] = value;
    maybe_strike();
  }
  connectors::MultiInputData<int> data_;
};

// A direct add or remove whose method destroys another block of the network
// throws std::logic_error, but its change was made: downstream sees it.
// Before, the change was not noted, and the observers were cancelled back
// onto their old caches (1 value shown where the owner held 2, or 0).
TEST_P(MultiInputTest, ADirectChangeWhoseMethodDestroysAnotherBlockStillReachesDownstream) {
  for (int which = 0; which < 3; ++which) {
    SCOPED_TRACE(which);
    Striking striking;
    connectors::blocks::PassThrough<std::vector<int>> down;
    down.input.connect(striking.get_values);
    striking.victim = std::make_unique<connectors::blocks::PassThrough<std::vector<int>>>();
    striking.victim->input.connect(striking.get_values);
    const std::size_t id = striking.add_value(1);
    EXPECT_EQ(down.output(), std::vector<int>{1});
    striking.strike = true;
    EXPECT_THROW(which == 0   ? static_cast<void>(striking.add_value(2))
                 : which == 1 ? striking.add_value.remove(id)
                              : static_cast<void>(striking.add_value.replace(id, 7)),
                 std::logic_error);
    EXPECT_EQ(striking.victim, nullptr);
    EXPECT_EQ(down.output(), striking.held());
    EXPECT_EQ(striking.get_values(), striking.held());
  }
}

// A multi-input without replace whose add fails in a direct replace, after
// the remove: the removal is a change downstream sees. Before, the observers
// were cancelled and kept showing the removed value.
class AddFails {
 public:
  connectors::Output<std::vector<int>> get_values{this, &AddFails::values};
  connectors::MultiInput<int> add_value{this, &AddFails::add, &AddFails::remove, get_values};
  bool fail_add = false;
  std::vector<int> held() const { return values(); }

 private:
  std::vector<int> values() const { return values_of(data_); }
  std::size_t add(int value) {
    if (fail_add) throw std::runtime_error("add fails");
    return data_.add(value);
  }
  void remove(std::size_t id) { data_.erase(id); }
  connectors::MultiInputData<int> data_;
};

TEST_P(MultiInputTest, AFallbackReplaceWhoseAddFailsAfterTheRemoveStillReachesDownstream) {
  AddFails collector;
  connectors::blocks::PassThrough<std::vector<int>> down;
  down.input.connect(collector.get_values);
  const std::size_t id = collector.add_value(1);
  collector.add_value(2);
  EXPECT_EQ(down.output(), (std::vector<int>{1, 2}));
  collector.fail_add = true;
  EXPECT_THROW(collector.add_value.replace(id, 5), std::runtime_error);
  collector.fail_add = false;
  EXPECT_EQ(collector.held(), std::vector<int>{2});
  EXPECT_EQ(down.output(), std::vector<int>{2});
}

// A whole multi-output's disconnect or destruction whose first remove
// throws: the other keys' values are removed all the same (the connection's
// record of them is gone), and the disconnect reports the error. Before,
// the removals stopped there and two of three values stayed for good.
class ThreeKeys {
 public:
  ThreeKeys() { out.set_keys(&ThreeKeys::keys); }
  connectors::MultiOutput<long(long)> out{this, &ThreeKeys::compute};

 private:
  long compute(long key) const { return key * 10; }
  std::vector<long> keys() const { return {1, 2, 3}; }
};

class RemoveFails {
 public:
  RemoveFails() { in.set_replace(&RemoveFails::replace); }
  connectors::Output<std::size_t> count{this, &RemoveFails::size};
  connectors::MultiInput<long, long> in{this, &RemoveFails::add, &RemoveFails::remove, count};
  int failing_removes = 0;
  std::size_t size() const { return data_.size(); }

 private:
  long add(long value) { return data_.add(value); }
  void remove(long id) {
    if (failing_removes > 0) {
      --failing_removes;
      throw std::runtime_error("remove fails");
    }
    data_.erase(id);
  }
  void replace(long id, long value) { data_[id] = value; }
  connectors::MultiInputData<long, long> data_;
};

TEST_P(MultiInputTest, AFailingRemoveDoesNotStopTheOtherRemovalsOfAWholeMultiOutput) {
  {
    RemoveFails table;
    ThreeKeys keys;
    table.in.connect(keys.out);
    EXPECT_EQ(table.count(), 3U);
    table.failing_removes = 1;
    EXPECT_THROW(table.in.disconnect(keys.out), std::runtime_error);
    EXPECT_FALSE(table.in.is_connected());
    EXPECT_EQ(table.size(), 1U);  // the value whose remove threw
    EXPECT_EQ(table.count(), 1U);
  }
  {
    RemoveFails table;
    auto keys = std::make_unique<ThreeKeys>();
    table.in.connect(keys->out);
    EXPECT_EQ(table.count(), 3U);
    table.failing_removes = 1;
    keys.reset();
    EXPECT_EQ(table.size(), 1U);
    EXPECT_EQ(table.count(), 1U);
  }
}

// One whole multi-output with many keys (more than the few below which the
// multi-input searches its record of them instead of indexing it): values
// replaced, keys vanishing in any order and coming back, a failing removal
// retried, a disconnect; after each, the owner holds exactly the keys the
// multi-output delivers, each stored or removed once. Run with an Id that
// has std::hash and one that has only ==.
class ManyKeys {
 public:
  ManyKeys() { out.set_keys(&ManyKeys::keys); }
  connectors::MultiOutput<long(long)> out{this, &ManyKeys::compute};
  connectors::Input<std::vector<long>> set_keys{this, &ManyKeys::take_keys, out};
  connectors::Input<long> set_version{this, &ManyKeys::take_version, out};

 private:
  long compute(long key) const { return key * 1000 + version_; }
  std::vector<long> keys() const { return keys_; }
  void take_keys(std::vector<long> keys) { keys_ = std::move(keys); }
  void take_version(long version) { version_ = version; }
  std::vector<long> keys_;
  long version_ = 0;
};

// An Id with == and no std::hash.
struct PlainId {
  long key;
  PlainId(long value) : key(value) {}  // NOLINT(google-explicit-constructor): made from the keys
  bool operator==(const PlainId&) const = default;
};

template <class Id>
class KeyTable {
 public:
  KeyTable() { in.set_replace(&KeyTable::replace); }
  connectors::Output<std::size_t> count{this, &KeyTable::size};
  connectors::MultiInput<long, Id> in{this, &KeyTable::add, &KeyTable::remove, count};
  int failing_removes = 0;
  std::map<long, long> values;   // key -> value
  std::map<long, int> removals;  // key -> how often it was removed

 private:
  std::size_t size() const { return values.size(); }
  static long key_of(const Id& id) {
    if constexpr (std::is_same_v<Id, long>) {
      return id;
    } else {
      return id.key;
    }
  }
  Id add(long) { throw std::logic_error("a whole multi-output's values are replaced, never added"); }
  void remove(const Id& id) {
    if (failing_removes > 0) {
      --failing_removes;
      throw std::runtime_error("remove fails");
    }
    EXPECT_EQ(values.erase(key_of(id)), 1U) << key_of(id);
    ++removals[key_of(id)];
  }
  void replace(const Id& id, long value) { values[key_of(id)] = value; }
};

std::map<long, long> expected_values(const std::vector<long>& keys, long version) {
  std::map<long, long> expected;
  for (long key : keys) expected[key] = key * 1000 + version;
  return expected;
}

template <class Id>
void check_many_keys() {
  constexpr long count = 200;
  std::vector<long> keys;
  for (long key = 0; key < count; ++key) keys.push_back(key);
  ManyKeys source;
  source.set_keys(keys);
  KeyTable<Id> table;
  table.in.connect(source.out);
  EXPECT_EQ(table.count(), static_cast<std::size_t>(count));
  EXPECT_EQ(table.values, expected_values(keys, 0));

  source.set_version(1);
  EXPECT_EQ(table.count(), static_cast<std::size_t>(count));
  EXPECT_EQ(table.values, expected_values(keys, 1));
  EXPECT_TRUE(table.removals.empty());

  // Every third key vanishes; the rest come in another order.
  std::vector<long> kept;
  for (long key = count - 1; key >= 0; --key) {
    if (key % 3 != 0) kept.push_back(key);
  }
  source.set_keys(kept);
  EXPECT_EQ(table.count(), kept.size());
  EXPECT_EQ(table.values, expected_values(kept, 1));
  for (long key = 0; key < count; ++key) {
    EXPECT_EQ(table.removals.count(key), key % 3 == 0 ? 1U : 0U) << key;
  }

  // The vanished keys come back, and others vanish; a removal fails once.
  std::vector<long> again;
  for (long key = 0; key < count; ++key) {
    if (key % 3 != 1) again.push_back(key);
  }
  table.removals.clear();
  table.failing_removes = 1;
  source.set_keys(again);
  source.set_version(2);
  EXPECT_THROW(table.count(), std::runtime_error);
  EXPECT_EQ(table.count(), again.size());
  EXPECT_EQ(table.values, expected_values(again, 2));
  for (long key = 0; key < count; ++key) {
    EXPECT_EQ(table.removals.count(key), key % 3 == 1 ? 1U : 0U) << key;
  }

  table.removals.clear();
  table.in.disconnect(source.out);
  EXPECT_TRUE(table.values.empty());
  EXPECT_EQ(table.removals.size(), again.size());
  for (const auto& [key, removed] : table.removals) EXPECT_EQ(removed, 1) << key;
}

TEST_P(MultiInputTest, AWholeMultiOutputWithManyKeysKeepsEachKeyStoredOnce) {
  {
    SCOPED_TRACE("hashed ids");
    check_many_keys<long>();
  }
  {
    SCOPED_TRACE("ids with == only");
    check_many_keys<PlainId>();
  }
}

// A removal of a vanished key that destroys another whole multi-output,
// whose map waits before this one's: the operation fails (a method destroyed
// a block of the network being computed), the lost source's values are
// removed, and the retry removes this one's other vanished keys and stores
// the rest.
class DestroyingTable {
 public:
  DestroyingTable() { in.set_replace(&DestroyingTable::replace); }
  connectors::Output<std::size_t> count{this, &DestroyingTable::size};
  connectors::MultiInput<long, long> in{this, &DestroyingTable::add, &DestroyingTable::remove, count};
  std::map<long, long> values;
  std::function<void()> on_removing_12;

 private:
  std::size_t size() const { return values.size(); }
  long add(long) { throw std::logic_error("a whole multi-output's values are replaced, never added"); }
  void remove(long id) {
    values.erase(id);
    if (id == 12 && on_removing_12) std::exchange(on_removing_12, nullptr)();
  }
  void replace(long id, long value) { values[id] = value; }
};

TEST_P(MultiInputTest, ARemovalThatDestroysAnEarlierWholeMultiOutputFailsAndTheRetryLeavesNoVanishedKey) {
  auto first = std::make_unique<ManyKeys>();
  ManyKeys second, third;
  first->set_keys(std::vector<long>{1, 2});
  second.set_keys(std::vector<long>{10, 11, 12, 13});
  third.set_keys(std::vector<long>{20, 21});
  DestroyingTable table;
  table.in.connect(first->out);
  table.in.connect(second.out);
  table.in.connect(third.out);
  EXPECT_EQ(table.count(), 8U);
  first->set_version(1);  // the first one's map comes first
  second.set_keys(std::vector<long>{10, 11});
  third.set_keys(std::vector<long>{20});
  table.on_removing_12 = [&] { first.reset(); };
  EXPECT_THROW(table.count(), std::logic_error);
  EXPECT_EQ(table.count(), 3U);
  EXPECT_EQ(table.values, (std::map<long, long>{{10, 10'000}, {11, 11'000}, {20, 20'000}}));
}

// mi[id](v) on a multi-input without observers applies what upstream
// announced first, as every direct change does (docs/multi-inputs.md).
// Before, it skipped that step there, and the next direct change applied the
// older announced value over the newer direct one.
class Sink {
 public:
  Sink() { set_value.set_replace(&Sink::replace); }
  connectors::MultiInput<std::string, std::string> set_value{this, &Sink::add, &Sink::remove};
  std::string at(const std::string& id) const { return data_.at(id); }

 private:
  std::string add(std::string) { throw std::logic_error("unused"); }
  void remove(const std::string& id) { data_.erase(id); }
  void replace(const std::string& id, std::string value) { data_[id] = std::move(value); }
  connectors::MultiInputData<std::string, std::string> data_;
};

class Text {
 public:
  connectors::Output<std::string> output{this, &Text::read};
  connectors::Input<std::string> input{this, &Text::write, output};

 private:
  std::string read() const { return value_; }
  void write(std::string value) { value_ = std::move(value); }
  std::string value_ = "old";
};

TEST_P(MultiInputTest, AnItemCallWithoutObserversAppliesWhatUpstreamAnnouncedFirst) {
  Sink sink;
  Text source;
  sink.set_value["up"].connect(source.output);
  source.input("announced");       // announced to the sink, not applied
  sink.set_value["up"]("direct");  // applies "announced", then stores "direct"
  EXPECT_EQ(sink.at("up"), "direct");
  sink.set_value.replace("other", "y");
  EXPECT_EQ(sink.at("up"), "direct");
  EXPECT_EQ(sink.at("other"), "y");
}

// A plain block for the tests below.
class Held {
 public:
  explicit Held(long value) : value_(value) {}
  connectors::Output<long> out{this, &Held::read};
  connectors::Input<long> in{this, &Held::write, out};

 private:
  long read() const { return value_; }
  void write(long value) { value_ = value; }
  long value_;
};

class SumWithFailingRemove {
 public:
  SumWithFailingRemove() { in.set_replace(&SumWithFailingRemove::replace); }
  connectors::Output<long> total{this, &SumWithFailingRemove::sum};
  connectors::MultiInput<long, long> in{this, &SumWithFailingRemove::add, &SumWithFailingRemove::remove, total};
  bool failing_remove = false;
  long sum() const {
    long total = 0;
    for (const auto& [id, value] : data_) total += value;
    return total;
  }

 private:
  long add(long value) { return data_.add(value); }
  void remove(long id) {
    if (failing_remove) throw std::runtime_error("remove fails");
    data_.erase(id);
  }
  void replace(long id, long value) { data_[id] = value; }
  connectors::MultiInputData<long, long> data_;
};

// A disconnect applies what the other sources announced first; when its
// removal then failed, it took back the mark of a change as if nothing had
// changed, and the observers kept a result without the applied value.
TEST_P(MultiInputTest, ADisconnectWhoseRemovalFailsStillTellsTheChangeItAppliedFirst) {
  Held a{1};
  Held b{2};
  SumWithFailingRemove sum;
  sum.in.connect(a.out);
  sum.in.connect(b.out);
  EXPECT_EQ(sum.total(), 3);
  b.in(20);  // announced, not applied
  sum.failing_remove = true;
  EXPECT_THROW(sum.in.disconnect(a.out), std::runtime_error);
  sum.failing_remove = false;
  EXPECT_EQ(sum.sum(), 21);    // a's value stayed (its removal failed), b's 20 applied
  EXPECT_EQ(sum.total(), 21);  // and the result says so
}

// An Id whose copies fail on demand.
std::atomic<int> copies_until_failure{-1};
struct FragileId {
  long value;
  FragileId(long key) : value(key) {}  // NOLINT(google-explicit-constructor): keys convert
  FragileId(const FragileId& other) : value(other.value) {
    if (copies_until_failure.load() >= 0 && copies_until_failure.fetch_sub(1) == 0)
      throw std::runtime_error("copying an id fails");
  }
  FragileId(FragileId&& other) noexcept : value(other.value) {}
  FragileId& operator=(const FragileId& other) {
    value = other.value;
    return *this;
  }
  FragileId& operator=(FragileId&& other) noexcept {
    value = other.value;
    return *this;
  }
  ~FragileId() = default;
  bool operator==(const FragileId& other) const noexcept { return value == other.value; }
};

}  // namespace

template <>
struct std::hash<FragileId> {
  std::size_t operator()(const FragileId& id) const noexcept { return std::hash<long>{}(id.value); }
};

namespace {

class TwoKeys {
 public:
  TwoKeys() { out.set_keys(&TwoKeys::keys); }
  connectors::MultiOutput<long(long)> out{this, &TwoKeys::compute};
  connectors::Input<long> set_count{this, &TwoKeys::count, out};

 private:
  long compute(long key) const { return key * 10; }
  std::vector<long> keys() const {
    std::vector<long> keys;
    for (long key = 1; key <= count_; ++key) keys.push_back(key);
    return keys;
  }
  void count(long count) { count_ = count; }
  long count_ = 2;
};

class FragileTable {
 public:
  FragileTable() { in.set_replace(&FragileTable::replace); }
  connectors::Output<std::size_t> count{this, &FragileTable::size};
  connectors::MultiInput<long, FragileId> in{this, &FragileTable::add, &FragileTable::remove, count};
  std::map<long, long> data;

 private:
  std::size_t size() const { return data.size(); }
  FragileId add(long value) {
    const long id = 1000 + static_cast<long>(data.size());
    data[id] = value;
    return FragileId{id};
  }
  void remove(const FragileId& id) {
    if (data.erase(id.value) == 0) throw std::out_of_range("no value under this id");
  }
  void replace(const FragileId& id, long value) { data[id.value] = value; }
};

// A whole multi-output's value stored by the owner, then the copy of its key
// into the record failed: the value stayed in the owner with no record of
// it, so neither a retry, a disconnect nor the key's vanishing removed it
// (docs/multi-inputs.md: a failing Id copy never leaves a stored value
// without its record). Each copy of a get fails in turn.
TEST_P(MultiInputTest, AnIdCopyThatFailsDuringAGetLeavesNoValueWithoutItsRecord) {
  int failed_gets = 0;
  for (int copy = 0; copy < 20; ++copy) {
    for (const int then : {0, 1, 2}) {
      SCOPED_TRACE("copy " + std::to_string(copy) + ", then " + std::to_string(then));
      TwoKeys keys;
      FragileTable table;
      table.in.connect(keys.out);
      copies_until_failure = copy;
      bool failed = false;
      try {
        (void)table.count();
      } catch (const std::runtime_error&) {
        failed = true;
      }
      copies_until_failure = -1;
      if (!failed) continue;
      ++failed_gets;
      if (then == 0) {
        EXPECT_EQ(table.count(), 2U);  // the retry: each key once
      } else if (then == 1) {
        keys.out.disconnect(table.in);
        EXPECT_TRUE(table.data.empty());
      } else {
        keys.set_count(0);
        EXPECT_EQ(table.count(), 0U);
      }
    }
  }
  EXPECT_GE(failed_gets, 9);  // three copies at least, each with the three endings
}

class DestroysItsSource {
 public:
  connectors::Output<std::size_t> count{this, &DestroysItsSource::size};
  connectors::MultiInput<long> in{this, &DestroysItsSource::add, &DestroysItsSource::remove, count};
  std::unique_ptr<Held>* source = nullptr;
  std::map<std::size_t, long> data;

 private:
  std::size_t size() const { return data.size(); }
  std::size_t add(long value) {
    const std::size_t id = next_++;
    data[id] = value;
    if (source != nullptr) source->reset();
    return id;
  }
  void remove(std::size_t id) { data.erase(id); }
  std::size_t next_ = 0;
};

// An add that destroys the block of the source whose first value it stores:
// the get fails (a method destroyed a block of the network) and the value,
// which no connection records any more, is removed again. Recording it read
// the id of a value replaced, which a first value has not (an empty
// std::optional: the ASan build's library assertions stopped the program).
TEST_P(MultiInputTest, AnAddThatDestroysItsSourceFailsAndKeepsNothing) {
  auto source = std::make_unique<Held>(1);
  DestroysItsSource table;
  table.in.connect(source->out);
  table.source = &source;
  EXPECT_THROW((void)table.count(), std::logic_error);
  EXPECT_EQ(source, nullptr);
  EXPECT_TRUE(table.data.empty());
  EXPECT_FALSE(table.in.is_connected());
}

// A table whose remove refuses an id it does not hold, as
// MultiInputData::erase and the library's Multiplexer do; with `Moves`, its
// replace moves the value to a new id, as some tables do.
template <bool Moves>
class StrictTableOf {
 public:
  StrictTableOf() { in.set_replace(&StrictTableOf::replace); }
  connectors::Output<std::size_t> count{this, &StrictTableOf::size};
  connectors::MultiInput<long, long> in{this, &StrictTableOf::add, &StrictTableOf::remove, count};
  std::map<long, long> values;  // id -> value

 private:
  std::size_t size() const { return values.size(); }
  long add(long value) {
    values[next_] = value;
    return next_++;
  }
  void remove(long id) {
    if (values.erase(id) == 0) throw std::out_of_range("remove: no value under this id");
  }
  long replace(long id, long value) {
    if constexpr (Moves) {
      remove(id);
      return add(value);
    }
    values[id] = value;
    return id;
  }
  long next_ = 100;
};
using StrictTable = StrictTableOf<false>;
using MovingTable = StrictTableOf<true>;

// SPEC A18: remove only where a value is stored. A direct remove that takes
// the value a connection stored leaves that connection holding none; before,
// its disconnect (or its key's loss) removed the id a second time, and the
// owner's remove threw std::out_of_range.
TEST_P(MultiInputTest, AValueRemovedDirectlyIsNotRemovedAgainByItsConnection) {
  Held plain{7};
  Held keyed{8};
  ThreeKeys whole;
  StrictTable table;
  table.in.connect(plain.out);
  table.in[5].connect(keyed.out);
  table.in.connect(whole.out);
  EXPECT_EQ(table.count(), 5U);
  EXPECT_EQ(table.values, (std::map<long, long>{{1, 10}, {2, 20}, {3, 30}, {5, 8}, {100, 7}}));

  table.in.remove(100);  // the plain connection's value
  table.in.remove(5);    // mi[5]'s
  table.in.remove(2);    // the whole multi-output's key 2
  EXPECT_EQ(table.count(), 2U);
  EXPECT_NO_THROW(plain.out.disconnect(table.in));
  EXPECT_NO_THROW(table.in[5].disconnect(keyed.out));
  EXPECT_NO_THROW(whole.out.disconnect(table.in));
  EXPECT_TRUE(table.values.empty());

  // A connection whose value was removed stores its next one anew.
  table.in.connect(plain.out);
  EXPECT_EQ(table.count(), 1U);
  table.in.remove(table.values.begin()->first);
  plain.in(9);
  EXPECT_EQ(table.count(), 1U);
  EXPECT_EQ(table.values.begin()->second, 9);
  EXPECT_NO_THROW(plain.out.disconnect(table.in));
  EXPECT_TRUE(table.values.empty());
}

// A direct replace that moved a connection's value to another id left the
// connection recording the old one: its disconnect removed that id again
// (the owner's remove threw) and left the moved value for good. The moved
// value is a direct one now, and the connection holds none (SPEC A18).
TEST_P(MultiInputTest, AValueMovedByADirectReplaceIsADirectValue) {
  Held plain{7};
  MovingTable table;
  table.in.connect(plain.out);
  EXPECT_EQ(table.count(), 1U);
  EXPECT_EQ(table.in.replace(100, 5), 101);
  EXPECT_EQ(table.values, (std::map<long, long>{{101, 5}}));
  EXPECT_NO_THROW(plain.out.disconnect(table.in));
  EXPECT_EQ(table.values, (std::map<long, long>{{101, 5}}));
}

// A multi-input without observers, whose replace moves the value to a new id
// and may destroy a block: mi[id](v) then runs the owner's method alone.
class MovingSink {
 public:
  MovingSink() { in.set_replace(&MovingSink::replace); }
  connectors::MultiInput<long, long> in{this, &MovingSink::add, &MovingSink::remove};
  std::map<long, long> values;  // id -> value
  std::unique_ptr<Held>* victim = nullptr;

 private:
  long add(long value) {
    values[next_] = value;
    return next_++;
  }
  void remove(long id) {
    if (values.erase(id) == 0) throw std::out_of_range("remove: no value under this id");
  }
  long replace(long id, long value) {
    if (values.erase(id) == 0) {  // a first value: stored under its id
      values[id] = value;
      return id;
    }
    if (victim != nullptr) victim->reset();
    return add(value);
  }
  long next_ = 100;
};

// The same through mi[id](v) on that path, when the replace also destroyed a
// block and the call fails: the value had moved all the same, and the
// connection that held it held it no more (its disconnect removed the old id
// again before).
TEST_P(MultiInputTest, AValueMovedByAnItemCallThatDestroysABlockIsStillADirectValue) {
  Held keyed{8};
  auto victim = std::make_unique<Held>(1);  // a source of the same network
  MovingSink sink;
  sink.in.set_laziness(connectors::Laziness::ON_CONNECT);
  sink.in.connect(victim->out);
  sink.in[5].connect(keyed.out);
  EXPECT_EQ(sink.values, (std::map<long, long>{{5, 8}, {100, 1}}));
  sink.victim = &victim;
  EXPECT_THROW(sink.in[5](9), std::logic_error);  // a method destroyed a block of the network
  EXPECT_EQ(victim, nullptr);
  EXPECT_EQ(sink.values, (std::map<long, long>{{101, 9}}));
  EXPECT_NO_THROW(sink.in[5].disconnect(keyed.out));
  EXPECT_EQ(sink.values, (std::map<long, long>{{101, 9}}));
}

// SPEC 1.4: each connection owns its ids. A whole multi-output's key that
// an mi[id] connection holds as its id overwrote that connection's value
// (and the key's loss would have removed it); the delivery now refuses it.
TEST_P(MultiInputTest, AWholeMultiOutputsKeyThatAnItemConnectionHoldsIsRefused) {
  Held keyed{8};
  ThreeKeys whole;
  KeyTable<long> table;
  table.in[2].connect(keyed.out);
  table.in.connect(whole.out);
  EXPECT_THROW((void)table.count(), connectors::ConnectionError);
  EXPECT_EQ(table.values.at(2), 8);  // mi[2]'s value stays
  // A disconnect first stores what the other connections announced
  // (docs/multi-inputs.md), which meets the refusal again: it completes all
  // the same, and reports it.
  EXPECT_THROW(table.in[2].disconnect(keyed.out), connectors::ConnectionError);
  EXPECT_FALSE(table.in.is_connected_to(keyed.out));
  EXPECT_EQ(table.count(), 3U);
  EXPECT_EQ(table.values, (std::map<long, long>{{1, 10}, {2, 20}, {3, 30}}));
}

INSTANTIATE_TEST_SUITE_P(Executors, MultiInputTest, ::testing::Values(0, 2), executor_name);

}  // namespace
