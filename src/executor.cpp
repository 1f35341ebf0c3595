#include <connectors/detail/thread_pool.hpp>
#include <connectors/executor.hpp>
#include <connectors/process_executor.hpp>

#include <mutex>
#include <string>
#include <thread>

namespace connectors {

Executor::~Executor() = default;

EventLoop* Executor::get_event_loop() const noexcept {
  for (detail::RunFrame* frame = detail::innermost_run; frame != nullptr; frame = frame->outer) {
    if (frame->executor == this) return frame->loop;
  }
  return nullptr;
}

void Executor::run_root(std::coroutine_handle<> root) {
  // A run nested in a coroutine of an outer run on this thread: the calls
  // that coroutine queued go to the pool now, not once it suspends, which
  // may be after this run ends, and this run may wait for one of them.
  if (EventLoop* outer = detail::running_loop()) detail::LoopAccess::submit_queued_calls(*outer);
  std::unique_ptr<EventLoop> loop = detail::LoopAccess::make(*this, thread_pool());
  detail::LoopAccess::run_until_done(*loop, root);
}

EventLoop& Executor::loop_for_method_call() const {
  EventLoop* loop = detail::running_loop();
  if (loop == nullptr || &loop->executor() != this) {
    throw std::logic_error(
        "Executor::run_method: must be awaited in a coroutine that this executor runs "
        "(run_coroutine, run_coroutines or run_until_complete of the same executor)");
  }
  return *loop;
}

namespace {

std::size_t automatic_count() {
  const unsigned count = std::thread::hardware_concurrency();
  return count == 0 ? 1 : count;
}

// More threads or processes than any machine runs at once: a mistake (an
// unsigned value gone negative, a byte count for a count), refused before a
// pool sizes its bookkeeping for it.
constexpr int max_count = 4096;

void check_count(std::optional<int> count, const char* what) {
  if (count && *count < 0) {
    throw std::invalid_argument(std::string(what) + " must not be negative, got " + std::to_string(*count));
  }
  if (count && *count > max_count) {
    throw std::invalid_argument(std::string(what) + " must be at most " + std::to_string(max_count) + ", got " +
                                std::to_string(*count));
  }
}

}  // namespace

ThreadingExecutor::ThreadingExecutor(std::optional<int> number_of_threads) {
  check_count(number_of_threads, "ThreadingExecutor: number_of_threads");
  if (number_of_threads && *number_of_threads == 0) {
    throw std::invalid_argument(
        "ThreadingExecutor: number_of_threads must be at least 1 (use SequentialExecutor for 0)");
  }
  pool_ = std::make_unique<detail::ThreadPool>(number_of_threads ? static_cast<std::size_t>(*number_of_threads)
                                                                 : automatic_count());
}

ThreadingExecutor::~ThreadingExecutor() = default;

std::size_t ThreadingExecutor::number_of_threads() const noexcept { return pool_->size(); }

namespace {

std::size_t positive_count(std::optional<int> count, const char* what) {
  check_count(count, what);
  if (count && *count == 0) throw std::invalid_argument(std::string(what) + " must be at least 1");
  return count ? static_cast<std::size_t>(*count) : automatic_count();
}

}  // namespace

MultiprocessingExecutor::MultiprocessingExecutor(std::optional<int> number_of_processes)
    : workers_(std::make_unique<detail::WorkerPool>(
          positive_count(number_of_processes, "MultiprocessingExecutor: number_of_processes"))) {}

MultiprocessingExecutor::~MultiprocessingExecutor() = default;

ThreadingMultiprocessingExecutor::ThreadingMultiprocessingExecutor(std::optional<int> number_of_threads,
                                                                   std::optional<int> number_of_processes)
    : threads_(std::make_unique<detail::ThreadPool>(
          positive_count(number_of_threads, "ThreadingMultiprocessingExecutor: number_of_threads"))),
      workers_(std::make_unique<detail::WorkerPool>(
          positive_count(number_of_processes, "ThreadingMultiprocessingExecutor: number_of_processes"))) {}

ThreadingMultiprocessingExecutor::~ThreadingMultiprocessingExecutor() = default;

std::size_t ThreadingMultiprocessingExecutor::number_of_threads() const noexcept { return threads_->size(); }

std::shared_ptr<Executor> executor(std::optional<int> threads, std::optional<int> processes) {
  check_count(threads, "connectors::executor: threads");
  check_count(processes, "connectors::executor: processes");
  const bool with_threads = !threads || *threads != 0;
  const bool with_processes = !processes || *processes != 0;
  if (with_threads && with_processes) return std::make_shared<ThreadingMultiprocessingExecutor>(threads, processes);
  if (with_processes) return std::make_shared<MultiprocessingExecutor>(processes);
  if (with_threads) return std::make_shared<ThreadingExecutor>(threads);
  return std::make_shared<SequentialExecutor>();
}

namespace {
std::mutex default_executor_mutex;
std::shared_ptr<Executor> default_executor_instance;
}  // namespace

std::shared_ptr<Executor> default_executor() {
  std::lock_guard lock{default_executor_mutex};
  if (!default_executor_instance) default_executor_instance = executor();
  return default_executor_instance;
}

void set_default_executor(std::shared_ptr<Executor> replacement) {
  std::lock_guard lock{default_executor_mutex};
  default_executor_instance = std::move(replacement);
}

}  // namespace connectors
