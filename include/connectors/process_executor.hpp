#pragma once

#include <connectors/detail/worker_pool.hpp>
#include <connectors/executor.hpp>
#include <connectors/init.hpp>
#include <connectors/process.hpp>
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
///
///     int main(int argc, char** argv) {
///       connectors::init(argc, argv);  // first: forks the fork server
///       auto processes = std::make_shared<connectors::MultiprocessingExecutor>(4);
///       processes->set_call_timeout(std::chrono::seconds{30});
///       block.get_result.set_parallelization(connectors::Parallelization::PROCESS);
///       block.get_result.set_executor(processes);
///       double result = block.get_result();  // the getter runs in a worker
///     }
///
/// **Threads.** Every member may be called from any thread, also while calls
/// run; the settings apply to calls started afterwards.
class MultiprocessingExecutor final : public Executor {
 public:
  /// `number_of_processes`: at least 1 and at most 4096, or nullopt for
  /// hardware concurrency.
  /// No process starts here. Throws std::invalid_argument for a count out of
  /// that range.
  /// Any thread (no process or thread starts here).
  explicit MultiprocessingExecutor(std::optional<int> number_of_processes);
  /// Calls still running fail with WorkerError; the workers are killed and reaped.
  /// Throws nothing.
  ~MultiprocessingExecutor() override;

  /// The maximum number of worker processes (and of calls running at once).
  /// Any thread.
  std::size_t number_of_processes() const noexcept { return workers_->max_workers(); }

  /// A call that runs longer than `timeout` in a worker fails with
  /// WorkerError; the worker is killed and replaced. nullopt (the default)
  /// waits forever, as does a timeout beyond the clock's range
  /// (std::chrono::milliseconds::max()). Applies to calls started
  /// afterwards. Throws std::invalid_argument for a timeout that is not
  /// positive.
  /// Any thread, also while calls run.
  void set_call_timeout(std::optional<std::chrono::milliseconds> timeout) { workers_->set_call_timeout(timeout); }
  /// The timeout set by set_call_timeout (nullopt: none).
  /// Any thread.
  std::optional<std::chrono::milliseconds> call_timeout() const noexcept { return workers_->call_timeout(); }

  /// Memory limit, recycling and the largest accepted reply of each worker
  /// (see WorkerLimits); applies to calls started afterwards. Throws
  /// std::invalid_argument for a limit of zero.
  /// Any thread, also while calls run (each limit is updated atomically; a
  /// call starting meanwhile may see some old ones).
  void set_worker_limits(const WorkerLimits& limits) { workers_->set_worker_limits(limits); }
  /// The limits set by set_worker_limits. Throws only std::bad_alloc.
  /// Any thread.
  WorkerLimits worker_limits() const { return workers_->worker_limits(); }

  /// The process ids of the workers alive now (for diagnostics).
  /// Throws only std::bad_alloc. Any thread.
  std::vector<int> worker_process_ids() const { return workers_->worker_process_ids(); }

  /// PROCESS stays PROCESS; SEQUENTIAL and THREAD run inline (no threads).
  /// Any thread.
  Parallelization effective_parallelization(Parallelization requested) const noexcept override {
    return requested == Parallelization::PROCESS ? Parallelization::PROCESS : Parallelization::SEQUENTIAL;
  }

 protected:
  /// \cond INTERNAL
  detail::ProcessBackend* process_backend() const noexcept override { return workers_.get(); }
  /// \endcond

 private:
  std::unique_ptr<detail::WorkerPool> workers_;
};

/// Runs THREAD methods on a persistent thread pool, PROCESS methods in worker
/// processes (as MultiprocessingExecutor does) and SEQUENTIAL ones inline.
/// Needs connectors::init as MultiprocessingExecutor does; usually made by
/// `connectors::executor(threads, processes)`.
///
/// **Threads.** Every member may be called from any thread, also while calls
/// run; the settings apply to calls started afterwards.
class ThreadingMultiprocessingExecutor final : public Executor {
 public:
  /// Each count: at least 1 and at most 4096, or nullopt for hardware
  /// concurrency. Throws std::invalid_argument for a count out of that range.
  /// Any thread (no process or thread starts here).
  ThreadingMultiprocessingExecutor(std::optional<int> number_of_threads, std::optional<int> number_of_processes);
  /// Calls still running in workers fail with WorkerError; the workers are
  /// killed and reaped, then the pool threads are joined.
  ~ThreadingMultiprocessingExecutor() override;

  /// The maximum number of threads that run methods at once.
  /// Any thread.
  std::size_t number_of_threads() const noexcept;
  /// The maximum number of worker processes (and of calls running at once).
  /// Any thread.
  std::size_t number_of_processes() const noexcept { return workers_->max_workers(); }

  /// See MultiprocessingExecutor::set_call_timeout.
  /// Any thread, also while calls run.
  /// Throws std::invalid_argument as there.
  void set_call_timeout(std::optional<std::chrono::milliseconds> timeout) { workers_->set_call_timeout(timeout); }
  /// The timeout set by set_call_timeout (nullopt: none).
  /// Any thread.
  std::optional<std::chrono::milliseconds> call_timeout() const noexcept { return workers_->call_timeout(); }
  /// See MultiprocessingExecutor::set_worker_limits.
  /// Any thread, also while calls run (each limit is updated atomically; a
  /// call starting meanwhile may see some old ones).
  /// Throws std::invalid_argument as there.
  void set_worker_limits(const WorkerLimits& limits) { workers_->set_worker_limits(limits); }
  /// The limits set by set_worker_limits. Throws only std::bad_alloc.
  /// Any thread.
  WorkerLimits worker_limits() const { return workers_->worker_limits(); }
  /// The process ids of the workers alive now (for diagnostics).
  /// Throws only std::bad_alloc. Any thread.
  std::vector<int> worker_process_ids() const { return workers_->worker_process_ids(); }

  /// Every flag as requested: SEQUENTIAL inline, THREAD on the pool, PROCESS
  /// in a worker.
  /// Any thread.
  Parallelization effective_parallelization(Parallelization requested) const noexcept override { return requested; }

 protected:
  /// \cond INTERNAL
  detail::ThreadPool* thread_pool() const noexcept override { return threads_.get(); }
  detail::ProcessBackend* process_backend() const noexcept override { return workers_.get(); }
  /// \endcond

 private:
  std::unique_ptr<detail::ThreadPool> threads_;
  // Destroyed first: calls still in workers fail at once, so that pool threads
  // waiting for them in nested runs can finish and be joined.
  std::unique_ptr<detail::WorkerPool> workers_;
};

}  // namespace connectors
