// Catalog tests of test_singleinput.py (docs/design.md#catalog-tests): T49, T51, T52, T53, T54, T56, T57.
#include "helpers/call_logger.hpp"
#include "helpers/executor_fixture.hpp"
#include "helpers/test_classes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace connectors::testing;
using connectors::Laziness;

class SingleInput : public OnEveryExecutor {};

TEST_P(SingleInput, T49_SimpleInputOutputChain) {
  Simple t1{&log}, t2{&log};
  t2.set_value.connect(t1.get_value);
  EXPECT_TRUE(log.compare({}));
  EXPECT_EQ(t2.get_value(), None);
  EXPECT_TRUE(log.compare({call(t1, "get_value", {}, None), call(t2, "set_value", {None}, Value::object(t2)),
                           call(t2, "get_value", {}, None)}));
  log.clear();
  t1.set_value(1.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {1.0}, Value::object(t1))}));
  EXPECT_EQ(t2.get_value(), 1.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {1.0}, Value::object(t1)), call(t1, "get_value", {}, 1.0),
                           call(t2, "set_value", {1.0}, Value::object(t2)), call(t2, "get_value", {}, 1.0)}));
}

TEST_P(SingleInput, T51_MultipleOutputs) {
  Simple t1{&log};
  MultipleOutputs t2{&log};
  t2.set_value.connect(t1.get_value);
  EXPECT_TRUE(log.compare({}));
  EXPECT_EQ(t2.get_value(), None);
  EXPECT_TRUE(log.compare({call(t1, "get_value", {}, None), call(t2, "set_value", {None}, Value::object(t2)),
                           call(t2, "get_value", {}, None)}));
  log.clear();
  EXPECT_EQ(t2.get_bool(), false);
  EXPECT_TRUE(log.compare({call(t2, "get_bool", {}, false)}));
  log.clear();
  MultipleInputs t3{&log};
  t3.set_value1.connect(t2.get_value);
  t3.set_value2.connect(t2.get_bool);
  t1.set_value(25.4);
  EXPECT_EQ(t3.get_values(), (Value::List{25.4, true}));
  EXPECT_TRUE(
      log.compare({call(t1, "set_value", {25.4}, Value::object(t1)), call(t1, "get_value", {}, 25.4),
                   call(t2, "set_value", {25.4}, Value::object(t2)),
                   any_order({{call(t2, "get_value", {}, 25.4), call(t3, "set_value1", {25.4}, Value::object(t3))},
                              {call(t2, "get_bool", {}, true), call(t3, "set_value2", {true}, Value::object(t3))}}),
                   call(t3, "get_values", {}, Value::List{25.4, true})}));
}

TEST_P(SingleInput, T52_Disconnect) {
  Simple t1{&log}, t2{&log};
  t2.set_value.connect(t1.get_value);
  EXPECT_TRUE(log.compare({}));
  t1.set_value(1.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {1.0}, Value::object(t1))}));
  t2.set_value.disconnect(t1.get_value);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {1.0}, Value::object(t1)), call(t1, "get_value", {}, 1.0),
                           call(t2, "set_value", {1.0}, Value::object(t2))}));
  log.clear();
  t1.set_value(2.0);
  EXPECT_EQ(t2.get_value(), 1.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {2.0}, Value::object(t1)), call(t2, "get_value", {}, 1.0)}));
}

TEST_P(SingleInput, T53_LazinessOnConnect) {
  {
    Simple t1{&log}, t2{&log};
    t2.set_value.connect(t1.get_value);
    EXPECT_TRUE(log.compare({}));
  }
  {
    Simple t1{&log}, t2{&log};
    EXPECT_EQ(t1.get_value(), None);
    log.clear();
    t2.set_value.set_laziness(Laziness::ON_NOTIFY);
    t2.set_value.connect(t1.get_value);
    EXPECT_TRUE(log.compare({}));  // a connect never pushes
  }
  {
    Simple t1{&log}, t2{&log};
    t2.set_value.set_laziness(Laziness::ON_ANNOUNCE);
    t2.set_value.connect(t1.get_value);
    EXPECT_TRUE(log.compare({}));
  }
  {
    Simple t1{&log}, t2{&log};
    t2.set_value.set_laziness(Laziness::ON_CONNECT);
    t2.set_value.connect(t1.get_value);
    EXPECT_TRUE(log.compare({call(t1, "get_value", {}, None), call(t2, "set_value", {None}, Value::object(t2))}));
  }
}

TEST_P(SingleInput, T54_LazinessOnAnnounce) {
  Simple t1{&log};
  NonLazyInputs t2{&log};
  t2.set_value.connect(t1.get_value);
  EXPECT_TRUE(log.compare({}));
  t1.set_value(1.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {1.0}, Value::object(t1)), call(t1, "get_value", {}, 1.0),
                           call(t2, "set_value", {1.0}, Value::object(t2))}));
  log.clear();
  t2.set_value.set_laziness(Laziness::ON_REQUEST);
  t1.set_value(2.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {2.0}, Value::object(t1))}));
  log.clear();
  Simple t3{&log};
  t3.set_value.set_laziness(Laziness::ON_ANNOUNCE);
  t3.set_value.connect(t1.get_value);
  EXPECT_TRUE(log.compare({}));
  t1.set_value(3.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {3.0}, Value::object(t1)), call(t1, "get_value", {}, 3.0),
                           call(t3, "set_value", {3.0}, Value::object(t3))}));
}

template <class Conditional>
void wire(Simple& t1, Conditional& t2, Simple& t3) {
  t2.set_value.connect(t1.get_value);
  t3.set_value.connect(t2.get_value);
}

template <class Conditional>
void expect_condition_true_round(CallLogger& log, Simple& t1, Conditional& t2, Simple& t3) {
  t1.set_value(1.0);
  EXPECT_EQ(t3.get_value(), 1.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {1.0}, Value::object(t1)), call(t1, "get_value", {}, 1.0),
                           call(t2, "set_value", {1.0}, Value::object(t2)), call(t2, "get_value", {}, 1.0),
                           call(t3, "set_value", {1.0}, Value::object(t3)), call(t3, "get_value", {}, 1.0)}));
}

TEST_P(SingleInput, T56_ConditionOnAnnounce) {
  Simple t1{&log};
  ConditionalInputAnnouncement t2{&log};
  Simple t3{&log};
  wire(t1, t2, t3);
  EXPECT_TRUE(log.compare({}));
  expect_condition_true_round(log, t1, t2, t3);

  t2.condition = false;
  log.clear();
  t1.set_value(2.0);
  EXPECT_EQ(t3.get_value(), 1.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {2.0}, Value::object(t1))}));
  EXPECT_EQ(t2.get_value(), 1.0);

  log.clear();
  t2.set_value(3.0);  // the announce condition does not apply to direct calls
  EXPECT_EQ(t3.get_value(), 3.0);
  EXPECT_TRUE(log.compare({call(t2, "set_value", {3.0}, Value::object(t2)), call(t2, "get_value", {}, 3.0),
                           call(t3, "set_value", {3.0}, Value::object(t3)), call(t3, "get_value", {}, 3.0)}));
}

TEST_P(SingleInput, T57_ConditionOnNotify) {
  Simple t1{&log};
  ConditionalInputNotification t2{&log};
  Simple t3{&log};
  wire(t1, t2, t3);
  EXPECT_TRUE(log.compare({}));
  expect_condition_true_round(log, t1, t2, t3);

  t2.condition = false;
  log.clear();
  t1.set_value(2.0);
  EXPECT_EQ(t3.get_value(), 1.0);
  EXPECT_TRUE(log.compare({call(t1, "set_value", {2.0}, Value::object(t1)), call(t1, "get_value", {}, 2.0),
                           call(t2, "set_value", {2.0}, Value::object(t2))}));
  EXPECT_EQ(t2.get_value(), 1.0);  // the re-validated cache

  log.clear();
  t2.set_value(3.0);
  EXPECT_EQ(t3.get_value(), 1.0);
  EXPECT_TRUE(log.compare({call(t2, "set_value", {3.0}, Value::object(t2))}));
  EXPECT_EQ(t2.get_value(), 1.0);
  t2.set_value(4.0);  // the keyword form of the original is an ordinary call here
}

// A non-lazy input connected below an output whose change is already
// announced still pulls by itself on the next direct change upstream (the
// shortcut through inputs already announced must not skip it).
TEST_P(SingleInput, NonLazyInputConnectedBelowAPendingAnnouncementPulls) {
  Simple a, b;
  NonLazyInputs sink{&log};
  b.set_value.connect(a.get_value);
  a.set_value(1);  // announced to b; nobody pulls
  sink.set_value.connect(b.get_value);
  EXPECT_TRUE(log.compare({}));  // a connect does not trigger ON_ANNOUNCE
  a.set_value(2);
  EXPECT_TRUE(log.compare({call(sink, "set_value", {2}, Value::object(sink))}));
}

// docs/design.md#cancel: an input connected to an output whose change is then cancelled
// still receives the output's (re-validated) value, whether the cancel
// happens in a direct call or during a pull.
TEST_P(SingleInput, A14_ANewConnectionReceivesTheValueAfterACancel) {
  ConditionalInputNotification source;
  source.set_value(7);
  EXPECT_EQ(source.get_value(), 7);
  Simple direct;
  direct.set_value.connect(source.get_value);
  source.condition = false;
  source.set_value(8);  // cancelled in the direct call: get_value is valid (7) again
  EXPECT_EQ(direct.get_value(), 7);

  Simple head;
  ConditionalInputNotification middle;
  middle.set_value.connect(head.get_value);
  head.set_value(1);
  EXPECT_EQ(middle.get_value(), 1);
  Simple pulled;
  pulled.set_value.connect(middle.get_value);
  middle.condition = false;
  head.set_value(2);  // announced; cancelled while pulled's pull runs
  EXPECT_EQ(pulled.get_value(), 1);
  EXPECT_EQ(middle.get_value(), 1);
}

// An announcement refused by a condition, or an input made non-lazy while an
// announcement was pending, is reached again by the next announcement (the
// shortcut through inputs already announced must not skip it).
TEST_P(SingleInput, ARefusedAnnouncementIsReachedByTheNextOne) {
  Simple a, b;
  ConditionalInputAnnouncement c;
  b.set_value.connect(a.get_value);
  c.set_value.connect(b.get_value);
  EXPECT_EQ(c.get_value(), None);
  c.condition = false;
  a.set_value(1.0);  // stops at c
  c.condition = true;
  a.set_value(2.0);
  EXPECT_EQ(c.get_value(), 2.0);
}

TEST_P(SingleInput, AnInputMadeNonLazyIsReachedByTheNextAnnouncement) {
  Simple a, b;
  NonLazyInputs c{&log};
  c.set_value.set_laziness(connectors::Laziness::ON_REQUEST);
  b.set_value.connect(a.get_value);
  c.set_value.connect(b.get_value);
  a.set_value(1);  // announced everywhere; nobody pulls
  c.set_value.set_laziness(connectors::Laziness::ON_ANNOUNCE);
  a.set_value(2);
  EXPECT_TRUE(log.compare({call(c, "set_value", {2}, Value::object(c))}));
}

INSTANTIATE_TEST_SUITE_P(Executors, SingleInput, ::testing::Values(0, 2), executor_name);

}  // namespace
