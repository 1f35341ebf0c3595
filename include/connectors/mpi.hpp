#pragma once

// PROCESS methods on other MPI ranks (docs/distributed.md). Link
// connectors::mpi; built when Open MPI is found.

#include <connectors/detail/init_extension.hpp>
#include <connectors/executor.hpp>
#include <connectors/init.hpp>
#include <connectors/process.hpp>
#include <connectors/worker_limits.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>

namespace connectors {

namespace detail {
class ThreadPool;
namespace mpi {
class MpiBackend;
// What connectors::init does under mpirun (see init_extension.hpp).
void init_under_mpi(int argc, char** argv);
}  // namespace mpi
// Including this header makes connectors::init notice an MPI launch.
inline const bool init_notices_mpi = register_init_extension(&mpi::init_under_mpi);
}  // namespace detail

/// Runs PROCESS methods on the other ranks of an MPI job, THREAD methods on a
/// local thread pool and SEQUENTIAL ones inline. Launch the program with
/// `mpirun -n N ./app`: `connectors::init(argc, argv)` then returns on rank 0
/// only, and ranks 1..N-1 serve PROCESS calls (each in a worker process of
/// its own, so that a crash or a timeout fails that call and the rank goes on)
/// until rank 0 ends. Every rank must run the same binary; init checks it.
///
///     int main(int argc, char** argv) {
///       connectors::init(argc, argv);          // ranks 1..N-1 stay in here
///       connectors::MpiExecutor executor;      // THREAD methods on local threads
///       Power power;
///       auto task = [&]() -> connectors::Task<double> {
///         co_return co_await executor.run_method(connectors::Parallelization::PROCESS, &Power::compute, power);
///       };
///       double result = executor.run_coroutine(task());  // ran on another rank
///     }
///
/// A PROCESS call throws std::logic_error when the program was not launched
/// by mpirun with at least two ranks running its binary, or init was not
/// called. Thread-safe as every executor: run_method from any of its loops,
/// the setters from any thread.
class MpiExecutor final : public Executor {
 public:
  /// `threads`: the local pool for THREAD methods; nullopt for hardware
  /// concurrency, 0 to run them inline. Negative throws std::invalid_argument.
  /// Constructing one does not talk to the ranks; any thread may.
  ///
  ///     connectors::MpiExecutor executor{4};   // 4 local threads, PROCESS on the ranks
  explicit MpiExecutor(std::optional<int> threads = std::nullopt);
  /// Calls still queued or running fail with WorkerError; the ranks running
  /// them stop them (killing their worker process) and serve on. Returns once
  /// no MPI call reads their requests any more.
  /// Call it when no run uses the executor any more.
  ~MpiExecutor() override;

  /// The size of the local thread pool (0: THREAD methods run inline).
  /// Thread-safe.
  ///
  ///     if (executor.number_of_threads() == 0) { /* THREAD methods run inline */ }
  std::size_t number_of_threads() const noexcept;
  /// How many ranks serve PROCESS calls: N - 1 under `mpirun -n N` (minus
  /// ranks running another binary), 0 when not launched by mpirun. Thread-safe.
  ///
  ///     if (executor.number_of_ranks() == 0) { /* PROCESS calls would throw */ }
  std::size_t number_of_ranks() const noexcept;

  /// A call that runs longer than `timeout` on its rank fails with
  /// WorkerError; the rank kills its worker process and serves on. nullopt
  /// (the default) waits forever. Applies to calls sent afterwards. Throws
  /// std::invalid_argument for zero or negative durations. Thread-safe.
  ///
  ///     executor.set_call_timeout(std::chrono::seconds{30});
  void set_call_timeout(std::optional<std::chrono::milliseconds> timeout);
  /// The timeout set last (nullopt: none). Thread-safe.
  ///
  ///     auto timeout = executor.call_timeout();
  std::optional<std::chrono::milliseconds> call_timeout() const noexcept;
  /// Limits on each rank's worker process, as for the local process
  /// executors (see WorkerLimits); applies to calls sent afterwards. Throws
  /// std::invalid_argument for a limit of zero. Thread-safe.
  ///
  ///     connectors::WorkerLimits limits;
  ///     limits.memory_limit = std::size_t{2} << 30;
  ///     executor.set_worker_limits(limits);
  void set_worker_limits(const WorkerLimits& limits);
  /// The limits set last. Thread-safe.
  ///
  ///     auto limits = executor.worker_limits();
  /// Throws only std::bad_alloc.
  WorkerLimits worker_limits() const;

  Parallelization effective_parallelization(Parallelization requested) const noexcept override {
    if (requested == Parallelization::PROCESS) return Parallelization::PROCESS;
    if (requested == Parallelization::THREAD && threads_ != nullptr) return Parallelization::THREAD;
    return Parallelization::SEQUENTIAL;
  }

 protected:
  /// \cond INTERNAL
  detail::ThreadPool* thread_pool() const noexcept override { return threads_.get(); }
  detail::ProcessBackend* process_backend() const noexcept override;
  /// \endcond

 private:
  std::unique_ptr<detail::ThreadPool> threads_;
  std::unique_ptr<detail::mpi::MpiBackend> backend_;
};

/// This process's rank in its MPI job and the job's size, as init found them
/// (0 and 1 when the program was not launched by mpirun). Thread-safe.
///
///     if (connectors::mpi_world_size() > 1) { /* PROCESS calls go to other ranks */ }
int mpi_rank() noexcept;
/// The number of processes in the MPI job (1 without mpirun). Thread-safe.
int mpi_world_size() noexcept;

}  // namespace connectors
