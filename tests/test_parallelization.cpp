// Catalog tests of test_parallelization.py (docs/design.md#catalog-tests) for outputs and single
// inputs: T45 over every executor available and every flag, and the
// compute-once and overlap guarantees behind T47. The multi-connector parts
// come with the multi-connectors.
#include "helpers/call_logger.hpp"
#include "helpers/multi_test_classes.hpp"
#include "helpers/test_classes.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace connectors::testing;
using connectors::Parallelization;

// T45: t1 -> middle -> t3 over every executor and every flag of t1's getter,
// t3's setter and the middle's input: 48 combinations, each must give the
// right value. `expected(i)` is t3's value after t1.set_value(i).
template <class MiddleInput, class MiddleOutput, class Expected>
void check_every_executor_and_flag(MiddleInput& middle_input, MiddleOutput& middle_output, Expected expected) {
  Simple t1, t3;
  middle_input.connect(t1.get_value);
  t3.set_value.connect(middle_output);
  int i = 0;
  for (const auto& executor : {connectors::executor(0, 0), connectors::executor(2, 0), connectors::executor(0, 2),
                               connectors::executor(2, 2)}) {
    for (Parallelization output_flag :
         {Parallelization::SEQUENTIAL, Parallelization::THREAD, Parallelization::PROCESS}) {
      for (Parallelization input_flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD}) {
        for (Parallelization middle_flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD}) {
          t1.get_value.set_parallelization(output_flag);
          t3.set_value.set_parallelization(input_flag);
          middle_input.set_parallelization(middle_flag);
          t3.get_value.set_executor(executor);
          t1.set_value(i);
          EXPECT_EQ(t3.get_value(), expected(i)) << "combination " << i;
          ++i;
        }
      }
    }
  }
  EXPECT_EQ(i, 48);
}

TEST(Parallelization, T45_EveryExecutorAndFlagGivesTheRightValue) {
  Simple t2;
  check_every_executor_and_flag(t2.set_value, t2.get_value, [](int i) { return Value{i}; });
}

// T45 as the catalog has it: a multi-input in the middle.
TEST(Parallelization, T45_WithAMultiInputInTheMiddle) {
  ReplacingMultiInput t2;
  check_every_executor_and_flag(t2.add_value, t2.get_values, [](int i) { return Value{Value::List{i}}; });
}

class Where {
 public:
  connectors::Output<int> get_process{this, &Where::process};
  connectors::Input<int> set_value{this, &Where::write, get_process};

  template <class Archive>
  void serialize(Archive& archive) {
    archive(value_);
  }

 private:
  int process() const { return static_cast<int>(::getpid()) + 0 * value_; }
  void write(int value) { value_ = value; }
  int value_ = 0;
};

TEST(Parallelization, ProcessGettersRunInAWorkerWhenTheExecutorOffersProcesses) {
  Where where;
  where.get_process.set_parallelization(Parallelization::PROCESS);
  where.get_process.set_executor(connectors::executor(0, 1));
  const int worker = where.get_process();
  EXPECT_NE(worker, static_cast<int>(::getpid()));
  where.get_process.set_executor(connectors::executor(2, 0));  // no processes: a thread, in this process
  where.set_value(1);
  EXPECT_EQ(where.get_process(), static_cast<int>(::getpid()));
}

class Untravelled {
 public:
  connectors::Output<int> get_value{this, &Untravelled::read};

 private:
  int read() const { return state_; }
  int state_ = 1;  // no serialize member: the owner cannot travel
};

TEST(Parallelization, ProcessIsRejectedForTypesThatCannotTravel) {
  Untravelled untravelled;
  try {
    untravelled.get_value.set_parallelization(Parallelization::PROCESS);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("Untravelled"), std::string::npos) << error.what();
  }
  EXPECT_EQ(untravelled.get_value.parallelization(), Parallelization::THREAD);
}

// A getter that counts its runs and waits until `partners` getters run at once.
class Gate {
 public:
  Gate(TimedLatch& latch, std::atomic<int>& runs) : latch_(latch), runs_(runs) {}
  connectors::Output<Value> get_value{this, &Gate::read};
  connectors::Input<Value> set_value{this, &Gate::write, get_value};

 private:
  Value read() const {
    ++runs_;
    return latch_.arrive_and_wait() ? value_ : Value{"timed out"};
  }
  void write(const Value& value) { value_ = value; }
  TimedLatch& latch_;
  std::atomic<int>& runs_;
  Value value_;
};

TEST(Parallelization, T47_BranchesRunInParallelAndASharedUpstreamRunsOnce) {
  // t1 feeds two gates whose getters must overlap; a collector pulls both.
  connectors::set_default_executor(connectors::executor(2, 0));
  {
    CallLogger log;
    Simple t1{&log};
    TimedLatch latch{2};
    std::atomic<int> gate_runs{0};
    Gate left{latch, gate_runs}, right{latch, gate_runs};
    MultipleInputs collector{&log};
    left.set_value.connect(t1.get_value);
    right.set_value.connect(t1.get_value);
    collector.set_value1.connect(left.get_value);
    collector.set_value2.connect(right.get_value);
    t1.set_value(3);
    EXPECT_EQ(collector.get_values(), (Value::List{3, 3}));
    EXPECT_EQ(gate_runs.load(), 2);
    EXPECT_TRUE(log.compare({call(t1, "set_value", {3}), call(t1, "get_value", {}, 3),  // once for both branches
                             any_order({{call(collector, "set_value1", {3})}, {call(collector, "set_value2", {3})}}),
                             call(collector, "get_values", {}, Value::List{3, 3})}));
  }
  connectors::set_default_executor(nullptr);
}

class WhereSet {
 public:
  connectors::Output<Value> get_value{this, &WhereSet::read};
  connectors::Input<Value> set_value{this, &WhereSet::write, get_value};
  std::thread::id setter_thread;

 private:
  Value read() const { return value_; }
  void write(const Value& value) {
    value_ = value;
    setter_thread = std::this_thread::get_id();
  }
  Value value_;
};

TEST(Parallelization, ALoneThreadFlaggedSetterRunsOnTheWaitingThread) {
  Simple source;
  WhereSet sink;
  sink.set_value.connect(source.get_value);
  sink.set_value.set_parallelization(Parallelization::THREAD);
  sink.get_value.set_executor(connectors::executor(2, 0));
  source.set_value(1);
  EXPECT_EQ(sink.get_value(), 1);
  // Alone, the setter runs on the thread that waits for it (work-first,
  // docs/parallelization.md); BranchesBelowAChainStillRunAtTheSameMoment
  // (test_network.cpp) shows THREAD methods leaving it when they can overlap.
  EXPECT_EQ(sink.setter_thread, std::this_thread::get_id());
  sink.set_value(2);  // a direct call runs on the caller's thread (docs/design.md#input)
  EXPECT_EQ(sink.setter_thread, std::this_thread::get_id());
}

// A get whose value reaches several ON_NOTIFY inputs: their THREAD setters
// may overlap, so they go to the pool together (the request engine's
// request_notified need, docs/design.md#engine). Before the one engine, a
// direct get applied them one after another on the caller's thread, and the
// first setter waited for the second in vain.
TEST(Parallelization, OnNotifySettersReachedByOneGetMeetOnThreads) {
  class Meeting {
   public:
    explicit Meeting(TimedLatch& latch) : latch_(latch) {}
    connectors::Output<bool> get_met{this, &Meeting::read};
    connectors::Input<Value> set_value{this, &Meeting::write, get_met};
    bool met = false;

   private:
    bool read() const { return met; }
    void write(const Value&) { met = latch_.arrive_and_wait(std::chrono::seconds{10}); }
    TimedLatch& latch_;
  };
  Simple source;
  source.get_value.set_executor(connectors::executor(2, 0));
  TimedLatch latch{2};
  Meeting left{latch}, right{latch};
  for (Meeting* meeting : {&left, &right}) {
    meeting->set_value.set_parallelization(Parallelization::THREAD);
    meeting->set_value.set_laziness(connectors::Laziness::ON_NOTIFY);
    meeting->set_value.connect(source.get_value);
  }
  source.set_value(1);
  EXPECT_EQ(source.get_value(), 1);
  EXPECT_TRUE(left.met);
  EXPECT_TRUE(right.met);
}

TEST(Parallelization, TheStartingConnectorsExecutorDrivesTheOperation) {
  // The branches' executors are sequential, but the tail's (threads) drives
  // the pull: only then can the two getters meet.
  class Meeting {
   public:
    explicit Meeting(TimedLatch& latch) : latch_(latch) {}
    connectors::Output<bool> get_met{this, &Meeting::meet};

   private:
    bool meet() const { return latch_.arrive_and_wait(); }
    TimedLatch& latch_;
  };
  class Both {
   public:
    connectors::Output<int> get_count{this, &Both::count};
    connectors::Input<bool> set_first{this, &Both::first, get_count};
    connectors::Input<bool> set_second{this, &Both::second, get_count};

   private:
    int count() const { return int{first_} + int{second_}; }
    void first(bool value) { first_ = value; }
    void second(bool value) { second_ = value; }
    bool first_ = false;
    bool second_ = false;
  };
  TimedLatch latch{2};
  Meeting a{latch}, b{latch};
  Both both;
  a.get_met.set_executor(std::make_shared<connectors::SequentialExecutor>());
  b.get_met.set_executor(std::make_shared<connectors::SequentialExecutor>());
  both.set_first.connect(a.get_met);
  both.set_second.connect(b.get_met);
  both.get_count.set_executor(connectors::executor(2, 0));
  EXPECT_EQ(both.get_count(), 2);
}

}  // namespace
