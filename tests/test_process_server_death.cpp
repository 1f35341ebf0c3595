// If the fork server dies (killed from outside), no call hangs: running and
// later PROCESS calls fail with WorkerError, and no process is left behind.
// A program of its own, since it ends worker processes for good.
#include "process_support.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace {

using connectors::MultiprocessingExecutor;
using connectors::Parallelization;
using connectors::Task;
using connectors::WorkerError;
using namespace std::chrono_literals;

struct Sleeper {
  template <class Archive>
  void serialize(Archive&) {}
  int sleep(int milliseconds) const {
    std::this_thread::sleep_for(std::chrono::milliseconds{milliseconds});
    return milliseconds;
  }
  // Creates the file `announcement` once the call runs in its worker.
  int announce_and_sleep(std::string announcement, int milliseconds) const {
    std::ofstream{announcement} << ::getpid();
    return sleep(milliseconds);
  }
};

template <class... Args>
int call(MultiprocessingExecutor& executor, int (Sleeper::*method)(Args...) const, Args... args) {
  Sleeper sleeper;
  auto main = [&]() -> Task<int> {
    co_return co_await executor.run_method(Parallelization::PROCESS, method, sleeper, args...);
  };
  return executor.run_coroutine(main());
}

TEST(ProcessServerDeath, CallsFailWithWorkerErrorInsteadOfHanging) {
  MultiprocessingExecutor executor{1};
  EXPECT_EQ(call(executor, &Sleeper::sleep, 1), 1);
  const int self = static_cast<int>(::getpid());
  // The fork server is no child of ours: it is the workers' parent.
  const int server = connectors::testing::parent_of(executor.worker_process_ids().front());
  ASSERT_GT(server, 1);
  const std::string announcement =
      (std::filesystem::temp_directory_path() / ("connectors-server-death-" + std::to_string(self))).string();
  std::filesystem::remove(announcement);
  std::string running_error;
  std::thread caller{[&] {
    try {
      call(executor, &Sleeper::announce_and_sleep, announcement, 60'000);
    } catch (const WorkerError& error) {
      running_error = error.what();
    }
  }};
  // The server dies while the call runs in its worker, seen directly.
  while (!std::filesystem::exists(announcement)) std::this_thread::sleep_for(1ms);
  std::filesystem::remove(announcement);
  const int worker = executor.worker_process_ids().front();
  ::kill(server, SIGKILL);
  caller.join();
  EXPECT_NE(running_error.find("fork server"), std::string::npos) << running_error;
  EXPECT_THROW(call(executor, &Sleeper::sleep, 1), WorkerError);
  // Nothing of the library is a child of ours; the worker dies with the
  // server (an orphan is adopted elsewhere, so look it up by pid; one that
  // stays fails the test by its timeout).
  EXPECT_TRUE(connectors::testing::descendants(self).empty());
  connectors::testing::wait_until_ended(worker);
}

}  // namespace
