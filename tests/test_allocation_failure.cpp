// Running out of memory where the library cannot report it: destructors,
// which throw nothing, must not need memory to leave a network
// (docs/connectors.md, Lifetime). This program replaces the global operator
// new, so that allocations fail on the calling thread while a
// FailingAllocations lives.
#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <new>

namespace {

thread_local bool allocations_fail = false;
thread_local long allocations = 0;

class FailingAllocations {
 public:
  FailingAllocations() noexcept { allocations_fail = true; }
  ~FailingAllocations() { allocations_fail = false; }
  FailingAllocations(const FailingAllocations&) = delete;
  FailingAllocations& operator=(const FailingAllocations&) = delete;
};

}  // namespace

void* operator new(std::size_t size) {
  if (allocations_fail) throw std::bad_alloc{};
  ++allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc{};
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }

namespace {

// A block with an output alone: nothing joins it to a network until it is
// used.
class Lone {
 public:
  connectors::Output<double> out{this, &Lone::compute};

 private:
  double compute() const { return 1.0; }
};

class TimesTwo {
 public:
  connectors::Output<double> out{this, &TimesTwo::compute};
  connectors::Input<double> in{this, &TimesTwo::store, out};

 private:
  double compute() const { return 2.0 * value_; }
  void store(double value) { value_ = value; }
  double value_ = 0.0;
};

// Before, the destructor made the connector a network lock to take, and
// with allocations failing it ended the program (std::terminate from a
// noexcept destructor).
TEST(AllocationFailure, DestroyingAConnectorNeverConnectedNorUsedNeedsNoMemory) {
  auto counted = std::make_unique<Lone>();
  const long before = allocations;
  counted.reset();
  EXPECT_EQ(allocations, before);

  auto lone = std::make_unique<Lone>();
  {
    FailingAllocations failing;
    lone.reset();
  }
  EXPECT_EQ(lone, nullptr);
}

TEST(AllocationFailure, DestroyingConnectedBlocksWhileAllocationsFailLeavesTheRestWorking) {
  auto first = std::make_unique<TimesTwo>();
  auto middle = std::make_unique<TimesTwo>();
  TimesTwo last;
  middle->in.connect(first->out);
  last.in.connect(middle->out);
  first->in(1.0);
  EXPECT_EQ(last.out(), 8.0);
  {
    FailingAllocations failing;
    middle.reset();
    first.reset();
  }
  last.in(3.0);
  EXPECT_EQ(last.out(), 6.0);
}

}  // namespace
