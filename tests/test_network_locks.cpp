// A lock per network (docs/connectors.md, Threads): independent networks never
// wait for each other, from any thread; networks joined by a connection share
// a lock; re-entering the network being computed is still refused.
#include <connectors/connectors.hpp>

#include "helpers/plain_blocks.hpp"
#include "helpers/without_hanging.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using connectors::testing::TimedLatch;

// A block whose getter runs a hook (when set) before returning its value.
class Hooked {
 public:
  std::function<double(double)> hook;  // before the connectors: destroyed after them
  connectors::Output<double> out{this, &Hooked::read};
  connectors::Input<double> in{this, &Hooked::write, out};

 private:
  double read() const { return hook ? hook(value_) : value_; }
  void write(double value) { value_ = value; }
  double value_ = 0.0;
};

class KeyedTableForQueries {
 public:
  connectors::MultiOutput<double(int)> value{this, &KeyedTableForQueries::compute};

 private:
  double compute(int key) const { return key; }
};

class NetworkLocks : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { connectors::set_default_executor(connectors::executor(GetParam(), 0)); }
  void TearDown() override { connectors::set_default_executor(nullptr); }
};

TEST_P(NetworkLocks, AGetOnOneNetworkCompletesWhileAnotherNetworksGetterIsBlocked) {
  TimedLatch b_done{2};
  Hooked a, b;
  a.hook = [&](double value) { return b_done.arrive_and_wait() ? value : -1.0; };
  a.in(1.0);
  std::future<double> a_result = std::async(std::launch::async, [&] { return a.out(); });
  // a's getter now waits for this thread, which works on network b meanwhile.
  b.in(2.0);
  EXPECT_EQ(b.out(), 2.0);
  b_done.arrive_and_wait();
  EXPECT_EQ(a_result.get(), 1.0);
}

TEST_P(NetworkLocks, AGettersHelperThreadMayUseAnotherNetwork) {
  Hooked a, other;
  other.in(5.0);
  a.hook = [&](double value) {
    std::future<double> helper = std::async(std::launch::async, [&] { return other.out(); });
    if (helper.wait_for(std::chrono::seconds{30}) != std::future_status::ready) return -1.0;  // would deadlock
    return value + helper.get();
  };
  a.in(1.0);
  EXPECT_EQ(a.out(), 6.0);
}

TEST_P(NetworkLocks, AGetterMayWaitForAValueAnotherUserThreadComputesOnAnotherNetwork) {
  Hooked a, b;
  std::promise<double> from_b;
  std::future<double> b_value = from_b.get_future();
  a.hook = [&](double value) {
    if (b_value.wait_for(std::chrono::seconds{30}) != std::future_status::ready) return -1.0;
    return value + b_value.get();
  };
  a.in(1.0);
  std::future<double> a_result = std::async(std::launch::async, [&] { return a.out(); });
  std::thread user{[&] {
    b.in(3.0);
    from_b.set_value(b.out());
  }};
  user.join();
  EXPECT_EQ(a_result.get(), 4.0);
}

TEST_P(NetworkLocks, ConnectedNetworksShareALockEvenAfterADisconnect) {
  // While a's getter runs, b (connected to a) must wait; after a disconnect
  // it still does (locks are joined, never split), which is documented.
  Hooked a, b;
  b.in.connect(a.out);
  b.in.disconnect(a.out);
  std::atomic<bool> inside{false};
  TimedLatch entered{2};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  a.hook = [&](double value) {
    entered.arrive_and_wait();
    inside = true;
    released.wait();
    inside = false;
    return value;
  };
  a.in(1.0);
  std::future<double> a_result = std::async(std::launch::async, [&] { return a.out(); });
  entered.arrive_and_wait();
  std::atomic<bool> b_saw_a_inside{true};
  std::future<void> b_use = std::async(std::launch::async, [&] {
    b.in(2.0);  // waits for a's operation to end
    b_saw_a_inside = inside.load();
  });
  EXPECT_EQ(b_use.wait_for(std::chrono::milliseconds{50}), std::future_status::timeout);
  release.set_value();
  b_use.get();
  EXPECT_FALSE(b_saw_a_inside.load());
  EXPECT_EQ(a_result.get(), 1.0);
  EXPECT_EQ(b.out(), 2.0);
}

// A block whose input `sink` feeds none of its outputs (no observer links
// it to them) and whose output `constant` no input of it feeds.
class WithUnlinkedConnectors {
 public:
  std::function<double(double)> hook;  // before the connectors: destroyed after them
  connectors::Output<double> out{this, &WithUnlinkedConnectors::read};
  connectors::Input<double> in{this, &WithUnlinkedConnectors::write, out};
  connectors::Input<double> sink{this, &WithUnlinkedConnectors::note};
  connectors::Output<double> constant{this, &WithUnlinkedConnectors::read_constant};
  mutable std::atomic<bool> getter_running{false};
  mutable std::atomic<int> ran_beside_the_getter{0};

 private:
  double read() const {
    getter_running = true;
    const double value = hook ? hook(value_) : value_;
    getter_running = false;
    return value;
  }
  void write(double value) { value_ = value; }
  void note(double value) {
    if (getter_running) ++ran_beside_the_getter;
    noted_ = value;
  }
  double read_constant() const {
    if (getter_running) ++ran_beside_the_getter;
    return 1.0;
  }
  double value_ = 0.0;
  double noted_ = 0.0;
};

// The connectors of one owner are one network (docs/connectors.md), also an
// input that feeds no output of the owner and an output that no input of it
// feeds: each had a lock of its own, so its method ran beside the owner's
// other methods on another thread (a data race on the owner's state; the
// library's WeakrefProxyGenerator freed its value twice).
// Runs `others` on another thread while block's getter is held inside its
// computation; they must wait for the get to end (one network).
template <class Block, class Others>
void while_the_getter_is_held(Block& block, Others others) {
  TimedLatch entered{2};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  block.hook = [&](double value) {
    entered.arrive_and_wait();
    released.wait();
    return value;
  };
  block.in(1.0);
  std::future<double> getting = std::async(std::launch::async, [&] { return block.out(); });
  ASSERT_TRUE(entered.arrive_and_wait());
  std::future<void> waiting = std::async(std::launch::async, others);
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds{50}), std::future_status::timeout);
  release.set_value();
  EXPECT_EQ(getting.get(), 1.0);
  waiting.get();
  block.hook = nullptr;
}

TEST_P(NetworkLocks, AnOwnersConnectorsThatNoObserverLinksAreStillOneNetwork) {
  WithUnlinkedConnectors block;
  while_the_getter_is_held(block, [&] {
    block.sink(2.0);
    EXPECT_EQ(block.constant(), 1.0);
  });
  EXPECT_EQ(block.ran_beside_the_getter.load(), 0);
}

// A block whose first member is another block: the two share an address but
// are two objects, with no connection between them two networks. The
// registry knew an owner by its address alone, so the member's operations
// waited for the block's: a getter of the block waiting for another thread's
// get on the member waited until the latch gave up (a deadlock without it).
class Enclosing {
 public:
  Hooked inner;  // first: at the block's own address
  std::function<double()> hook;
  connectors::Output<double> out{this, &Enclosing::read};

 private:
  double read() const { return hook(); }
};

TEST_P(NetworkLocks, ABlocksFirstMemberBlockIsANetworkOfItsOwn) {
  Enclosing block;
  ASSERT_EQ(static_cast<const void*>(&block), static_cast<const void*>(&block.inner));
  TimedLatch entered{2};
  TimedLatch inner_done{2};
  block.hook = [&] {
    entered.arrive_and_wait();
    return inner_done.arrive_and_wait() ? 1.0 : -1.0;
  };
  std::future<double> outer = std::async(std::launch::async, [&] { return block.out(); });
  ASSERT_TRUE(entered.arrive_and_wait());
  // The block's getter runs, and waits for this thread's work on the member.
  block.inner.in(2.0);
  EXPECT_EQ(block.inner.out(), 2.0);
  inner_done.arrive_and_wait();
  EXPECT_EQ(outer.get(), 1.0);
}

// A class built privately on a block, adding a sink of its own: one object at
// one address, whose connectors are one network. Only the class's type
// information tells a private base from a member block (the language's
// conversions cannot see it); the registry asks it.
class PrivatelyExtended : private Hooked {
 public:
  using Hooked::hook;
  using Hooked::in;
  using Hooked::out;
  connectors::Input<double> sink{this, &PrivatelyExtended::note};

 private:
  void note(double value) { noted_ = value; }
  double noted_ = 0.0;
};

TEST_P(NetworkLocks, AClassBuiltPrivatelyOnABlockIsOneNetworkWithIt) {
  PrivatelyExtended block;
  while_the_getter_is_held(block, [&] { block.sink(2.0); });
}

// A block whose first member block is of the class of its own second base:
// the member sits at the block's address and the second base does not. The
// registry took any base relation for one object, so the class built on the
// holder joined whichever owner it met first at that address: the member's,
// when the member had its group first (and the holder's connectors ended up
// in two networks). One object starts with the other's class: the relation
// now asked.
class Holder {
 public:
  Hooked member;  // first: at the holder's address
  std::function<double(double)> hook;
  connectors::Output<double> out{this, &Holder::read};
  connectors::Input<double> in{this, &Holder::write, out};

 private:
  double read() const { return hook ? hook(value_) : value_; }
  void write(double value) { value_ = value; }
  double value_ = 0.0;
};

class HolderAndHooked : public Holder, public Hooked {
 public:
  using Holder::hook;
  using Holder::in;
  using Holder::out;
  connectors::Input<double> sink{this, &HolderAndHooked::note};

 private:
  void note(double value) { noted_ = value; }
  double noted_ = 0.0;
};

TEST_P(NetworkLocks, AFirstMemberOfTheClassOfASecondBaseIsAnotherOwner) {
  const std::size_t owners_before = connectors::detail::registered_owners();
  {
    HolderAndHooked block;
    ASSERT_EQ(static_cast<const void*>(static_cast<Holder*>(&block)), static_cast<const void*>(&block.member));
    block.member.in(3.0);  // the member has its group first
    EXPECT_EQ(block.member.out(), 3.0);
    // The holder's connectors and the sink of the class built on it: one network.
    while_the_getter_is_held(block, [&] { block.sink(2.0); });
    // The member is not part of it.
    TimedLatch entered{2};
    TimedLatch member_done{2};
    block.hook = [&](double value) {
      entered.arrive_and_wait();
      return member_done.arrive_and_wait() ? value : -1.0;
    };
    block.in(1.0);  // the getter runs again
    std::future<double> outer = std::async(std::launch::async, [&] { return block.out(); });
    ASSERT_TRUE(entered.arrive_and_wait());
    block.member.in(4.0);
    EXPECT_EQ(block.member.out(), 4.0);
    member_done.arrive_and_wait();
    EXPECT_EQ(outer.get(), 1.0);
    block.hook = nullptr;
  }
  EXPECT_EQ(connectors::detail::registered_owners(), owners_before);
}

// A class holding a block twice, as the first base of each of its two bases:
// it starts with the first (at its own address), not with the second. The
// relation asked whether the block's class sat at offset 0 once only, so a
// block held twice was never one the class starts with, and the class's own
// sink had a network apart from the first block's connectors.
class LeftHooked : public Hooked {};
class RightHooked : public Hooked {};
class TwiceHooked : public LeftHooked, public RightHooked {
 public:
  connectors::Input<double> sink{this, &TwiceHooked::note};

 private:
  void note(double value) { noted_ = value; }
  double noted_ = 0.0;
};

TEST_P(NetworkLocks, AClassHoldingABlockTwiceIsOneNetworkWithTheOneAtItsStart) {
  const std::size_t owners_before = connectors::detail::registered_owners();
  {
    TwiceHooked block;
    LeftHooked& first = block;  // at the block's own address
    while_the_getter_is_held(first, [&] { block.sink(2.0); });
  }
  EXPECT_EQ(connectors::detail::registered_owners(), owners_before);
}

// Whether a multi-output feeds an input is the input's to answer: it looked
// through the multi-output's connections and keys, which belong to another
// network, while that network's thread made and used keys (a data race
// under ThreadSanitizer; a read of a reallocated list otherwise).
TEST_P(NetworkLocks, AskingWhetherAMultiOutputFeedsAnInputReadsNothingOfItsNetwork) {
  KeyedTableForQueries table;
  Hooked reader;
  std::atomic<bool> done{false};
  std::thread user{[&] {
    for (int key = 0; key < 300; ++key) {
      Hooked keyed;
      keyed.in.connect(table.value[key]);
      (void)keyed.out();
    }
    done = true;
  }};
  int wrong = 0;
  while (!done) {
    if (reader.in.is_connected_to(table.value)) ++wrong;
  }
  user.join();
  EXPECT_EQ(wrong, 0);
}

// Blocks made and destroyed on several threads at once, each used from its
// own thread: every owner's network is its own and forgotten with it.
TEST_P(NetworkLocks, OwnersMadeAndDestroyedOnSeveralThreadsStayIndependent) {
  const std::size_t owners_before = connectors::detail::registered_owners();
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int thread = 0; thread < 4; ++thread) {
    threads.emplace_back([&wrong, thread] {
      for (int round = 0; round < 200; ++round) {
        auto block = std::make_unique<WithUnlinkedConnectors>();
        Hooked feed;
        block->in.connect(feed.out);
        feed.in(thread + round);
        block->sink(1.0);
        if (block->out() != thread + round || block->constant() != 1.0) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  // Every owner was forgotten with its last connector: none is left to join
  // a new object at a reused address to an old network.
  EXPECT_EQ(connectors::detail::registered_owners(), owners_before);
}

// Reading a connector's executor while another thread sets it: the getter
// copied the shared pointer without the network lock that set_executor
// writes it under (a data race under ThreadSanitizer; a crash, now and then,
// in an optimised build).
TEST_P(NetworkLocks, ReadingTheExecutorWhileAnotherThreadSetsItIsSerialised) {
  Hooked block;
  block.in(1.0);
  const std::shared_ptr<connectors::Executor> first = connectors::executor(0, 0);
  const std::shared_ptr<connectors::Executor> second = connectors::executor(0, 0);
  const std::shared_ptr<connectors::Executor> fallback = connectors::default_executor();
  std::thread setter{[&] {
    for (int round = 0; round < 2000; ++round) block.out.set_executor(round % 2 == 0 ? first : second);
  }};
  int unexpected = 0;
  for (int round = 0; round < 2000; ++round) {
    const std::shared_ptr<connectors::Executor> read = block.out.executor();
    if (read != first && read != second && read != fallback) ++unexpected;
  }
  setter.join();
  // Connectors never used yet have no lock: the getter read without one
  // while the first set_executor made it.
  for (int round = 0; round < 200; ++round) {
    Hooked fresh;
    std::thread first_setter{[&] { fresh.out.set_executor(first); }};
    const std::shared_ptr<connectors::Executor> read = fresh.out.executor();
    if (read != first && read != fallback) ++unexpected;
    first_setter.join();
  }
  EXPECT_EQ(unexpected, 0);
}

// A class whose connectors its private base declares: the handler test that
// tells a base from another object at the same address does not see a
// private base, and the base's unlinked input was another owner.
class UnlinkedBase {
 public:
  const std::atomic<bool>* running = nullptr;
  std::atomic<int> ran_beside{0};
  connectors::Input<double> base_sink{this, &UnlinkedBase::note};

 private:
  void note(double) {
    if (running != nullptr && running->load()) ++ran_beside;
  }
};

class DerivedPrivately : UnlinkedBase {
 public:
  using UnlinkedBase::base_sink;
  using UnlinkedBase::ran_beside;
  std::function<double(double)> hook;
  connectors::Output<double> out{this, &DerivedPrivately::read};
  connectors::Input<double> in{this, &DerivedPrivately::write, out};
  DerivedPrivately() { running = &getter_running_; }

 private:
  double read() const {
    getter_running_ = true;
    const double value = hook ? hook(value_) : value_;
    getter_running_ = false;
    return value;
  }
  void write(double value) { value_ = value; }
  mutable std::atomic<bool> getter_running_{false};
  double value_ = 0.0;
};

TEST_P(NetworkLocks, TheConnectorsOfAPrivateBaseAreTheOwnersNetworkToo) {
  DerivedPrivately block;
  while_the_getter_is_held(block, [&] { block.base_sink(2.0); });
  EXPECT_EQ(block.ran_beside.load(), 0);
}

TEST_P(NetworkLocks, ReEnteringTheNetworkBeingComputedIsStillRefused) {
  Hooked a, b;
  b.in.connect(a.out);
  bool refused = false;
  a.hook = [&](double value) {
    try {
      b.in(7.0);
    } catch (const std::logic_error&) {
      refused = true;
    }
    return value;
  };
  a.in(1.0);
  EXPECT_EQ(b.out(), 1.0);
  EXPECT_TRUE(refused);
}

TEST_P(NetworkLocks, ConnectingTwoNetworksWhileBothAreInUseFromOtherThreadsIsSafe) {
  // Several user threads use two chains while a third thread joins them:
  // each operation sees one consistent network (TSan checks the rest).
  constexpr int length = 8;
  std::vector<Hooked> left(length), right(length);
  for (int i = 1; i < length; ++i) {
    left[i].in.connect(left[i - 1].out);
    right[i].in.connect(right[i - 1].out);
  }
  std::atomic<int> wrong{0};
  auto hammer = [&](std::vector<Hooked>& chain, double base) {
    for (int round = 0; round < 200; ++round) {
      const double value = base + round;
      chain.front().in(value);
      const double got = chain.back().out();
      // The other thread may have set the head since: any value it sets is
      // of the same chain, never a mixture.
      if (got < base || got >= base + 200) ++wrong;
    }
  };
  std::thread left_user{hammer, std::ref(left), 0.0};
  std::thread right_user{hammer, std::ref(right), 1000.0};
  std::thread joiner{[&] {
    Hooked bridge;
    bridge.in.connect(left.back().out);
    bridge.in.disconnect(left.back().out);
    bridge.in.connect(right.back().out);
  }};
  joiner.join();
  left_user.join();
  right_user.join();
  EXPECT_EQ(wrong.load(), 0);
}

// Helper threads that carry the method's operation (connectors::as_helper).

// Runs `body` on a thread of its own that carries the calling method's
// operation, and waits for its result at most 30 s; the thread is joined
// later, outside the method (were it to wait for the operation's lock, it
// can only go on once the operation has ended).
class CarryingHelper {
 public:
  template <class Body>
  std::optional<double> run(Body body) {
    std::promise<double> result;
    std::future<double> future = result.get_future();
    thread_ = std::thread{connectors::as_helper([body, result = std::move(result)]() mutable {
      try {
        result.set_value(body());
      } catch (...) {
        result.set_exception(std::current_exception());
      }
    })};
    if (future.wait_for(std::chrono::seconds{30}) != std::future_status::ready) return std::nullopt;
    return future.get();
  }
  ~CarryingHelper() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

// Runs `attempt` on a helper of a's getter while b, fed by a, is computed:
// 1 if it was refused with std::logic_error, 0 if it went through, nullopt
// if the helper waited (for the lock the computation holds).
std::optional<double> try_from_a_helper_while_computing(Hooked& a, Hooked& b, const std::function<void()>& attempt) {
  CarryingHelper helper;
  std::optional<double> outcome;
  a.hook = [&](double value) {
    outcome = helper.run([&] {
      try {
        attempt();
      } catch (const std::logic_error&) {
        return 1.0;
      }
      return 0.0;
    });
    return value;
  };
  a.in(1.0);
  EXPECT_EQ(b.out(), 1.0);
  a.hook = nullptr;
  return outcome;
}

TEST_P(NetworkLocks, AHelperCarryingTheOperationIsRefusedReEnteringTheNetworkBeingComputed) {
  // Without the helper's link to the operation, its call would wait for the
  // network's lock, which the computation holds while the getter waits for
  // the helper: a deadlock.
  Hooked a, b;
  b.in.connect(a.out);
  EXPECT_EQ(try_from_a_helper_while_computing(a, b, [&] { b.in(7.0); }), std::optional<double>{1.0});
  a.in(2.0);  // consistent afterwards
  EXPECT_EQ(b.out(), 2.0);
}

TEST_P(NetworkLocks, AHelperCarryingTheOperationMayUseNetworksThatShareItsLock) {
  // `shared` was connected to `a` once: it shares a's lock, which a's get
  // holds. A helper of a's getter uses it through the operation, and an
  // unrelated network through that network's own lock.
  Hooked a, shared, unrelated;
  shared.in.connect(a.out);
  shared.in.disconnect(a.out);
  shared.in(3.0);
  unrelated.in(5.0);
  CarryingHelper helper;
  std::optional<double> from_helper;
  a.hook = [&](double value) {
    from_helper = helper.run([&] { return shared.out() + unrelated.out(); });
    return value;
  };
  a.in(1.0);
  EXPECT_EQ(a.out(), 1.0);
  EXPECT_EQ(from_helper, std::optional<double>{8.0});  // nullopt: it waited
}

// Naming a connector and reading its executor are allowed inside a
// computation (docs/connectors.md), from a helper of its method too. Naming
// took the plain network lock, which on a helper waited for the lock the
// computation holds while the getter waits for the helper.
TEST_P(NetworkLocks, AHelperNamesAndReadsTheExecutorOfAConnectorOfTheNetworkBeingComputed) {
  Hooked a, b;
  b.in.connect(a.out);
  const std::shared_ptr<connectors::Executor> own = connectors::executor(0, 0);
  b.out.set_executor(own);
  std::shared_ptr<connectors::Executor> read;
  EXPECT_EQ(try_from_a_helper_while_computing(a, b,
                                              [&] {
                                                b.out.set_name("b.out");
                                                read = b.out.executor();
                                              }),
            std::optional<double>{0.0});  // nullopt: it waited
  EXPECT_EQ(b.out.name(), std::optional<std::string>{"b.out"});
  EXPECT_EQ(read, own);
}

class KeyedTable {
 public:
  connectors::MultiOutput<double(int)> value{this, &KeyedTable::compute};
  connectors::Input<double> set_base{this, &KeyedTable::store, value};

 private:
  double compute(int key) const { return base_ + key; }
  void store(double base) { base_ = base; }
  double base_ = 0.0;
};

// A connect through mo[key] made by a helper, on a network that only shares
// the lock of the one being computed: the connect went through, then its
// end (giving back the key's item) waited for that lock for good.
TEST_P(NetworkLocks, AHelperConnectsThroughAMultiOutputKeyOnANetworkSharingTheLock) {
  Hooked a, via, sink;
  KeyedTable table;
  via.in.connect(table.value[7]);  // table's network comes to share a's lock
  a.in.connect(via.out);
  a.in.disconnect(via.out);
  via.in.disconnect(table.value[7]);
  CarryingHelper helper;
  std::optional<double> outcome;
  a.hook = [&](double value) {
    outcome = helper.run([&] {
      sink.in.connect(table.value[3]);
      const double read = sink.out();
      // The item is unused afterwards: forgotten under the helper's lock,
      // its destructor waited for the computation's root.
      sink.in.disconnect(table.value[3]);
      return read;
    });
    return value;
  };
  a.in(1.0);
  EXPECT_EQ(a.out(), 1.0);
  a.hook = nullptr;
  EXPECT_EQ(outcome, std::optional<double>{3.0});  // nullopt: it waited
  EXPECT_FALSE(sink.in.is_connected());
}

// A helper's function configures or inspects connectors as an operation it
// started would: nested in the method's operation. Before, it waited for the
// network's lock, which the computation holds while the method waits for the
// helper: these tests waited out CarryingHelper's 30 s (nullopt).
TEST_P(NetworkLocks, AHelperCarryingTheOperationIsRefusedInspectingTheNetworkBeingComputed) {
  Hooked a, b;
  b.in.connect(a.out);
  EXPECT_EQ(try_from_a_helper_while_computing(a, b, [&] { static_cast<void>(b.out.connection_count()); }),
            std::optional<double>{1.0});
}

TEST_P(NetworkLocks, AHelperCarryingTheOperationMayConfigureNetworksThatShareItsLock) {
  Hooked a, shared;
  shared.in.connect(a.out);
  shared.in.disconnect(a.out);
  Hooked peer;
  peer.in.connect(shared.out);
  CarryingHelper helper;
  std::optional<double> from_helper;
  a.hook = [&](double value) {
    from_helper = helper.run([&] {
      shared.out.set_caching(false);
      return static_cast<double>(shared.out.connection_count());
    });
    return value;
  };
  a.in(1.0);
  EXPECT_EQ(a.out(), 1.0);
  EXPECT_EQ(from_helper, std::optional<double>{1.0});
}

// A method of an operation a helper started, on a network that shares the
// computation's lock: once it configured a connector of the network being
// computed under that operation's inner lock only, beside the computation's
// coordinating thread (the check looked only at the helper's own operations).
TEST_P(NetworkLocks, AMethodOfAHelpersOperationIsRefusedConfiguringTheNetworkBeingComputed) {
  Hooked a, b, shared;
  b.in.connect(a.out);
  shared.in.connect(a.out);
  shared.in.disconnect(a.out);
  shared.in(3.0);
  std::atomic<bool> refused{false};
  shared.hook = [&](double value) {
    try {
      b.out.set_caching(false);
    } catch (const std::logic_error&) {
      refused = true;
    }
    return value;
  };
  CarryingHelper helper;
  std::optional<double> from_helper;
  a.hook = [&](double value) {
    from_helper = helper.run([&] { return shared.out(); });
    return value;
  };
  a.in(1.0);
  EXPECT_EQ(b.out(), 1.0);
  EXPECT_EQ(from_helper, std::optional<double>{3.0});
  EXPECT_TRUE(refused.load());
  EXPECT_EQ(b.out.caching(), true);  // left as it was
}

// Two methods of one computation, on two pool threads: one connects and
// disconnects in a network that shares the computation's lock (nested
// operations), the other runs `use` on that network, whose refusal check
// walks the links the first one changes. The walk once ran before taking the
// lock that serialises the nested operations: a data race (TSan).
void use_a_network_a_sibling_method_reconnects_once(int pool_threads, const std::function<double(Hooked&)>& use) {
  connectors::testing::without_hanging([&] {
    Hooked left, right, shared, peer;
    connectors::testing::Sum top;
    top.in.connect(left.out);
    top.in.connect(right.out);
    shared.in.connect(top.out);  // shares top's lock from now on
    shared.in.disconnect(top.out);
    peer.in.connect(shared.out);
    shared.in(2.0);
    constexpr int rounds = 500;
    TimedLatch both_inside{pool_threads == 0 ? std::size_t{1} : std::size_t{2}};
    left.hook = [&](double value) {
      both_inside.arrive_and_wait();
      for (int round = 0; round < rounds; ++round) {
        peer.in.disconnect(shared.out);
        peer.in.connect(shared.out);
      }
      return value;
    };
    std::atomic<int> wrong{0};
    right.hook = [&](double value) {
      both_inside.arrive_and_wait();
      for (int round = 0; round < rounds; ++round) {
        if (use(shared) < 0.0) ++wrong;
      }
      return value;
    };
    left.in(1.0);
    right.in(3.0);
    EXPECT_EQ(top.out(), 4.0);
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(peer.out(), 2.0);
  });
}

// The walk meets a change only when the two threads interleave just so:
// on several fresh networks, ThreadSanitizer reported the old code's race in 9
// and 10 of 10 runs of the two tests below.
void use_a_network_a_sibling_method_reconnects(int pool_threads, const std::function<double(Hooked&)>& use) {
  constexpr int networks = 20;
  for (int network = 0; network < networks; ++network)
    use_a_network_a_sibling_method_reconnects_once(pool_threads, use);
}

TEST_P(NetworkLocks, AMethodMayOperateOnANetworkSharingTheLockWhileASiblingReconnectsIt) {
  use_a_network_a_sibling_method_reconnects(GetParam(), [](Hooked& shared) { return shared.out(); });
}

TEST_P(NetworkLocks, AMethodMayDestroyBlocksOfANetworkSharingTheLockWhileASiblingReconnectsIt) {
  // The destructor looks for the operation computing the block's network
  // (note_destruction, and on a pool thread the hand-off of its unlinking)
  // by the same walk.
  use_a_network_a_sibling_method_reconnects(GetParam(), [](Hooked& shared) {
    Hooked passing;
    passing.in.connect(shared.out);
    return passing.out();
  });
}

TEST_P(NetworkLocks, AMethodMayInspectANetworkSharingTheLockWhileASiblingReconnectsIt) {
  use_a_network_a_sibling_method_reconnects(
      GetParam(), [](Hooked& shared) { return static_cast<double>(shared.out.connection_count()); });
}

// A method connects a network that shares the computation's lock to a fresh
// one, which another thread is changing meanwhile. The re-entry check walked
// the fresh network too, before the operation had taken that network's lock
// (a network not under the computation's lock cannot reach its start: it
// is not walked any more). TSan reported the walk against the other thread's
// connect.
TEST_P(NetworkLocks, AMethodMayConnectANetworkSharingTheLockToOneAnotherThreadChanges) {
  connectors::testing::without_hanging([] {
    Hooked a, shared;
    shared.in.connect(a.out);  // shares a's lock from now on
    shared.in.disconnect(a.out);
    constexpr int rounds = 40;
    for (int round = 0; round < rounds; ++round) {
      // Fresh each round: once connected, they share a's lock too.
      auto fresh = std::make_unique<Hooked>();
      auto peer = std::make_unique<Hooked>();
      std::atomic<bool> stop{false};
      TimedLatch started{2};
      std::thread changer{[&] {
        started.arrive_and_wait();
        while (!stop.load()) {
          peer->in.connect(fresh->out);
          peer->in.disconnect(fresh->out);
        }
      }};
      a.hook = [&](double value) {
        started.arrive_and_wait();
        fresh->in.connect(shared.out);
        return value;
      };
      a.in(static_cast<double>(round));
      EXPECT_EQ(a.out(), static_cast<double>(round));
      stop = true;
      changer.join();
      a.hook = nullptr;
      EXPECT_TRUE(fresh->in.is_connected_to(shared.out));
    }
  });
}

// An announce condition is asked on the thread that announces, inside the
// operation that announces: an operation it starts on a network that shares
// that operation's lock (connected to it once) nests in it, as one started
// by a getter does, also when the announcement comes from a destructor.
TEST_P(NetworkLocks, AnAnnounceConditionMayUseANetworkThatSharesItsLock) {
  connectors::testing::without_hanging([] {
    Hooked a, shared;
    connectors::testing::ConditionalSingle watcher;
    shared.in.connect(a.out);
    shared.in.disconnect(a.out);
    watcher.in.connect(a.out);
    a.in(1.0);
    EXPECT_EQ(watcher.out(), 1.0);
    std::optional<double> from_condition;
    watcher.on_announce = [&] {
      shared.in(4.0);
      from_condition = shared.out();
    };
    a.in(2.0);
    EXPECT_EQ(from_condition, std::optional<double>{4.0});
    EXPECT_EQ(watcher.out(), 2.0);
  });
}

TEST_P(NetworkLocks, AnAnnounceConditionAskedByADestructorMayUseANetworkThatSharesItsLock) {
  connectors::testing::without_hanging([] {
    auto source = std::make_unique<Hooked>();
    Hooked shared;
    connectors::testing::Sum sum;
    connectors::testing::ConditionalSingle watcher;
    shared.in.connect(source->out);
    shared.in.disconnect(source->out);
    sum.in.connect(source->out);
    watcher.in.connect(sum.out);
    source->in(1.0);
    EXPECT_EQ(watcher.out(), 1.0);
    std::optional<double> from_condition;
    watcher.on_announce = [&] {
      shared.in(4.0);
      from_condition = shared.out();
    };
    source.reset();  // sum loses a source: it announces from the destructor
    EXPECT_EQ(from_condition, std::optional<double>{4.0});
    EXPECT_EQ(watcher.out(), 0.0);
  });
}

TEST_P(NetworkLocks, AnOperationEndsAfterTheOperationsOfItsHelpers) {
  // The getter returns while its helper is inside an operation nested in the
  // get: the get ends only after that operation has, so the helper never
  // nests in an operation that is gone (ASan, TSan).
  Hooked a, other;
  std::atomic<bool> nested_getter_done{false};
  TimedLatch helper_inside{2};
  std::promise<void> method_returning;
  std::shared_future<void> returning = method_returning.get_future().share();
  other.hook = [&](double value) {
    helper_inside.arrive_and_wait();
    returning.wait();
    nested_getter_done = true;
    return value;
  };
  std::thread helper_thread;
  a.hook = [&](double value) {
    helper_thread = std::thread{connectors::as_helper([&] { EXPECT_EQ(other.out(), 4.0); })};
    EXPECT_TRUE(helper_inside.arrive_and_wait());
    method_returning.set_value();
    return value;
  };
  other.in(4.0);
  a.in(1.0);
  EXPECT_EQ(a.out(), 1.0);
  EXPECT_TRUE(nested_getter_done.load());
  helper_thread.join();
}

TEST_P(NetworkLocks, AHelperCalledAfterItsOperationEndedWorksAtTheTopLevel) {
  Hooked a, b;
  b.in.connect(a.out);
  std::optional<connectors::Helper<std::function<double()>>> kept;
  a.hook = [&](double value) {
    kept.emplace(std::function<double()>{[&] {
      a.in(5.0);  // the network a's get computed: free again
      return b.out();
    }});
    return value;
  };
  a.in(1.0);
  EXPECT_EQ(b.out(), 1.0);
  a.hook = nullptr;
  std::future<double> later = std::async(std::launch::async, [&] { return (*kept)(); });
  EXPECT_EQ(later.get(), 5.0);
  EXPECT_EQ((*kept)(), 5.0);  // and on the thread that made it
}

TEST(Helper, OutsideAnyMethodItCallsTheFunctionAsItIs) {
  Hooked a;
  a.in(2.0);
  auto helper = connectors::as_helper([&](double add) { return a.out() + add; });
  auto copy = helper;
  EXPECT_EQ(helper(1.0), 3.0);
  EXPECT_EQ(std::async(std::launch::async, std::move(copy), 2.0).get(), 4.0);
}

// Blocks of every connector kind, state first: the connectors are destroyed
// (and leave the network) before the state their methods read.
class Collector {
 public:
  std::vector<double> values;
  connectors::Output<double> total{this, &Collector::sum};
  connectors::MultiInput<double> items{this, &Collector::add, &Collector::remove, total};

 private:
  double sum() const {
    double result = 0.0;
    for (double value : values) result += value;
    return result;
  }
  std::size_t add(double value) {
    values.push_back(value);
    return values.size() - 1;
  }
  void remove(std::size_t) {}
};

class Keyed {
 public:
  double base = 0.0;
  connectors::MultiOutput<double(int)> get{this, &Keyed::value_for};
  connectors::Input<double> in{this, &Keyed::write, get};

 private:
  double value_for(int key) const { return base + key; }
  void write(double value) { base = value; }
};

TEST_P(NetworkLocks, DestroyingConnectorsWhileTheirNetworkIsInUseFromAnotherThreadIsSafe) {
  // Regression (CI, TSan): a connector left the network in its base-class
  // destructor, after its typed part was gone and its dynamic type had
  // changed, while another user thread's operation could still reach it.
  // Every connector kind now leaves first; TSan watches the rest.
  constexpr int length = 4;
  std::vector<Hooked> chain(length);
  for (int i = 1; i < length; ++i) chain[i].in.connect(chain[i - 1].out);
  std::atomic<bool> done{false};
  std::atomic<int> wrong{0};
  std::thread user{[&] {
    for (int round = 0; !done.load(); ++round) {
      const double value = round % 1000;
      chain.front().in(value);
      if (chain.back().out() != value) ++wrong;
    }
  }};
  for (int round = 0; round < 200; ++round) {
    auto bridge = std::make_unique<Hooked>();
    auto tail = std::make_unique<Hooked>();
    auto collector = std::make_unique<Collector>();
    auto keyed = std::make_unique<Keyed>();
    bridge->in.connect(chain.back().out);
    tail->in.connect(bridge->out);
    collector->items.connect(chain.back().out);
    keyed->in.connect(chain.back().out);
    tail->in.disconnect(bridge->out);
    tail->in.connect(keyed->get[1]);
    // Destroyed in a different order each round.
    switch (round % 3) {
      case 0:
        bridge.reset();
        keyed.reset();
        break;
      case 1:
        keyed.reset();
        collector.reset();
        break;
      default:
        collector.reset();
        tail.reset();
        break;
    }
  }
  done = true;
  user.join();
  EXPECT_EQ(wrong.load(), 0);
}

// A connect from a method whose two ends are networks that two enclosing
// operations compute (a's getter reads b, whose getter connects a network
// sharing a's lock to one sharing b's): the joined lock would be held by the
// inner operation alone, and when it ended other threads could take a's
// network while a's getter still ran. Refused (docs/design.md#network-lock).
TEST_P(NetworkLocks, AMethodMayNotConnectNetworksThatTwoEnclosingOperationsCompute) {
  connectors::testing::without_hanging([] {
    Hooked a, b, c, d;
    c.in.connect(a.out);  // c shares a's lock, not its network
    c.in.disconnect(a.out);
    d.in.connect(b.out);  // d shares b's
    d.in.disconnect(b.out);
    std::string refused;
    b.hook = [&](double value) {
      try {
        c.in.connect(d.out);
      } catch (const std::logic_error& error) {
        refused = error.what();
      }
      return value;
    };
    a.hook = [&](double value) { return value + b.out(); };
    b.in(2.0);
    a.in(1.0);
    EXPECT_EQ(a.out(), 3.0);
    EXPECT_NE(refused.find("two enclosing operations"), std::string::npos) << refused;
    // Outside those computations the same connect works.
    a.hook = nullptr;
    b.hook = nullptr;
    c.in.connect(d.out);
    d.in(4.0);
    EXPECT_EQ(c.out(), 4.0);
  });
}

// A helper's get on a network x waits for x's lock (another thread's getter
// holds it) while a sibling helper, waiting too, connects x to a network that
// shares the computing one's lock. Whichever gets x's lock first, the other
// must not then wait for the lock the computation holds (before: the get
// followed the join to that lock and waited for ever). The sleeps only make
// the order that failed likely; nothing is timed.
TEST_P(NetworkLocks, AHelpersOperationWaitingForALockJoinedMeanwhileToTheComputingOnesGoesOn) {
  connectors::testing::without_hanging([] {
    for (int round = 0; round < 5; ++round) {
      Hooked a, c, x;
      c.in.connect(a.out);  // c shares a's lock, not its network
      c.in.disconnect(a.out);
      TimedLatch x_entered{2};
      TimedLatch release_x{2};
      std::atomic<bool> hold_x{true};
      x.hook = [&](double value) {
        if (hold_x.exchange(false)) {
          x_entered.arrive_and_wait();
          release_x.arrive_and_wait();
        }
        return value;
      };
      x.in(1.0);
      std::thread holder{[&] { x.out(); }};  // holds x's lock
      x_entered.arrive_and_wait();
      a.hook = [&](double value) {
        auto connecting = std::async(std::launch::async, connectors::as_helper([&] { c.in.connect(x.out); }));
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
        auto reading = std::async(std::launch::async, connectors::as_helper([&] { return x.out(); }));
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
        release_x.arrive_and_wait();
        connecting.get();
        return value + reading.get();
      };
      a.in(1.0);
      EXPECT_EQ(a.out(), 2.0);
      holder.join();
      EXPECT_EQ(c.out(), 1.0);  // connected to x
    }
  });
}

// A helper's connect to a network j that a sibling helper's get computes
// waits for j's lock without keeping the computing operation's inner lock:
// j's getter reads a network sharing the computing one's lock, which needs
// that inner lock (before: a deadlock of the library's own locks).
TEST_P(NetworkLocks, AHelpersConnectWaitingForAnotherNetworksLockLetsThatNetworksMethodsNestBeside) {
  connectors::testing::without_hanging([] {
    Hooked a, c, c2, j;
    c.in.connect(a.out);  // c and c2 share a's lock, not its network
    c.in.disconnect(a.out);
    c2.in.connect(a.out);
    c2.in.disconnect(a.out);
    TimedLatch j_computing{2};
    TimedLatch connect_started{2};
    j.hook = [&](double value) {
      j_computing.arrive_and_wait();
      connect_started.arrive_and_wait();
      std::this_thread::sleep_for(std::chrono::milliseconds{50});  // the connect now waits for j's lock
      return value + c2.out();
    };
    j.in(1.0);
    c2.in(2.0);
    a.hook = [&](double value) {
      auto reading = std::async(std::launch::async, connectors::as_helper([&] { return j.out(); }));
      j_computing.arrive_and_wait();
      auto connecting = std::async(std::launch::async, connectors::as_helper([&] {
                                     connect_started.arrive_and_wait();
                                     c.in.connect(j.out);
                                   }));
      connecting.get();
      return value + reading.get();
    };
    a.in(1.0);
    EXPECT_EQ(a.out(), 4.0);
    EXPECT_EQ(c.out(), 3.0);  // connected to j
  });
}

INSTANTIATE_TEST_SUITE_P(Executors, NetworkLocks, ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string{"Sequential"} : std::string{"Threads"};
                         });

// A pool thread blocked on a network's lock must not hold back the calls of
// the operation that holds it: with one pool thread, the operation's calls
// queue behind the blocked one for ever unless the operation takes them back
// and runs them on its own thread (docs/design.md#thread-pool). Before, this
// hung.
class ReadsANetwork {
 public:
  ReadsANetwork(connectors::testing::Sum& total, std::latch& on_pool_thread, std::latch& operation_started)
      : total_(total), on_pool_thread_(on_pool_thread), operation_started_(operation_started) {}
  double read_after_the_operation_started() const {
    on_pool_thread_.count_down();
    operation_started_.wait();
    return total_.out();  // waits for the network's lock, held by that operation
  }

 private:
  connectors::testing::Sum& total_;
  std::latch& on_pool_thread_;
  std::latch& operation_started_;
};

TEST(NetworkLocksOnOnePoolThread, CallsQueuedBehindAPoolThreadBlockedOnTheOperationsLockRunAllTheSame) {
  connectors::testing::without_hanging([] {
    auto executor = connectors::executor(1, 0);
    connectors::set_default_executor(executor);
    std::latch on_pool_thread{1};
    std::latch operation_started{1};
    Hooked gate, first, second;
    connectors::testing::Sum total;
    gate.out.set_parallelization(connectors::Parallelization::SEQUENTIAL);  // on the operation's own thread
    gate.hook = [&](double value) {
      operation_started.count_down();
      return value;
    };
    first.in.connect(gate.out);
    second.in.connect(gate.out);
    total.in.connect(first.out);  // two branches: their getters go to the pool
    total.in.connect(second.out);
    gate.in(1.0);
    ReadsANetwork reader{total, on_pool_thread, operation_started};
    std::thread outside{[&] {
      auto blocking_call = [&]() -> connectors::Task<double> {
        co_return co_await executor->run_method(connectors::Parallelization::THREAD,
                                                &ReadsANetwork::read_after_the_operation_started, reader);
      };
      EXPECT_EQ(executor->run_coroutine(blocking_call()), 2.0);
    }};
    on_pool_thread.wait();  // the only pool thread is busy, and will block on the lock below
    EXPECT_EQ(total.out(), 2.0);
    outside.join();
    connectors::set_default_executor(nullptr);
  });
}

}  // namespace
