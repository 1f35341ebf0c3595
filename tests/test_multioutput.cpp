// Catalog tests of test_multioutput.py (docs/design.md#catalog-tests): T33,
// T34, T36, T38, T39, T40, T41, T42 (T32 is Python-only), T47 from
// test_parallelization.py, and the deliberate deviations for multi-outputs
// (docs/design.md#multi-output; A-ids in test names: docs/design.md#spec-map).
#include "helpers/call_logger.hpp"
#include "helpers/executor_fixture.hpp"
#include "helpers/multi_test_classes.hpp"
#include "helpers/plain_blocks.hpp"
#include "helpers/values_of.hpp"
#include "support.hpp"

#include <connectors/blocks/pass_through.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using namespace connectors::testing;
using connectors::Laziness;
using List = Value::List;

class MultiOutputTest : public OnEveryExecutor {};

// The values of a multi-input, in any order (docs/design.md#multi-output).
std::multiset<double> as_set(const Value& values) {
  std::multiset<double> result;
  for (const Value& value : values.as_list()) result.insert(value.as_double());
  return result;
}

TEST_P(MultiOutputTest, T33_ManualMethodCalls) {
  MultiOutputWithKeys t;
  EXPECT_EQ(t.get_value(1), 0);
  EXPECT_EQ(t.get_value(4), 0);
  EXPECT_EQ(t.keys(), (std::vector<Value>{2, 3, 5}));
  t.set_value(7);
  EXPECT_EQ(t.get_value(1), 7);
  EXPECT_EQ(t.get_value(4), 28);
  // A call without a key does not compile (docs/design.md#multi-output).
  static_assert(!std::is_invocable_v<decltype(t.get_value)&>);
}

TEST_P(MultiOutputTest, T34_ManualItemCalls) {
  MultiOutputWithKeys t;
  EXPECT_EQ(t.get_value[3](), 0);
  EXPECT_EQ(t.get_value[9](), 0);
  t.set_value(4);
  EXPECT_EQ(t.get_value[6](), 24);
  EXPECT_EQ(t.get_value[8](), 32);
  static_assert(!std::is_invocable_v<decltype(t.get_value[12]), Value>);
}

TEST_P(MultiOutputTest, T36_CachingInParallelization) {
  MultiOutputWithoutKeys t1{&log};
  Simple t2{&log}, t3{&log}, t4{&log};
  ReplacingMultiInput t5{&log};
  t2.set_value.connect(t1.get_value[1]);
  t3.set_value.connect(t1.get_value[1]);
  t4.set_value.connect(t1.get_value[4]);
  t5.add_value.connect(t2.get_value);
  t5.add_value.connect(t3.get_value);
  t5.add_value.connect(t4.get_value);
  log.clear();
  t1.set_value(3);
  EXPECT_EQ(t5.get_values(), (List{3, 3, 12}));
  EXPECT_TRUE(log.compare(
      {call(t1, "set_value", {3}, Value::object(t1)),
       any_order({{call(t1, "get_value", {1}, 3),
                   any_order({{call(t2, "set_value", {3}, Value::object(t2)), call(t2, "get_value", {}, 3)},
                              {call(t3, "set_value", {3}, Value::object(t3)), call(t3, "get_value", {}, 3)}})},
                  {call(t1, "get_value", {4}, 12), call(t4, "set_value", {12}, Value::object(t4)),
                   call(t4, "get_value", {}, 12)}}),
       call(t5, "add_value", {3}), call(t5, "add_value", {3}), call(t5, "add_value", {12}),
       call(t5, "get_values", {}, List{3, 3, 12})}));
}

// Whether `Source::connect(Target)` compiles.
template <class Source, class Target>
concept connectable = requires(Source& source, Target&& target) {
  source.connect(std::forward<Target>(target));
};

TEST_P(MultiOutputTest, T38_ConnectionErrorsAreCompileErrors) {
  using WholeMultiOutput = connectors::MultiOutput<Value(Value)>;
  using VirtualInput = connectors::MultiInputItem<Value, Value>;
  static_assert(!connectable<connectors::Input<Value>, WholeMultiOutput&>);
  static_assert(!connectable<WholeMultiOutput, connectors::Input<Value>&>);
  static_assert(!connectable<VirtualInput, WholeMultiOutput&>);
  static_assert(!connectable<WholeMultiOutput, VirtualInput>);
  // What is allowed:
  static_assert(connectable<connectors::MultiInput<Value, Value>, WholeMultiOutput&>);
  static_assert(connectable<WholeMultiOutput, connectors::MultiInput<Value, Value>&>);
  static_assert(connectable<connectors::Input<Value>, connectors::MultiOutputItem<Value, Value>>);
  static_assert(connectable<VirtualInput, connectors::MultiOutputItem<Value, Value>>);
  SUCCEED();
}

// T39 and T41: the same with keys from a container and from a one-shot range.
template <class WithKeys>
void check_multi_connections_with_keys() {
  WithKeys t1;
  ReplacingMultiInput t2;
  t2.add_value.connect(t1.get_value);
  EXPECT_EQ(t2.get_values(), (List{0, 0, 0}));
  t1.set_value(7);
  EXPECT_EQ(as_set(t2.get_values()), (std::multiset<double>{14, 21, 35}));
  t1.set_keys(List{3, 5, 7});
  EXPECT_EQ(as_set(t2.get_values()), (std::multiset<double>{21, 35, 49}));
  t1.get_value.disconnect(t2.add_value);
  EXPECT_EQ(t2.get_values(), List{});
}

TEST_P(MultiOutputTest, T39_MultiConnectionsWithKeys) { check_multi_connections_with_keys<MultiOutputWithKeys>(); }

TEST_P(MultiOutputTest, T40_MultiConnectionsWithoutKeys) {
  MultiOutputWithoutKeys t1;
  ReplacingMultiInput t2;
  t1.get_value.connect(t2.add_value);
  EXPECT_EQ(t2.get_values(), List{});
  t1.set_value(7);
  EXPECT_EQ(t2.get_values(), List{});
  t2.add_value.disconnect(t1.get_value);
  EXPECT_EQ(t2.get_values(), List{});
}

TEST_P(MultiOutputTest, T41_MultiConnectionsWithVolatileKeys) {
  check_multi_connections_with_keys<MultiOutputWithVolatileKeys>();
}

TEST_P(MultiOutputTest, T42_MultiConnectionsWithDynamicKeys) {
  Simple t1;
  t1.set_value(List{1, 2, 3});
  MultiOutputWithKeys t2;
  t2.set_keys.connect(t1.get_value);
  ReplacingMultiInput t3;
  t3.add_value.connect(t2.get_value);
  EXPECT_EQ(t3.get_values(), (List{0, 0, 0}));
  t2.set_value(7);
  EXPECT_EQ(as_set(t3.get_values()), (std::multiset<double>{7, 14, 21}));
  t1.set_value(List{3, 5, 7});
  EXPECT_EQ(as_set(t3.get_values()), (std::multiset<double>{21, 35, 49}));
  t1.get_value.disconnect(t2.set_keys);
  EXPECT_EQ(as_set(t3.get_values()), (std::multiset<double>{21, 35, 49}));
  t2.get_value.disconnect(t3.add_value);
  EXPECT_EQ(t3.get_values(), List{});
}

// Repair A10 (docs/design.md#multi-output): a key served from the cache
// reaches a newly connected input.
TEST_P(MultiOutputTest, A10_CachedKeyReachesANewConnection) {
  MultiOutputWithoutKeys t1{&log};
  t1.set_value(2);
  EXPECT_EQ(t1.get_value(5), 10);
  Simple s{&log};
  s.set_value.connect(t1.get_value[5]);
  log.clear();
  EXPECT_EQ(s.get_value(), 10);
  EXPECT_TRUE(log.compare({call(s, "set_value", {10}, Value::object(s)), call(s, "get_value", {}, 10)}));
}

// A whole multi-output into a conditional multi-input works
// (docs/design.md#multi-input, Notify condition); the
// notify condition sees each key's id.
TEST_P(MultiOutputTest, A17_WholeMultiOutputIntoConditionalMultiInput) {
  MultiOutputWithKeys t1;
  ConditionalMultiInputNotification t2;
  Simple t3;
  t2.add_value.connect(t1.get_value);
  t3.set_value.connect(t2.get_values);
  EXPECT_EQ(t3.get_value(), (List{0, 0, 0}));
  t2.condition = false;
  t1.set_value(1);
  EXPECT_EQ(t3.get_value(), (List{0, 0, 0}));  // every key's change was cancelled
  t2.set_condition(true);
  EXPECT_EQ(as_set(t3.get_value()), (std::multiset<double>{2, 3, 5}));
}

// Two multi-inputs pulling the same multi-output at once both get values
// (docs/design.md#multi-output, compute_key).
TEST_P(MultiOutputTest, A20_ConcurrentWholePullsBothGetValues) {
  MultiOutputWithKeys t1{&log};
  ReplacingMultiInput a, b;
  MultipleInputs both;
  a.add_value.connect(t1.get_value);
  b.add_value.connect(t1.get_value);
  both.set_value1.connect(a.get_values);
  both.set_value2.connect(b.get_values);
  t1.set_value(1);
  log.clear();
  const Value values = both.get_values();
  EXPECT_EQ(as_set(values.as_list()[0]), (std::multiset<double>{2, 3, 5}));
  EXPECT_EQ(as_set(values.as_list()[1]), (std::multiset<double>{2, 3, 5}));
  // Each key computed once for both.
  EXPECT_TRUE(log.compare({call(t1, "keys"), any_order({{call(t1, "get_value", {2}, 2)},
                                                        {call(t1, "get_value", {3}, 3)},
                                                        {call(t1, "get_value", {5}, 5)}})}));
}

// T47's guarantees observed directly: keys 1 and 4 compute at the same time
// with the default executor, and key 1 once for its two consumers.
class ProbedMultiOutput {
 public:
  explicit ProbedMultiOutput(TimedLatch& together) : together_(together) {}
  connectors::MultiOutput<double(int)> get_value{this, &ProbedMultiOutput::compute};
  connectors::Input<double> set_value{this, &ProbedMultiOutput::write, get_value};
  std::atomic<int> calls_for_key_1{0};
  bool overlapped = true;

 private:
  double compute(int key) {
    if (key == 1) ++calls_for_key_1;
    if ((key == 1 || key == 4) && !together_.arrive_and_wait()) overlapped = false;
    return value_ * key;
  }
  void write(double value) { value_ = value; }
  TimedLatch& together_;
  double value_ = 0;
};

class DoubleSink {
 public:
  connectors::Output<double> get_value{this, &DoubleSink::read};
  connectors::Input<double> set_value{this, &DoubleSink::write, get_value};

 private:
  double read() const { return value_; }
  void write(double value) { value_ = value; }
  double value_ = 0;
};

class DoubleCollector {
 public:
  DoubleCollector() { add_value.set_replace(&DoubleCollector::replace); }
  connectors::Output<std::vector<double>> get_values{this, &DoubleCollector::read};
  connectors::MultiInput<double> add_value{this, &DoubleCollector::add, &DoubleCollector::remove, get_values};

 private:
  std::vector<double> read() const { return values_of(data_); }
  std::size_t add(double value) { return data_.add(value); }
  void remove(std::size_t id) { data_.erase(id); }
  void replace(std::size_t id, double value) { data_[id] = value; }
  connectors::MultiInputData<double> data_;
};

TEST(MultiOutputParallelization, T47_KeysComputeInParallelAndOnce) {
  connectors::set_default_executor(connectors::executor(2, 0));
  TimedLatch together{2};
  ProbedMultiOutput t1{together};
  DoubleSink t2, t3, t4;
  DoubleCollector t5;
  t2.set_value.connect(t1.get_value[1]);
  t3.set_value.connect(t1.get_value[1]);
  t4.set_value.connect(t1.get_value[4]);
  t5.add_value.connect(t2.get_value);
  t5.add_value.connect(t3.get_value);
  t5.add_value.connect(t4.get_value);
  t1.set_value(3);
  EXPECT_EQ(t5.get_values(), (std::vector<double>{3, 3, 12}));
  EXPECT_TRUE(t1.overlapped);
  EXPECT_EQ(t1.calls_for_key_1, 1);
  connectors::set_default_executor(nullptr);
}

// A getter that connects keys of its own multi-output while its other keys
// compute. The connect is refused (the network is being computed), and before
// anything changes: a key's item used to be created and dropped in the maps
// that the operation's coordinating thread reads without a lock (a data race
// under TSan), and the refusal came later, from the connect itself.
class SelfConnecting {
 public:
  connectors::MultiOutput<double(int)> get_value{this, &SelfConnecting::compute};
  connectors::Input<double> set_value{this, &SelfConnecting::write, get_value};
  std::atomic<int> refused{0};
  std::atomic<int> named{0};

 private:
  double compute(int key) {
    if (key == 1) {
      for (int attempt = 0; attempt < 50; ++attempt) {
        DoubleSink elsewhere;
        try {
          get_value[100 + attempt].connect(elsewhere.set_value);
        } catch (const std::logic_error& error) {
          ++refused;
          if (std::string{error.what()}.find("mo[key]") != std::string::npos) ++named;
        }
      }
    }
    return value_ * key;
  }
  void write(double value) { value_ = value; }
  double value_ = 0;
};

TEST_P(MultiOutputTest, AGetterConnectingItsOwnKeysIsRefusedBeforeAnythingChanges) {
  SelfConnecting t1;
  std::vector<std::unique_ptr<DoubleSink>> sinks;
  DoubleCollector collector;
  for (int key = 1; key <= 6; ++key) {
    sinks.push_back(std::make_unique<DoubleSink>());
    sinks.back()->set_value.connect(t1.get_value[key]);
    collector.add_value.connect(sinks.back()->get_value);
  }
  t1.set_value(2);
  EXPECT_EQ(collector.get_values(), (std::vector<double>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(t1.refused, 50);
  EXPECT_EQ(t1.named, 50);
}

// The per-key item of a disconnected key is forgotten; the key still works.
// A key whose input is destroyed rather than disconnected left its item
// behind for good, walked by every notification of the multi-output: 2000
// consumers that came and went left 2000 items. They are now forgotten when
// the items have doubled since the last time.
TEST_P(MultiOutputTest, KeysWhoseInputsWereDestroyedAreForgotten) {
  Table t1;
  t1.in(2.0);
  const auto& items =
      static_cast<const connectors::detail::MultiOutputNode&>(connectors::detail::NodeAccess::node(t1.out)).items();
  for (int key = 0; key < 2000; ++key) {
    connectors::blocks::PassThrough<double> consumer;
    consumer.input.connect(t1.out[key]);
    EXPECT_EQ(consumer.output(), 2.0 * key);
  }
  EXPECT_LE(items.size(), 128U);
  connectors::blocks::PassThrough<double> kept;
  kept.input.connect(t1.out[7]);
  for (int key = 0; key < 200; ++key) {
    connectors::blocks::PassThrough<double> consumer;
    consumer.input.connect(t1.out[1000 + key]);
  }
  t1.in(1.0);
  EXPECT_EQ(kept.output(), 21.0);  // a key still connected keeps its item
  EXPECT_LE(items.size(), 128U);
}

TEST_P(MultiOutputTest, KeysConnectAndDisconnectRepeatedly) {
  MultiOutputWithoutKeys t1;
  t1.set_value(2);
  for (int round = 0; round < 3; ++round) {
    Simple s;
    s.set_value.connect(t1.get_value[round]);
    EXPECT_EQ(s.get_value(), 2 * round);
    t1.get_value[round].disconnect(s.set_value);
    EXPECT_THROW(t1.get_value[round].disconnect(s.set_value), connectors::ConnectionError);
  }
}

TEST_P(MultiOutputTest, GetterFailureLeavesTheKeyInvalidAndIsRetried) {
  struct Failing {
    connectors::MultiOutput<int(int)> get{this, &Failing::compute};
    int failures = 1;
    int compute(int key) {
      if (failures-- > 0) throw std::runtime_error("no");
      return key * 2;
    }
  } failing;
  Simple sink;
  sink.set_value.connect(failing.get[3]);
  EXPECT_THROW(sink.get_value(), std::runtime_error);
  EXPECT_EQ(sink.get_value(), 6);
}

INSTANTIATE_TEST_SUITE_P(Executors, MultiOutputTest, ::testing::Values(0, 2), executor_name);

// A key whose hash throws (here on its Nth call within a connect): the
// connect fails with that exception, or completes, and the multi-output
// keeps working. Before, a throw at the connect's end (forgetting the key's
// item) ended the program: that step is noexcept.
struct ThrowingHashKey {
  int k;
  bool operator==(const ThrowingHashKey&) const = default;
};
long key_hash_calls = 0;
long failing_key_hash = -1;

}  // namespace

template <>
struct std::hash<ThrowingHashKey> {
  std::size_t operator()(const ThrowingHashKey& key) const {
    if (failing_key_hash >= 0 && key_hash_calls++ == failing_key_hash) throw std::runtime_error("no hash now");
    return std::hash<int>{}(key.k);
  }
};

namespace {

class ScaledByKey {
 public:
  connectors::MultiOutput<double(ThrowingHashKey)> get{this, &ScaledByKey::scaled};
  connectors::Input<double> set{this, &ScaledByKey::store, get};

 private:
  double scaled(const ThrowingHashKey& key) const { return value_ * key.k; }
  void store(double value) { value_ = value; }
  double value_ = 1.0;
};

class Held {
 public:
  connectors::Output<double> get_value{this, &Held::read};
  connectors::Input<double> set_value{this, &Held::write, get_value};

 private:
  double read() const { return value_; }
  void write(double value) { value_ = value; }
  double value_ = 0.0;
};

TEST(MultiOutput, AKeyWhoseHashThrowsFailsTheConnectOrIsKept) {
  ScaledByKey source;
  long failing = 0;
  for (; failing < 100; ++failing) {
    Held sink;
    key_hash_calls = 0;
    failing_key_hash = failing;
    bool threw = false;
    try {
      source.get[ThrowingHashKey{3}].connect(sink.set_value);
    } catch (const std::runtime_error&) {
      threw = true;
    }
    const bool hash_failed = key_hash_calls > failing;
    failing_key_hash = -1;
    if (!hash_failed) {
      EXPECT_FALSE(threw);
      EXPECT_TRUE(sink.set_value.is_connected());
      break;
    }
    source.set(static_cast<double>(failing));
    if (sink.set_value.is_connected()) {
      EXPECT_EQ(sink.get_value(), 3.0 * static_cast<double>(failing));
      source.get[ThrowingHashKey{3}].disconnect(sink.set_value);
    }
    EXPECT_EQ(source.get(ThrowingHashKey{2}), 2.0 * static_cast<double>(failing));
  }
  EXPECT_GT(failing, 0);
  EXPECT_LT(failing, 100);
}

// A key whose hash throws at each step of a get in turn: that get fails (or,
// at the removal of its run's record, succeeds), and the key serves the next
// ones. (A throw while the key's run record was
// removed left the record: every later get of the key failed with an
// internal error, a direct call waited for ever.)
TEST(MultiOutput, AKeyWhoseHashThrowsDuringAGetFailsOnlyThatGet) {
  long failing = 0;
  for (; failing < 100; ++failing) {
    ScaledByKey source;
    Held sink;
    sink.set_value.connect(source.get[ThrowingHashKey{3}]);
    source.set(2.0);
    key_hash_calls = 0;
    failing_key_hash = failing;
    bool threw = false;
    try {
      EXPECT_EQ(sink.get_value(), 6.0);
    } catch (const std::runtime_error& error) {
      EXPECT_STREQ(error.what(), "no hash now");
      threw = true;
    }
    const bool hash_failed = key_hash_calls > failing;
    failing_key_hash = -1;
    // A throw while the finished run's record is removed is not the get's
    // failure: the value is there (docs/multi-outputs.md).
    if (threw) {
      EXPECT_TRUE(hash_failed) << "hash call " << failing;
    }
    ASSERT_EQ(sink.get_value(), 6.0) << "hash call " << failing;
    source.set(3.0);
    ASSERT_EQ(sink.get_value(), 9.0) << "hash call " << failing;
    ASSERT_EQ(source.get(ThrowingHashKey{3}), 9.0) << "hash call " << failing;
    if (!hash_failed) break;
  }
  EXPECT_GT(failing, 2);
  EXPECT_LT(failing, 100);
}

class ScaledByReal {
 public:
  connectors::MultiOutput<double(double)> get{this, &ScaledByReal::scaled};

 private:
  double scaled(double key) const { return 2 * key; }
};

// A NaN key is not equal to itself: no table finds it again (each use added
// a record, an item and a cache entry for good, and a connection through it
// was never served). It is refused.
TEST(MultiOutput, AKeyNotEqualToItselfIsRefused) {
  ScaledByReal source;
  Held sink;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(source.get(nan), std::invalid_argument);
  EXPECT_THROW((void)source.get[nan], std::invalid_argument);
  EXPECT_FALSE(sink.set_value.is_connected());
  EXPECT_EQ(source.get(1.5), 3.0);
}

}  // namespace
