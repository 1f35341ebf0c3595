// Every cell of the dispatch table for the two process executors, observed
// through process and thread ids; what travels to a worker and what does not.
#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <bitset>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace owners_elsewhere {
// Serialized by a non-member function in namespace cereal (cereal's form for
// a type one does not own), which the owner probe does not look at.
struct Doubler {
  double base = 21;
  double twice() const { return base * 2; }
};
// Final, with its serialize private and cereal given access: the probe
// cannot see private members of a class it cannot derive from.
class Sealed final {
 public:
  int value() const { return 4; }

 private:
  friend class cereal::access;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(state_);
  }
  int state_ = 0;
};
}  // namespace owners_elsewhere

namespace cereal {
template <class Archive>
void serialize(Archive& archive, owners_elsewhere::Doubler& doubler) {
  archive(doubler.base);
}
}  // namespace cereal

namespace {

using connectors::Executor;
using connectors::MultiprocessingExecutor;
using connectors::Parallelization;
using connectors::Task;
using connectors::ThreadingMultiprocessingExecutor;

struct Place {
  int pid = 0;
  std::thread::id thread;
  std::size_t thread_hash = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(pid, thread_hash);
  }
};

struct Where {
  Place here() const {
    return Place{static_cast<int>(::getpid()), std::this_thread::get_id(),
                 std::hash<std::thread::id>{}(std::this_thread::get_id())};
  }
  template <class Archive>
  void serialize(Archive&) {}
};

// Where a method flagged `flag` ran, seen from the loop.
struct Observed {
  bool same_process;
  bool same_thread;
};

Observed observe(Executor& executor, Parallelization flag) {
  Where where;
  auto main = [&]() -> Task<Observed> {
    const Place loop = where.here();
    const Place method = co_await executor.run_method(flag, &Where::here, where);
    co_return Observed{method.pid == loop.pid, method.pid == loop.pid && method.thread == loop.thread};
  };
  return executor.run_coroutine(main());
}

TEST(ProcessDispatch, MultiprocessingExecutor) {
  MultiprocessingExecutor executor{2};
  for (int i = 0; i < 20; ++i) {
    const Observed sequential = observe(executor, Parallelization::SEQUENTIAL);
    EXPECT_TRUE(sequential.same_process && sequential.same_thread);
    const Observed thread = observe(executor, Parallelization::THREAD);  // no threads: inline
    EXPECT_TRUE(thread.same_process && thread.same_thread);
    const Observed process = observe(executor, Parallelization::PROCESS);
    EXPECT_FALSE(process.same_process);
  }
}

TEST(ProcessDispatch, ThreadingMultiprocessingExecutor) {
  ThreadingMultiprocessingExecutor executor{2, 2};
  for (int i = 0; i < 20; ++i) {
    const Observed sequential = observe(executor, Parallelization::SEQUENTIAL);
    EXPECT_TRUE(sequential.same_process && sequential.same_thread);
    const Observed thread = observe(executor, Parallelization::THREAD);
    EXPECT_TRUE(thread.same_process);
    EXPECT_FALSE(thread.same_thread);
    const Observed process = observe(executor, Parallelization::PROCESS);
    EXPECT_FALSE(process.same_process);
  }
}

TEST(ProcessDispatch, EffectiveParallelization) {
  MultiprocessingExecutor processes{1};
  ThreadingMultiprocessingExecutor both{1, 1};
  EXPECT_EQ(processes.effective_parallelization(Parallelization::SEQUENTIAL), Parallelization::SEQUENTIAL);
  EXPECT_EQ(processes.effective_parallelization(Parallelization::THREAD), Parallelization::SEQUENTIAL);
  EXPECT_EQ(processes.effective_parallelization(Parallelization::PROCESS), Parallelization::PROCESS);
  EXPECT_EQ(both.effective_parallelization(Parallelization::SEQUENTIAL), Parallelization::SEQUENTIAL);
  EXPECT_EQ(both.effective_parallelization(Parallelization::THREAD), Parallelization::THREAD);
  EXPECT_EQ(both.effective_parallelization(Parallelization::PROCESS), Parallelization::PROCESS);
}

TEST(ProcessDispatch, FactoryReturnsEveryKind) {
  EXPECT_NE(dynamic_cast<connectors::SequentialExecutor*>(connectors::executor(0, 0).get()), nullptr);
  EXPECT_NE(dynamic_cast<connectors::ThreadingExecutor*>(connectors::executor(2, 0).get()), nullptr);
  auto processes = std::dynamic_pointer_cast<MultiprocessingExecutor>(connectors::executor(0, 3));
  ASSERT_NE(processes, nullptr);
  EXPECT_EQ(processes->number_of_processes(), 3U);
  auto both = std::dynamic_pointer_cast<ThreadingMultiprocessingExecutor>(connectors::executor(2, 3));
  ASSERT_NE(both, nullptr);
  EXPECT_EQ(both->number_of_threads(), 2U);
  EXPECT_EQ(both->number_of_processes(), 3U);
  const std::size_t automatic = std::max(1U, std::thread::hardware_concurrency());
  auto automatic_processes = std::dynamic_pointer_cast<MultiprocessingExecutor>(connectors::executor(0, std::nullopt));
  ASSERT_NE(automatic_processes, nullptr);
  EXPECT_EQ(automatic_processes->number_of_processes(), automatic);
  auto automatic_both =
      std::dynamic_pointer_cast<ThreadingMultiprocessingExecutor>(connectors::executor(std::nullopt, std::nullopt));
  ASSERT_NE(automatic_both, nullptr);
  EXPECT_EQ(automatic_both->number_of_threads(), automatic);
  EXPECT_EQ(automatic_both->number_of_processes(), automatic);
  EXPECT_THROW(connectors::executor(0, -1), std::invalid_argument);
  EXPECT_THROW(connectors::executor(-1, 2), std::invalid_argument);
  EXPECT_THROW(MultiprocessingExecutor{0}, std::invalid_argument);
  EXPECT_THROW((ThreadingMultiprocessingExecutor{1, 0}), std::invalid_argument);
  EXPECT_THROW((ThreadingMultiprocessingExecutor{0, 1}), std::invalid_argument);
}

TEST(ProcessDispatch, WorkersArePersistentStartedLazilyAndBounded) {
  MultiprocessingExecutor executor{2};
  EXPECT_TRUE(executor.worker_process_ids().empty());
  Where where;
  std::set<int> seen;
  for (int run = 0; run < 10; ++run) {
    auto main = [&]() -> Task<void> {
      std::vector<Task<Place>> calls;
      for (int i = 0; i < 6; ++i) calls.push_back(executor.run_method(Parallelization::PROCESS, &Where::here, where));
      for (const Place& place : co_await connectors::gather(std::move(calls))) seen.insert(place.pid);
    };
    executor.run_coroutine(main());
  }
  EXPECT_LE(seen.size(), 2U);
  EXPECT_EQ(seen.count(static_cast<int>(::getpid())), 0U);
  const std::vector<int> pids = executor.worker_process_ids();
  EXPECT_LE(pids.size(), 2U);
  for (int pid : seen) EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end());
}

// A block as API.md describes it: default-constructible, its state serialized.
class Power {
 public:
  Power() = default;
  Power(double base, int exponent) : base_(base), exponent_(exponent) {}
  template <class Archive>
  void serialize(Archive& archive) {
    archive(base_, exponent_, history_);
  }
  double compute() const {
    double result = 1.0;
    for (int i = 0; i < exponent_; ++i) result *= base_;
    return result;
  }
  double scaled(double factor, const std::string& label) {
    history_.push_back(label);  // lost: the worker runs on a copy
    return factor * compute();
  }
  std::map<std::string, std::vector<int>> table(int n) const {
    std::map<std::string, std::vector<int>> result;
    for (int i = 0; i < n; ++i) {
      std::string key{"k"};
      key += std::to_string(i);  // not "k" + ...: g++ 12 -O3 gives a false -Wrestrict there
      result[key] = std::vector<int>(static_cast<std::size_t>(i), i);
    }
    return result;
  }
  void nothing() const {}
  virtual ~Power() = default;
  virtual std::string name() const { return "power"; }
  std::size_t history_size() const { return history_.size(); }

 private:
  double base_ = 0.0;
  int exponent_ = 0;
  std::vector<std::string> history_;
};

class Cube : public Power {
 public:
  Cube() : Power(3.0, 3) {}
  std::string name() const override { return "cube"; }
};

double twice_the_power(Power& power, int factor) { return factor * power.compute(); }

template <class E>
class ProcessExecutors : public ::testing::Test {
 protected:
  E executor_ = make();
  static E make() {
    if constexpr (std::is_same_v<E, MultiprocessingExecutor>) {
      return E{2};
    } else {
      return E{2, 2};
    }
  }
};
using Kinds = ::testing::Types<MultiprocessingExecutor, ThreadingMultiprocessingExecutor>;
TYPED_TEST_SUITE(ProcessExecutors, Kinds);

TYPED_TEST(ProcessExecutors, RunsOnACopyOfTheCurrentState) {
  auto& executor = this->executor_;
  Power power{2.0, 10};
  auto main = [&]() -> Task<void> {
    EXPECT_EQ(co_await executor.run_method(Parallelization::PROCESS, &Power::compute, power), 1024.0);
    EXPECT_EQ(co_await executor.run_method(Parallelization::PROCESS, &Power::scaled, power, 0.5, std::string{"x"}),
              512.0);
    EXPECT_EQ(power.history_size(), 0U);  // changes made in the worker stay there
    const auto table = co_await executor.run_method(Parallelization::PROCESS, &Power::table, power, 4);
    EXPECT_EQ(table.size(), 4U);
    EXPECT_EQ(table.at("k3"), (std::vector<int>{3, 3, 3}));
    co_await executor.run_method(Parallelization::PROCESS, &Power::nothing, power);
  };
  executor.run_coroutine(main());
  Power later{3.0, 2};
  auto again = [&]() -> Task<double> {
    co_return co_await executor.run_method(Parallelization::PROCESS, &Power::compute, later);
  };
  EXPECT_EQ(executor.run_coroutine(again()), 9.0);
}

TYPED_TEST(ProcessExecutors, VirtualMethodsFreeFunctionsAndCaptureLessLambdas) {
  auto& executor = this->executor_;
  Cube cube;
  Power power{2.0, 3};
  auto main = [&]() -> Task<void> {
    // A virtual call dispatches on the object the worker builds (a Cube).
    EXPECT_EQ(co_await executor.run_method(Parallelization::PROCESS, &Power::name, cube), "cube");
    EXPECT_EQ(co_await executor.run_method(Parallelization::PROCESS, &Cube::name, cube), "cube");
    EXPECT_EQ(co_await executor.run_method(Parallelization::PROCESS, &Power::name, power), "power");
    EXPECT_EQ(co_await executor.run_method(Parallelization::PROCESS, &twice_the_power, power, 2), 16.0);
    auto lambda = [](const Power& p, int add) { return static_cast<int>(::getpid()) * 0 + p.compute() + add; };
    EXPECT_EQ(co_await executor.run_method(Parallelization::PROCESS, lambda, power, 1), 9.0);
    auto where = [](const Power&) { return static_cast<int>(::getpid()); };
    EXPECT_NE(co_await executor.run_method(Parallelization::PROCESS, where, power), static_cast<int>(::getpid()));
  };
  executor.run_coroutine(main());
}

// A worker rebuilds the method's class: an object of a derived class reached
// through its base would run there without its overrides (docs/processes.md,
// What the types need). Before the check, the calls below returned "power"
// and 2.0 × 2.0 from the bare base.
TYPED_TEST(ProcessExecutors, RefusesAnObjectOfADerivedClassSeenAsItsBase) {
  auto& executor = this->executor_;
  Cube cube;
  Power& as_power = cube;
  auto through_base = [&]() -> Task<std::string> {
    co_return co_await executor.run_method(Parallelization::PROCESS, &Power::name, as_power);
  };
  try {
    executor.run_coroutine(through_base());
    ADD_FAILURE() << "a Cube ran as a bare Power in a worker";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string{error.what()}.find("Cube"), std::string::npos) << error.what();
    EXPECT_NE(std::string{error.what()}.find("THREAD"), std::string::npos) << error.what();
  }
  auto as_itself = [&]() -> Task<std::string> {
    co_return co_await executor.run_method(Parallelization::PROCESS, &Power::name, cube);  // Owner is Cube
  };
  EXPECT_EQ(executor.run_coroutine(as_itself()), "cube");
}

class Shape {
 public:
  Shape() { get_area.set_parallelization(Parallelization::PROCESS); }
  Shape(const Shape&) = delete;
  Shape& operator=(const Shape&) = delete;
  virtual ~Shape() = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(size_);
  }
  connectors::Output<double> get_area{this, &Shape::area};
  connectors::Input<double> set_size{this, &Shape::store, get_area};

 protected:
  virtual double factor() const { return 1.0; }

 private:
  double area() const { return factor() * size_ * size_; }
  void store(double size) { size_ = size; }
  double size_ = 0.0;
};
class Disc : public Shape {
 protected:
  double factor() const override { return 3.0; }
};

TYPED_TEST(ProcessExecutors, AConnectorOfABaseRefusesAnObjectOfADerivedClass) {
  const auto executor = connectors::executor(std::is_same_v<TypeParam, MultiprocessingExecutor> ? 0 : 2, 2);
  Shape square;
  square.get_area.set_executor(executor);
  square.set_size(2.0);
  EXPECT_EQ(square.get_area(), 4.0);
  Disc disc;
  disc.get_area.set_executor(executor);
  disc.set_size(2.0);
  EXPECT_THROW(disc.get_area(), std::invalid_argument);  // not 4.0 from a bare Shape
  disc.get_area.set_parallelization(Parallelization::THREAD);
  EXPECT_EQ(disc.get_area(), 12.0);
}

struct NotSerializable {
  int value() const { return 1; }
};
struct NoDefaultConstructor {
  explicit NoDefaultConstructor(int v) : v_(v) {}
  template <class Archive>
  void serialize(Archive& archive) {
    archive(v_);
  }
  int value() const { return v_; }
  int v_;
};
struct Opaque {
  int x = 0;
};
struct Serializable {
  template <class Archive>
  void serialize(Archive&) {}
  int take(Opaque o) const { return o.x; }
  Opaque give() const { return {}; }
  int value() const { return 2; }
};

template <class F>
std::string invalid_argument_message(F&& body) {
  try {
    body();
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(no std::invalid_argument)";
}

// The std::invalid_argument message of awaiting the call `make_call` makes,
// in a run of `executor`.
template <class AnyExecutor, class MakeCall>
std::string refusal_of(AnyExecutor& executor, MakeCall make_call) {
  return invalid_argument_message([&] {
    auto main = [&]() -> Task<void> { co_await make_call(); };
    executor.run_coroutine(main());
  });
}

TYPED_TEST(ProcessExecutors, TypesThatCannotTravelAreRejectedNamingTheType) {
  auto& executor = this->executor_;
  NotSerializable plain;
  NoDefaultConstructor fixed{3};
  Serializable fine;
  auto run = [&](auto make_call) { return refusal_of(executor, make_call); };
  EXPECT_NE(run([&] {
              return executor.run_method(Parallelization::PROCESS, &NotSerializable::value, plain);
            }).find("NotSerializable"),
            std::string::npos);
  EXPECT_NE(run([&] {
              return executor.run_method(Parallelization::PROCESS, &NoDefaultConstructor::value, fixed);
            }).find("NoDefaultConstructor"),
            std::string::npos);
  EXPECT_NE(run([&] {
              return executor.run_method(Parallelization::PROCESS, &Serializable::take, fine, Opaque{});
            }).find("Opaque"),
            std::string::npos);
  EXPECT_NE(
      run([&] { return executor.run_method(Parallelization::PROCESS, &Serializable::give, fine); }).find("Opaque"),
      std::string::npos);
  int captured = 5;
  auto capturing = [captured](const Serializable&) { return captured; };
  EXPECT_NE(run([&] { return executor.run_method(Parallelization::PROCESS, capturing, fine); }).find("cannot run"),
            std::string::npos);
  // Where no worker is used, the same methods simply run.
  auto inline_run = [&]() -> Task<int> {
    co_return co_await executor.run_method(Parallelization::SEQUENTIAL, &NotSerializable::value, plain) +
        co_await executor.run_method(Parallelization::SEQUENTIAL, capturing, fine);
  };
  EXPECT_EQ(executor.run_coroutine(inline_run()), 6);
  static_assert(connectors::can_run_in_process_v<Power, double, int>);
  static_assert(!connectors::can_run_in_process_v<NotSerializable, int>);
  static_assert(!connectors::can_run_in_process_v<NoDefaultConstructor, int>);
  static_assert(!connectors::can_run_in_process_v<Serializable, int, Opaque>);
  static_assert(connectors::is_transferable_callable_v<decltype(&Power::compute)>);
  static_assert(!connectors::is_transferable_callable_v<decltype(capturing)>);
  EXPECT_TRUE((connectors::process_incompatibility<Power, double, int>().empty()));
}

// Polymorphic, abstract: cereal makes the registered derived type.
struct AbstractShape {
  virtual ~AbstractShape() = default;
  virtual double area() const = 0;
  template <class Archive>
  void serialize(Archive&) {}
};
// Default-constructed by cereal only, through cereal::access.
class MadeByCereal {
 public:
  explicit MadeByCereal(int value) : value_(value) {}
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value_);
  }

 private:
  friend class cereal::access;
  MadeByCereal() = default;
  int value_ = 0;
};
struct Nothing {};
struct Remembers {
  int seen = 0;
  bool operator()(int a, int b) const { return a < b; }
};

// A block with state whose values are standard containers of a type that
// cannot travel: it compiles, runs everywhere but in a worker, and PROCESS is
// refused naming the type. (cereal's traits look at the outer type only: the
// block failed to compile inside cereal, PROCESS or not.)
class ListsOpaques {
 public:
  template <class Archive>
  void serialize(Archive& archive) {
    archive(count_);
  }
  connectors::Output<std::vector<Opaque>> get_list{this, &ListsOpaques::list};
  connectors::Output<std::map<int, std::optional<Opaque>>> get_map{this, &ListsOpaques::map};

 private:
  std::vector<Opaque> list() const { return std::vector<Opaque>(count_); }
  std::map<int, std::optional<Opaque>> map() const { return {{1, Opaque{7}}}; }
  std::size_t count_ = 3;
};

TEST(ProcessDispatch, ContainersOfATypeThatCannotTravelCompileAndRefuseProcess) {
  static_assert(!connectors::is_transferable_v<std::vector<Opaque>>);
  static_assert(!connectors::is_transferable_v<std::vector<std::vector<Opaque>>>);
  static_assert(!connectors::is_transferable_v<std::map<int, Opaque>>);
  static_assert(!connectors::is_transferable_v<std::pair<int, Opaque>>);
  static_assert(!connectors::is_transferable_v<std::tuple<int, Opaque>>);
  static_assert(!connectors::is_transferable_v<std::variant<int, Opaque>>);
  static_assert(!connectors::is_transferable_v<std::optional<Opaque>>);
  static_assert(!connectors::is_transferable_v<std::unique_ptr<Opaque>>);
  static_assert(!connectors::is_transferable_v<std::array<Opaque, 2>>);
  static_assert(connectors::is_transferable_v<std::vector<std::map<int, std::optional<Place>>>>);
  static_assert(connectors::is_transferable_v<std::variant<int, std::string, std::shared_ptr<Place>>>);
  static_assert(connectors::is_transferable_v<std::bitset<8>>);
  // What cereal makes itself behind a pointer, and what it elides.
  static_assert(connectors::is_transferable_v<std::shared_ptr<AbstractShape>>);
  static_assert(connectors::is_transferable_v<std::unique_ptr<MadeByCereal>>);
  static_assert(connectors::is_transferable_v<std::vector<Nothing>>);
  // A comparator with state travels with its priority queue; an atomic's value.
  static_assert(!connectors::is_transferable_v<std::priority_queue<int, std::vector<int>, Remembers>>);
  static_assert(connectors::is_transferable_v<std::priority_queue<int>>);
  static_assert(!connectors::is_transferable_v<std::atomic<Opaque>>);
  ListsOpaques block;
  EXPECT_EQ(block.get_list().size(), 3u);
  EXPECT_EQ(block.get_map().at(1)->x, 7);
  const std::string list_refusal =
      invalid_argument_message([&] { block.get_list.set_parallelization(Parallelization::PROCESS); });
  // The message names the element at fault.
  EXPECT_NE(list_refusal.find("cannot travel: " + connectors::detail::type_name<Opaque>() + " is not"),
            std::string::npos)
      << list_refusal;
  EXPECT_NE(
      invalid_argument_message([&] { block.get_map.set_parallelization(Parallelization::PROCESS); }).find("Opaque"),
      std::string::npos);
  EXPECT_EQ(block.get_list.parallelization(), Parallelization::THREAD);
}

// Owners whose state the probe cannot see (it looks without cereal, in the
// owner's own declarations, so that every file gets one answer): a final
// class's private serialize, a non-member one in namespace cereal. PROCESS is
// refused saying where the functions must be (it said "give it a serialize
// member" to a class that had one).
TYPED_TEST(ProcessExecutors, OwnersWhoseStateTheProbeCannotSeeAreRefusedSayingWhere) {
  auto& executor = this->executor_;
  owners_elsewhere::Doubler doubler;
  const std::string in_cereal = refusal_of(executor, [&] {
    return executor.run_method(Parallelization::PROCESS, &owners_elsewhere::Doubler::twice, doubler);
  });
  EXPECT_NE(in_cereal.find("not in namespace cereal"), std::string::npos) << in_cereal;
  owners_elsewhere::Sealed sealed;
  const std::string sealed_private = refusal_of(executor, [&] {
    return executor.run_method(Parallelization::PROCESS, &owners_elsewhere::Sealed::value, sealed);
  });
  EXPECT_NE(sealed_private.find("public if the class is final"), std::string::npos) << sealed_private;
}

TEST(ProcessDispatch, ManyConcurrentCallsEachGetTheirOwnResult) {
  ThreadingMultiprocessingExecutor executor{2, 2};
  Power power{1.0, 1};
  auto main = [&]() -> Task<void> {
    std::vector<Task<double>> calls;
    for (int i = 0; i < 200; ++i) {
      calls.push_back(
          executor.run_method(Parallelization::PROCESS, &Power::scaled, power, double(i), std::to_string(i)));
    }
    const std::vector<double> results = co_await connectors::gather(std::move(calls));
    for (int i = 0; i < 200; ++i) EXPECT_EQ(results[static_cast<std::size_t>(i)], double(i));
  };
  executor.run_coroutine(main());
}

TEST(ProcessDispatch, SeveralUserThreadsShareOneExecutor) {
  MultiprocessingExecutor executor{2};
  std::vector<std::thread> threads;
  std::atomic<int> correct{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Power power{2.0, t};
      for (int i = 0; i < 25; ++i) {
        auto main = [&]() -> Task<double> {
          co_return co_await executor.run_method(Parallelization::PROCESS, &Power::compute, power);
        };
        if (executor.run_coroutine(main()) == double(1 << t)) ++correct;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(correct.load(), 100);
}

}  // namespace

namespace {

// A worker is not the program: a process executor used inside a worker method
// runs SEQUENTIAL and THREAD work but refuses PROCESS work (it cannot start
// workers of its own), which comes back as a RemoteError.
struct Nested {
  template <class Archive>
  void serialize(Archive&) {}
  int inner() const { return static_cast<int>(::getpid()); }
  int outer(int flag) const {
    connectors::MultiprocessingExecutor executor{1};
    Nested nested;
    auto main = [&]() -> Task<int> {
      co_return co_await executor.run_method(static_cast<Parallelization>(flag), &Nested::inner, nested);
    };
    return executor.run_coroutine(main());
  }
};

TEST(ProcessDispatch, ProcessExecutorsInsideAWorker) {
  MultiprocessingExecutor executor{1};
  Nested nested;
  auto call = [&](Parallelization flag) -> Task<int> {
    co_return co_await executor.run_method(Parallelization::PROCESS, &Nested::outer, nested, static_cast<int>(flag));
  };
  const int worker = executor.run_coroutine(call(Parallelization::SEQUENTIAL));
  EXPECT_NE(worker, static_cast<int>(::getpid()));
  try {
    executor.run_coroutine(call(Parallelization::PROCESS));
    FAIL() << "no RemoteError";
  } catch (const connectors::RemoteError& error) {
    EXPECT_EQ(error.type_name(), "std::logic_error");
  }
}

}  // namespace

namespace {

// Process backends (docs/processes.md, "Backends"): an executor names where
// PROCESS calls go by returning a backend; a transport is a backend, nothing
// else changes.
class CountingBackend final : public connectors::detail::ProcessBackend {
 public:
  void require_ready() const override {
    if (!ready) throw std::logic_error("CountingBackend: not ready");
  }
  void submit(connectors::detail::ProcessJob& job) noexcept override {
    ++submitted;
    pool_.submit(job);
  }
  bool ready = true;
  int submitted = 0;

 private:
  connectors::detail::WorkerPool pool_{1};
};

class BackendExecutor final : public Executor {
 public:
  Parallelization effective_parallelization(Parallelization) const noexcept override {
    return Parallelization::PROCESS;
  }
  CountingBackend backend;

 protected:
  connectors::detail::ProcessBackend* process_backend() const noexcept override {
    return const_cast<CountingBackend*>(&backend);
  }
};

TEST(ProcessBackend, AnExecutorRunsProcessCallsOnTheBackendItNames) {
  BackendExecutor executor;
  const Observed observed = observe(executor, Parallelization::PROCESS);
  EXPECT_FALSE(observed.same_process);
  EXPECT_EQ(executor.backend.submitted, 1);
}

TEST(ProcessBackend, ABackendThatIsNotReadyFailsTheCallBeforeAnythingIsSent) {
  BackendExecutor executor;
  executor.backend.ready = false;
  EXPECT_THROW(observe(executor, Parallelization::PROCESS), std::logic_error);
  EXPECT_EQ(executor.backend.submitted, 0);
}

}  // namespace
