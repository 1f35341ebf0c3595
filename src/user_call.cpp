#include <connectors/detail/user_call.hpp>
#include <connectors/event_loop.hpp>
#include <connectors/executor.hpp>

namespace connectors::detail {

void submit_queued_calls(EventLoop& loop) noexcept { LoopAccess::submit_queued_calls(loop); }

bool only_runnable_work(const Operation& operation) noexcept {
  if (operation.unstarted_requests != 0) return false;
  const EventLoop* loop = running_loop();
  return loop != nullptr && LoopAccess::idle(*loop);
}

std::coroutine_handle<> UserCallBase::await_suspend(std::coroutine_handle<> waiting) {
  queued_ = probe_queue_time();
  if (in_process_ != nullptr && operation_.placement(parallelization_) == Parallelization::PROCESS)
    task_.emplace(in_process_(operation_.executor, context_));
  if (!task_) task_.emplace(operation_.executor.run_method(parallelization_, &UserCallBase::run, *this));
  awaiter_.emplace(std::move(*task_).operator co_await());
  return awaiter_->await_suspend(waiting);
}

}  // namespace connectors::detail
