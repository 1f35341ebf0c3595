#include <connectors/detail/user_call.hpp>
#include <connectors/event_loop.hpp>
#include <connectors/executor.hpp>

#include "work_first.hpp"

namespace connectors::detail {

void submit_queued_calls(EventLoop& loop) noexcept { LoopAccess::submit_queued_calls(loop); }

bool only_runnable_work(const Operation& operation) noexcept { return only_runnable_work_here(operation); }

std::coroutine_handle<> UserCallBase::await_suspend(std::coroutine_handle<> waiting) {
  if (after_yielded_) {
    // Behind the yielded requests on the loop's ready queue.
    defer_resume(*innermost_run, waiting);
    return std::noop_coroutine();
  }
  queued_ = probe_queue_time();
  if (in_process_ != nullptr && operation_.placement(parallelization_) == Parallelization::PROCESS)
    task_.emplace(in_process_(operation_.executor, context_));
  if (!task_) task_.emplace(operation_.executor.run_method(parallelization_, &UserCallBase::run, *this));
  awaiter_.emplace(std::move(*task_).operator co_await());
  return awaiter_->await_suspend(waiting);
}

}  // namespace connectors::detail
