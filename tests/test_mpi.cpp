// MpiExecutor on a real MPI job: ctest runs this program under
// `mpirun -n 3` (tests/run_mpi.sh), so rank 0 runs the tests and ranks 1 and 2
// serve PROCESS calls; the MpiWithoutLaunch tests run it without mpirun.
#include "helpers/multi_test_classes.hpp"
#include "helpers/test_classes.hpp"

#include "../src/mpi/backoff.hpp"

#include <connectors/connectors.hpp>
#include <connectors/detail/channel.hpp>
#include <connectors/mpi.hpp>

#include <gtest/gtest.h>

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using connectors::MpiExecutor;
using connectors::Parallelization;
using connectors::RemoteError;
using connectors::Task;
using connectors::WorkerError;
using namespace std::chrono_literals;

int this_rank() {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  return rank == nullptr ? -1 : std::atoi(rank);
}

// Where a call ran, and whether it saw another call running at the same
// time on another rank.
struct Meeting {
  int rank = -1;
  int pid = 0;
  bool met = false;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(rank, pid, met);
  }
};

// A large result whose loading gives up after its size: the caller drops the
// reply while rank 0 still receives it.
struct Refused {
  std::vector<char> bytes;
  template <class Archive>
  void save(Archive& archive) const {
    archive(bytes);
  }
  template <class Archive>
  void load(Archive& archive) {
    cereal::size_type size = 0;
    archive(cereal::make_size_tag(size));
    throw std::runtime_error("refused a result of " + std::to_string(size) + " bytes");
  }
};

struct Remote {
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
  int value = 7;

  int get() const { return value; }
  int rank() const { return this_rank(); }
  int pid() const { return static_cast<int>(::getpid()); }
  int twice(int x) const { return 2 * x + 0 * value; }
  std::size_t length(const std::string& text) const { return text.size(); }
  // Leaves a file named `value` in `directory`: the call ran.
  int mark(const std::string& directory, int value) const {
    std::ofstream{directory + "/" + std::to_string(value)} << value;
    return value;
  }
  int throw_standard() const { throw std::out_of_range("index 12 is out of range"); }
  int segfault() const {
    std::signal(SIGSEGV, SIG_DFL);
    volatile std::uintptr_t address = 16;
    *reinterpret_cast<volatile int*>(address) = 1;
    return 0;
  }
  int abort() const { std::abort(); }
  int sleep_for(int milliseconds) const {
    std::this_thread::sleep_for(std::chrono::milliseconds{milliseconds});
    return milliseconds;
  }
  std::vector<std::uint64_t> big(std::size_t count) const {
    std::vector<std::uint64_t> result(count);
    std::iota(result.begin(), result.end(), static_cast<std::uint64_t>(value));
    return result;
  }
  std::string text(std::size_t size) const {
    std::string result(size, ' ');
    for (std::size_t i = 0; i < size; ++i) result[i] = static_cast<char>('a' + i % 26);
    return result;
  }
  std::vector<std::string> words(std::size_t count) const {
    std::vector<std::string> result(count);
    for (std::size_t i = 0; i < count; ++i) result[i] = std::to_string(i * 7 + static_cast<std::size_t>(value));
    return result;
  }
  Refused refused(std::size_t size) const { return Refused{std::vector<char>(size, 'x')}; }
  // Announces itself in `directory`, then sleeps for a minute.
  int announce_and_sleep(std::string directory) const {
    std::ofstream{directory + "/rank" + std::to_string(this_rank())} << ::getpid();
    return sleep_for(60'000);
  }
  // Announces itself in `directory`, then waits until a call on another
  // rank has done the same: both calls are then running at once, on two
  // ranks, seen directly rather than inferred from timing.
  Meeting meet(std::string directory) const {
    Meeting meeting{this_rank(), static_cast<int>(::getpid()), false};
    std::ofstream{directory + "/rank" + std::to_string(meeting.rank)} << meeting.pid;
    for (int i = 0; i < 30000 && !meeting.met; ++i) {
      for (const auto& entry : std::filesystem::directory_iterator{directory}) {
        if (entry.path().filename() != "rank" + std::to_string(meeting.rank)) meeting.met = true;
      }
      if (!meeting.met) std::this_thread::sleep_for(1ms);
    }
    return meeting;
  }
};

template <class Method, class... Args>
auto run(MpiExecutor& executor, Method method, Args... args) {
  Remote remote;
  auto main = [&]() -> Task<decltype(std::invoke(method, remote, args...))> {
    co_return co_await executor.run_method(Parallelization::PROCESS, method, remote, args...);
  };
  return executor.run_coroutine(main());
}

template <class Method, class... Args>
std::string worker_error(MpiExecutor& executor, Method method, Args... args) {
  try {
    run(executor, method, args...);
  } catch (const WorkerError& error) {
    return error.what();
  }
  return "(no WorkerError)";
}

// Two calls meet: each running on its own rank while the other runs.
std::vector<Meeting> two_calls_meet(MpiExecutor& executor) {
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("connectors-mpi-meet-" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  Remote remote;
  auto main = [&]() -> Task<std::vector<Meeting>> {
    auto [first, second] = co_await connectors::gather(
        executor.run_method(Parallelization::PROCESS, &Remote::meet, remote, directory.string()),
        executor.run_method(Parallelization::PROCESS, &Remote::meet, remote, directory.string()));
    co_return std::vector<Meeting>{first, second};
  };
  auto meetings = executor.run_coroutine(main());
  std::filesystem::remove_all(directory);
  return meetings;
}

void expect_both_ranks_serve(MpiExecutor& executor) {
  const std::vector<Meeting> meetings = two_calls_meet(executor);
  ASSERT_EQ(meetings.size(), 2U);
  EXPECT_TRUE(meetings[0].met && meetings[1].met);
  EXPECT_EQ((std::set<int>{meetings[0].rank, meetings[1].rank}), (std::set<int>{1, 2}));
}

// An executor with static storage duration: constructed before init and
// destroyed after rank 0 has stopped the ranks at exit, where it finds the
// transport stopped (run_mpi.sh checks that every rank exits 0).
MpiExecutor static_executor{0};

TEST(MpiExecutor, AnExecutorWithStaticStorageDurationWorks) { EXPECT_EQ(run(static_executor, &Remote::get), 7); }

TEST(MpiExecutor, InitReturnsOnRankZeroOfThree) {
  EXPECT_EQ(connectors::mpi_rank(), 0);
  EXPECT_EQ(connectors::mpi_world_size(), 3);
  MpiExecutor executor{0};
  EXPECT_EQ(executor.number_of_ranks(), 2U);
}

TEST(MpiExecutor, ProcessMethodsRunOnAnotherRankInAWorkerOfItsOwn) {
  MpiExecutor executor{0};
  const int rank = run(executor, &Remote::rank);
  EXPECT_TRUE(rank == 1 || rank == 2) << rank;
  EXPECT_NE(run(executor, &Remote::pid), static_cast<int>(::getpid()));
  EXPECT_EQ(run(executor, &Remote::twice, 21), 42);
  EXPECT_EQ(run(executor, &Remote::get), 7);
}

TEST(MpiExecutor, ThreadMethodsRunOnTheLocalPoolOrInline) {
  MpiExecutor threaded{2};
  MpiExecutor inline_only{0};
  EXPECT_EQ(threaded.number_of_threads(), 2U);
  EXPECT_EQ(inline_only.number_of_threads(), 0U);
  EXPECT_EQ(threaded.effective_parallelization(Parallelization::THREAD), Parallelization::THREAD);
  EXPECT_EQ(inline_only.effective_parallelization(Parallelization::THREAD), Parallelization::SEQUENTIAL);
  EXPECT_EQ(inline_only.effective_parallelization(Parallelization::PROCESS), Parallelization::PROCESS);
  Remote remote;
  auto where = [&](MpiExecutor& executor) {
    auto main = [&]() -> Task<bool> {
      const auto loop = std::this_thread::get_id();
      const auto method = co_await executor.run_method(
          Parallelization::THREAD, [](const Remote&) { return std::this_thread::get_id(); }, remote);
      co_return method == loop;
    };
    return executor.run_coroutine(main());
  };
  EXPECT_FALSE(where(threaded));
  EXPECT_TRUE(where(inline_only));
}

TEST(MpiExecutor, BadArgumentsThrow) {
  EXPECT_THROW(MpiExecutor{-1}, std::invalid_argument);
  MpiExecutor executor{0};
  EXPECT_THROW(executor.set_call_timeout(0ms), std::invalid_argument);
  connectors::WorkerLimits limits;
  limits.max_reply_size = 0;
  EXPECT_THROW(executor.set_worker_limits(limits), std::invalid_argument);
}

TEST(MpiExecutor, CallsGoToIdleRanksSeveralAtOnce) {
  MpiExecutor executor{0};
  expect_both_ranks_serve(executor);
}

TEST(MpiExecutor, AnExceptionComesBackAsRemoteError) {
  MpiExecutor executor{0};
  try {
    run(executor, &Remote::throw_standard);
    FAIL() << "no RemoteError";
  } catch (const RemoteError& error) {
    EXPECT_EQ(error.type_name(), "std::out_of_range");
    EXPECT_EQ(error.message(), "index 12 is out of range");
  }
  expect_both_ranks_serve(executor);
}

TEST(MpiExecutor, ACrashIsAWorkerErrorAndTheRankServesOn) {
  MpiExecutor executor{0};
  std::string message = worker_error(executor, &Remote::segfault);
  EXPECT_NE(message.find("SIGSEGV"), std::string::npos) << message;
  EXPECT_EQ(message.find("connectors: on MPI rank "), 0U) << message;
  EXPECT_NE(message.find("): the worker process "), std::string::npos) << message;
  message = worker_error(executor, &Remote::abort);
  EXPECT_NE(message.find("SIGABRT"), std::string::npos) << message;
  expect_both_ranks_serve(executor);
}

TEST(MpiExecutor, ATimeoutIsAWorkerErrorAndTheRankServesOn) {
  MpiExecutor executor{0};
  executor.set_call_timeout(100ms);
  EXPECT_EQ(executor.call_timeout(), 100ms);
  const std::string message = worker_error(executor, &Remote::sleep_for, 60000);
  EXPECT_NE(message.find("call timeout"), std::string::npos) << message;
  executor.set_call_timeout(std::nullopt);
  expect_both_ranks_serve(executor);
}

TEST(MpiExecutor, WorkerLimitsApplyOnTheRanks) {
  MpiExecutor executor{0};
  connectors::WorkerLimits limits;
  limits.max_reply_size = 1024;
  executor.set_worker_limits(limits);
  EXPECT_EQ(executor.worker_limits().max_reply_size, 1024U);
  const std::string message = worker_error(executor, &Remote::big, 1000);
  EXPECT_NE(message.find("max_reply_size"), std::string::npos) << message;
  executor.set_worker_limits({});
  EXPECT_EQ(run(executor, &Remote::big, 1000).size(), 1000U);
}

TEST(MpiExecutor, A64MiBResultArrivesIntact) {
  MpiExecutor executor{0};
  constexpr std::size_t count = (std::size_t{64} << 20) / sizeof(std::uint64_t);
  for (int round = 0; round < 2; ++round) {
    const std::vector<std::uint64_t> result = run(executor, &Remote::big, count);
    ASSERT_EQ(result.size(), count);
    std::uint64_t mismatches = 0;
    for (std::size_t i = 0; i < count; ++i) mismatches += result[i] != 7 + i;
    EXPECT_EQ(mismatches, 0U);
  }
}

// Large replies are decoded while they still arrive (docs/distributed.md,
// "What is sent per call"): each shape of reading waits for its own bytes.
TEST(MpiExecutor, LargeResultsOfEveryShapeArriveIntact) {
  MpiExecutor executor{0};
  const std::size_t size = (std::size_t{20} << 20) + 3;
  const std::string text = run(executor, &Remote::text, size);
  ASSERT_EQ(text.size(), size);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < size; ++i) mismatches += text[i] != static_cast<char>('a' + i % 26);
  EXPECT_EQ(mismatches, 0U);
  // Many small reads, each a few bytes past what may have arrived.
  const std::size_t count = 1'500'000;
  const std::vector<std::string> words = run(executor, &Remote::words, count);
  ASSERT_EQ(words.size(), count);
  mismatches = 0;
  for (std::size_t i = 0; i < count; ++i) mismatches += words[i] != std::to_string(i * 7 + 7);
  EXPECT_EQ(mismatches, 0U);
  // Above the receive buffers' size: received whole into fresh memory first.
  const std::size_t outsized = (std::size_t{96} << 20) / sizeof(std::uint64_t);
  const std::vector<std::uint64_t> big = run(executor, &Remote::big, outsized);
  ASSERT_EQ(big.size(), outsized);
  EXPECT_EQ(big.front(), 7U);
  EXPECT_EQ(big.back(), 7 + outsized - 1);
}

TEST(MpiExecutor, AResultDroppedWhileItArrivesLeavesTheNextCallsIntact) {
  MpiExecutor executor{0};
  constexpr std::size_t count = (std::size_t{32} << 20) / sizeof(std::uint64_t);
  for (int round = 0; round < 4; ++round) {
    try {
      run(executor, &Remote::refused, std::size_t{48} << 20);
      ADD_FAILURE() << "the result was loaded";
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string{error.what()}.find("refused a result"), std::string::npos) << error.what();
    }
    const std::vector<std::uint64_t> result = run(executor, &Remote::big, count);
    ASSERT_EQ(result.size(), count);
    std::uint64_t mismatches = 0;
    for (std::size_t i = 0; i < count; ++i) mismatches += result[i] != 7 + i;
    EXPECT_EQ(mismatches, 0U);
  }
}

TEST(MpiExecutor, DestroyingTheExecutorFailsItsCallsAndTheRanksStopThem) {
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("connectors-mpi-destroy-" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  auto executor = std::make_unique<MpiExecutor>(0);
  std::vector<std::string> errors(3);
  std::thread caller{[&] {
    Remote remote;
    auto call = [&](std::size_t i) -> Task<void> {
      try {
        co_await executor->run_method(Parallelization::PROCESS, &Remote::announce_and_sleep, remote,
                                      directory.string());
      } catch (const WorkerError& error) {
        errors[i] = error.what();
      }
    };
    auto main = [&]() -> Task<void> { co_await connectors::gather(call(0), call(1), call(2)); };
    executor->run_coroutine(main());
  }};
  // Two calls run (one per rank), the third waits on rank 0.
  auto running = [&] {
    return std::distance(std::filesystem::directory_iterator{directory}, std::filesystem::directory_iterator{});
  };
  while (running() < 2) std::this_thread::sleep_for(1ms);
  executor.reset();
  caller.join();
  std::filesystem::remove_all(directory);
  for (const std::string& error : errors) EXPECT_NE(error.find("executor was destroyed"), std::string::npos) << error;
  // Both ranks stopped their minute-long calls: they serve again at once.
  MpiExecutor next{0};
  expect_both_ranks_serve(next);
}

// T45's network (docs/parallelization.md) with its middle getter on the
// ranks: the same values as with every local executor.
TEST(MpiExecutor, NetworksGiveTheSameResultsAsLocalExecution) {
  using connectors::testing::Simple;
  using connectors::testing::Value;
  Simple t1, t2, t3;
  t2.set_value.connect(t1.get_value);
  t3.set_value.connect(t2.get_value);
  auto mpi_threads = std::make_shared<MpiExecutor>(2);
  auto mpi_inline = std::make_shared<MpiExecutor>(0);
  int i = 0;
  for (const std::shared_ptr<connectors::Executor>& executor :
       {std::shared_ptr<connectors::Executor>{mpi_inline}, std::shared_ptr<connectors::Executor>{mpi_threads}}) {
    for (Parallelization flag : {Parallelization::SEQUENTIAL, Parallelization::THREAD, Parallelization::PROCESS}) {
      t1.get_value.set_parallelization(flag);
      t2.get_value.set_parallelization(flag);
      t3.get_value.set_executor(executor);
      t1.set_value(i);
      EXPECT_EQ(t3.get_value(), Value{i}) << "combination " << i;
      ++i;
    }
  }
  using connectors::testing::ReplacingMultiInput;
  ReplacingMultiInput multi;
  Simple source, sink;
  multi.add_value.connect(source.get_value);
  sink.set_value.connect(multi.get_values);
  source.get_value.set_parallelization(Parallelization::PROCESS);
  sink.get_value.set_executor(mpi_threads);
  source.set_value(5);
  EXPECT_EQ(sink.get_value(), Value{Value::List{5}});
}

// A child that rank 0 forks (without exec) and that ends with exit() runs
// rank 0's exit handlers: before, the library's stopped every serving rank
// for rank 0 too, or, once calls had been made, hung in MPI_Finalize on its
// copy of MPI's state (and so did a parent waiting for it).
TEST(MpiExecutor, AChildOfRankZeroThatCallsExitLeavesTheRanksToRankZero) {
  MpiExecutor executor{0};
  EXPECT_EQ(run(executor, &Remote::twice, 1), 2);
  const pid_t child = ::fork();
  ASSERT_NE(child, -1);
  if (child == 0) std::exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  expect_both_ranks_serve(executor);
}

// A request a serving rank cannot allocate (tests/CMakeLists.txt limits rank
// 1's address space in this launch): the call fails with a WorkerError that
// says so, and the rank serves on. Before, the rank's std::bad_alloc left
// connectors::init and the rank ran main; rank 0 waited for ever.
TEST(MpiServingRankMemory, ARequestTheRankCannotTakeFailsItsCallAndTheRankServesOn) {
  MpiExecutor executor{0};
  ASSERT_EQ(executor.number_of_ranks(), 1U);
  try {
    run(executor, &Remote::length, std::string(std::size_t{1} << 30, 'r'));
    ADD_FAILURE() << "no WorkerError";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string{error.what()}.find("could not take a request"), std::string::npos) << error.what();
  }
  EXPECT_EQ(run(executor, &Remote::twice, 21), 42);
}

// Run without mpirun: the executor still constructs and runs everything but
// PROCESS methods, which throw std::logic_error saying how to launch.
TEST(MpiWithoutLaunch, ProcessCallsThrowLogicErrorNamingMpirun) {
  EXPECT_EQ(connectors::mpi_world_size(), 1);
  EXPECT_EQ(connectors::mpi_rank(), 0);
  MpiExecutor executor{1};
  EXPECT_EQ(executor.number_of_ranks(), 0U);
  try {
    run(executor, &Remote::get);
    FAIL() << "no std::logic_error";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string{error.what()}.find("mpirun"), std::string::npos) << error.what();
  }
  Remote remote;
  auto main = [&]() -> Task<int> {
    co_return co_await executor.run_method(Parallelization::THREAD, &Remote::get, remote);
  };
  EXPECT_EQ(executor.run_coroutine(main()), 7);
}

// How often the ranks poll (src/mpi/backoff.hpp, docs/distributed.md, "Idle
// ranks"): computed from a call's age and the rank's previous call, checked
// here on the schedule alone, without a clock.
TEST(MpiWithoutLaunch, RankZeroPollsTrivialCallsHotAndLongOnesRarely) {
  using connectors::detail::mpi::in_flight_longest_sleep;
  using connectors::detail::mpi::in_flight_pause;
  using connectors::detail::mpi::in_flight_shortest_sleep;
  // No previous call, or a short one: hot at first, then 1/32 of the age.
  EXPECT_EQ(in_flight_pause(0us, 0us), 0us);
  EXPECT_EQ(in_flight_pause(90us, 80us), 0us);
  EXPECT_EQ(in_flight_pause(600us, 0us), in_flight_shortest_sleep);
  EXPECT_EQ(in_flight_pause(1ms, 0us), 31us);
  EXPECT_EQ(in_flight_pause(1600us, 80us), 50us);
  EXPECT_EQ(in_flight_pause(std::chrono::microseconds{10s}, 0us), in_flight_longest_sleep);
  // After a 20 ms call: never hot; rarely far from 20 ms, often near it.
  EXPECT_EQ(in_flight_pause(0us, 20ms), 625us);
  EXPECT_EQ(in_flight_pause(100us, 20ms), 625us);
  EXPECT_EQ(in_flight_pause(19ms, 20ms), 250us);
  EXPECT_EQ(in_flight_pause(20ms, 20ms), in_flight_shortest_sleep);
  EXPECT_EQ(in_flight_pause(21ms, 20ms), 250us);
  EXPECT_EQ(in_flight_pause(100ms, 20ms), in_flight_longest_sleep);
}

// Polls rank 0 makes for a call whose reply comes at `reply`, after a call of
// `previous`, and how long the reply waits for the poll that sees it.
struct Polled {
  int polls = 0;
  std::chrono::microseconds reply_waited{0};
};

Polled simulate_polling(std::chrono::microseconds reply, std::chrono::microseconds previous) {
  Polled polled;
  std::chrono::microseconds age{0};
  for (;;) {
    ++polled.polls;
    if (age >= reply) {
      polled.reply_waited = age - reply;
      return polled;
    }
    // A hot poll (pause 0) costs about a microsecond.
    age += std::max(connectors::detail::mpi::in_flight_pause(age, previous), std::chrono::microseconds{1});
  }
}

TEST(MpiWithoutLaunch, RankZeroPollsAFanOutOfLongCallsFewTimesAndSeesTheRepliesSoon) {
  // A 20 ms call after another: a few dozen polls instead of one per 250 us
  // after a hot period (some 580), the reply seen within tens of us.
  const Polled alike = simulate_polling(20ms, 20ms);
  EXPECT_LE(alike.polls, 50);
  EXPECT_LE(alike.reply_waited, 40us);
  // Finishing 1 ms earlier or later than the previous call, the reply waits
  // at most about a third of that.
  EXPECT_LE(simulate_polling(19ms, 20ms).reply_waited, 350us);
  EXPECT_LE(simulate_polling(21ms, 20ms).reply_waited, 350us);
  // A trivial call after a long one waits at most 1/32 of the long one.
  EXPECT_LE(simulate_polling(100us, 20ms).reply_waited, 625us);
  // A trivial call after a trivial one is polled hot: seen at once.
  EXPECT_LE(simulate_polling(90us, 90us).reply_waited, 1us);
  // A first long call: at most 1/32 of its time late.
  EXPECT_LE(simulate_polling(20ms, 0us).reply_waited, 625us);
}

TEST(MpiWithoutLaunch, AServingRankPollsItsWorkerHotOnlyAfterShortCalls) {
  using connectors::detail::mpi::local_call_hot;
  using connectors::detail::mpi::local_call_hot_period;
  EXPECT_EQ(local_call_hot_period(0us), local_call_hot);
  EXPECT_EQ(local_call_hot_period(90us), local_call_hot);
  EXPECT_EQ(local_call_hot_period(20ms), 0us);
}

// The polling threads' short sleeps end on time (no 50 us timer slack); only
// the calling thread's setting changes.
TEST(MpiWithoutLaunch, PollingThreadsSleepWithoutTimerSlack) {
  long slack = -1;
  std::thread polling{[&] {
    connectors::detail::mpi::precise_sleeps();
    slack = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  }};
  polling.join();
  EXPECT_EQ(slack, 1000);
  EXPECT_NE(::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), 1000);
}

// The channel's wait without a spin, which a serving rank sleeps in while its
// worker runs a long call: a post wakes it, and without one it returns when
// its timeout has passed.
TEST(MpiWithoutLaunch, SleepingForAPostWakesOnThePost) {
  struct Node final : connectors::detail::ChannelNode {
    void deliver() noexcept override {}
    void discard() noexcept override {}
  };
  connectors::detail::Channel channel;
  channel.sleep_for_post(1ms);
  EXPECT_EQ(channel.take_all(), nullptr);
  Node node;
  std::thread poster{[&] { EXPECT_TRUE(channel.post(node)); }};
  // Would fail the test by its ctest timeout, not by a clock, if the post did
  // not wake it.
  while (!channel.has_posts()) channel.sleep_for_post(std::chrono::microseconds{std::chrono::hours{1}});
  poster.join();
  EXPECT_EQ(channel.take_all(), &node);
}

// mpirun -n 1: launched, but no rank to serve.
TEST(MpiOneRank, ProcessCallsThrowLogicErrorSayingNoRankServes) {
  EXPECT_EQ(connectors::mpi_world_size(), 1);
  MpiExecutor executor{0};
  EXPECT_EQ(executor.number_of_ranks(), 0U);
  try {
    run(executor, &Remote::get);
    FAIL() << "no std::logic_error";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string{error.what()}.find("no MPI rank serves"), std::string::npos) << error.what();
  }
}

// mpirun -n 2, in a launch of its own: the dispatcher thread starts with the
// first PROCESS call of the program, here made while no thread can be
// created. That call fails; before, it stayed queued and was sent with the
// next call, whose reply it took, and each later call got the previous
// call's result.
TEST(MpiDispatcherStart, AFailedStartFailsItsCallAloneAndLaterCallsGetTheirOwnResults) {
  const std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("connectors-mpi-start-" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  MpiExecutor executor{0};
  pthread_attr_t original;
  pthread_attr_t unstartable;
  ASSERT_EQ(::pthread_getattr_default_np(&original), 0);
  ASSERT_EQ(::pthread_attr_init(&unstartable), 0);
  // More stack than any machine maps: creating a thread fails.
  ASSERT_EQ(::pthread_attr_setstacksize(&unstartable, std::size_t{1} << 47), 0);
  ASSERT_EQ(::pthread_setattr_default_np(&unstartable), 0);
  // Both calls in one run: the failed call's frame lives on until the run
  // ends, so a call left queued would be sent with the next one, run, and
  // its reply delivered to it a second time.
  Remote remote;
  std::string failure;
  auto failing = [&]() -> Task<int> {
    try {
      co_return co_await executor.run_method(Parallelization::PROCESS, &Remote::mark, remote, directory.string(), 1);
    } catch (const WorkerError& error) {
      failure = error.what();
    }
    co_return 0;
  };
  auto next = [&]() -> Task<int> {
    ::pthread_setattr_default_np(&original);
    co_return co_await executor.run_method(Parallelization::PROCESS, &Remote::mark, remote, directory.string(), 6);
  };
  auto both = [&]() -> Task<std::tuple<int, int>> { co_return co_await connectors::gather(failing(), next()); };
  const std::tuple<int, int> first_two = executor.run_coroutine(both());
  ::pthread_attr_destroy(&unstartable);
  ::pthread_attr_destroy(&original);
  EXPECT_EQ(first_two, std::make_tuple(0, 6));
  EXPECT_NE(failure.find("cannot hand a call to the MPI ranks"), std::string::npos) << failure;
  for (int value = 2; value <= 5; ++value) EXPECT_EQ(run(executor, &Remote::twice, value), 2 * value);
  EXPECT_TRUE(std::filesystem::exists(directory / "6"));
  EXPECT_FALSE(std::filesystem::exists(directory / "1")) << "the failed call ran";
  std::filesystem::remove_all(directory);
}

}  // namespace

int main(int argc, char** argv) {
  // MpiServingRankMemory: the serving rank may map this many MiB more than
  // it has now.
  if (const char* more = std::getenv("CONNECTORS_TEST_SERVING_RANK_MORE_MIB"); more != nullptr && this_rank() > 0) {
    std::ifstream status{"/proc/self/status"};
    std::size_t mapped_kib = 0;
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("VmSize:", 0) == 0) mapped_kib = std::stoull(line.substr(7));
    }
    const rlim_t limit = (static_cast<rlim_t>(mapped_kib) << 10) + (static_cast<rlim_t>(std::atoll(more)) << 20);
    const rlimit address_space{limit, limit};
    ::setrlimit(RLIMIT_AS, &address_space);
  }
  // Under mpirun, ranks 1 and 2 serve here until rank 0 returns from main.
  connectors::init(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
