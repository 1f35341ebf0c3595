#pragma once

#include <connectors/detail/channel.hpp>
#include <connectors/worker_limits.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace connectors::detail {

// A worker's reply file as the parent maps it: read-only, shared with the
// worker, kept across calls. While a caller has not decoded a reply in it, it
// is lent to that caller and the worker must not overwrite it.
class ReplyMapping {
 public:
  // Maps the whole of `fd`, populated; throws std::system_error, or
  // std::runtime_error when the file is not sealed against shrinking (reading
  // it could then raise SIGBUS).
  static std::shared_ptr<ReplyMapping> map(int fd);

  ReplyMapping(const char* data, std::size_t size) noexcept : data_(data), size_(size) {}
  ReplyMapping(const ReplyMapping&) = delete;
  ReplyMapping& operator=(const ReplyMapping&) = delete;
  ~ReplyMapping();

  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

  std::atomic<bool> lent{false};

 private:
  const char* data_;
  std::size_t size_;
};

// A reply received from a worker: bytes read from its socket (allocated
// without the zero-filling a std::string resize would cost), or a large reply
// lent from one of the worker's reply files, returned when this buffer goes.
class ByteBuffer {
 public:
  ByteBuffer() noexcept = default;
  ByteBuffer(ByteBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        file_(std::move(other.file_)) {}
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      file_ = std::move(other.file_);
    }
    return *this;
  }
  ~ByteBuffer() { release(); }

  static ByteBuffer allocate(std::size_t size);
  // The first `size` bytes of `file`, which must not be lent already.
  static ByteBuffer lend(std::shared_ptr<ReplyMapping> file, std::size_t size) noexcept;

  char* data() noexcept { return data_; }
  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool mapped() const noexcept { return file_ != nullptr; }
  // Whether dropping this buffer would unmap its file (its worker is gone).
  bool last_user_of_file() const noexcept { return file_ != nullptr && file_.use_count() == 1; }

 private:
  void release() noexcept;

  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::shared_ptr<ReplyMapping> file_;
};

// One method call for a worker process. It lives in the awaiting coroutine's
// frame; the pool completes it exactly once, by filling `reply` or `failure`
// and posting it to `channel` (the awaiting loop's), from its own thread.
class ProcessJob : public ChannelNode {
 public:
  std::string request;
  // How many of the request's first bytes name code (see ProcessRequest).
  std::size_t code_size = 0;
  ByteBuffer reply;
  std::exception_ptr failure;
  Channel* channel = nullptr;

 protected:
  ~ProcessJob() = default;
};

// Returns a reply's file to its worker at once. Unmapping a file whose worker
// is gone takes milliseconds; the supervisor thread does that so that the
// caller's loop goes on at once. Other buffers are freed here.
void release_in_background(ByteBuffer&& buffer) noexcept;

// Asks the kernel to back the whole pages of [data, data + size) with huge
// pages when it faults them in, if `size` is large enough to matter; the
// pages should not have been touched yet. Changes nothing else.
void advise_huge_pages(void* data, std::size_t size) noexcept;

struct PoolRecord;

// A persistent pool of at most `max_workers` worker processes, started lazily
// from the fork server (see init.hpp), each running one call at a time. One
// supervisor thread, shared by all pools, talks to the workers and the fork
// server, so waiting never blocks an event loop.
class WorkerPool {
 public:
  explicit WorkerPool(std::size_t max_workers);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  // Fails the calls still queued or running with WorkerError, kills the
  // workers and returns once they are reaped.
  ~WorkerPool();

  // Throws std::logic_error when connectors::init() was not called.
  static void require_fork_server();

  // Queues `job`; it completes through its channel, successfully or not.
  void submit(ProcessJob& job) noexcept;

  std::size_t max_workers() const noexcept { return max_workers_; }
  void set_call_timeout(std::optional<std::chrono::milliseconds> timeout);
  std::optional<std::chrono::milliseconds> call_timeout() const noexcept;
  // Throws std::invalid_argument for a limit of zero.
  void set_worker_limits(const WorkerLimits& limits);
  WorkerLimits worker_limits() const;
  std::vector<int> worker_process_ids() const;

 private:
  std::size_t max_workers_;
  std::shared_ptr<PoolRecord> record_;
};

}  // namespace connectors::detail
