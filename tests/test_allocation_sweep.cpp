// Running out of memory in the middle of an operation: wherever an
// allocation of the calling thread fails, the operation throws (or recovers)
// and the network and its executor stay usable, with right values after
// (docs/connectors.md, Exceptions). Each test fails the 1st, 2nd, 3rd, ...
// allocation of one operation in turn, until the operation makes fewer: the
// allocations through the global operator new (coroutine frames that the
// library's frame cache hands out again, and aligned ones, do not count).
// This program replaces the global operator new (failing_allocations.hpp).
#include "failing_allocations.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <cereal/cereal.hpp>

#include <cstddef>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {

// Runs `operation` with its 1st, then its 2nd, ... allocation failing, and
// `check` (with none failing) after each, `prepare` (none failing) before: until the operation makes fewer
// allocations than the one that would fail. An operation that completes must
// have done so correctly (it checks its own result); one that throws must
// have had an allocation fail.
template <class Operation, class Check, class Prepare>
void fail_each_allocation(Operation operation, Check check, Prepare prepare) {
  constexpr long most = 20000;
  long failing = 0;
  for (; failing < most; ++failing) {
    prepare();
    failing_allocations::arm(failing);
    bool threw = false;
    try {
      operation();
    } catch (const std::exception&) {
      threw = true;
    }
    failing_allocations::disarm();
    if (!failing_allocations::failed) {
      EXPECT_FALSE(threw) << "threw with no allocation failing";
      break;
    }
    check();
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "after failing allocation " << failing;
      return;
    }
  }
  ::testing::Test::RecordProperty("allocations_failed_in_turn", std::to_string(failing));
  EXPECT_LT(failing, most);
  EXPECT_GT(failing, 0) << "the operation allocated nothing: the sweep tested nothing";
}

template <class Operation, class Check>
void fail_each_allocation(Operation operation, Check check) {
  fail_each_allocation(operation, check, [] {});
}

class TimesTwo {
 public:
  connectors::Output<double> out{this, &TimesTwo::compute};
  connectors::Input<double> in{this, &TimesTwo::store, out};

  template <class Archive>
  void serialize(Archive& archive) {
    archive(value_);
  }

 private:
  double compute() const { return 2.0 * value_; }
  void store(double value) { value_ = value; }
  double value_ = 0.0;
};

struct Chain {
  TimesTwo first, middle, last;
  Chain() {
    middle.in.connect(first.out);
    last.in.connect(middle.out);
  }
  void set_executor(const std::shared_ptr<connectors::Executor>& executor) {
    for (TimesTwo* block : {&first, &middle, &last}) {
      block->in.set_executor(executor);
      block->out.set_executor(executor);
    }
  }
};

// A chain built, set and got while an allocation fails, and one built
// before, which must still work after.
void sweep_build_set_and_get(const std::shared_ptr<connectors::Executor>& executor,
                             connectors::Parallelization middle_getter) {
  Chain before;
  before.set_executor(executor);
  before.middle.out.set_parallelization(middle_getter);
  double value = 0.0;
  auto set_and_get = [&](Chain& chain) {
    value += 1.0;
    chain.first.in(value);
    EXPECT_EQ(chain.last.out(), 8.0 * value);
  };
  set_and_get(before);
  fail_each_allocation(
      [&] {
        Chain chain;
        chain.set_executor(executor);
        chain.middle.out.set_parallelization(middle_getter);
        set_and_get(chain);
        set_and_get(chain);
      },
      [&] { set_and_get(before); });
}

TEST(AllocationSweep, SetAndGetOnTheSequentialExecutor) {
  sweep_build_set_and_get(connectors::executor(0, 0), connectors::Parallelization::SEQUENTIAL);
}

TEST(AllocationSweep, SetAndGetOnTheThreadingExecutor) {
  sweep_build_set_and_get(connectors::executor(2, 0), connectors::Parallelization::THREAD);
}

TEST(AllocationSweep, SetAndGetWithAGetterInAWorkerProcess) {
  sweep_build_set_and_get(connectors::executor(0, 1), connectors::Parallelization::PROCESS);
}

// Adds up any number of values.
class Total {
 public:
  Total() { add_value.set_replace(&Total::replace); }
  connectors::Output<double> total{this, &Total::sum};
  connectors::MultiInput<double> add_value{this, &Total::add, &Total::remove, total};

 private:
  double sum() const {
    double result = 0.0;
    for (const auto& [id, value] : data_) result += value;
    return result;
  }
  std::size_t add(double value) { return data_.add(value); }
  void remove(std::size_t id) { data_.erase(id); }
  void replace(std::size_t id, double value) { data_[id] = value; }
  connectors::MultiInputData<double> data_;
};

// One source, four branches (THREAD getters), a total that notifies as soon
// as a branch changes (ON_NOTIFY), a branch disconnected and connected again.
struct FanIn {
  TimesTwo source;
  std::vector<TimesTwo> branches{4};
  Total total;
  explicit FanIn(const std::shared_ptr<connectors::Executor>& executor) {
    source.in.set_executor(executor);
    source.out.set_executor(executor);
    total.add_value.set_executor(executor);
    total.total.set_executor(executor);
    total.add_value.set_laziness(connectors::Laziness::ON_NOTIFY);
    for (TimesTwo& branch : branches) {
      branch.in.set_executor(executor);
      branch.out.set_executor(executor);
      branch.out.set_parallelization(connectors::Parallelization::THREAD);
      branch.in.connect(source.out);
      total.add_value.connect(branch.out);
    }
  }
  // What the total must be after source.in(value): each connected branch
  // gives 4 * value.
  double expected(double value) const { return 4.0 * value * static_cast<double>(total.add_value.connection_count()); }
};

// The network is built with allocations working, so that the one that fails
// comes from the operations, after which the same network must still give
// right values.
void sweep_fan_in(const std::shared_ptr<connectors::Executor>& executor) {
  double value = 0.0;
  std::unique_ptr<FanIn> network;
  fail_each_allocation(
      [&] {
        value += 1.0;
        network->source.in(value);
        EXPECT_EQ(network->total.total(), 16.0 * value);
        network->total.add_value.disconnect(network->branches[3].out);
        value += 1.0;
        network->source.in(value);
        EXPECT_EQ(network->total.total(), 12.0 * value);
        network->total.add_value.connect(network->branches[3].out);
        EXPECT_EQ(network->total.total(), 16.0 * value);
      },
      [&] {
        value += 1.0;
        network->source.in(value);
        EXPECT_EQ(network->total.total(), network->expected(value));
      },
      [&] {
        network.reset();
        network = std::make_unique<FanIn>(executor);
        value += 1.0;
        network->source.in(value);
        EXPECT_EQ(network->total.total(), 16.0 * value);
      });
}

TEST(AllocationSweep, FanInOnTheSequentialExecutor) { sweep_fan_in(connectors::executor(0, 0)); }

TEST(AllocationSweep, FanInOnTheThreadingExecutor) { sweep_fan_in(connectors::executor(2, 0)); }

// An input that three outputs of its owner depend on, and a multi-input
// likewise: linking the third (or second) one needs memory.
class ThreeViews {
 public:
  connectors::Output<double> once{this, &ThreeViews::times<1>};
  connectors::Output<double> twice{this, &ThreeViews::times<2>};
  connectors::Output<double> thrice{this, &ThreeViews::times<3>};
  connectors::Input<double> in{this, &ThreeViews::store, once, twice, thrice};
  connectors::MultiInput<double> extra{this, &ThreeViews::add, &ThreeViews::remove, once, twice, thrice};

 private:
  template <int factor>
  double times() const {
    return factor * (value_ + extra_);
  }
  void store(double value) { value_ = value; }
  int add(double value) {
    extra_ += value;
    return 0;
  }
  void remove(int) {}
  double value_ = 0.0;
  double extra_ = 0.0;
};

// Before, a construction failing while the input linked its observers left
// the outputs linked already pointing at it, and their destructors, run as
// the construction unwound, wrote into the freed input (AddressSanitizer:
// heap-use-after-free); a failure must leave nothing behind.
TEST(AllocationSweep, MakingABlockWhoseInputsLinkSeveralOutputs) {
  const std::size_t owners_before = connectors::detail::registered_owners();
  double value = 0.0;
  fail_each_allocation(
      [&] {
        auto block = std::make_unique<ThreeViews>();
        value += 1.0;
        block->in(value);
        EXPECT_EQ(block->thrice(), 3.0 * value);
      },
      [&] {
        EXPECT_EQ(connectors::detail::registered_owners(), owners_before);
        ThreeViews block;
        block.in(2.0);
        EXPECT_EQ(block.once(), 2.0);
        EXPECT_EQ(block.twice(), 4.0);
      });
}

struct Echo {
  template <class Archive>
  void serialize(Archive&) {}
  int echo(int x) const { return x; }
};

TEST(AllocationSweep, AMethodRunInAWorkerProcess) {
  connectors::MultiprocessingExecutor executor{1};
  Echo echo;
  int value = 0;
  auto call = [&]() -> connectors::Task<int> {
    co_return co_await executor.run_method(connectors::Parallelization::PROCESS, &Echo::echo, echo, value);
  };
  fail_each_allocation(
      [&] {
        ++value;
        EXPECT_EQ(executor.run_coroutine(call()), value);
      },
      [&] {
        ++value;
        EXPECT_EQ(executor.run_coroutine(call()), value);
      });
}

}  // namespace
