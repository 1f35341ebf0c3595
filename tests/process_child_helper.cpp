// Started by test_process_hostile: a program that handles its own children
// the usual ways, which must see nothing of the library's processes.
//   wait         - spawns two children and reaps with while (wait(nullptr) > 0)
//   pthread_exit - main ends with pthread_exit; another thread goes on calling
//   ignore_sigchld - ignores SIGCHLD before init (children are reaped by the
//                  system, waitpid finds none)
//   server_fork_fails - init in a program that ignores SIGCHLD and cannot
//                  fork the fork server (as root only: setuid and a process
//                  limit; exit code 77 elsewhere)
//   thread_after_fork - THREAD calls on the default executor, then again in a
//                  child forked afterwards (without exec), which has the
//                  pool but not its threads
// Exit code 0 when every PROCESS call returned its value; a hang guard ends
// it with SIGALRM.
#include <connectors/connectors.hpp>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace {

struct Echo {
  template <class Archive>
  void serialize(Archive&) {}
  int echo(int x) const { return x; }
};

bool calls_work(connectors::MultiprocessingExecutor& executor) {
  Echo echo;
  for (int i = 0; i < 3; ++i) {
    auto call = [&]() -> connectors::Task<int> {
      co_return co_await executor.run_method(connectors::Parallelization::PROCESS, &Echo::echo, echo, i);
    };
    try {
      if (executor.run_coroutine(call()) != i) return false;
    } catch (...) {
      return false;
    }
  }
  return true;
}

struct Increment {
  int next(int x) const { return x + 1; }
};

// Two THREAD calls gathered on `executor`: a pool of threads.
bool thread_calls_work(const std::shared_ptr<connectors::Executor>& executor) {
  Increment increment;
  auto calls = [&]() -> connectors::Task<int> {
    auto [a, b] = co_await connectors::gather(
        executor->run_method(connectors::Parallelization::THREAD, &Increment::next, increment, 1),
        executor->run_method(connectors::Parallelization::THREAD, &Increment::next, increment, 2));
    co_return a + b;
  };
  return executor->run_coroutine(calls()) == 5;
}

int init_when_the_server_cannot_start(int argc, char** argv) {
  if (::geteuid() != 0) return 77;
  std::signal(SIGCHLD, SIG_IGN);
  if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 77;
  // This process and the intermediate one: the server's fork fails (or,
  // with other processes of that user about, the intermediate's).
  const rlimit two{2, 2};
  if (::setrlimit(RLIMIT_NPROC, &two) != 0) return 77;
  try {
    connectors::init(argc, argv);
    return 30;
  } catch (const std::system_error&) {
  } catch (...) {
    return 31;
  }
  return connectors::initialized() ? 32 : 0;
}

// Whether the main thread has ended (its task is a zombie while others run).
bool main_thread_ended() {
  std::ifstream stat{"/proc/self/task/" + std::to_string(::getpid()) + "/stat"};
  std::string line;
  if (!std::getline(stat, line)) return true;
  const std::size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && (line[close + 2] == 'Z' || line[close + 2] == 'X');
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "server_fork_fails") return init_when_the_server_cannot_start(argc, argv);
  if (mode == "ignore_sigchld") std::signal(SIGCHLD, SIG_IGN);
  connectors::init(argc, argv);
  ::alarm(60);
  static connectors::MultiprocessingExecutor executor{1};
  if (!calls_work(executor)) return 1;
  if (mode == "ignore_sigchld") return 0;
  if (mode == "wait") {
    for (int i = 0; i < 2; ++i) {
      if (::fork() == 0) ::_exit(0);
    }
    while (::wait(nullptr) > 0) {
    }
    return calls_work(executor) ? 0 : 2;
  }
  if (mode == "thread_after_fork") {
    auto own = std::make_shared<connectors::ThreadingExecutor>(2);
    if (!thread_calls_work(connectors::default_executor()) || !thread_calls_work(own)) return 5;
    const pid_t child = ::fork();
    if (child == 0) {
      ::alarm(60);  // a hang guard of its own: alarms are not inherited
      const bool worked = thread_calls_work(connectors::default_executor()) && thread_calls_work(own);
      own.reset();  // destroyed in the child: no thread of its pool to join
      ::_exit(worked ? 0 : 6);
    }
    int status = 0;
    if (::waitpid(child, &status, 0) != child) return 7;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 8;
    return thread_calls_work(connectors::default_executor()) && thread_calls_work(own) ? 0 : 9;
  }
  if (mode == "pthread_exit") {
    std::thread{[] {
      while (!main_thread_ended()) std::this_thread::sleep_for(std::chrono::milliseconds{1});
      // Whatever followed the main thread's end (a death signal, say) has
      // had ample time to arrive.
      std::this_thread::sleep_for(std::chrono::milliseconds{300});
      std::_Exit(calls_work(executor) ? 0 : 3);
    }}.detach();
    ::pthread_exit(nullptr);
  }
  return 4;
}
