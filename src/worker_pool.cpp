// The parent side of the process executors: one supervisor thread, shared by
// every WorkerPool, that starts workers through the fork server, sends them
// requests, reads their replies, enforces timeouts and turns every way a
// worker can die into a WorkerError for the call it was running.

#include "descriptor_passing.hpp"
#include "fork_server.hpp"
#include "request_check.hpp"
#include "unique_fd.hpp"

#include <connectors/detail/call_settings.hpp>
#include <connectors/detail/method_probe.hpp>
#include <connectors/detail/worker_pool.hpp>
#include <connectors/errors.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace connectors::detail {

using Clock = std::chrono::steady_clock;

// The settings are read by the supervisor when a call starts.
struct PoolRecord : CallSettings {
  explicit PoolRecord(std::size_t max_workers) : max_workers(max_workers) {}

  const std::size_t max_workers;
  std::atomic<bool> used{false};

  // Guarded by the supervisor's mutex.
  std::vector<ProcessJob*> incoming;
  bool listed = false;
  bool closing = false;
  bool closed = false;
  std::vector<int> pids;

  // The supervisor thread's alone.
  std::deque<ProcessJob*> queue;
  std::size_t workers = 0;
  bool close_handled = false;
};

namespace {

constexpr Clock::time_point never = Clock::time_point::max();

// `now` plus a call timeout, which may be any positive count of
// milliseconds: one past the clock's range (std::chrono::milliseconds::max()
// meant as "forever") is never, not an overflow into the past.
Clock::time_point deadline_after(Clock::time_point now, long long timeout_ms) {
  const auto room = std::chrono::duration_cast<std::chrono::milliseconds>(never - now).count();
  return timeout_ms >= room ? never : now + std::chrono::milliseconds{timeout_ms};
}

// How often a running call's worker is measured against its memory limit.
constexpr std::chrono::milliseconds memory_check_interval{10};

// What the kernel reports of a process's resident memory, in bytes.
struct MemoryUse {
  std::uint64_t resident = 0;
  std::uint64_t peak = 0;  // since the process started
  bool known = false;
};

MemoryUse memory_of(pid_t pid) {
  MemoryUse use;
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  UniqueFd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (!file.valid()) return use;
  char text[4096];
  const ssize_t got = ::read(file.get(), text, sizeof text - 1);
  if (got <= 0) return use;
  text[got] = '\0';
  auto field = [&](const char* name) -> std::uint64_t {
    const char* found = std::strstr(text, name);
    return found == nullptr ? 0 : std::strtoull(found + std::strlen(name), nullptr, 10) * 1024;
  };
  use.resident = field("VmRSS:");
  use.peak = field("VmHWM:");
  use.known = use.resident > 0;
  return use;
}

// Resets a process's peak memory (VmHWM) to its present use; false where
// the kernel does not let this process do so.
bool reset_peak_memory(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/clear_refs";
  UniqueFd file{::open(path.c_str(), O_WRONLY | O_CLOEXEC)};
  return file.valid() && ::write(file.get(), "5", 1) == 1;
}

std::string mebibytes(std::uint64_t bytes) { return std::to_string((bytes + (1U << 19)) >> 20) + " MiB"; }
// How long a worker whose connection broke may take to exit on its own
// before it is killed (it may have closed its socket and kept running).
constexpr std::chrono::milliseconds hang_up_grace{1000};

struct Worker {
  pid_t pid = -1;
  UniqueFd socket;
  std::shared_ptr<PoolRecord> pool;
  ProcessJob* job = nullptr;
  // The id of the call the worker runs; its reply must carry it.
  std::uint64_t call_id = 0;
  FrameHeader out_header;
  std::size_t sent = 0;
  FrameHeader in_header;
  std::size_t received = 0;
  ByteBuffer reply;
  UniqueFd reply_file;
  // The worker's reply files, by slot.
  std::shared_ptr<ReplyFile> files[reply_file_slots];
  // The reply being streamed to its caller, who reads the socket meanwhile
  // (the call's job is the caller's already).
  std::shared_ptr<ReplyStream> stream;
  // Since when a streamed reply waits for its caller to begin reading it,
  // and the deadline it had then: the timeout does not run meanwhile (the
  // caller may be busy reading another reply), for at most one more timeout
  // (a caller that never reads, say a nested run waiting for this worker,
  // must not keep it for ever).
  std::optional<Clock::time_point> unread_since;
  Clock::time_point paused_deadline = never;
  Clock::time_point deadline = never;
  long long timeout_ms = -1;
  // The pool's limits as they were when the running call started (0: none).
  std::uint64_t memory_limit = 0;
  // Its peak memory when its call started: a peak from an earlier call (the
  // limit was lower or absent then) is not this call's (check_memory_limit).
  std::uint64_t peak_at_start = 0;
  std::uint64_t max_reply_size = 0;
  Clock::time_point next_memory_check = never;
  std::uint64_t calls = 0;
  bool timed_out = false;
  bool hung_up = false;
  // Killed because it closed its connection and did not exit.
  bool killed_after_hang_up = false;
  bool kill_sent = false;
  bool reaped = false;
  Clock::time_point kill_at = never;

  // A call is under way: its job is here, or its reply is being streamed.
  bool running() const noexcept { return job != nullptr || stream != nullptr; }
  bool idle() const noexcept { return !running() && socket.valid() && !hung_up && !kill_sent; }
  // The request flags that tell the worker which reply files no caller reads.
  std::uint64_t free_files() const noexcept {
    std::uint64_t flags = 0;
    for (unsigned slot = 0; slot < reply_file_slots; ++slot) {
      if (files[slot] == nullptr || !files[slot]->lent.load(std::memory_order_acquire))
        flags |= FrameHeader::file_free(slot);
    }
    return flags;
  }
  std::size_t to_send() const noexcept { return job == nullptr ? 0 : sizeof out_header + job->request.size(); }
};

std::string describe_signal(int signal) {
  const char* abbreviation = ::sigabbrev_np(signal);
  std::string text = abbreviation != nullptr ? "SIG" + std::string{abbreviation} : "signal " + std::to_string(signal);
  if (const char* description = ::sigdescr_np(signal)) text += " (" + std::string{description} + ")";
  return text;
}

std::string describe_end(const Worker& worker, int status) {
  const std::string who = "connectors: the worker process " + std::to_string(worker.pid);
  if (worker.timed_out) {
    return who + " did not finish the call within the executor's call timeout of " + std::to_string(worker.timeout_ms) +
           " ms and was killed";
  }
  if (worker.killed_after_hang_up) {
    return who + " closed its connection to the parent while running a method and was killed, as it did not exit";
  }
  if (WIFSIGNALED(status))
    return who + " was killed by " + describe_signal(WTERMSIG(status)) + " while running a method";
  if (WIFEXITED(status) && WEXITSTATUS(status) == worker_lost_connection_exit) {
    // The worker found its socket closed or replaced after the method ran.
    return who +
           " closed its connection to the parent while running a method (the method closed or replaced the "
           "worker's socket) and exited";
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == worker_failed_exit) {
    return who +
           " failed in the library's own code between methods (no memory for a request or a reply, say) and exited";
  }
  if (WIFEXITED(status)) {
    return who + " exited with code " + std::to_string(WEXITSTATUS(status)) + " while running a method";
  }
  return who + " ended while running a method";
}

void complete(ProcessJob& job) noexcept { complete_job(job); }

void fail(ProcessJob& job, const std::string& message) noexcept { fail_job(job, message); }

// A streamed reply as the supervisor lends it: the caller's end of reading
// wakes the supervisor thread.
class SupervisedStream final : public ReplyStream {
 public:
  using ReplyStream::ReplyStream;

 protected:
  void notify() noexcept override;
};

class Supervisor {
 public:
  static Supervisor& instance() {
    // Never destroyed: executors with static storage duration may close their
    // pools after this object would have been destroyed.
    static Supervisor* const supervisor = new Supervisor(fork_server_socket());
    return *supervisor;
  }

  void submit(const std::shared_ptr<PoolRecord>& pool, ProcessJob& job) noexcept {
    {
      std::lock_guard lock{mutex_};
      if (broken_) {
        fail(job, broken_reason_);
        return;
      }
      // Out of memory the call fails with std::bad_alloc, as any allocation
      // of the caller's would, and the supervisor's lists stay as they were
      // (a pool listed with nothing new costs it a look).
      try {
        list_locked(pool);
        pool->incoming.push_back(&job);
      } catch (const std::bad_alloc&) {
        job.failure = std::current_exception();  // needs no memory of its own
        complete(job);
        return;
      }
    }
    wake();
  }

  void close(const std::shared_ptr<PoolRecord>& pool) {
    std::unique_lock lock{mutex_};
    if (pool->closed) return;
    pool->closing = true;
    list_locked(pool);
    lock.unlock();
    wake();
    lock.lock();
    pool_closed_.wait(lock, [&] { return pool->closed; });
  }

  std::vector<int> pids(const PoolRecord& pool) {
    std::lock_guard lock{mutex_};
    return pool.pids;
  }

  // Whether this is the process the supervisor runs in: not in a child the
  // program forked (without exec), which has the supervisor's memory but
  // not its thread, and whose copy of its lock may be held for good.
  static bool serves_this_process() { return instance().process_ == ::getpid(); }

 private:
  explicit Supervisor(int control)
      : process_(::getpid()),
        control_(control),
        wake_(above_standard_streams(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))) {
    if (!wake_.valid()) throw std::system_error(errno, std::generic_category(), "connectors: eventfd");
    std::thread{[this] { run(); }}.detach();
  }

  void list_locked(const std::shared_ptr<PoolRecord>& pool) {
    if (pool->listed) return;
    news_.push_back(pool);
    pool->listed = true;  // after: listed and not in news_ would never be looked at
  }

  friend class SupervisedStream;

  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t written = ::write(wake_.get(), &one, sizeof one);
  }

  [[noreturn]] void run() noexcept {
    std::vector<pollfd> watched;
    std::vector<Worker*> watched_workers;
    for (;;) {
      take_news();
      check_streams();
      dispatch();
      watched.clear();
      watched_workers.clear();
      watched.push_back({wake_.get(), POLLIN, 0});
      if (!broken_) watched.push_back({control_, POLLIN, 0});
      for (auto& worker : workers_) {
        // A streamed reply's socket is its caller's to read until the end.
        if (!worker->socket.valid() || worker->stream != nullptr) continue;
        short events = POLLIN;
        if (worker->sent < worker->to_send()) events |= POLLOUT;
        watched.push_back({worker->socket.get(), events, 0});
        watched_workers.push_back(worker.get());
      }
      const std::size_t first_worker = watched.size() - watched_workers.size();
      const bool control_watched = first_worker == 2;
      const int ready = ::poll(watched.data(), watched.size(), poll_timeout());
      if (ready < 0 && errno != EINTR) continue;
      if (watched[0].revents != 0) {
        std::uint64_t count = 0;
        [[maybe_unused]] ssize_t got = ::read(wake_.get(), &count, sizeof count);
      }
      // A break-down (the fork server gone) drops every worker: stop touching them.
      for (std::size_t i = 0; i < watched_workers.size() && !broken_; ++i) {
        const short events = watched[first_worker + i].revents;
        Worker& worker = *watched_workers[i];
        if ((events & POLLOUT) != 0) send_some(worker);
        if ((events & (POLLIN | POLLHUP | POLLERR)) != 0 && !broken_) receive_some(worker);
      }
      if (control_watched && !broken_ && watched[1].revents != 0) read_control();
      check_deadlines();
      handle_exits();
    }
  }

  int poll_timeout() const {
    Clock::time_point next = never;
    for (const auto& worker : workers_) {
      if (worker->kill_sent) continue;
      if (worker->running()) next = std::min({next, worker->deadline, worker->next_memory_check});
      if (worker->hung_up) next = std::min(next, worker->kill_at);
    }
    if (next == never) return -1;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(wait, 0, std::numeric_limits<int>::max()));
  }

  void take_news() {
    std::vector<std::shared_ptr<PoolRecord>> news;
    std::vector<std::shared_ptr<PoolRecord>> closing;
    {
      std::lock_guard lock{mutex_};
      news.swap(news_);
      for (auto& pool : news) {
        pool->listed = false;
        for (ProcessJob* job : pool->incoming) pool->queue.push_back(job);
        pool->incoming.clear();
        if (pool->closing) closing.push_back(pool);
      }
    }
    for (auto& pool : news) {
      if (std::find(pools_.begin(), pools_.end(), pool) == pools_.end()) pools_.push_back(pool);
      if (broken_) {
        // Submitted before the break-down was known: no worker will come.
        for (ProcessJob* job : pool->queue) fail(*job, broken_reason_);
        pool->queue.clear();
      }
    }
    for (auto& pool : closing) {
      if (!pool->close_handled) close_pool(pool);
    }
  }

  void close_pool(const std::shared_ptr<PoolRecord>& pool) {
    pool->close_handled = true;
    for (ProcessJob* job : pool->queue) fail(*job, "connectors: the executor was destroyed before the call ran");
    pool->queue.clear();
    for (std::size_t i = 0; i < workers_.size() && !broken_; ++i) {
      Worker& worker = *workers_[i];
      if (worker.pool != pool) continue;
      fail_call(worker, "connectors: the executor was destroyed while the call was running");
      kill(worker);
    }
    finish_close_if_done(pool);
  }

  void finish_close_if_done(const std::shared_ptr<PoolRecord>& pool) {
    if (!pool->close_handled || pool->workers != 0) return;
    pools_.erase(std::remove(pools_.begin(), pools_.end(), pool), pools_.end());
    std::lock_guard lock{mutex_};
    pool->closed = true;
    pool_closed_.notify_all();
  }

  void dispatch() {
    for (std::size_t p = 0; p < pools_.size(); ++p) {
      std::shared_ptr<PoolRecord> pool = pools_[p];
      while (!pool->queue.empty() && !pool->close_handled && !broken_) {
        Worker* idle = nullptr;
        for (auto& worker : workers_) {
          if (worker->pool == pool && worker->idle()) {
            idle = worker.get();
            break;
          }
        }
        if (idle == nullptr) {
          if (pool->workers >= pool->max_workers) break;
          if (!spawn(pool)) break;
          continue;
        }
        ProcessJob* job = pool->queue.front();
        pool->queue.pop_front();
        start(*idle, *job);
      }
    }
  }

  bool spawn(const std::shared_ptr<PoolRecord>& pool) {
    const ForkServerMessage request{ForkServerMessage::spawn, 0, 0};
    if (!send_request(request)) {
      break_down("connectors: the fork server is gone; worker processes cannot be started");
      return false;
    }
    for (;;) {
      ForkServerMessage reply;
      int fd = -1;
      const ssize_t got = receive_control(reply, fd, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got != sizeof reply) {
        break_down("connectors: the fork server is gone; worker processes cannot be started");
        return false;
      }
      if (reply.kind == ForkServerMessage::exited) {
        exits_.push_back(reply);
        continue;
      }
      if (reply.kind != ForkServerMessage::spawned) continue;
      if (reply.pid < 0 || fd < 0) {
        if (fd >= 0) ::close(fd);
        // A worker started whose socket did not arrive: this process had no
        // descriptor free to take it (the worker, its peer gone, exits).
        const int error = reply.pid >= 0 ? EMFILE : reply.value;
        const std::string reason =
            "connectors: could not start a worker process: " + std::string{std::strerror(error)} +
            (reply.pid >= 0 ? " (no descriptor was free in this process for the worker's socket)" : "");
        for (ProcessJob* job : pool->queue) fail(*job, reason);
        pool->queue.clear();
        return false;
      }
      auto worker = std::make_unique<Worker>();
      worker->pid = reply.pid;
      worker->socket.reset(fd);
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      worker->pool = pool;
      ++pool->workers;
      {
        std::lock_guard lock{mutex_};
        pool->pids.push_back(reply.pid);
      }
      workers_.push_back(std::move(worker));
      return true;
    }
  }

  // Sends a request to the fork server. The server may be sending exit
  // reports meanwhile, hundreds when as many workers die at once (an
  // executor destroyed, calls timed out together): with both sides blocked
  // in send on a full socket (it holds a few hundred messages each way),
  // neither would read again. So while the socket is full the reports are
  // read and kept (read_control), and the send is tried again.
  bool send_request(const ForkServerMessage& request) {
    for (;;) {
      const ssize_t sent = ::send(control_, &request, sizeof request, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent == sizeof request) return true;
      if (sent < 0 && errno == EINTR) continue;
      if (sent >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return false;
      pollfd watched{control_, POLLIN | POLLOUT, 0};
      if (::poll(&watched, 1, -1) < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      if ((watched.revents & POLLIN) != 0) {
        read_control();
        if (broken_) return false;
      } else if ((watched.revents & POLLOUT) == 0) {
        return false;  // hung up or failed
      }
    }
  }

  // One message from the fork server, with an attached descriptor if any.
  ssize_t receive_control(ForkServerMessage& message, int& fd, int flags) {
    iovec part{&message, sizeof message};
    DescriptorControl control;
    msghdr header{};
    header.msg_iov = &part;
    header.msg_iovlen = 1;
    expect_descriptor(header, control);
    const ssize_t got = ::recvmsg(control_, &header, flags | MSG_CMSG_CLOEXEC);
    fd = got > 0 ? received_descriptor(header) : -1;
    return got;
  }

  void read_control() {
    for (;;) {
      ForkServerMessage message;
      int fd = -1;
      const ssize_t got = receive_control(message, fd, MSG_DONTWAIT);
      if (fd >= 0) ::close(fd);  // only spawn replies carry one, and spawn() reads those
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (got != sizeof message) {
        break_down("connectors: the fork server ended; worker processes are gone");
        return;
      }
      if (message.kind == ForkServerMessage::exited) exits_.push_back(message);
    }
  }

  void start(Worker& worker, ProcessJob& job) {
    worker.job = &job;
    note_start(job, worker.pid);
    worker.call_id = ++last_call_id_;
    const std::size_t code_size = std::min(job.code_size, job.request.size());
    const std::uint64_t flags = worker.free_files() | (job.accepts_stream ? FrameHeader::stream_accepted : 0);
    worker.out_header = FrameHeader{worker.call_id, job.request.size(), flags, code_size,
                                    request_check(worker.call_id, job.request.data(), code_size)};
    reset_exchange(worker);
    worker.timed_out = false;
    worker.memory_limit = worker.pool->memory_limit.load(std::memory_order_relaxed);
    if (worker.memory_limit != 0) {
      // Idle now: what it holds is its baseline, not this call's use.
      reset_peak_memory(worker.pid);
      worker.peak_at_start = memory_of(worker.pid).peak;
    }
    worker.max_reply_size = worker.pool->max_reply_size.load(std::memory_order_relaxed);
    worker.next_memory_check = worker.memory_limit != 0 ? Clock::now() + memory_check_interval : never;
    worker.timeout_ms = worker.pool->timeout_ms.load(std::memory_order_relaxed);
    worker.deadline = worker.timeout_ms >= 0 ? deadline_after(Clock::now(), worker.timeout_ms) : never;
    send_some(worker);
  }

  void send_some(Worker& worker) {
    while (worker.socket.valid() && worker.sent < worker.to_send()) {
      iovec parts[2];
      int count = 0;
      const std::size_t header_size = sizeof worker.out_header;
      if (worker.sent < header_size) {
        parts[count++] = {reinterpret_cast<char*>(&worker.out_header) + worker.sent, header_size - worker.sent};
        parts[count++] = {worker.job->request.data(), worker.job->request.size()};
      } else {
        const std::size_t offset = worker.sent - header_size;
        parts[count++] = {worker.job->request.data() + offset, worker.job->request.size() - offset};
      }
      msghdr message{};
      message.msg_iov = parts;
      message.msg_iovlen = static_cast<std::size_t>(count);
      const ssize_t sent = ::sendmsg(worker.socket.get(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (sent <= 0) {
        hang_up(worker);
        return;
      }
      worker.sent += static_cast<std::size_t>(sent);
    }
  }

  void receive_some(Worker& worker) {
    const std::size_t header_size = sizeof worker.in_header;
    while (worker.socket.valid()) {
      if (worker.received < header_size) {
        // The header may carry a memory file; recvmsg takes it with the bytes.
        iovec part{reinterpret_cast<char*>(&worker.in_header) + worker.received, header_size - worker.received};
        DescriptorControl control;
        msghdr message{};
        message.msg_iov = &part;
        message.msg_iovlen = 1;
        expect_descriptor(message, control);
        const ssize_t got = ::recvmsg(worker.socket.get(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (got <= 0) {
          hang_up(worker);
          return;
        }
        if (const int fd = received_descriptor(message); fd >= 0) worker.reply_file.reset(fd);
        if (worker.job == nullptr) {
          // A worker talking out of turn is not running our protocol.
          kill(worker);
          return;
        }
        worker.received += static_cast<std::size_t>(got);
        if (worker.received < header_size) continue;
        if (!acceptable_header(worker)) return;
        if ((worker.in_header.flags & FrameHeader::streamed) != 0) {
          start_stream(worker);
          return;
        }
        if ((worker.in_header.flags & FrameHeader::in_reply_file) != 0) {
          finish_from_file(worker);
          return;
        }
        try {
          worker.reply = ByteBuffer::allocate(worker.in_header.size);
        } catch (const std::bad_alloc&) {
          reject(worker, "sent a reply of " + std::to_string(worker.in_header.size) +
                             " bytes, more than the parent could allocate");
          return;
        }
      }
      const std::size_t offset = worker.received - header_size;
      const std::size_t wanted = worker.reply.size() - offset;
      if (wanted > 0) {
        const ssize_t got = ::recv(worker.socket.get(), worker.reply.data() + offset, wanted, MSG_DONTWAIT);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (got <= 0) {
          hang_up(worker);
          return;
        }
        worker.received += static_cast<std::size_t>(got);
      }
      if (worker.received == header_size + worker.reply.size()) {
        finish(worker, std::move(worker.reply));
        return;
      }
    }
  }

  // Whether a reply's header is one the worker may send for the call it runs;
  // otherwise the worker is killed and the call fails. Nothing a header
  // claims is allocated or mapped before this (docs/processes.md, "What a
  // misbehaving method cannot do").
  bool acceptable_header(Worker& worker) {
    const FrameHeader& header = worker.in_header;
    if (header.call_id != worker.call_id) {
      reject(worker,
             "answered a call it was not running (the reply's call id does not match the request's; the method "
             "wrote to the worker's connection or forked)");
      return false;
    }
    if ((header.flags & ~FrameHeader::known_reply_flags) != 0 || header.code_size != 0 || header.check != 0) {
      reject(worker, "sent a malformed reply header (the method wrote to the worker's connection)");
      return false;
    }
    const bool in_file = (header.flags & FrameHeader::in_reply_file) != 0;
    if ((header.flags & FrameHeader::streamed) != 0 &&
        ((worker.out_header.flags & FrameHeader::stream_accepted) == 0 || in_file || header.size != 0)) {
      reject(worker, "sent a malformed streamed reply header (the method wrote to the worker's connection)");
      return false;
    }
    if (!in_file && header.size > socket_reply_limit) {
      reject(worker, "sent a reply of " + std::to_string(header.size) + " bytes through its socket, where at most " +
                         std::to_string(socket_reply_limit) + " travel (the method wrote to the worker's connection)");
      return false;
    }
    if (worker.max_reply_size != 0 && header.size > worker.max_reply_size) {
      reject(worker, "sent a reply of " + std::to_string(header.size) +
                         " bytes, more than the executor's largest accepted reply of " +
                         std::to_string(worker.max_reply_size) + " bytes (WorkerLimits::max_reply_size)");
      return false;
    }
    return true;
  }

  // Whether the worker's memory has passed its hard limit during its call
  // (its peak, reset when the call started where the kernel allows; else a
  // peak no higher than at the start counts as an earlier call's, and its
  // present use is checked); if so, its call fails and it is killed.
  bool check_memory_limit(Worker& worker) {
    if (worker.memory_limit == 0) return true;
    const MemoryUse use = memory_of(worker.pid);
    if (!use.known || use.peak <= worker.memory_limit) return true;
    if (use.peak <= worker.peak_at_start && use.resident <= worker.memory_limit) return true;
    reject(worker, "used " + mebibytes(use.peak) + " of memory, more than the executor's worker memory limit of " +
                       mebibytes(worker.memory_limit) + " (WorkerLimits::memory_limit)");
    return false;
  }

  // After a successful call: replaces the worker when the pool recycles it.
  void recycle_if_due(Worker& worker) {
    ++worker.calls;
    const std::uint64_t after_calls = worker.pool->recycle_after_calls.load(std::memory_order_relaxed);
    const std::uint64_t above_memory = worker.pool->recycle_above_memory.load(std::memory_order_relaxed);
    bool due = after_calls != 0 && worker.calls >= after_calls;
    if (!due && above_memory != 0) {
      const MemoryUse use = memory_of(worker.pid);
      due = use.known && use.resident > above_memory;
    }
    // Idle now: killing it loses nothing; the pool starts another on demand.
    if (due) kill(worker);
  }

  // Fails the worker's call, if one is under way: its job, or the verdict
  // its streaming caller waits for.
  void fail_call(Worker& worker, const std::string& message) {
    if (worker.job != nullptr) fail(*std::exchange(worker.job, nullptr), message);
    if (worker.stream != nullptr) worker.stream->settle(message);
  }

  // Fails the worker's call, if any, and kills it.
  void reject(Worker& worker, const std::string& what_it_did) {
    fail_call(worker,
              "connectors: the worker process " + std::to_string(worker.pid) + " " + what_it_did + "; it was killed");
    kill(worker);
  }

  // A reply the worker streams (FrameHeader::streamed): the call's job goes
  // to its caller at once with a duplicate of the socket, which the caller
  // reads straight into its result; this thread stops reading the socket
  // until the caller says how its reading ended (check_streams).
  void start_stream(Worker& worker) {
    UniqueFd duplicate{::fcntl(worker.socket.get(), F_DUPFD_CLOEXEC, 3)};
    if (!duplicate.valid()) {
      reject(worker, "sent a streamed reply that the parent could not take (out of descriptors)");
      return;
    }
    try {
      worker.stream =
          std::make_shared<SupervisedStream>(duplicate.get(), worker.pid, worker.call_id, worker.max_reply_size);
    } catch (const std::bad_alloc&) {
      reject(worker, "sent a streamed reply that the parent could not take");
      return;
    }
    duplicate.release();
    worker.unread_since = Clock::now();
    worker.paused_deadline = worker.deadline;
    if (worker.deadline != never) worker.deadline = deadline_after(worker.deadline, worker.timeout_ms);
    ProcessJob& job = *std::exchange(worker.job, nullptr);
    job.reply = ByteBuffer::stream(worker.stream);
    note_reply(job);
    complete(job);
  }

  // What the callers of streamed replies said: a complete reply gets its
  // verdict (the memory limit is checked as for any reply); a broken one
  // waits for the worker's end, which says why; an abandoned one cannot be
  // skipped, so its worker is replaced.
  void check_streams() {
    for (std::size_t i = 0; i < workers_.size() && !broken_; ++i) {
      Worker& worker = *workers_[i];
      if (worker.stream == nullptr || worker.kill_sent || worker.reaped) continue;
      if (worker.unread_since && worker.stream->reading_begun()) {
        // The time its caller kept it waiting is not the call's.
        if (worker.paused_deadline != never) {
          worker.deadline = worker.paused_deadline + (Clock::now() - *worker.unread_since);
        }
        worker.unread_since.reset();
      }
      switch (worker.stream->ended()) {
        case ReplyStream::End::reading:
          break;
        case ReplyStream::End::complete:
          if (!check_memory_limit(worker)) break;
          worker.stream->settle({});
          worker.stream.reset();
          reset_exchange(worker);
          recycle_if_due(worker);
          break;
        case ReplyStream::End::broken:
          if (!worker.hung_up) hang_up(worker);
          break;
        case ReplyStream::End::abandoned:
          reject(worker, "was still sending a reply its caller stopped reading");
          break;
      }
    }
  }

  // A reply in one of the worker's files. Nothing of the file is read or
  // mapped here: the caller reads it (pread) when it decodes the reply, so
  // no reply stalls this thread, which serves every pool. A file whose size
  // or allocation does not fit what the worker can have written is refused.
  void finish_from_file(Worker& worker) {
    const std::uint64_t flags = worker.in_header.flags;
    const std::uint64_t size = worker.in_header.size;
    std::shared_ptr<ReplyFile>& file = worker.files[(flags & FrameHeader::in_second_file) != 0 ? 1 : 0];
    if ((flags & FrameHeader::file_attached) != 0) {
      if (!worker.reply_file.valid()) {
        // Lost on the way (say, the parent is out of descriptors): this
        // worker and the parent no longer agree on its files.
        reject(worker, "sent a reply file that did not arrive");
        return;
      }
      // Replaces the slot's file; a caller still reading the old one keeps it.
      try {
        file = std::make_shared<ReplyFile>(worker.reply_file.release());
      } catch (const std::bad_alloc&) {
        reject(worker, "sent a reply file the parent could not take");
        return;
      }
      const int seals = ::fcntl(file->fd(), F_GET_SEALS);
      file->sealed = seals >= 0 && (seals & F_SEAL_SHRINK) != 0;
    }
    if (file == nullptr || file->lent.load(std::memory_order_acquire)) {
      reject(worker, "sent a reply in a file the parent does not have, or one a caller still reads");
      return;
    }
    // The worker writes each reply at the start of the file, growing a kept
    // file by at most half again its reply (in whole granules, up to the keep
    // limit) and an outsized one to exactly its reply, and every written byte
    // holds a page: anything larger, or sparse, was not written by it.
    struct stat status {};
    if (::fstat(file->fd(), &status) != 0 || !S_ISREG(status.st_mode)) {
      reject(worker, "sent a reply file that is not a file");
      return;
    }
    const auto file_size = static_cast<std::uint64_t>(status.st_size);
    const auto allocated = static_cast<std::uint64_t>(status.st_blocks) * 512;
    const std::uint64_t grown = std::min<std::uint64_t>(
        (size + size / 2 + reply_file_granule - 1) / reply_file_granule * reply_file_granule, reply_file_keep_limit);
    const std::uint64_t largest_possible = std::max({file->known_size, size, grown});
    if (size == 0 || file_size < size || file_size > largest_possible || allocated < size) {
      reject(worker, "sent a reply of " + std::to_string(size) + " bytes in a file of " + std::to_string(file_size) +
                         " bytes with " + std::to_string(allocated) +
                         " bytes allocated, which it cannot have written (a forged reply file)");
      return;
    }
    file->known_size = std::max(file->known_size, file_size);
    // A kept file is mapped by the caller (its size is bounded); an outsized
    // one is read with pread, so that the caller holds one copy of it.
    ByteBuffer reply = ByteBuffer::lend(file, size, file->sealed && file_size <= reply_file_keep_limit);
    if ((flags & FrameHeader::file_dropped) != 0) file.reset();
    finish(worker, std::move(reply));
  }

  void finish(Worker& worker, ByteBuffer reply) {
    // The reply of a call during which the worker passed its memory limit
    // is dropped: the call fails.
    if (!check_memory_limit(worker)) return;
    ProcessJob& job = *std::exchange(worker.job, nullptr);
    job.reply = std::move(reply);
    note_reply(job);
    reset_exchange(worker);
    complete(job);
    recycle_if_due(worker);
  }

  static void reset_exchange(Worker& worker) {
    worker.reply = ByteBuffer{};
    worker.reply_file.reset();
    worker.received = 0;
    worker.sent = 0;
    worker.deadline = never;
    worker.unread_since.reset();
    worker.next_memory_check = never;
  }

  void hang_up(Worker& worker) {
    worker.hung_up = true;
    worker.socket.reset();
    worker.kill_at = Clock::now() + hang_up_grace;
  }

  void kill(Worker& worker) {
    // A caller reading a streamed reply from this socket wakes up and waits
    // for the verdict, which the worker's end gives.
    if (worker.stream != nullptr && worker.socket.valid()) ::shutdown(worker.socket.get(), SHUT_RDWR);
    worker.socket.reset();
    if (worker.kill_sent || worker.reaped) return;
    worker.kill_sent = true;
    const ForkServerMessage request{ForkServerMessage::kill, worker.pid, 0};
    if (!send_request(request)) {
      break_down("connectors: the fork server is gone; worker processes cannot be stopped");
    }
  }

  void check_deadlines() {
    const Clock::time_point now = Clock::now();
    for (std::size_t i = 0; i < workers_.size() && !broken_; ++i) {
      Worker& worker = *workers_[i];
      if (worker.kill_sent || worker.reaped) continue;
      if (worker.running() && now >= worker.deadline) {
        worker.timed_out = true;
        kill(worker);
      } else if (worker.running() && now >= worker.next_memory_check) {
        worker.next_memory_check = now + memory_check_interval;
        check_memory_limit(worker);
      } else if (worker.hung_up && now >= worker.kill_at) {
        worker.killed_after_hang_up = worker.running();
        kill(worker);
      }
    }
  }

  void handle_exits() {
    std::vector<ForkServerMessage> exits;
    exits.swap(exits_);
    for (const ForkServerMessage& exit : exits) {
      auto found =
          std::find_if(workers_.begin(), workers_.end(), [&](auto& worker) { return worker->pid == exit.pid; });
      if (found == workers_.end()) continue;
      Worker& worker = **found;
      worker.reaped = true;
      // A reply sent just before the worker ended is still in the socket.
      if (worker.job != nullptr && worker.socket.valid()) receive_some(worker);
      if (broken_) return;
      if (worker.running()) fail_call(worker, describe_end(worker, exit.value));
      std::shared_ptr<PoolRecord> pool = std::move(worker.pool);
      workers_.erase(found);
      if (pool) {
        --pool->workers;
        {
          std::lock_guard lock{mutex_};
          pool->pids.erase(std::remove(pool->pids.begin(), pool->pids.end(), exit.pid), pool->pids.end());
        }
        finish_close_if_done(pool);
      }
    }
  }

  // The fork server is gone: no worker can be started or supervised any more.
  void break_down(const std::string& reason) {
    {
      std::lock_guard lock{mutex_};
      if (broken_) return;
      broken_ = true;
      broken_reason_ = reason;
    }
    for (auto& worker : workers_) fail_call(*worker, reason);
    workers_.clear();
    // The server closed its socket, so it is exiting; it is no child of ours
    // (the system reaps it). Its workers die with it (death signal).
    exits_.clear();
    std::vector<std::shared_ptr<PoolRecord>> pools;
    pools.swap(pools_);
    std::lock_guard lock{mutex_};
    for (auto& pool : pools) {
      for (ProcessJob* job : pool->queue) fail(*job, reason);
      pool->queue.clear();
      for (ProcessJob* job : pool->incoming) fail(*job, reason);
      pool->incoming.clear();
      pool->workers = 0;
      pool->pids.clear();
      pool->closed = pool->closing;
    }
    pool_closed_.notify_all();
  }

  const pid_t process_;
  int control_;
  UniqueFd wake_;
  std::mutex mutex_;
  std::condition_variable pool_closed_;
  std::vector<std::shared_ptr<PoolRecord>> news_;
  bool broken_ = false;
  std::string broken_reason_;

  std::vector<std::shared_ptr<PoolRecord>> pools_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<ForkServerMessage> exits_;
  // Call ids start at a random value: a method cannot guess the id of the
  // call it runs from the number of calls before it.
  std::uint64_t last_call_id_ = std::random_device{}() * std::uint64_t{0x9e3779b97f4a7c15ULL};
};

void SupervisedStream::notify() noexcept { Supervisor::instance().wake(); }

}  // namespace

WorkerPool::WorkerPool(std::size_t max_workers)
    : max_workers_(max_workers), record_(std::make_shared<PoolRecord>(max_workers)) {}

WorkerPool::~WorkerPool() {
  // In a child the program forked, the pool's workers are the program's:
  // there is nothing of them to close, and no supervisor thread to do it.
  if (!record_->used.load()) return;
  try {
    // (The supervisor exists once a pool was used: instance() cannot fail.)
    if (Supervisor::serves_this_process()) Supervisor::instance().close(record_);
  } catch (...) {
    // Closing only waits for the supervisor thread: nothing to report.
  }
}

void WorkerPool::require_fork_server() {
  if (fork_server_socket() < 0) {
    throw std::logic_error(
        "connectors: running a method in a worker process needs connectors::init(argc, argv), called first thing "
        "in main while the program is single-threaded");
  }
}

void WorkerPool::submit(ProcessJob& job) noexcept {
  Supervisor* supervisor = nullptr;
  try {
    supervisor = &Supervisor::instance();
  } catch (const std::bad_alloc&) {
    job.failure = std::current_exception();  // a message would need memory too
    complete(job);
    return;
  } catch (const std::exception& error) {
    try {
      fail(job, std::string{"connectors: cannot supervise worker processes: "} + error.what());
    } catch (...) {  // the message needs memory too
      job.failure = std::current_exception();
      complete(job);
    }
    return;
  }
  record_->used.store(true);
  supervisor->submit(record_, job);
}

void WorkerPool::set_call_timeout(std::optional<std::chrono::milliseconds> timeout) {
  if (timeout && timeout->count() <= 0) {
    throw std::invalid_argument("set_call_timeout: the timeout must be positive, got " +
                                std::to_string(timeout->count()) + " ms");
  }
  record_->timeout_ms.store(timeout ? timeout->count() : -1);
}

std::optional<std::chrono::milliseconds> WorkerPool::call_timeout() const noexcept { return record_->call_timeout(); }

void WorkerPool::set_worker_limits(const WorkerLimits& limits) { record_->set_limits(limits); }

WorkerLimits WorkerPool::worker_limits() const { return record_->limits(); }

std::vector<int> WorkerPool::worker_process_ids() const {
  if (!record_->used.load() || !Supervisor::serves_this_process()) return {};
  return Supervisor::instance().pids(*record_);
}

}  // namespace connectors::detail
