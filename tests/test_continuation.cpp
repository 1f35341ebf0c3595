// A request goes on on the pool thread that finished its method when the
// coordinating thread is waiting (docs/design.md#continuation): the pool
// thread runs the protocol steps that follow in the loop's place, and the
// branch's next THREAD method is its own next job. These tests pin what must
// not change with it: SEQUENTIAL methods stay on the coordinating thread, the
// values are right, and at most the pool's threads (plus the coordinating
// thread) run methods at once; and they observe the continuation itself.
#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using connectors::Parallelization;

// Counts the methods running at once, and the setters that ran off the
// thread of the test.
struct Watch {
  std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> running{0};
  std::atomic<int> most_running{0};
  std::atomic<int> setters_off_the_caller{0};

  void enter() {
    const int now = ++running;
    int most = most_running.load();
    while (now > most && !most_running.compare_exchange_weak(most, now)) {
    }
  }
  void leave() { --running; }
};

class Block {
 public:
  explicit Block(Watch& watch) : watch_(watch) {}
  connectors::Output<long> output{this, &Block::read};
  connectors::Input<long> input{this, &Block::write, output};

 private:
  long read() const {
    watch_.enter();
    const long value = value_ + 1;
    watch_.leave();
    return value;
  }
  void write(long value) {
    watch_.enter();
    if (input.parallelization() == Parallelization::SEQUENTIAL && std::this_thread::get_id() != watch_.caller)
      ++watch_.setters_off_the_caller;
    value_ = value;
    watch_.leave();
  }
  Watch& watch_;
  long value_ = 0;
};

class Total {
 public:
  connectors::Output<long> sum{this, &Total::add_up};
  connectors::MultiInput<long> in{this, &Total::add, &Total::remove, sum};

  explicit Total(Watch& watch) : watch_(watch) { in.set_replace(&Total::replace); }

 private:
  long add_up() const {
    long total = 0;
    for (long value : values_) total += value;
    return total;
  }
  std::size_t add(long value) {
    note_sequential();
    values_.push_back(value);
    return values_.size() - 1;
  }
  void remove(std::size_t id) {
    note_sequential();
    values_[id] = 0;
  }
  void replace(std::size_t id, long value) {
    note_sequential();
    values_[id] = value;
  }
  void note_sequential() {
    if (std::this_thread::get_id() != watch_.caller) ++watch_.setters_off_the_caller;
  }
  Watch& watch_;
  std::vector<long> values_;
};

// `branches` chains of `length` blocks below one source, into one Total:
// the branches' THREAD getters always have company, so they run on the pool.
struct Branches {
  Branches(Watch& watch, std::size_t branches, std::size_t length, Parallelization setters)
      : source(watch), total(watch) {
    chains.resize(branches);
    for (auto& chain : chains) {
      for (std::size_t i = 0; i < length; ++i) {
        chain.push_back(std::make_unique<Block>(watch));
        chain.back()->input.set_parallelization(setters);
        chain.back()->input.connect(i == 0 ? source.output : chain[i - 1]->output);
      }
      total.in.connect(chain.back()->output);
    }
  }
  // What the total is after source.input(value): each block adds one.
  long expected(long value) const {
    return static_cast<long>(chains.size()) * (value + 1 + static_cast<long>(chains.front().size()));
  }
  Block source;
  std::vector<std::vector<std::unique_ptr<Block>>> chains;
  Total total;
};

class Continuation : public ::testing::Test {
 protected:
  void SetUp() override { connectors::set_default_executor(connectors::executor(2, 0)); }
  void TearDown() override { connectors::set_default_executor(nullptr); }
};

// 200 sets and gets, each checked; then no SEQUENTIAL method (a block's
// setter so flagged, the Total's adds and replaces) ran off the caller's
// thread, and at most the two pool threads and the coordinating thread (which
// runs a method that nothing else could overlap, docs/design.md#work-first)
// ran methods at once.
void check_rounds(std::size_t branches, Parallelization setters) {
  Watch watch;
  Branches network{watch, branches, 30, setters};
  for (long value = 1; value <= 200; ++value) {
    network.source.input(value);
    ASSERT_EQ(network.total.sum(), network.expected(value)) << "round " << value;
  }
  EXPECT_EQ(watch.setters_off_the_caller.load(), 0);
  EXPECT_LE(watch.most_running.load(), 3);
}

TEST_F(Continuation, SequentialSettersStayOnTheCallersThread) { check_rounds(2, Parallelization::SEQUENTIAL); }

TEST_F(Continuation, ThreadSettersGiveTheRightValuesWithoutMoreMethodsAtOnce) {
  check_rounds(3, Parallelization::THREAD);
}

// The continuation observed. One pool thread; two branches below a source
// into a Total: `first` (a slow THREAD getter, then `after_first`'s THREAD
// setter) and, behind a SEQUENTIAL getter, `queued` (a THREAD getter). The
// pool thread runs `first`'s getter while `queued`'s is queued behind it.
// Once `first`'s getter returns, the request goes on on the pool thread and
// `after_first`'s setter is that thread's own next job, ahead of the queued
// getter; handed back to the coordinating thread instead, the setter would
// be queued behind it. The getter sleeps a little so that the coordinating
// thread is waiting by then (only a waiting loop is continued); the order is
// looked for over several rounds rather than trusted to one.
class Recorder {
 public:
  explicit Recorder(std::vector<int>& order, std::mutex& mutex, int name, bool slow = false)
      : order_(order), mutex_(mutex), name_(name), slow_(slow) {}
  connectors::Output<long> output{this, &Recorder::read};
  connectors::Input<long> input{this, &Recorder::write, output};

 private:
  long read() const {
    if (slow_) std::this_thread::sleep_for(std::chrono::microseconds{300});
    note(name_);
    return value_;
  }
  void write(long value) {
    note(-name_);  // a setter is noted negative
    value_ = value;
  }
  void note(int what) const {
    std::lock_guard lock{mutex_};
    order_.push_back(what);
  }
  std::vector<int>& order_;
  std::mutex& mutex_;
  int name_;
  bool slow_;
  long value_ = 0;
};

TEST(ContinuationObserved, TheNextMethodOfABranchRunsOnTheThreadThatFinishedTheLastOne) {
  connectors::set_default_executor(connectors::executor(1, 0));
  int continued = 0;
  {
    std::vector<int> order;
    std::mutex mutex;
    Recorder source{order, mutex, 100};
    Recorder first{order, mutex, 1, true};
    Recorder after_first{order, mutex, 2};
    Recorder middle{order, mutex, 4};
    Recorder queued{order, mutex, 3};
    Watch watch;
    Total total{watch};
    first.input.connect(source.output);
    after_first.input.connect(first.output);
    after_first.input.set_parallelization(Parallelization::THREAD);
    middle.input.connect(source.output);
    middle.output.set_parallelization(Parallelization::SEQUENTIAL);
    queued.input.connect(middle.output);
    total.in.connect(after_first.output);
    total.in.connect(queued.output);
    for (long value = 1; value <= 50 && continued == 0; ++value) {
      source.input(value);
      {
        std::lock_guard lock{mutex};
        order.clear();
      }
      EXPECT_EQ(total.sum(), 2 * value);
      std::lock_guard lock{mutex};
      const auto setter = std::find(order.begin(), order.end(), -2);
      const auto queued_getter = std::find(order.begin(), order.end(), 3);
      ASSERT_NE(setter, order.end());
      ASSERT_NE(queued_getter, order.end());
      if (setter < queued_getter) ++continued;
    }
  }
  connectors::set_default_executor(nullptr);
  EXPECT_EQ(continued, 1) << "the branch never went on on the pool thread that finished its getter";
}

// A notify condition that a pool thread runs in its loop's place destroys a
// connector. The loop is that of an operation on network B, nested in a
// THREAD getter of an operation on network A that the test's thread took
// back from the pool (docs/design.md#continuation): both operations are
// coordinated by the test's thread, which waits in B's loop. The destroyed
// connector observes B's result (`in_b`) or A's (`in_a`): in either network
// the stand-in unlinks it itself, as the coordinating thread would; handed
// to a loop, the unlinking would wait for a thread that waits for the
// stand-in. How the threads meet: one pool thread; A's two getters go to the
// pool; the one the pool thread runs waits until the test's thread, which
// took the other back, lets it go; B's two setters the same, and the one on
// the pool thread returns a little after the test's thread's, so that the
// test's thread is waiting in B's loop by then. Looked for over rounds.
enum class Victim { in_a, in_b, in_a_from_c };

struct Rendezvous {
  std::thread::id caller = std::this_thread::get_id();
  std::mutex mutex;
  std::condition_variable changed;
  bool a_released = false;
  bool b_released = false;
  // Whether the pool thread's condition or setter destroys its victim: only
  // in the phase a test looks at. In a later set the victim may be in the
  // network being computed, where destroying it is refused
  // (docs/design.md#destruction-inside).
  std::atomic<bool> destroying{false};
  void release(bool& flag) {
    std::lock_guard lock{mutex};
    flag = true;
    changed.notify_all();
  }
  void wait_for(const bool& flag) {
    std::unique_lock lock{mutex};
    changed.wait(lock, [&] { return flag; });
  }
  bool on_caller() const { return std::this_thread::get_id() == caller; }
  // The caller's side lets the pool thread's go, which returns a little
  // later, so that the caller waits in its loop by then.
  void meet(bool& released) {
    if (on_caller()) {
      release(released);
      return;
    }
    wait_for(released);
    std::this_thread::sleep_for(std::chrono::microseconds{300});
  }
};

class Observer {
 public:
  connectors::Output<long> output{this, &Observer::read};
  connectors::Input<long> input{this, &Observer::write, output};

 private:
  long read() const { return value_; }
  void write(long value) { value_ = value; }
  long value_ = 0;
};

class Setter {
 public:
  // `instead`: run on the pool thread in place of the destruction.
  Setter(Rendezvous& meeting, std::unique_ptr<Observer>& victim, bool& destroyed_on_pool,
         std::function<void()> instead = {})
      : meeting_(meeting), victim_(victim), destroyed_on_pool_(destroyed_on_pool), instead_(std::move(instead)) {
    input.set_parallelization(Parallelization::THREAD);
    output.set_parallelization(Parallelization::SEQUENTIAL);
    input.set_notify_condition(&Setter::worth_telling);
  }
  connectors::Output<long> output{this, &Setter::read};
  connectors::Input<long> input{this, &Setter::write, output};

 private:
  long read() const { return value_ + 1; }
  void write(long value) {
    meeting_.meet(meeting_.b_released);
    value_ = value;
  }
  bool worth_telling(const long&) {
    if (meeting_.on_caller() || !meeting_.destroying || !victim_) return true;
    if (instead_) {
      instead_();
    } else {
      victim_.reset();
      destroyed_on_pool_ = true;
    }
    return true;
  }
  Rendezvous& meeting_;
  std::unique_ptr<Observer>& victim_;
  bool& destroyed_on_pool_;
  std::function<void()> instead_;
  long value_ = 0;
};

struct NetworkB {
  NetworkB(Rendezvous& meeting, std::unique_ptr<Observer>& victim, bool& destroyed_on_pool,
           const std::function<void()>& instead = {})
      : first(meeting, victim, destroyed_on_pool, instead),
        second(meeting, victim, destroyed_on_pool, instead),
        total(watch) {
    source.output.set_parallelization(Parallelization::SEQUENTIAL);
    first.input.connect(source.output);
    second.input.connect(source.output);
    total.in.connect(first.output);
    total.in.connect(second.output);
  }
  Watch watch;
  Observer source;
  Setter first;
  Setter second;
  Total total;
};

class Getter {
 public:
  Getter(Rendezvous& meeting, NetworkB& b, long& b_result) : meeting_(meeting), b_(b), b_result_(b_result) {
    output.set_parallelization(Parallelization::THREAD);
  }
  connectors::Output<long> output{this, &Getter::read};

 private:
  long read() const {
    if (!meeting_.on_caller()) {
      meeting_.wait_for(meeting_.a_released);
      return 1;
    }
    meeting_.release(meeting_.a_released);
    b_.source.input(5);
    b_result_ = b_.total.sum();
    return 1;
  }
  Rendezvous& meeting_;
  NetworkB& b_;
  long& b_result_;
};

bool destroy_from_a_stand_in_once(Victim where) {
  Rendezvous meeting;
  bool destroyed_on_pool = false;
  std::unique_ptr<Observer> victim = std::make_unique<Observer>();
  // in_a_from_c: B's condition, on the pool thread standing in for B's loop,
  // sets and gets network C, whose executor has a pool thread of its own;
  // C's condition destroys the victim on that thread, standing in for C's
  // loop, whose thread (the first pool thread) acts for the test's thread.
  Rendezvous meeting_c;
  NetworkB c{meeting_c, victim, destroyed_on_pool};
  const std::shared_ptr<connectors::Executor> other = connectors::executor(1, 0);
  c.source.input.set_executor(other);
  c.total.sum.set_executor(other);
  std::function<void()> run_c;
  if (where == Victim::in_a_from_c) {
    run_c = [&] {
      meeting_c.caller = std::this_thread::get_id();
      try {
        c.source.input(5);
        EXPECT_EQ(c.total.sum(), 12);
      } catch (const std::logic_error&) {
        // (C is nested in B, nested in A, whose connector went.)
      }
    };
  }
  NetworkB b{meeting, victim, destroyed_on_pool, run_c};
  long b_result = 0;
  Watch watch;
  Getter left{meeting, b, b_result};
  Getter right{meeting, b, b_result};
  Total a_total{watch};
  a_total.in.connect(left.output);
  a_total.in.connect(right.output);
  victim->input.connect(where == Victim::in_b ? b.total.sum : a_total.sum);
  meeting.destroying = true;
  meeting_c.destroying = true;
  try {
    EXPECT_EQ(a_total.sum(), 2);
    EXPECT_EQ(b_result, 12);  // (5 + 1) from each setter's block
    EXPECT_FALSE(destroyed_on_pool);
    EXPECT_EQ(victim->output(), where == Victim::in_b ? 12 : 2);
  } catch (const std::logic_error&) {
    // The victim was connected to the network being computed: the
    // operations from B's up to the one computing it end with that error
    // (docs/design.md#destruction-inside).
    EXPECT_TRUE(destroyed_on_pool);
    EXPECT_EQ(victim, nullptr);
  }
  meeting.destroying = false;
  meeting_c.destroying = false;
  // The destroyed observer is out of the network: another set and get does
  // not reach it (ASan would see a freed one).
  b.source.input(7);
  EXPECT_EQ(b.total.sum(), 16);
  return destroyed_on_pool;
}

void destroy_from_a_stand_in(Victim where) {
  connectors::set_default_executor(connectors::executor(1, 0));
  int destroyed_on_pool = 0;
  for (int round = 0; round < 200 && destroyed_on_pool == 0; ++round) {
    if (destroy_from_a_stand_in_once(where)) ++destroyed_on_pool;
  }
  connectors::set_default_executor(nullptr);
  EXPECT_EQ(destroyed_on_pool, 1) << "no notify condition ran on the pool thread";
}

TEST(ContinuationObserved, AStandInUnlinksAConnectorOfItsOwnNetworkItself) { destroy_from_a_stand_in(Victim::in_b); }

TEST(ContinuationObserved, AStandInUnlinksAConnectorOfTheOuterNetworkItself) { destroy_from_a_stand_in(Victim::in_a); }

// A stand-in acts, through the thread it acts for, for every thread below:
// here for the first pool thread, which acts for the test's thread.
TEST(ContinuationObserved, AStandInOfAStandInUnlinksAConnectorOfTheOutermostNetworkItself) {
  destroy_from_a_stand_in(Victim::in_a_from_c);
}

// A notify condition that a pool thread runs in its loop's place destroys an
// input that a macro input exports and has not connected yet: the macro's
// connect, which waits in the operation of its first exported input, must
// skip it. The macro watches its exported inputs on the thread that
// connects (a DestructionWatch); the stand-in tells that thread's watches,
// or the connect would go on with a freed input (ASan). How the threads
// meet: one pool thread; connecting `first` serves two ON_CONNECT followers
// whose THREAD setters meet as NetworkB's do. Looked for over rounds. The
// same when the setter on the pool thread destroys the input itself: a
// method, not a stand-in; the unlinking goes to the connecting thread, which
// tells its watches. The followers destroy only while the macro connects.
enum class Destroyer { condition, setter };

struct MacroOwner {
  Observer first;
  std::unique_ptr<Observer> second = std::make_unique<Observer>();
  connectors::MacroInput<long> input{first.input, second->input};
};

class Follower {
 public:
  Follower(Rendezvous& meeting, MacroOwner& owner, bool& destroyed_on_pool, Destroyer destroyer)
      : meeting_(meeting), owner_(owner), destroyed_on_pool_(destroyed_on_pool), destroyer_(destroyer) {
    input.set_parallelization(Parallelization::THREAD);
    input.set_laziness(connectors::Laziness::ON_CONNECT);
    input.set_notify_condition(&Follower::worth_telling);
  }
  connectors::Output<long> output{this, &Follower::read};
  connectors::Input<long> input{this, &Follower::write, output};

 private:
  long read() const { return value_; }
  void write(long value) {
    meeting_.meet(meeting_.b_released);
    if (destroyer_ == Destroyer::setter) destroy_off_the_caller();
    value_ = value;
  }
  bool worth_telling(const long&) {
    if (destroyer_ == Destroyer::condition) destroy_off_the_caller();
    return true;
  }
  void destroy_off_the_caller() {
    if (!meeting_.on_caller() && meeting_.destroying && owner_.second) {
      owner_.second.reset();
      destroyed_on_pool_ = true;
    }
  }
  Rendezvous& meeting_;
  MacroOwner& owner_;
  bool& destroyed_on_pool_;
  Destroyer destroyer_;
  long value_ = 0;
};

bool connect_a_macro_losing_an_input_once(Destroyer destroyer) {
  Rendezvous meeting;
  bool destroyed_on_pool = false;
  Observer source;
  source.output.set_parallelization(Parallelization::SEQUENTIAL);
  source.input(3);
  MacroOwner owner;
  owner.first.output.set_parallelization(Parallelization::SEQUENTIAL);
  Follower left{meeting, owner, destroyed_on_pool, destroyer};
  Follower right{meeting, owner, destroyed_on_pool, destroyer};
  left.input.connect(owner.first.output);
  right.input.connect(owner.first.output);
  meeting.destroying = true;
  owner.input.connect(source.output);
  meeting.destroying = false;
  EXPECT_EQ(left.output(), 3);
  EXPECT_EQ(right.output(), 3);
  if (destroyed_on_pool) {
    EXPECT_EQ(owner.second, nullptr);
  } else {
    EXPECT_EQ(owner.second->output(), 3);  // connected by the macro
  }
  source.input(4);
  EXPECT_EQ(left.output(), 4);
  return destroyed_on_pool;
}

void connect_a_macro_losing_an_input(Destroyer destroyer) {
  connectors::set_default_executor(connectors::executor(1, 0));
  int destroyed_on_pool = 0;
  for (int round = 0; round < 50 && destroyed_on_pool == 0; ++round) {
    if (connect_a_macro_losing_an_input_once(destroyer)) ++destroyed_on_pool;
  }
  connectors::set_default_executor(nullptr);
  EXPECT_EQ(destroyed_on_pool, 1) << "the input was never destroyed on the pool thread";
}

TEST(ContinuationObserved, AStandInTellsTheMacroConnectItWaitsInOfAnInputItDestroyed) {
  connect_a_macro_losing_an_input(Destroyer::condition);
}

TEST(ContinuationObserved, APoolThreadsMethodHandsTheMacroConnectItWaitsInAnInputItDestroys) {
  connect_a_macro_losing_an_input(Destroyer::setter);
}

}  // namespace
