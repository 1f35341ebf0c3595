// Catalog tests of test_garbagecollection.py and test_failing.py
// (docs/design.md#catalog-tests), as positive tests of RAII lifetime
// (docs/design.md#lifetime): T6-T13, and the
// lifetime of multi-connectors and macros. Every object is destroyed at scope end and the
// sanitizer builds check that nothing leaks.
#include "helpers/call_logger.hpp"
#include "helpers/multi_test_classes.hpp"
#include "helpers/test_classes.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace {

using namespace connectors::testing;

class Lifetime : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(live_objects.load(), 0); }
  void TearDown() override { EXPECT_EQ(live_objects.load(), 0); }
};

TEST_F(Lifetime, T11_EndOfLifetime) {
  {
    Simple t1;
    MultipleOutputs t2;
    t2.set_value.connect(t1.get_value);
    t2.get_value();
  }
  EXPECT_EQ(live_objects.load(), 0);
  {
    Simple t1;
    MultipleOutputs t2;
    t2.set_value.connect(t1.get_value);
    t2.set_value("go away");
  }
  EXPECT_EQ(live_objects.load(), 0);
  {
    Simple t1;
    MultipleOutputs t2;
    t2.set_value.connect(t1.get_value);
    t2.set_value.disconnect(t1.get_value);
  }
  EXPECT_EQ(live_objects.load(), 0);
  {
    Simple t1;
    ReplacingMultiInput t2;
    NonReplacingMultiInput t3;
    t2.add_value.connect(t1.get_value);
    t3.add_value.connect(t1.get_value);
    t2.get_values();
    t3.add_value.disconnect(t1.get_value);
  }
  EXPECT_EQ(live_objects.load(), 0);
  {
    Simple t1;
    auto sink = std::make_unique<NonLazyInputs>();
    sink->set_value.connect(t1.get_value);
    t1.set_value(1.0);
  }
}

TEST_F(Lifetime, T13_MethodCallsInConstructor) {
  CallLogger log;
  {
    ConstructorMethodCall t{&log};
    EXPECT_EQ(t.constructed_values, Value::List{None});
    EXPECT_EQ(t.get_values(), Value::List{None});
    EXPECT_EQ(log.size(), 5U);  // the second get_values is a cache hit (Python: 6; docs/design.md#lifetime)
  }
  log.clear();
  {
    MultipleOutputs t1{&log};
    ConstructorMethodCall t2{&log};
    t2.set_first_value.connect(t1.get_value);
    t2.add_value.connect(t1.get_bool);
    Simple t3{&log};
    t3.set_value.connect(t2.get_values);
    t1.set_value(12.0);
    EXPECT_EQ(t3.get_value(), (Value::List{12.0, true}));
    EXPECT_EQ(log.size(), 13U);
  }
}

// Destroying any side of a multi-connection in any order leaves nothing
// behind and nothing dangling (the sanitizer builds check the memory).
TEST_F(Lifetime, MultiConnectorsInAnyDestructionOrder) {
  for (int order = 0; order < 2; ++order) {
    auto source = std::make_unique<MultiOutputWithKeys>();
    auto keyed = std::make_unique<Simple>();
    auto whole = std::make_unique<ReplacingMultiInput>();
    auto downstream = std::make_unique<Simple>();
    keyed->set_value.connect(source->get_value[3]);
    whole->add_value.connect(source->get_value);
    whole->add_value["k"].connect(keyed->get_value);
    downstream->set_value.connect(whole->get_values);
    source->set_value(1);
    EXPECT_EQ(downstream->get_value().as_list().size(), 4U);
    source->set_value(2);  // leaves announcements pending
    if (order == 0) {
      source.reset();
      EXPECT_EQ(downstream->get_value().as_list().size(), 1U);  // keyed's last value stays
      whole.reset();
    } else {
      whole.reset();
      source.reset();
    }
    keyed.reset();
    downstream.reset();
    EXPECT_EQ(live_objects.load(), 0);
  }
}

TEST_F(Lifetime, MacrosLeaveNothingBehind) {
  {
    Macro m;
    Simple t1, t2;
    t1.get_value.connect(m.set_input1);
    t2.set_value.connect(m.get_output1);
    t1.set_value(1.0);
    EXPECT_EQ(t2.get_value(), (Value::List{Value::List{1.0, None}, None}));
  }
  EXPECT_EQ(live_objects.load(), 0);
}

TEST_F(Lifetime, T12_DirectMethodCallsOnTemporaries) {
  EXPECT_EQ(Simple().get_value(), None);
  MultipleInputs().set_value1(1.0);
  {
    MultipleInputs chained;  // chains become statements on a named object
    chained.set_value1(2.0);
    chained.set_value2(3.0);
    EXPECT_EQ(chained.get_values(), (Value::List{2.0, 3.0}));
  }
  {
    MultipleInputs twice;
    twice.set_value1(4.0);
    twice.set_value1(5.0);
  }
  Simple six;
  six.set_value(6.0);
  EXPECT_EQ(six.get_value(), 6.0);
}

TEST_F(Lifetime, T6_OrphanedConnectionWithPendingAnnouncementIsFreed) {
  {
    Simple t1;
    Simple downstream;
    downstream.set_value.connect(t1.get_value);  // leaves an announcement pending
  }
  EXPECT_EQ(live_objects.load(), 0);
}

TEST_F(Lifetime, T7_LazinessChangeInConstructor) {
  ConstructorLazinessChange stored;
  stored.set_value(0);
  EXPECT_EQ(stored.get_value(), 0.0);
  ConstructorLazinessChange().set_value(0);  // on a temporary, too
  EXPECT_EQ(stored.set_value.laziness(), connectors::Laziness::ON_NOTIFY);
}

TEST_F(Lifetime, T8_T9_T10_ConfigurationInConstructors) {
  ConstructorCachingChange caching;
  EXPECT_EQ(caching.get_value(), None);
  EXPECT_EQ(ConstructorCachingChange().get_value(), None);
  EXPECT_FALSE(caching.get_value.caching());
  ConstructorParallelizationChange parallelization;  // PROCESS on a thread executor: thread fallback
  EXPECT_EQ(parallelization.get_value(), None);
  EXPECT_EQ(ConstructorParallelizationChange().get_value(), None);
  ConstructorExecutorChange executor;
  EXPECT_EQ(executor.get_value(), None);
  EXPECT_EQ(ConstructorExecutorChange().get_value(), None);
}

TEST_F(Lifetime, DestroyingAnUpstreamOwnerCancelsAndDisconnects) {
  CallLogger log;
  auto t1 = std::make_unique<Simple>(&log);
  Simple t2{&log};
  t2.set_value(5.0);
  t2.set_value.connect(t1->get_value);
  t1->set_value(1.0);  // t2 waits for t1's change
  t1.reset();
  log.clear();
  EXPECT_EQ(t2.get_value(), 5.0);  // kept its last value, no hang, nothing ran but the getter
  EXPECT_TRUE(log.compare({call(t2, "get_value", {}, 5.0)}));
  Simple t3{&log};
  t2.set_value.connect(t3.get_value);  // the single source slot is free again
  EXPECT_EQ(t2.get_value(), None);
}

TEST_F(Lifetime, DestroyingADownstreamOwnerUnlinksIt) {
  Simple t1;
  {
    MultipleOutputs t2;
    t2.set_value.connect(t1.get_value);
    t1.set_value(1.0);
  }
  EXPECT_FALSE(t1.get_value.is_connected());
  t1.set_value(2.0);
  EXPECT_EQ(t1.get_value(), 2.0);
}

TEST_F(Lifetime, DestroyingTheMiddleOfAChainKeepsTheRestUsable) {
  Simple head;
  auto middle = std::make_unique<Simple>();
  Simple tail;
  middle->set_value.connect(head.get_value);
  tail.set_value.connect(middle->get_value);
  head.set_value(3.0);
  EXPECT_EQ(tail.get_value(), 3.0);
  head.set_value(4.0);
  middle.reset();
  EXPECT_EQ(tail.get_value(), 3.0);
  EXPECT_FALSE(head.get_value.is_connected());
}

}  // namespace
