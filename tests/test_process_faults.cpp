// Everything that can go wrong in a worker process, each leaving the executor
// usable; no leaked descriptors and no leftover processes.
#include "process_support.hpp"
#include "sanitizers.hpp"
#include "support.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using connectors::MultiprocessingExecutor;
using connectors::Parallelization;
using connectors::RemoteError;
using connectors::Task;
using connectors::ThreadingMultiprocessingExecutor;
using connectors::WorkerError;
using namespace std::chrono_literals;

class CustomError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Faulty {
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
  int value = 7;

  int get() const { return value; }
  int pid() const { return static_cast<int>(::getpid()); }
  int throw_standard() const { throw std::out_of_range("index 12 is out of range"); }
  int throw_custom() const { throw CustomError("custom failure"); }
  int throw_int() const { throw 42; }
  int segfault() const {
    // The default action, also where a sanitizer would catch the signal and
    // report instead of dying of it.
    std::signal(SIGSEGV, SIG_DFL);
    // An unmapped address the compiler cannot see through (a literal one
    // draws -Warray-bounds, a null one a sanitizer report instead of a fault).
    volatile std::uintptr_t address = 16;
    *reinterpret_cast<volatile int*>(address) = 1;
    return 0;
  }
  int abort() const { std::abort(); }
  int exit_with(int code) const { ::_exit(code); }
  int sleep_for(int milliseconds) const {
    std::this_thread::sleep_for(std::chrono::milliseconds{milliseconds});
    return milliseconds;
  }
  std::vector<std::uint64_t> big(std::size_t count) const {
    std::vector<std::uint64_t> result(count);
    std::iota(result.begin(), result.end(), static_cast<std::uint64_t>(value));
    return result;
  }
  std::size_t fds_in_worker() const { return connectors::testing::open_fd_count(); }
};

template <class Executor, class Method, class... Args>
auto run(Executor& executor, Method method, Args... args) {
  Faulty faulty;
  auto main = [&]() -> Task<decltype(std::invoke(method, faulty, args...))> {
    co_return co_await executor.run_method(Parallelization::PROCESS, method, faulty, args...);
  };
  return executor.run_coroutine(main());
}

template <class Executor, class Method, class... Args>
std::string worker_error(Executor& executor, Method method, Args... args) {
  try {
    run(executor, method, args...);
  } catch (const WorkerError& error) {
    return error.what();
  }
  return "(no WorkerError)";
}

TEST(ProcessFaults, AnExceptionComesBackAsRemoteErrorAndTheWorkerStays) {
  MultiprocessingExecutor executor{1};
  const int worker = run(executor, &Faulty::pid);
  try {
    run(executor, &Faulty::throw_standard);
    FAIL() << "no RemoteError";
  } catch (const RemoteError& error) {
    EXPECT_EQ(error.type_name(), "std::out_of_range");
    EXPECT_EQ(error.message(), "index 12 is out of range");
  }
  try {
    run(executor, &Faulty::throw_custom);
    FAIL() << "no RemoteError";
  } catch (const RemoteError& error) {
    EXPECT_NE(error.type_name().find("CustomError"), std::string::npos) << error.type_name();
    EXPECT_EQ(error.message(), "custom failure");
  }
  try {
    run(executor, &Faulty::throw_int);
    FAIL() << "no RemoteError";
  } catch (const RemoteError& error) {
    EXPECT_EQ(error.type_name(), "int");
  }
  EXPECT_EQ(run(executor, &Faulty::pid), worker);
}

TEST(ProcessFaults, ASegfaultIsAWorkerErrorNamingTheSignal) {
  ThreadingMultiprocessingExecutor executor{1, 1};
  const std::string message = worker_error(executor, &Faulty::segfault);
  EXPECT_NE(message.find("SIGSEGV"), std::string::npos) << message;
  EXPECT_EQ(run(executor, &Faulty::get), 7);
}

TEST(ProcessFaults, AnAbortIsAWorkerErrorNamingTheSignal) {
  MultiprocessingExecutor executor{1};
  const std::string message = worker_error(executor, &Faulty::abort);
  EXPECT_NE(message.find("SIGABRT"), std::string::npos) << message;
  EXPECT_EQ(run(executor, &Faulty::get), 7);
}

TEST(ProcessFaults, AnExitMidCallIsAWorkerErrorWithTheCode) {
  MultiprocessingExecutor executor{1};
  std::string message = worker_error(executor, &Faulty::exit_with, 3);
  EXPECT_NE(message.find("exited with code 3"), std::string::npos) << message;
  message = worker_error(executor, &Faulty::exit_with, 0);  // never a success without a reply
  EXPECT_NE(message.find("exited with code 0"), std::string::npos) << message;
  EXPECT_EQ(run(executor, &Faulty::get), 7);
}

TEST(ProcessFaults, AHangPastTheTimeoutKillsAndReplacesTheWorker) {
  MultiprocessingExecutor executor{1};
  EXPECT_FALSE(executor.call_timeout().has_value());
  // The timeouts apply to calls on started workers only: a fresh worker's
  // start under a loaded sanitizer build may take longer than a short one.
  const int first = run(executor, &Faulty::pid);
  executor.set_call_timeout(100ms);
  EXPECT_EQ(executor.call_timeout(), 100ms);
  const std::string message = worker_error(executor, &Faulty::sleep_for, 60'000);
  EXPECT_NE(message.find("timeout"), std::string::npos) << message;
  executor.set_call_timeout(std::nullopt);
  const int replacement = run(executor, &Faulty::pid);
  EXPECT_NE(replacement, first);
  EXPECT_TRUE(connectors::testing::process_ended(first));
  // A call that ends within its timeout keeps its worker.
  executor.set_call_timeout(10s);
  EXPECT_EQ(run(executor, &Faulty::sleep_for, 1), 1);
  EXPECT_EQ(run(executor, &Faulty::pid), replacement);
  // The longest timeout there is means "forever" (its deadline overflowed
  // into the past, and every call timed out at once).
  executor.set_call_timeout(std::chrono::milliseconds::max());
  EXPECT_EQ(run(executor, &Faulty::pid), replacement);
  executor.set_call_timeout(std::nullopt);
  EXPECT_FALSE(executor.call_timeout().has_value());
  EXPECT_THROW(executor.set_call_timeout(0ms), std::invalid_argument);
  EXPECT_THROW(executor.set_call_timeout(-5ms), std::invalid_argument);
}

TEST(ProcessFaults, OneCrashDoesNotDisturbAConcurrentCall) {
  MultiprocessingExecutor executor{2};
  Faulty faulty;
  auto main = [&]() -> Task<void> {
    auto slow = executor.run_method(Parallelization::PROCESS, &Faulty::sleep_for, faulty, 200);
    auto crash = executor.run_method(Parallelization::PROCESS, &Faulty::abort, faulty);
    auto results = co_await connectors::gather(
        [](Task<int> task) -> Task<int> { co_return co_await std::move(task); }(std::move(slow)),
        [](Task<int> task) -> Task<int> {
          try {
            co_await std::move(task);
          } catch (const WorkerError&) {
            co_return -1;
          }
          co_return 0;
        }(std::move(crash)));
    EXPECT_EQ(std::get<0>(results), 200);
    EXPECT_EQ(std::get<1>(results), -1);
  };
  executor.run_coroutine(main());
}

TEST(ProcessFaults, A256MiBResultArrivesIntact) {
  CONNECTORS_SKIP_VOLUME_TEST_UNDER_THREAD_SANITIZER();
  MultiprocessingExecutor executor{1};
  const std::size_t count = (256U << 20) / sizeof(std::uint64_t);
  const std::vector<std::uint64_t> result = run(executor, &Faulty::big, count);
  ASSERT_EQ(result.size(), count);
  bool intact = true;
  for (std::size_t i = 0; i < count; ++i) intact = intact && result[i] == 7 + i;
  EXPECT_TRUE(intact);
}

// Large replies reach the caller through reply files that the worker reuses:
// a reply whose caller has not decoded it yet must not be overwritten by the
// next ones (which then take the other file, the socket, or a fresh file).
TEST(ProcessFaults, LargeResultsWaitingToBeDecodedStayIntact) {
  {
    MultiprocessingExecutor warm_up{1};
    run(warm_up, &Faulty::get);
  }
  const std::size_t fds_before = connectors::testing::open_fd_count();
  {
    MultiprocessingExecutor executor{1};
    auto call = [&](int tag, std::size_t megabytes) -> Task<bool> {
      Faulty owner;
      owner.value = tag * 1'000'000;
      const std::size_t count = (megabytes << 20) / sizeof(std::uint64_t);
      const std::vector<std::uint64_t> result =
          co_await executor.run_method(Parallelization::PROCESS, &Faulty::big, owner, count);
      // Keeps the loop busy: replies arriving meanwhile wait, undecoded.
      std::this_thread::sleep_for(50ms);
      bool intact = result.size() == count;
      for (std::size_t i = 0; intact && i < count; ++i)
        intact = result[i] == static_cast<std::uint64_t>(owner.value) + i;
      co_return intact;
    };
    auto main = [&]() -> Task<std::vector<bool>> {
      std::vector<Task<bool>> calls;
      const std::size_t sizes[] = {40, 40, 40, 2, 40, 2, 40, 8};
      for (int tag = 0; tag < 8; ++tag) calls.push_back(call(tag, sizes[tag]));
      co_return co_await connectors::gather(std::move(calls));
    };
    const std::vector<bool> intact = executor.run_coroutine(main());
    for (std::size_t i = 0; i < intact.size(); ++i) EXPECT_TRUE(intact[i]) << "call " << i;
    EXPECT_EQ(run(executor, &Faulty::big, std::size_t{1} << 20).size(), std::size_t{1} << 20);
    EXPECT_GT(connectors::testing::reply_file_descriptors(), 0U);
  }
  // The executor's destructor closed the worker's files and kept no descriptor.
  EXPECT_EQ(connectors::testing::reply_file_descriptors(), 0U);
  EXPECT_EQ(connectors::testing::open_fd_count(), fds_before);
}

TEST(ProcessFaults, DestroyingTheExecutorWhileCallsRunFailsThemAndReapsTheWorkers) {
  auto executor = std::make_unique<MultiprocessingExecutor>(2);
  std::vector<std::string> errors(3);
  std::thread caller{[&] {
    Faulty faulty;
    auto call = [&](std::size_t i) -> Task<void> {
      try {
        co_await executor->run_method(Parallelization::PROCESS, &Faulty::sleep_for, faulty, 60'000);
      } catch (const WorkerError& error) {
        errors[i] = error.what();
      }
    };
    auto main = [&]() -> Task<void> { co_await connectors::gather(call(0), call(1), call(2)); };
    executor->run_coroutine(main());
  }};
  while (executor->worker_process_ids().size() < 2) std::this_thread::sleep_for(1ms);
  const std::vector<int> workers = executor->worker_process_ids();
  executor.reset();
  caller.join();
  for (const std::string& error : errors) EXPECT_NE(error.find("executor was destroyed"), std::string::npos) << error;
  // The destructor returned after the workers were reaped (by the fork
  // server, whose children they are).
  for (const int worker : workers) EXPECT_TRUE(connectors::testing::process_ended(worker)) << worker;
}

TEST(ProcessFaults, WorkersInheritNoDescriptors) {
  MultiprocessingExecutor executor{1};
  // 0, 1, 2 and the worker's socket.
  EXPECT_LE(run(executor, &Faulty::fds_in_worker), 4U);
}

TEST(ProcessFaults, NoLeakedDescriptorsAndNoLeftoverProcessesAfterManyCalls) {
  int server = 0;
  {
    // The supervisor thread and its wake-up descriptor are started once per
    // program, at the first PROCESS call; they are not per call.
    MultiprocessingExecutor warm_up{1};
    server = connectors::testing::parent_of(run(warm_up, &Faulty::pid));
  }
  ASSERT_GT(server, 1);
  const std::size_t fds_before = connectors::testing::open_fd_count();
  const auto processes_before = connectors::testing::descendants(server);
  {
    ThreadingMultiprocessingExecutor executor{2, 2};
    Faulty faulty;
    long long sum = 0;
    for (int round = 0; round < 100; ++round) {
      auto main = [&]() -> Task<void> {
        std::vector<Task<int>> calls;
        for (int i = 0; i < 100; ++i)
          calls.push_back(executor.run_method(Parallelization::PROCESS, &Faulty::get, faulty));
        for (int value : co_await connectors::gather(std::move(calls))) sum += value;
      };
      executor.run_coroutine(main());
    }
    EXPECT_EQ(sum, 7LL * 10'000);
    for (int crash = 0; crash < 5; ++crash) {
      EXPECT_NE(worker_error(executor, &Faulty::exit_with, 1).find("exited"), std::string::npos);
    }
    executor.set_call_timeout(50ms);
    EXPECT_NE(worker_error(executor, &Faulty::sleep_for, 60'000).find("timeout"), std::string::npos);
    // The next call starts a fresh worker, which on a loaded machine can take
    // longer than 50 ms: no timeout for it.
    executor.set_call_timeout(std::nullopt);
    EXPECT_EQ(run(executor, &Faulty::get), 7);
  }
  EXPECT_EQ(connectors::testing::open_fd_count(), fds_before);
  const auto processes_after = connectors::testing::descendants(server);
  EXPECT_EQ(processes_after.size(), processes_before.size());
  for (const auto& [pid, state] : processes_after) EXPECT_NE(state, 'Z') << "zombie " << pid;
}

}  // namespace

#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace {

TEST(ProcessFaults, NoWorkerOutlivesAKilledParent) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  char* arguments[] = {const_cast<char*>(CONNECTORS_ORPHAN_HELPER), nullptr};
  pid_t helper = 0;
  ASSERT_EQ(::posix_spawn(&helper, CONNECTORS_ORPHAN_HELPER, &actions, nullptr, arguments, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string said;
  char buffer[64];
  ssize_t got = 0;
  while (said.find('\n') == std::string::npos && (got = ::read(out[0], buffer, sizeof buffer)) > 0) {
    said.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(out[0]);
  ASSERT_EQ(said.rfind("ready ", 0), 0U) << said;
  int first = 0;
  int second = 0;
  ASSERT_EQ(std::sscanf(said.c_str(), "ready %d %d", &first, &second), 2) << said;
  // The fork server (the workers' parent, no child of the helper) and two
  // busy workers.
  const int server = connectors::testing::parent_of(first);
  ASSERT_GT(server, 1);
  EXPECT_EQ(connectors::testing::parent_of(second), server);
  const std::vector<int> below{server, first, second};
  ::kill(helper, SIGKILL);
  ::waitpid(helper, nullptr, 0);
  // The death signals end them: one that stays fails the test by its timeout.
  for (const int pid : below) connectors::testing::wait_until_ended(pid);
}

}  // namespace

namespace {

// State whose loading fails in the worker, or whose saving fails in the caller.
struct Fragile {
  bool fail_on_load = false;
  bool fail_on_save = false;
  template <class Archive>
  void serialize(Archive& archive) {
    if constexpr (std::is_same_v<Archive, cereal::BinaryOutputArchive>) {
      if (fail_on_save) throw std::runtime_error("cannot save");
    }
    archive(fail_on_load, fail_on_save);
    if constexpr (std::is_same_v<Archive, cereal::BinaryInputArchive>) {
      if (fail_on_load) throw std::runtime_error("cannot load");
    }
  }
  int pid() const { return static_cast<int>(::getpid()); }
  std::uint64_t sum(const std::vector<unsigned char>& bytes) const {
    return std::accumulate(bytes.begin(), bytes.end(), std::uint64_t{0});
  }
};

TEST(ProcessFaults, SerializationFailuresOnEitherSideAreReportedAndTheWorkerStays) {
  MultiprocessingExecutor executor{1};
  Fragile fragile;
  auto call = [&]() -> Task<int> {
    co_return co_await executor.run_method(Parallelization::PROCESS, &Fragile::pid, fragile);
  };
  const int worker = executor.run_coroutine(call());
  fragile.fail_on_load = true;
  try {
    executor.run_coroutine(call());
    FAIL() << "no RemoteError";
  } catch (const RemoteError& error) {
    EXPECT_EQ(error.message(), "cannot load");
  }
  fragile.fail_on_load = false;
  fragile.fail_on_save = true;
  try {
    executor.run_coroutine(call());
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "cannot save");
  }
  fragile.fail_on_save = false;
  EXPECT_EQ(executor.run_coroutine(call()), worker);
}

TEST(ProcessFaults, AnArgumentLargerThanTheSocketBuffersArrivesIntact) {
  MultiprocessingExecutor executor{1};
  Fragile fragile;
  std::vector<unsigned char> bytes(16U << 20);  // four times the socket buffers
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 7);
  const std::uint64_t expected = std::accumulate(bytes.begin(), bytes.end(), std::uint64_t{0});
  auto call = [&]() -> Task<std::uint64_t> {
    co_return co_await executor.run_method(Parallelization::PROCESS, &Fragile::sum, fragile, std::cref(bytes).get());
  };
  EXPECT_EQ(executor.run_coroutine(call()), expected);
}

TEST(ProcessFaults, PointersToDataMembersTravel) {
  MultiprocessingExecutor executor{1};
  Faulty faulty;
  faulty.value = 41;
  auto call = [&]() -> Task<int> {
    co_return co_await executor.run_method(Parallelization::PROCESS, &Faulty::value, faulty);
  };
  EXPECT_EQ(executor.run_coroutine(call()), 41);
}

}  // namespace
