#pragma once

#include <connectors/detail/worker_pool.hpp>
#include <connectors/executor.hpp>
#include <connectors/process.hpp>
#include <connectors/init.hpp>
#include <connectors/worker_limits.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace connectors {

namespace detail {
class ThreadPool;
}

/// Runs PROCESS methods in worker processes and everything else inline (it has
/// no threads). Workers are persistent across runs, started at the first
/// PROCESS call, at most number_of_processes() at once, each running one call
/// at a time on a copy of the owner's state. Needs connectors::init(argc,
/// argv) first thing in main; see docs/processes.md.
class MultiprocessingExecutor final : public Executor {
 public:
  /// `number_of_processes`: at least 1, or nullopt for hardware concurrency.
  explicit MultiprocessingExecutor(std::optional<int> number_of_processes);
  /// Calls still running fail with WorkerError; the workers are killed and reaped.
  ~MultiprocessingExecutor() override;

  std::size_t number_of_processes() const noexcept { return workers_->max_workers(); }

  /// A call that runs longer than `timeout` in a worker fails with
  /// WorkerError; the worker is killed and replaced. nullopt (the default)
  /// waits forever. Applies to calls started afterwards.
  void set_call_timeout(std::optional<std::chrono::milliseconds> timeout) { workers_->set_call_timeout(timeout); }
  std::optional<std::chrono::milliseconds> call_timeout() const noexcept { return workers_->call_timeout(); }

  /// Memory limit, recycling and the largest accepted reply of each worker
  /// (see WorkerLimits); applies to calls started afterwards. Throws
  /// std::invalid_argument for a limit of zero.
  void set_worker_limits(const WorkerLimits& limits) { workers_->set_worker_limits(limits); }
  WorkerLimits worker_limits() const { return workers_->worker_limits(); }

  /// The process ids of the workers alive now (for diagnostics).
  std::vector<int> worker_process_ids() const { return workers_->worker_process_ids(); }

  Parallelization effective_parallelization(Parallelization requested) const noexcept override {
    return requested == Parallelization::PROCESS ? Parallelization::PROCESS : Parallelization::SEQUENTIAL;
  }

 protected:
  detail::ProcessBackend* process_backend() const noexcept override { return workers_.get(); }

 private:
  std::unique_ptr<detail::WorkerPool> workers_;
};

/// Runs THREAD methods on a persistent thread pool, PROCESS methods in worker
/// processes (as MultiprocessingExecutor does) and SEQUENTIAL ones inline.
class ThreadingMultiprocessingExecutor final : public Executor {
 public:
  /// Each count: at least 1, or nullopt for hardware concurrency.
  ThreadingMultiprocessingExecutor(std::optional<int> number_of_threads, std::optional<int> number_of_processes);
  ~ThreadingMultiprocessingExecutor() override;

  std::size_t number_of_threads() const noexcept;
  std::size_t number_of_processes() const noexcept { return workers_->max_workers(); }

  /// See MultiprocessingExecutor::set_call_timeout.
  void set_call_timeout(std::optional<std::chrono::milliseconds> timeout) { workers_->set_call_timeout(timeout); }
  std::optional<std::chrono::milliseconds> call_timeout() const noexcept { return workers_->call_timeout(); }
  /// See MultiprocessingExecutor::set_worker_limits.
  void set_worker_limits(const WorkerLimits& limits) { workers_->set_worker_limits(limits); }
  WorkerLimits worker_limits() const { return workers_->worker_limits(); }
  std::vector<int> worker_process_ids() const { return workers_->worker_process_ids(); }

  Parallelization effective_parallelization(Parallelization requested) const noexcept override { return requested; }

 protected:
  detail::ThreadPool* thread_pool() const noexcept override { return threads_.get(); }
  detail::ProcessBackend* process_backend() const noexcept override { return workers_.get(); }

 private:
  std::unique_ptr<detail::ThreadPool> threads_;
  // Destroyed first: calls still in workers fail at once, so that pool threads
  // waiting for them in nested runs can finish and be joined.
  std::unique_ptr<detail::WorkerPool> workers_;
};

}  // namespace connectors
