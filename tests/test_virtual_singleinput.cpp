// Catalog tests of test_virtual_singleinput.py (docs/design.md#catalog-tests): T58, T59, T61,
// T62, T65, a connection made through mi[id] broken through the whole mi, and one
// source per id.
#include "helpers/call_logger.hpp"
#include "helpers/executor_fixture.hpp"
#include "helpers/multi_test_classes.hpp"
#include "helpers/plain_blocks.hpp"

#include <connectors/blocks/pass_through.hpp>
#include <connectors/errors.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace connectors::testing;
using connectors::Laziness;
using List = Value::List;

class VirtualSingleInput : public OnEveryExecutor {};

TEST_P(VirtualSingleInput, T58_ManualMethodCalls) {
  Simple t1;
  Simple t2;
  t2.set_value.set_laziness(Laziness::ON_ANNOUNCE);
  ReplacingMultiInput not_connected;
  not_connected.add_value[1](None);
  ReplacingMultiInput connected;
  connected.add_value[1].connect(t1.get_value);
  t2.set_value.connect(connected.get_values);
  for (ReplacingMultiInput* tested : {&not_connected, &connected}) {
    EXPECT_EQ(tested->get_values(), List{None});
    tested->add_value[2](10);
    EXPECT_EQ(tested->get_values(), (List{None, 10}));
    tested->add_value[1](20);
    EXPECT_EQ(tested->get_values(), (List{20, 10}));
    EXPECT_EQ(tested->add_value.replace(2, 30), 2);
    EXPECT_EQ(tested->get_values(), (List{20, 30}));
    tested->add_value.remove(2);
    EXPECT_EQ(tested->get_values(), List{20});
  }
  EXPECT_EQ(t2.get_value(), List{20});
}

TEST_P(VirtualSingleInput, T59_ReplacingMultiInput) {
  ReplacingMultiInput t3;
  EXPECT_EQ(t3.get_values(), List{});
  t3.add_value[1](1);
  EXPECT_EQ(t3.get_values(), List{1});
  t3.add_value[2](2);
  EXPECT_EQ(t3.get_values(), (List{1, 2}));
  t3.add_value.replace(1, 3);
  EXPECT_EQ(t3.get_values(), (List{3, 2}));
  t3.add_value.remove(1);
  EXPECT_EQ(t3.get_values(), List{2});
  Simple t1, t2;
  t1.set_value(11);
  t2.set_value(12);
  t3.add_value[3].connect(t1.get_value);
  t3.add_value[4].connect(t2.get_value);
  EXPECT_EQ(t3.get_values(), (List{2, 11, 12}));
  t1.set_value(13);
  EXPECT_EQ(t3.get_values(), (List{2, 13, 12}));
}

TEST_P(VirtualSingleInput, T61_Disconnect) {
  Simple t1, t2;
  ReplacingMultiInput t3;
  t3.add_value["1"].connect(t1.get_value);
  t3.add_value["2"].connect(t2.get_value);
  t1.set_value(1.0);
  t2.set_value(2.0);
  EXPECT_EQ(t3.get_values(), (List{1.0, 2.0}));
  t3.add_value["2"].disconnect(t2.get_value);
  EXPECT_EQ(t3.get_values(), List{1.0});
}

TEST_P(VirtualSingleInput, T62_LazinessOnConnect) {
  ReplacingMultiInput t1{&log};
  NonLazyMultiInputs t2{&log};
  t2.add_value.set_laziness(Laziness::ON_CONNECT);
  t2.add_value[List{"tuple1"}].connect(t1.get_values);  // tuple keys work
  EXPECT_TRUE(log.compare({call(t1, "get_values"), call(t2, "replace_value")}));
  log.clear();
  t1.add_value[List{"tuple2"}](1.0);
  EXPECT_TRUE(log.compare({call(t1, "replace_value", {List{"tuple2"}, 1.0}), call(t1, "get_values", {}, List{1.0}),
                           call(t2, "replace_value", {List{"tuple1"}, List{1.0}})}));
  log.clear();
  t2.add_value.set_laziness(Laziness::ON_REQUEST);
  t1.add_value[List{"tuple3"}](2.0);
  EXPECT_TRUE(log.compare({call(t1, "replace_value")}));
}

TEST_P(VirtualSingleInput, T65_ConditionOnAnnounce) {
  Simple t1{&log};
  ConditionalMultiInputAnnouncement t2{&log};
  Simple t3{&log};
  t2.add_value[1].connect(t1.get_value);
  t3.set_value.connect(t2.get_values);
  EXPECT_TRUE(log.compare({}));
  t1.set_value(1.0);
  EXPECT_EQ(t3.get_value(), List{1.0});
  EXPECT_TRUE(
      log.compare({call(t1, "set_value", {1.0}, Value::object(t1)), call(t1, "get_value", {}, 1.0),
                   call(t2, "replace_value", {1, 1.0}, 1), call(t2, "get_values", {}, List{1.0}),
                   call(t3, "set_value", {List{1.0}}, Value::object(t3)), call(t3, "get_value", {}, List{1.0})}));
  t2.condition = false;
  log.clear();
  t1.set_value(2.0);
  EXPECT_EQ(t3.get_value(), List{1.0});
  EXPECT_TRUE(log.compare({call(t1, "set_value", {2.0}, Value::object(t1))}));
  EXPECT_EQ(t2.get_values(), List{1.0});
  log.clear();
  t2.add_value[2](3.0);
  EXPECT_EQ(t3.get_value(), (List{1.0, 3.0}));
  EXPECT_TRUE(log.compare({call(t2, "replace_value", {2, 3.0}, 2), call(t2, "get_values", {}, List{1.0, 3.0}),
                           call(t3, "set_value", {List{1.0, 3.0}}, Value::object(t3)),
                           call(t3, "get_value", {}, List{1.0, 3.0})}));
  log.clear();
  t1.get_value.disconnect(t2.add_value[1]);
  EXPECT_EQ(t3.get_value(), List{3.0});
  EXPECT_TRUE(
      log.compare({call(t2, "remove_value", {1}, Value::object(t2)), call(t2, "get_values", {}, List{3.0}),
                   call(t3, "set_value", {List{3.0}}, Value::object(t3)), call(t3, "get_value", {}, List{3.0})}));
}

// The connection belongs to the multi-input (docs/design.md#multi-input), so
// either form breaks it.
TEST_P(VirtualSingleInput, ConnectionThroughAnIdIsBrokenThroughTheWholeInput) {
  Simple t1;
  ReplacingMultiInput t2;
  t1.set_value(5);
  t1.get_value.connect(t2.add_value[7]);
  EXPECT_EQ(t2.get_values(), List{5});
  t2.add_value.disconnect(t1.get_value);
  EXPECT_EQ(t2.get_values(), List{});
}

// mi[id] takes one source, as an Input does: a second one would replace the
// first one's value under the same id, and disconnecting either would remove
// the other's (docs/multi-inputs.md, Virtual inputs).
TEST_P(VirtualSingleInput, TakesOneSourcePerId) {
  Simple first, second;
  ReplacingMultiInput t2;
  first.set_value(5);
  second.set_value(6);
  first.get_value.connect(t2.add_value[7]);
  EXPECT_THROW(second.get_value.connect(t2.add_value[7]), connectors::ConnectionError);
  EXPECT_THROW(t2.add_value[7].connect(second.get_value), connectors::ConnectionError);
  EXPECT_EQ(t2.get_values(), List{5});
  second.get_value.connect(t2.add_value[8]);  // another id is another input
  EXPECT_EQ(t2.get_values(), (List{5, 6}));
  first.get_value.disconnect(t2.add_value[7]);
  second.set_value(4);
  EXPECT_EQ(t2.get_values(), List{4});
  // The id is free again once its source left, by a disconnect...
  second.get_value.disconnect(t2.add_value[8]);
  second.get_value.connect(t2.add_value[7]);
  EXPECT_EQ(t2.get_values(), List{4});
  {
    // ...or by the source's destruction.
    Simple third;
    third.set_value(2);
    third.get_value.connect(t2.add_value[9]);
    EXPECT_EQ(t2.get_values(), (List{4, 2}));
  }
  first.get_value.connect(t2.add_value[9]);
  EXPECT_EQ(t2.get_values(), (List{4, 5}));
}

// The same with a hashable id (the ids are then found by hashing).
TEST_P(VirtualSingleInput, TakesOneSourcePerHashedId) {
  connectors::blocks::PassThrough<double> first{1.0}, second{2.0};
  Sum sum;
  sum.in[3].connect(first.output);
  EXPECT_THROW(sum.in[3].connect(second.output), connectors::ConnectionError);
  EXPECT_EQ(sum.out(), 1.0);
  sum.in[3].disconnect(first.output);
  sum.in[3].connect(second.output);
  EXPECT_EQ(sum.out(), 2.0);
}

// A virtual input of a multi-output's key: keyed on both sides.
TEST_P(VirtualSingleInput, ConnectsToAMultiOutputKey) {
  MultiOutputWithoutKeys t1;
  ReplacingMultiInput t2;
  t1.set_value(3);
  t2.add_value["x"].connect(t1.get_value[2]);
  t1.get_value[5].connect(t2.add_value["y"]);
  EXPECT_EQ(t2.get_values(), (List{6, 15}));
  t1.set_value(1);
  EXPECT_EQ(t2.get_values(), (List{2, 5}));
  t2.add_value["x"].disconnect(t1.get_value[2]);
  EXPECT_EQ(t2.get_values(), List{5});
}

INSTANTIATE_TEST_SUITE_P(Executors, VirtualSingleInput, ::testing::Values(0, 2), executor_name);

}  // namespace
