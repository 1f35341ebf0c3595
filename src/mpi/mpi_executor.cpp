#include "dispatcher.hpp"

#include <connectors/detail/process_backend.hpp>
#include <connectors/detail/thread_pool.hpp>
#include <connectors/detail/worker_pool.hpp>
#include <connectors/mpi.hpp>

#include <stdexcept>
#include <string>
#include <thread>

namespace connectors {

namespace detail::mpi {

// The process backend of one MpiExecutor: its calls go through rank 0's
// dispatcher, shared by every MpiExecutor of the program.
class MpiBackend final : public ProcessBackend {
 public:
  MpiBackend() : client_(std::make_shared<ClientRecord>()) {}
  ~MpiBackend() {
    if (Dispatcher* dispatcher = Dispatcher::instance()) dispatcher->close(*client_);
  }

  void require_ready() const override {
    WorkerPool::require_fork_server();
    const Dispatcher* dispatcher = Dispatcher::instance();
    if (dispatcher == nullptr) {
      throw std::logic_error(
          "MpiExecutor: PROCESS methods run on other MPI ranks; launch the program with mpirun -n N (N >= 2) and "
          "call connectors::init(argc, argv) first thing in main (docs/distributed.md)");
    }
    if (dispatcher->serving_ranks() == 0) {
      throw std::logic_error(
          "MpiExecutor: no MPI rank serves PROCESS methods: launch the program with mpirun -n N, N >= 2, every "
          "rank running the same binary (docs/distributed.md)");
    }
  }

  void submit(ProcessJob& job) noexcept override { Dispatcher::instance()->submit(client_, job); }

  ClientRecord& client() noexcept { return *client_; }

 private:
  std::shared_ptr<ClientRecord> client_;
};

}  // namespace detail::mpi

MpiExecutor::MpiExecutor(std::optional<int> threads) {
  if (threads && *threads < 0) {
    throw std::invalid_argument("MpiExecutor: threads must not be negative, got " + std::to_string(*threads));
  }
  if (!threads || *threads > 0) {
    const unsigned automatic = std::thread::hardware_concurrency();
    threads_ = std::make_unique<detail::ThreadPool>(threads ? static_cast<std::size_t>(*threads)
                                                            : (automatic == 0 ? 1 : automatic));
  }
  backend_ = std::make_unique<detail::mpi::MpiBackend>();
}

MpiExecutor::~MpiExecutor() {
  // Calls on the ranks fail first, so that pool threads waiting for them in
  // nested runs can finish and be joined.
  backend_.reset();
  threads_.reset();
}

std::size_t MpiExecutor::number_of_threads() const noexcept { return threads_ == nullptr ? 0 : threads_->size(); }

std::size_t MpiExecutor::number_of_ranks() const noexcept {
  const detail::mpi::Dispatcher* dispatcher = detail::mpi::Dispatcher::instance();
  return dispatcher == nullptr ? 0 : dispatcher->serving_ranks();
}

detail::ProcessBackend* MpiExecutor::process_backend() const noexcept { return backend_.get(); }

void MpiExecutor::set_call_timeout(std::optional<std::chrono::milliseconds> timeout) {
  if (timeout && timeout->count() <= 0) {
    throw std::invalid_argument("set_call_timeout: the timeout must be positive, got " +
                                std::to_string(timeout->count()) + " ms");
  }
  backend_->client().timeout_ms.store(timeout ? timeout->count() : -1);
}

std::optional<std::chrono::milliseconds> MpiExecutor::call_timeout() const noexcept {
  return backend_->client().call_timeout();
}

void MpiExecutor::set_worker_limits(const WorkerLimits& limits) { backend_->client().set_limits(limits); }

WorkerLimits MpiExecutor::worker_limits() const { return backend_->client().limits(); }

}  // namespace connectors
