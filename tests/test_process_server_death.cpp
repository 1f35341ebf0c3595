// If the fork server dies (killed from outside), no call hangs: running and
// later PROCESS calls fail with WorkerError, and no process is left behind.
// A program of its own, since it ends worker processes for good.
#include "process_support.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
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
};

int call(MultiprocessingExecutor& executor, int milliseconds) {
  Sleeper sleeper;
  auto main = [&]() -> Task<int> {
    co_return co_await executor.run_method(Parallelization::PROCESS, &Sleeper::sleep, sleeper, milliseconds);
  };
  return executor.run_coroutine(main());
}

TEST(ProcessServerDeath, CallsFailWithWorkerErrorInsteadOfHanging) {
  MultiprocessingExecutor executor{1};
  EXPECT_EQ(call(executor, 1), 1);
  const int self = static_cast<int>(::getpid());
  // The fork server is no child of ours: it is the workers' parent.
  const int server = connectors::testing::parent_of(executor.worker_process_ids().front());
  ASSERT_GT(server, 1);
  std::string running_error;
  std::thread caller{[&] {
    try {
      call(executor, 60'000);
    } catch (const WorkerError& error) {
      running_error = error.what();
    }
  }};
  while (executor.worker_process_ids().empty()) std::this_thread::sleep_for(1ms);
  const int worker = executor.worker_process_ids().front();
  ::kill(server, SIGKILL);
  caller.join();
  EXPECT_NE(running_error.find("fork server"), std::string::npos) << running_error;
  EXPECT_THROW(call(executor, 1), WorkerError);
  // Nothing of the library is a child of ours; the worker died with the
  // server (an orphan is adopted elsewhere, so look it up by pid).
  EXPECT_TRUE(connectors::testing::descendants(self).empty());
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  while (!connectors::testing::process_ended(worker) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(connectors::testing::process_ended(worker));
}

}  // namespace
