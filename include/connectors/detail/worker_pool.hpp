#pragma once

#include <connectors/detail/channel.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace connectors::detail {

// Bytes received from a worker, without the zero-filling a std::string resize
// would cost on a large result.
struct ByteBuffer {
  std::unique_ptr<char[]> data;
  std::size_t size = 0;
};

// One method call for a worker process. It lives in the awaiting coroutine's
// frame; the pool completes it exactly once, by filling `reply` or `failure`
// and posting it to `channel` (the awaiting loop's), from its own thread.
class ProcessJob : public ChannelNode {
 public:
  std::string request;
  ByteBuffer reply;
  std::exception_ptr failure;
  Channel* channel = nullptr;

 protected:
  ~ProcessJob() = default;
};

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
  std::vector<int> worker_process_ids() const;

 private:
  std::size_t max_workers_;
  std::shared_ptr<PoolRecord> record_;
};

}  // namespace connectors::detail
