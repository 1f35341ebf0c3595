#include "fork_server.hpp"
#include "descriptor_passing.hpp"
#include "request_check.hpp"

#include <connectors/detail/init_extension.hpp>
#include <connectors/init.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigaction and sigset_t, not only <csignal>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace connectors {

namespace detail {

namespace {

std::atomic<int> control_socket{-1};

// Threads of this process, from /proc/self/task.
int count_threads() {
  DIR* directory = ::opendir("/proc/self/task");
  if (directory == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = ::readdir(directory)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(directory);
  return count;
}

// Closes what /proc/self/fd lists from 3 up, but `keep`; false without
// /proc. Listed again until a pass finds nothing: closing while the
// directory is read may hide entries from that pass.
bool close_listed_fds_except(int keep) {
  for (;;) {
    DIR* directory = ::opendir("/proc/self/fd");
    if (directory == nullptr) return false;
    const int own = ::dirfd(directory);
    bool closed_any = false;
    for (;;) {
      errno = 0;
      const dirent* entry = ::readdir(directory);
      if (entry == nullptr) break;
      char* end = nullptr;
      const long fd = std::strtol(entry->d_name, &end, 10);
      if (end == entry->d_name || *end != '\0' || fd < 3 || fd == keep || fd == own) continue;
      ::close(static_cast<int>(fd));
      closed_any = true;
    }
    const bool listed = errno == 0;  // a failing readdir leaves the list unknown
    ::closedir(directory);
    if (!listed) return false;
    if (!closed_any) return true;
  }
}

// Closes every number from 3 below the descriptor limit (at most 2^20), but
// `keep`: the last resort, slow for a high limit.
void close_every_fd_except(int keep) {
  rlimit limit{};
  rlim_t highest = 1U << 16;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) highest = limit.rlim_cur;
  highest = std::min<rlim_t>(highest, 1U << 20);
  for (rlim_t fd = 3; fd < highest; ++fd) {
    if (static_cast<int>(fd) != keep) ::close(static_cast<int>(fd));
  }
}

// Workers must not inherit what the program had open at init (files, sockets
// of other libraries): it would keep them open (a pipe's reader never sees
// EOF) and let user code in a worker touch them. close_range may be missing
// (kernels before 5.9) or refused (a seccomp profile); the server is forked
// from a single-threaded program (init checks), so reading /proc with the
// allocating opendir is safe here (docs/processes.md, "A fork server started by init").
void close_fds_except(int keep) {
  bool closed = true;
  if (keep > 3) closed = ::close_range(3, static_cast<unsigned>(keep) - 1, 0) == 0;
  if (keep < 3) {
    closed = closed && ::close_range(3, ~0U, 0) == 0;
  } else {
    closed = closed && ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0) == 0;
  }
  if (closed) return;
  if (!close_listed_fds_except(keep)) close_every_fd_except(keep);
}

void send_message(int socket, const ForkServerMessage& message, int attached_fd = -1) {
  iovec part{const_cast<ForkServerMessage*>(&message), sizeof message};
  msghdr header{};
  header.msg_iov = &part;
  header.msg_iovlen = 1;
  DescriptorControl control;
  if (attached_fd >= 0) attach_descriptor(header, control, attached_fd);
  while (::sendmsg(socket, &header, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

// Large replies move faster with large socket buffers (the kernel caps them
// at net.core.[rw]mem_max).
void enlarge_buffers(int socket) {
  const int size = 4 << 20;
  ::setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ::setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

class ForkServer {
 public:
  ForkServer(UniqueFd control, UniqueFd child_signals, sigset_t original_mask)
      : control_(std::move(control)), child_signals_(std::move(child_signals)), original_mask_(original_mask) {}

  [[noreturn]] void run() {
    for (;;) {
      pollfd watched[2] = {{control_.get(), POLLIN, 0}, {child_signals_.get(), POLLIN, 0}};
      if (::poll(watched, 2, -1) < 0) {
        if (errno == EINTR) continue;
        shut_down();
      }
      if (watched[1].revents != 0) reap();
      if (watched[0].revents != 0) serve_request();
    }
  }

 private:
  void serve_request() {
    ForkServerMessage request;
    const ssize_t got = ::recv(control_.get(), &request, sizeof request, 0);
    if (got < 0 && errno == EINTR) return;
    if (got <= 0) shut_down();  // the parent is gone
    if (got != sizeof request) return;
    if (request.kind == ForkServerMessage::spawn) spawn();
    if (request.kind == ForkServerMessage::kill && std::find(live_.begin(), live_.end(), request.pid) != live_.end()) {
      // Only a child not yet reaped: its pid cannot have been reused.
      ::kill(request.pid, SIGKILL);
    }
  }

  void spawn() {
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
      send_message(control_.get(), {ForkServerMessage::spawned, -1, errno});
      return;
    }
    UniqueFd parent_end{above_standard_streams(ends[0])};
    UniqueFd worker_end{above_standard_streams(ends[1])};
    if (!parent_end.valid() || !worker_end.valid()) {
      send_message(control_.get(), {ForkServerMessage::spawned, -1, EMFILE});
      return;
    }
    enlarge_buffers(parent_end.get());
    enlarge_buffers(worker_end.get());
    const pid_t server = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      send_message(control_.get(), {ForkServerMessage::spawned, -1, errno});
      return;
    }
    if (pid == 0) {
      control_.reset();
      child_signals_.reset();
      parent_end.reset();
      ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
      run_worker(std::move(worker_end), server);
    }
    live_.push_back(pid);
    send_message(control_.get(), {ForkServerMessage::spawned, pid, 0}, parent_end.get());
  }

  void reap() {
    signalfd_siginfo info;
    while (::read(child_signals_.get(), &info, sizeof info) > 0) {
    }
    int status = 0;
    pid_t pid = 0;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      live_.erase(std::remove(live_.begin(), live_.end(), pid), live_.end());
      send_message(control_.get(), {ForkServerMessage::exited, pid, status});
    }
  }

  [[noreturn]] void shut_down() {
    for (pid_t pid : live_) ::kill(pid, SIGKILL);
    for (pid_t pid : live_) ::waitpid(pid, nullptr, 0);
    ::_exit(0);
  }

  UniqueFd control_;
  UniqueFd child_signals_;
  sigset_t original_mask_;
  std::vector<pid_t> live_;
};

}  // namespace

int fork_server_socket() noexcept { return control_socket.load(std::memory_order_acquire); }

void run_fork_server(UniqueFd control) {
  // Nothing may outlive the program: the server is no child of it (see
  // init), so it learns of the program's end from its control socket, which
  // reads end-of-file once the program's copy is closed, however the program
  // ends and whichever of its threads called init. It then kills its
  // workers, which also die with it (their death signal).
  // A Ctrl-C in the terminal reaches the whole process group; the parent
  // decides what happens to running calls.
  ::signal(SIGINT, SIG_IGN);
  close_fds_except(control.get());

  sigset_t original_mask;
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &child_signal, &original_mask);
  ::signal(SIGCHLD, SIG_DFL);
  UniqueFd child_signals{above_standard_streams(::signalfd(-1, &child_signal, SFD_NONBLOCK | SFD_CLOEXEC))};
  if (!child_signals.valid()) ::_exit(1);
  // init waits for this word (see init): the server runs.
  const int started = 0;
  if (::send(control.get(), &started, sizeof started, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof started)) {
    ::_exit(1);
  }
  try {
    ForkServer server{std::move(control), std::move(child_signals), original_mask};
    server.run();
  } catch (...) {
    // Never into init's caller, whose main would run on in the server. The
    // workers die with it (their death signal); the program sees its
    // control socket close.
    ::_exit(1);
  }
}

}  // namespace detail

namespace {

std::mutex init_mutex;

// A child the program forks (without exec) must not keep the fork server's
// control socket open: the server would then outlive the program.
void forget_fork_server_in_child() noexcept {
  const int control = detail::control_socket.exchange(-1);
  if (control >= 0) ::close(control);
}

}  // namespace

void init(int argc, char** argv) {
  // The fork server and the workers were forked while init held its lock:
  // waiting for it there would never end.
  if (detail::in_library_process) {
    throw std::logic_error(
        "connectors::init: called in a worker process (a method runs there on a copy of its owner); call it first "
        "thing in the program's main");
  }
  // A child the program forked (without exec) after init: its process
  // executors are the program's, run by a thread it does not have
  // (docs/processes.md); a second machinery there would share their state.
  if (detail::program_pid != 0 && ::getpid() != detail::program_pid) {
    throw std::logic_error(
        "connectors::init: called in a child that the program forked after calling init; worker processes serve "
        "only the program itself (exec a program to use them in another process)");
  }
  std::lock_guard lock{init_mutex};
  if (detail::fork_server_socket() >= 0) return;
  const int threads = detail::count_threads();
  if (threads > 1) {
    throw std::logic_error("connectors::init: must be called while the program is single-threaded (found " +
                           std::to_string(threads) +
                           " threads); call it first thing in main, before any thread or executor is created");
  }
  detail::make_request_key();
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
    throw std::system_error(errno, std::generic_category(), "connectors::init: socketpair");
  }
  detail::UniqueFd parent_end{detail::above_standard_streams(ends[0])};
  detail::UniqueFd server_end{detail::above_standard_streams(ends[1])};
  if (!parent_end.valid() || !server_end.valid()) {
    throw std::system_error(errno, std::generic_category(), "connectors::init: moving a socket above descriptor 2");
  }
  // Buffered output would otherwise be written twice, once by each process.
  std::fflush(nullptr);
  // The fork server must be no child of the program: a program reaping "all
  // its children" (wait() until ECHILD) would wait for it forever. So an
  // intermediate process forks it and exits at once, and init reaps the
  // intermediate; the server is adopted by the system (docs/processes.md).
  // A failure leaves no trace: init may be called again, and a child forked
  // later is no child of a program with a fork server.
  struct ForgetOnFailure {
    bool started = false;
    ~ForgetOnFailure() {
      if (!started) detail::program_pid = 0;
    }
  } forget;
  detail::program_pid = ::getpid();
  const pid_t intermediate = ::fork();
  if (intermediate < 0) throw std::system_error(errno, std::generic_category(), "connectors::init: fork");
  if (intermediate == 0) {
    // Workers are not the program: a process executor used inside a worker
    // method must not mistake a stale descriptor number for the server.
    detail::control_socket.store(-1);
    detail::in_library_process = true;
    parent_end.reset();
    const pid_t server = ::fork();
    if (server < 0) {
      // Why the server could not start, through its socket: init reads the
      // server's own word there otherwise (run_fork_server). The exit status
      // alone cannot tell: a program that ignores SIGCHLD has this process
      // reaped by the system before init can read it.
      const int error = errno;
      [[maybe_unused]] const ssize_t sent = ::send(server_end.get(), &error, sizeof error, MSG_NOSIGNAL);
      ::_exit(1);
    }
    if (server > 0) ::_exit(0);
    detail::run_fork_server(std::move(server_end));
  }
  server_end.reset();
  // Reaped only: whether the server started is its word to say, below.
  int status = 0;
  while (::waitpid(intermediate, &status, 0) < 0) {
    // ECHILD: the program ignores SIGCHLD, so the system reaped it already.
    if (errno == ECHILD) break;
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "connectors::init: waitpid");
  }
  // The server's word (0), or the intermediate's errno; end-of-file when
  // both are gone without a word (every copy of the server's end closed).
  int outcome = 0;
  ssize_t received = 0;
  do {
    received = ::recv(parent_end.get(), &outcome, sizeof outcome, 0);
  } while (received < 0 && errno == EINTR);
  if (received != static_cast<ssize_t>(sizeof outcome)) {
    throw std::system_error(received < 0 ? errno : EPIPE, std::generic_category(),
                            "connectors::init: could not start the fork server (no word from it)");
  }
  if (outcome != 0) {
    throw std::system_error(outcome, std::generic_category(), "connectors::init: could not start the fork server");
  }
  static const int registered = ::pthread_atfork(nullptr, nullptr, forget_fork_server_in_child);
  if (registered != 0) throw std::system_error(registered, std::generic_category(), "connectors::init: pthread_atfork");
  forget.started = true;
  detail::control_socket.store(parent_end.release(), std::memory_order_release);
  // After the fork server: a transport may start threads (MPI does), and the
  // server must be forked from a single-threaded process that has not yet
  // initialised any transport (docs/distributed.md).
  // Its errors leave the fork server running: a program may catch the MPI
  // transport's "different binaries" error and go on with local workers
  // (docs/distributed.md); a second init does not start the transport again.
  detail::run_init_extension(argc, argv);
}

bool initialized() noexcept { return detail::fork_server_socket() >= 0; }

}  // namespace connectors
