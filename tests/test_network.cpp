// The deliberate deviations for outputs and single inputs (docs/design.md#deviations),
// each with its own test: cycles (A6), one source (A7), duplicate connects
// (A8), exceptions (A3-A5), deep chains, threads and re-entrance (A31), and
// where methods run. The A-ids name the cases; docs/design.md#spec-map maps
// each to the section that explains it.
#include "helpers/call_logger.hpp"
#include "helpers/executor_fixture.hpp"
#include "helpers/plain_blocks.hpp"
#include "helpers/test_classes.hpp"
#include "sanitizers.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <string>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using namespace connectors::testing;
using connectors::ConnectionError;
using connectors::CycleError;
using connectors::Input;
using connectors::Laziness;
using connectors::Output;
using connectors::Parallelization;

class Network : public ::testing::Test {
 protected:
  void SetUp() override { connectors::set_default_executor(connectors::executor(2, 0)); }
  void TearDown() override { connectors::set_default_executor(nullptr); }
  CallLogger log;
};

class NetworkOnEveryExecutor : public OnEveryExecutor {};
INSTANTIATE_TEST_SUITE_P(Executors, NetworkOnEveryExecutor, ::testing::Values(0, 2), executor_name);

// ---- A6 cycles ------------------------------------------------------------------

TEST_F(Network, A6_ACycleIsRejectedBeforeAnythingChanges) {
  Simple t1{&log}, t2{&log}, t3{&log};
  t2.set_value.connect(t1.get_value);
  t3.set_value.connect(t2.get_value);
  t1.set_value(1.0);
  EXPECT_EQ(t3.get_value(), 1.0);
  log.clear();
  EXPECT_THROW(t1.set_value.connect(t3.get_value), CycleError);
  EXPECT_THROW(t3.get_value.connect(t1.set_value), CycleError);
  EXPECT_THROW(t1.set_value.connect(t1.get_value), CycleError);
  EXPECT_TRUE(log.compare({}));
  EXPECT_FALSE(t1.set_value.is_connected());
  EXPECT_EQ(t3.get_value.connection_count(), 0U);
  EXPECT_EQ(t3.get_value(), 1.0);  // nothing was invalidated
  EXPECT_TRUE(log.compare({}));
}

class FeedbackSink {
 public:
  Output<Value> get_value{this, &FeedbackSink::read};
  Input<Value> set_value{this, &FeedbackSink::write, get_value};
  Input<Value> observe{this, &FeedbackSink::record};  // no observers: a sink
  Value recorded;

 private:
  Value read() const { return value_; }
  void write(const Value& value) { value_ = value; }
  void record(const Value& value) { recorded = value; }
  Value value_;
};

TEST_P(NetworkOnEveryExecutor, A6_FeedbackIntoAnInputWithoutObserversIsNotACycle) {
  FeedbackSink sink;
  sink.observe.set_laziness(Laziness::ON_ANNOUNCE);
  EXPECT_NO_THROW(sink.observe.connect(sink.get_value));
  sink.set_value(7.0);
  EXPECT_EQ(sink.recorded, 7.0);
}

TEST_F(Network, A6_LongChainsConnectInEitherDirection) {
  constexpr int count = 20'000;
  std::vector<std::unique_ptr<Simple>> forward, backward;
  for (int i = 0; i < count; ++i) {
    forward.push_back(std::make_unique<Simple>());
    backward.push_back(std::make_unique<Simple>());
  }
  for (int i = 1; i < count; ++i) forward[i]->set_value.connect(forward[i - 1]->get_value);
  for (int i = count - 1; i >= 1; --i) backward[i]->set_value.connect(backward[i - 1]->get_value);
  EXPECT_THROW(forward.front()->set_value.connect(forward.back()->get_value), CycleError);
  EXPECT_THROW(backward.front()->set_value.connect(backward.back()->get_value), CycleError);
}

// ---- A7, A8 connections ----------------------------------------------------------

TEST_F(Network, A7_ASingleInputHasOneSource) {
  Simple t1{&log}, t2{&log}, t3{&log};
  t3.set_value.connect(t1.get_value);
  EXPECT_THROW(t3.set_value.connect(t2.get_value), ConnectionError);
  EXPECT_THROW(t2.get_value.connect(t3.set_value), ConnectionError);
  t3.set_value.disconnect(t1.get_value);
  EXPECT_NO_THROW(t3.set_value.connect(t2.get_value));
}

TEST_P(NetworkOnEveryExecutor, A8_ARepeatedConnectIsANoOp) {
  Simple t1{&log}, t2{&log};
  t2.set_value.set_laziness(Laziness::ON_CONNECT);
  t2.set_value.connect(t1.get_value);
  log.clear();
  t2.set_value.connect(t1.get_value);
  t1.get_value.connect(t2.set_value);
  EXPECT_TRUE(log.compare({}));  // no second announcement, no second pull
  EXPECT_EQ(t1.get_value.connection_count(), 1U);
  t2.set_value.disconnect(t1.get_value);
  EXPECT_THROW(t2.set_value.disconnect(t1.get_value), ConnectionError);
}

// Past a few connections an output finds a multi-input's connection through
// an index and a single input's through the position the input keeps itself
// (docs/design.md#connect); removals move the last connection into the hole,
// so every removal must leave both right.
TEST_P(NetworkOnEveryExecutor, AWideOutputFindsEveryConnectionThroughDisconnectsAndDestruction) {
  Copy source;
  std::vector<std::unique_ptr<Copy>> singles;
  std::vector<std::unique_ptr<Sum>> sums;
  for (int i = 0; i < 40; ++i) {
    singles.push_back(std::make_unique<Copy>());
    singles.back()->in.connect(source.out);
    if (i % 4 == 0) {
      sums.push_back(std::make_unique<Sum>());
      sums.back()->in.connect(source.out);
    }
  }
  EXPECT_EQ(source.out.connection_count(), 50U);
  singles[0]->in.disconnect(source.out);
  singles[39].reset();
  singles[20]->in.disconnect(source.out);
  sums[0].reset();
  sums[5]->in.disconnect(source.out);
  EXPECT_EQ(source.out.connection_count(), 45U);
  source.in(2.0);
  for (std::size_t i = 0; i < singles.size(); ++i) {
    if (!singles[i]) continue;
    const bool disconnected = i == 0 || i == 20;
    EXPECT_EQ(source.out.is_connected_to(singles[i]->in), !disconnected) << i;
    EXPECT_EQ(singles[i]->out(), disconnected ? 0.0 : 2.0) << i;
  }
  for (std::size_t i = 1; i < sums.size(); ++i) {
    EXPECT_EQ(source.out.is_connected_to(sums[i]->in), i != 5) << i;
    EXPECT_EQ(sums[i]->out(), i == 5 ? 0.0 : 2.0) << i;
  }
  singles[0]->in.connect(source.out);
  EXPECT_TRUE(source.out.is_connected_to(singles[0]->in));
  EXPECT_EQ(singles[0]->out(), 2.0);
  EXPECT_EQ(source.out.connection_count(), 46U);
  singles.clear();
  sums.clear();
  EXPECT_EQ(source.out.connection_count(), 0U);
}

TEST_F(Network, DisconnectingWhatIsNotConnectedThrows) {
  Simple t1{&log}, t2{&log};
  EXPECT_THROW(t2.set_value.disconnect(t1.get_value), ConnectionError);
  EXPECT_THROW(t1.get_value.disconnect(t2.set_value), ConnectionError);
  EXPECT_TRUE(log.compare({}));
}

// ---- A3, A4, A5 exceptions ---------------------------------------------------------

class Flaky : public Logged {
 public:
  explicit Flaky(CallLogger* logger = nullptr) : Logged(logger) {}
  Output<Value> get_value{this, &Flaky::read};
  Input<Value> set_value{this, &Flaky::write, get_value};
  std::atomic<int> getter_failures{0};
  std::atomic<int> setter_failures{0};

 private:
  Value read() {
    if (getter_failures > 0) {
      --getter_failures;
      log(*this, "get_value", {}, "threw");
      throw std::runtime_error("getter failed");
    }
    log(*this, "get_value", {}, value_);
    return value_;
  }
  void write(const Value& value) {
    if (setter_failures > 0) {
      --setter_failures;
      throw std::domain_error("setter failed");
    }
    value_ = value;
    log(*this, "set_value", {value}, Value::object(*this));
  }
  Value value_;
};

TEST_P(NetworkOnEveryExecutor, A3_AFailedGetterIsRetriedOnTheNextRequest) {
  Flaky t1{&log};
  Simple t2{&log};
  t2.set_value.connect(t1.get_value);
  t1.set_value(1.0);
  t1.getter_failures = 1;
  EXPECT_THROW(t2.get_value(), std::runtime_error);
  EXPECT_NE(t1.get_value.state(), connectors::OutputState::valid);
  EXPECT_EQ(t2.get_value(), 1.0);
  EXPECT_TRUE(
      log.compare({call(t1, "set_value", {1.0}), call(t1, "get_value", {}, "threw"), call(t1, "get_value", {}, 1.0),
                   call(t2, "set_value", {1.0}), call(t2, "get_value", {}, 1.0)}));
}

TEST_P(NetworkOnEveryExecutor, A3_AFailingBranchNeverHangsItsSiblings) {
  // A shared upstream feeds two branches; its getter fails while both wait.
  for (int round = 0; round < 20; ++round) {
    Flaky t1;
    MultipleOutputs t2;
    MultipleInputs t3;
    t2.set_value.connect(t1.get_value);
    t3.set_value1.connect(t2.get_value);
    t3.set_value2.connect(t2.get_bool);
    t1.set_value(2.0);
    t1.getter_failures = 1;
    EXPECT_THROW(t3.get_values(), std::runtime_error);
    EXPECT_EQ(t3.get_values(), (Value::List{2.0, true}));
  }
}

TEST_P(NetworkOnEveryExecutor, A4_ASetterThrowingInADirectCallCancelsItsObservers) {
  Flaky t1{&log};
  Simple t2{&log};
  t2.set_value.connect(t1.get_value);
  t1.set_value(1.0);
  EXPECT_EQ(t2.get_value(), 1.0);
  t1.setter_failures = 1;
  EXPECT_THROW(t1.set_value(2.0), std::domain_error);
  EXPECT_EQ(t2.get_value(), 1.0);  // nothing changed, nothing hangs
  t1.set_value(3.0);
  EXPECT_EQ(t2.get_value(), 3.0);
}

TEST_P(NetworkOnEveryExecutor, A4_ASetterThrowingInARequestKeepsItsPendingValue) {
  Simple t1{&log};
  Flaky t2{&log};
  t2.set_value.connect(t1.get_value);
  t1.set_value(1.0);
  t2.setter_failures = 1;
  EXPECT_THROW(t2.get_value(), std::domain_error);
  EXPECT_EQ(t2.get_value(), 1.0);  // the retry applied the value
}

class FailingSink {
 public:
  Input<Value> set_value{this, &FailingSink::write};
  std::atomic<int> calls{0};

 private:
  void write(const Value&) {
    ++calls;
    throw std::out_of_range("sink failed");
  }
};

TEST_P(NetworkOnEveryExecutor, A5_ErrorsOfNonLazyInputsReachTheCallerAfterAllWereServed) {
  Simple t1;
  FailingSink failing;
  NonLazyInputs healthy{&log};
  failing.set_value.set_laziness(Laziness::ON_ANNOUNCE);
  failing.set_value.connect(t1.get_value);
  healthy.set_value.connect(t1.get_value);
  EXPECT_THROW(t1.set_value(1.0), std::out_of_range);
  EXPECT_EQ(failing.calls.load(), 1);
  EXPECT_TRUE(log.compare({call(healthy, "set_value", {1.0})}));
}

// ---- deep chains ------------------------------------------------------------------

class Pass {
 public:
  Output<long> output{this, &Pass::read};
  Input<long> input{this, &Pass::write, output};

 private:
  long read() const { return value_ + 1; }
  void write(long value) { value_ = value; }
  long value_ = 0;
};

TEST_F(Network, AMillionBlockChainConnectsSetsAndGets) {
  CONNECTORS_SKIP_VOLUME_TEST_UNDER_THREAD_SANITIZER();
  constexpr long count = 1'000'000;
  std::vector<Pass> chain(count);
  for (long i = 1; i < count; ++i)
    chain[static_cast<std::size_t>(i)].input.connect(chain[static_cast<std::size_t>(i - 1)].output);
  chain.back().output.set_executor(std::make_shared<connectors::SequentialExecutor>());
  chain.front().input(0);
  EXPECT_EQ(chain.back().output(), count);
  chain.front().input(10);
  EXPECT_EQ(chain.back().output(), count + 10);
}

TEST_F(Network, ALongChainOnTheThreadingExecutor) {
  constexpr long count = 20'000;
  std::vector<Pass> chain(count);
  for (long i = 1; i < count; ++i)
    chain[static_cast<std::size_t>(i)].input.connect(chain[static_cast<std::size_t>(i - 1)].output);
  chain.front().input(5);
  EXPECT_EQ(chain.back().output(), count + 5);
}

// ---- where methods run --------------------------------------------------------------

class Where {
 public:
  Output<std::thread::id> get_thread{this, &Where::thread};
  Input<long> set_value{this, &Where::write, get_thread};
  std::thread::id setter_thread;

 private:
  std::thread::id thread() const { return std::this_thread::get_id(); }
  void write(long) { setter_thread = std::this_thread::get_id(); }
};

TEST_F(Network, ALoneThreadGetterRunsOnTheThreadThatWaitsForIt) {
  // Work-first (docs/parallelization.md): nothing else can run meanwhile, so
  // a hand-off to the pool would only add two thread switches.
  Where where;
  EXPECT_EQ(where.get_thread(), std::this_thread::get_id());  // THREAD by default
  where.set_value(1);
  EXPECT_EQ(where.setter_thread, std::this_thread::get_id());  // direct calls: the caller's thread (A30)
  where.get_thread.set_parallelization(Parallelization::SEQUENTIAL);
  where.set_value(2);
  EXPECT_EQ(where.get_thread(), std::this_thread::get_id());
  where.get_thread.set_parallelization(Parallelization::THREAD);
  where.get_thread.set_executor(std::make_shared<connectors::SequentialExecutor>());
  where.set_value(3);
  EXPECT_EQ(where.get_thread(), std::this_thread::get_id());
}

class Meeting {
 public:
  explicit Meeting(TimedLatch& latch) : latch_(latch) {}
  Output<bool> get_met{this, &Meeting::meet};
  Input<long> set_value{this, &Meeting::write, get_met};

 private:
  bool meet() const { return latch_.arrive_and_wait(); }
  void write(long) {}
  TimedLatch& latch_;
};

class Pair {
 public:
  Output<long> get_both{this, &Pair::both};
  Input<bool> set_first{this, &Pair::first, get_both};
  Input<bool> set_second{this, &Pair::second, get_both};

 private:
  long both() const { return long{first_} + long{second_}; }
  void first(bool value) { first_ = value; }
  void second(bool value) { second_ = value; }
  bool first_ = false;
  bool second_ = false;
};

TEST_F(Network, TwoThreadGettersOfOneRequestRunAtTheSameMoment) {
  TimedLatch latch{2};
  Meeting a{latch}, b{latch};
  Pair pair;
  pair.set_first.connect(a.get_met);
  pair.set_second.connect(b.get_met);
  EXPECT_EQ(pair.get_both(), 2);
}

class Step {
 public:
  Output<long> get_value{this, &Step::read};
  Input<long> set_value{this, &Step::write, get_value};

 private:
  long read() const { return value_; }
  void write(long value) { value_ = value; }
  long value_ = 0;
};

TEST_F(Network, BranchesBelowAChainStillRunAtTheSameMoment) {
  // The waiting thread runs the chain itself (work-first); where the request
  // branches, both getters must leave it, or they could not meet.
  TimedLatch latch{2};
  Meeting a{latch}, b{latch};
  Pair pair;
  Step first, second;
  pair.set_first.connect(a.get_met);
  pair.set_second.connect(b.get_met);
  first.set_value.connect(pair.get_both);
  second.set_value.connect(first.get_value);
  EXPECT_EQ(second.get_value(), 2);
}

// ---- A31 threads and re-entrance ----------------------------------------------------------

TEST_F(Network, SeveralUserThreadsUseOneNetwork) {
  Simple head;
  MultipleOutputs middle;
  MultipleInputs tail;
  middle.set_value.connect(head.get_value);
  tail.set_value1.connect(middle.get_value);
  tail.set_value2.connect(middle.get_bool);
  std::atomic<int> inconsistent{0};
  std::vector<std::thread> users;
  for (int user = 0; user < 4; ++user) {
    users.emplace_back([&, user] {
      for (int i = 0; i < 200; ++i) {
        head.set_value(user * 1000 + i + 1);
        const Value::List values = tail.get_values().as_list();
        if (values.size() != 2 || values[1] != Value{true} || values[0].as_double() < 1.0) ++inconsistent;
      }
    });
  }
  for (std::thread& user : users) user.join();
  EXPECT_EQ(inconsistent.load(), 0);
}

TEST_F(Network, LockFreeCacheHitsRaceWithAWriter) {
  // Output<long> is read without the network lock on a cache hit; a writer
  // thread keeps invalidating and recomputing it. Readers see only values the
  // output really had (TSan checks the publication).
  Pass head, tail;
  tail.input.connect(head.output);
  head.input(0);
  ASSERT_EQ(tail.output(), 2);
  std::atomic<bool> stop{false};
  std::atomic<int> impossible{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const long value = tail.output();
        if (value < 2 || value % 10 != 2) ++impossible;  // always 10k + 2
      }
    });
  }
  for (long i = 1; i <= 300; ++i) {
    head.input(10 * i);
    EXPECT_EQ(tail.output(), 10 * i + 2);
  }
  stop = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(impossible.load(), 0);
}

class ReEnter {
 public:
  Output<long> get_value{this, &ReEnter::read};
  Input<long> set_value{this, &ReEnter::write, get_value};
  Output<long>* other = nullptr;

 private:
  long read() const { return other != nullptr ? (*other)() + 1 : 0; }
  void write(long) {}
};

TEST_P(NetworkOnEveryExecutor, AnOperationInsideAMethodOnAnotherNetworkWorks) {
  for (Parallelization flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD}) {
    ReEnter inner, outer;
    outer.get_value.set_parallelization(flag);
    outer.other = &inner.get_value;
    EXPECT_EQ(outer.get_value(), 1);
  }
}

TEST_P(NetworkOnEveryExecutor, ReEnteringANetworkBeingComputedThrowsLogicError) {
  for (Parallelization flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD}) {
    ReEnter upstream, downstream;
    downstream.set_value.connect(upstream.get_value);
    upstream.get_value.set_parallelization(flag);
    upstream.other = &downstream.get_value;  // the upstream getter pulls its own downstream
    EXPECT_THROW(downstream.get_value(), std::logic_error);
    upstream.other = nullptr;
    EXPECT_EQ(downstream.get_value(), 0);  // consistent afterwards
  }
}

}  // namespace
