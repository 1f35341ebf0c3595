// Catalog tests of test_blocks.py (docs/design.md#catalog-tests): T1 (Multiplexer), T4 and T5
// (WeakrefProxyGenerator); T3 (PassThrough) is in test_helper_blocks.cpp.
#include "helpers/call_logger.hpp"
#include "helpers/executor_fixture.hpp"
#include "helpers/test_classes.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// Named, not anonymous: coroutine frames of their connectors must have linkage (g++ -Wsubobject-linkage).
namespace blocks_test {

// A value that counts its live instances.
struct Tracked {
  explicit Tracked(int id) : id(id) { ++alive; }
  Tracked(const Tracked& other) : id(other.id) { ++alive; }
  Tracked(Tracked&& other) noexcept : id(other.id) { ++alive; }
  ~Tracked() { --alive; }
  int id;
  static inline int alive = 0;
};

// Keeps only a weak reference; records what it saw while the value lived.
class WeakHolder {
 public:
  connectors::Output<std::weak_ptr<const Tracked>> get_value{this, &WeakHolder::read};
  connectors::Input<std::weak_ptr<const Tracked>> set_value{this, &WeakHolder::write, get_value};
  std::optional<int> seen;

 private:
  std::weak_ptr<const Tracked> read() const { return value_; }
  void write(std::weak_ptr<const Tracked> value) {
    if (auto alive = value.lock()) seen = alive->id;
    value_ = std::move(value);
  }
  std::weak_ptr<const Tracked> value_;
};

}  // namespace blocks_test

namespace {

using blocks_test::Tracked;
using blocks_test::WeakHolder;
using connectors::blocks::Multiplexer;
using connectors::blocks::PassThrough;
using connectors::blocks::WeakrefProxyGenerator;

class Blocks : public connectors::testing::OnEveryExecutor {};

TEST_P(Blocks, T1_MultiplexerFunctionality) {
  Multiplexer<std::string, int> mux{3};
  mux.input[1]("one");
  mux.input[2]("two");
  EXPECT_EQ(mux.output(), std::nullopt);
  mux.input[3]("three");
  EXPECT_EQ(mux.output(), "three");
  mux.select(2);
  EXPECT_EQ(mux.output(), "two");
  EXPECT_EQ(mux.input.replace(2, "Two"), 2);
  EXPECT_EQ(mux.output(), "Two");
  mux.input[2]("TWO");
  EXPECT_EQ(mux.output(), "TWO");
  mux.input.remove(2);
  EXPECT_EQ(mux.output(), std::nullopt);
  const int generated = mux.input("generated");
  mux.select(generated);
  EXPECT_EQ(mux.output(), "generated");
}

// The original's demos D3/D7 (docs/design.md#tutorials): connected sources; a change of an unselected source does not
// reach downstream.
class Tester {
 public:
  connectors::Input<std::optional<std::string>> input{this, &Tester::receive};
  Tester() { input.set_laziness(connectors::Laziness::ON_ANNOUNCE); }
  std::vector<std::string> received;

 private:
  void receive(const std::optional<std::string>& value) { received.push_back(value.value_or("<none>")); }
};

TEST_P(Blocks, MultiplexerWithConnectedSources) {
  Multiplexer<std::string, std::string> mux;
  PassThrough<std::string> source1{"value 1"}, source2{"value 2"};
  mux.input["1"].connect(source1.output);
  source2.output.connect(mux.input["2"]);
  Tester tester;
  mux.output.connect(tester.input);
  EXPECT_TRUE(tester.received.empty());  // ON_ANNOUNCE is not triggered by a connect
  mux.select("1");
  EXPECT_EQ(tester.received, std::vector<std::string>{"value 1"});
  source1.input("new value 1");
  EXPECT_EQ(tester.received, (std::vector<std::string>{"value 1", "new value 1"}));
  source2.input("new value 2");  // not selected: cancelled, nothing runs downstream
  EXPECT_EQ(tester.received, (std::vector<std::string>{"value 1", "new value 1"}));
  mux.select("2");
  EXPECT_EQ(tester.received, (std::vector<std::string>{"value 1", "new value 1", "new value 2"}));
}

// A value type without a default constructor (replace stored through
// operator[], which needs one).
struct Reading {
  explicit Reading(int value) : value(value) {}
  int value;
};

TEST_P(Blocks, MultiplexerOfValuesWithoutADefaultConstructor) {
  Multiplexer<Reading, std::string> mux{"b"};
  mux.input["a"](Reading{1});
  mux.input["b"](Reading{2});
  EXPECT_EQ(mux.output()->value, 2);
  mux.input["b"](Reading{3});
  EXPECT_EQ(mux.output()->value, 3);
}

TEST_P(Blocks, MultiplexerWithoutIntegralKeyNeedsAKey) {
  Multiplexer<int, std::string> mux;
  EXPECT_THROW(mux.input(1), std::logic_error);
}

TEST_P(Blocks, MultiplexerWithBoolKeys) {
  // A two-way switch: bool is integral, so keyless values get ids (both
  // of them, then none is left).
  Multiplexer<int, bool> mux{true};
  mux.input(10);
  mux.input(20);
  EXPECT_THROW(mux.input(30), std::length_error);
  EXPECT_EQ(mux.output(), std::optional<int>{20});
  mux.select(false);
  EXPECT_EQ(mux.output(), std::optional<int>{10});
}

TEST_P(Blocks, T4_WeakrefProxyGeneratorFunctionality) {
  {
    WeakrefProxyGenerator<Tracked, std::weak_ptr<const Tracked>> w;
    WeakHolder t2;
    t2.set_value.connect(w.output);
    w.delete_reference.connect(t2.get_value);  // feedback into an input without observers: no cycle
    w.input(Tracked{42});
    EXPECT_EQ(Tracked::alive, 1);  // the block holds it
    const std::weak_ptr<const Tracked> result = t2.get_value();
    EXPECT_EQ(t2.seen, 42);         // the next step used it ...
    EXPECT_TRUE(result.expired());  // ... and then it was released
    EXPECT_EQ(Tracked::alive, 0);
  }
  EXPECT_EQ(Tracked::alive, 0);
}

template <class T>
void check_passes_through(T data) {
  WeakrefProxyGenerator<T> w;
  w.input(data);
  const std::shared_ptr<const T> held = w.output().lock();
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(*held, data);
}

TEST_P(Blocks, T5_WeakrefProxyGeneratorDataTypes) {
  check_passes_through(1);
  check_passes_through(2.0);
  check_passes_through(std::pair<int, double>{3, 4.0});
  check_passes_through(std::vector<double>{5, 6.0});
  check_passes_through(std::optional<int>{});
}

// A value whose first destruction, once armed, waits until another thread
// has read the network; a copy made from it meanwhile is a read of a
// destroyed block's state.
struct SlowToDie {
  SlowToDie() = default;
  explicit SlowToDie(int value) : value(value) {}
  SlowToDie(const SlowToDie& other) : value(other.value) {
    if (&other == dying.load()) read_while_dying = true;
  }
  SlowToDie& operator=(const SlowToDie&) = default;
  ~SlowToDie() {
    if (!armed.exchange(false)) return;
    dying = this;
    destruction_started->count_down();
    reader_done->wait();
    dying = nullptr;
  }
  int value = 0;
  static inline std::atomic<bool> armed{false};
  static inline std::atomic<const SlowToDie*> dying{nullptr};
  static inline std::atomic<bool> read_while_dying{false};
  static inline std::latch* destruction_started = nullptr;
  static inline std::latch* reader_done = nullptr;
};

// docs/connectors.md, Threads: destroying a block while another thread uses its
// network is allowed; the block's state goes after its connectors left.
TEST_P(Blocks, APassThroughDestroyedWhileAnotherThreadPullsThroughIt) {
  std::latch destruction_started{1};
  std::latch reader_done{1};
  SlowToDie::destruction_started = &destruction_started;
  SlowToDie::reader_done = &reader_done;
  auto upstream = std::make_unique<PassThrough<SlowToDie>>();
  PassThrough<SlowToDie> downstream;
  downstream.input.connect(upstream->output);
  upstream->input(SlowToDie{42});  // announced downstream, not pulled yet
  SlowToDie::armed = true;
  std::thread reader{[&] {
    destruction_started.wait();
    try {
      (void)downstream.output();
    } catch (...) {
    }
    reader_done.count_down();
  }};
  upstream.reset();
  reader.join();
  EXPECT_FALSE(SlowToDie::read_while_dying.load());
}

INSTANTIATE_TEST_SUITE_P(Executors, Blocks, ::testing::Values(0, 2), connectors::testing::executor_name);

// A selector key whose assignment takes a while and says so (each object of
// its own), and whose comparison counts the times it compared against an
// object being assigned.
std::atomic<int> compared_while_assigning{0};
struct SlowKey {
  std::string name;
  mutable std::atomic<bool> assigning{false};
  SlowKey() = default;
  SlowKey(const char* text) : name(text) {}  // NOLINT(google-explicit-constructor): keys from literals
  SlowKey(const SlowKey& other) : name(other.name) {}
  SlowKey(SlowKey&& other) noexcept : name(std::move(other.name)) {}
  ~SlowKey() = default;
  SlowKey& operator=(const SlowKey& other) { return assign(other.name); }
  SlowKey& operator=(SlowKey&& other) noexcept { return assign(other.name); }
  SlowKey& assign(const std::string& value) noexcept {
    assigning = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    name = value;
    assigning = false;
    return *this;
  }
  friend bool operator==(const SlowKey& a, const SlowKey& b) {
    if (a.assigning || b.assigning) ++compared_while_assigning;
    return a.name == b.name;
  }
};

}  // namespace

template <>
struct std::hash<SlowKey> {
  std::size_t operator()(const SlowKey& key) const noexcept { return std::hash<std::string>{}(key.name); }
};

namespace {

// Both the key and the value change upstream, and `select` and `input` are
// THREAD: within one operation `select`'s setter (which writes the selector)
// and `input`'s notify condition (which reads it) run on two pool threads.
// Before, nothing ordered them: the condition compared against a key being
// assigned (a data race; ThreadSanitizer reports it too).
class KeyAndValue {
 public:
  connectors::Output<SlowKey> key{this, &KeyAndValue::current_key};
  connectors::Output<int> value{this, &KeyAndValue::current_value};
  connectors::Input<int> set{this, &KeyAndValue::store, key, value};

 private:
  SlowKey current_key() const { return step_ % 2 != 0 ? SlowKey{"a"} : SlowKey{"b"}; }
  int current_value() const { return step_; }
  void store(int step) { step_ = step; }
  int step_ = 0;
};

TEST(Multiplexer, ASelectorSetOnAPoolThreadIsNotReadWhileItIsWritten) {
  connectors::set_default_executor(connectors::executor(2, 0));
  {
    KeyAndValue upstream;
    Multiplexer<int, SlowKey> mux{SlowKey{"a"}};
    mux.select.set_parallelization(connectors::Parallelization::THREAD);
    mux.input.set_parallelization(connectors::Parallelization::THREAD);
    mux.select.connect(upstream.key);
    mux.input[SlowKey{"a"}].connect(upstream.value);
    mux.input[SlowKey{"b"}](0);
    compared_while_assigning = 0;
    for (int step = 1; step <= 6; ++step) {
      upstream.set(step);
      EXPECT_EQ(mux.output(), step % 2 != 0 ? std::optional<int>{step} : std::optional<int>{0});
    }
    EXPECT_EQ(compared_while_assigning, 0);
  }
  connectors::set_default_executor(nullptr);
}

}  // namespace
