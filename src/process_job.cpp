#include <connectors/detail/process_job.hpp>
#include <connectors/errors.hpp>

#include <exception>

namespace connectors::detail {

void complete_job(ProcessJob& job) noexcept {
  // The awaiting loop waits for this post, so its channel is open.
  [[maybe_unused]] bool posted = job.channel->post(job);
}

void fail_job(ProcessJob& job, const std::string& message) noexcept {
  try {
    job.failure = std::make_exception_ptr(WorkerError(message));
  } catch (...) {
    job.failure = std::current_exception();
  }
  complete_job(job);
}

}  // namespace connectors::detail
