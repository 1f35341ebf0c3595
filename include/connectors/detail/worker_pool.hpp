#pragma once

#include <connectors/detail/process_backend.hpp>
#include <connectors/detail/process_job.hpp>
#include <connectors/worker_limits.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace connectors::detail {

struct PoolRecord;

// A persistent pool of at most `max_workers` worker processes, started lazily
// from the fork server (see init.hpp), each running one call at a time. One
// supervisor thread, shared by all pools, talks to the workers and the fork
// server, so waiting never blocks an event loop. The process executors' backend;
// an MPI rank serves its calls through one too (docs/distributed.md).
class WorkerPool final : public ProcessBackend {
 public:
  explicit WorkerPool(std::size_t max_workers);
  // Fails the calls still queued or running with WorkerError, kills the
  // workers and returns once they are reaped.
  ~WorkerPool();

  // Throws std::logic_error when connectors::init() was not called.
  static void require_fork_server();
  void require_ready() const override { require_fork_server(); }

  // Queues `job`; it completes through its channel, successfully or not.
  void submit(ProcessJob& job) noexcept override;

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
