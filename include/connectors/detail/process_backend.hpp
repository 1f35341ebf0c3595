#pragma once
#define CONNECTORS_DETAIL_PROCESS_BACKEND_HPP

#include <connectors/detail/process_job.hpp>

namespace connectors::detail {

// Where an executor's PROCESS calls run: the local worker pool
// (WorkerPool), other MPI ranks (connectors::mpi), or the next transport.
// The executor only builds the request, hands it over and decodes the reply
// (process_call.hpp), so adding a transport means adding a backend, not
// touching the executor (docs/processes.md, "Backends").
class ProcessBackend {
 public:
  ProcessBackend(const ProcessBackend&) = delete;
  ProcessBackend& operator=(const ProcessBackend&) = delete;

  // Throws std::logic_error naming what is missing when this process cannot
  // hand calls to the backend (no connectors::init, no MPI launch, ...).
  // Called before the request is built.
  virtual void require_ready() const = 0;

  // Queues `job`; it completes exactly once through its channel, with a
  // reply or a failure (WorkerError), also when the backend is destroyed
  // first. Thread-safe.
  virtual void submit(ProcessJob& job) noexcept = 0;

 protected:
  ProcessBackend() = default;
  ~ProcessBackend() = default;
};

}  // namespace connectors::detail
