#include <connectors/detail/user_call.hpp>
#include <connectors/event_loop.hpp>
#include <connectors/executor.hpp>

#include "work_first.hpp"

namespace connectors::detail {

void submit_queued_calls(EventLoop& loop) noexcept { LoopAccess::submit_queued_calls(loop); }

bool only_runnable_work(const Operation& operation) noexcept { return only_runnable_work_here(operation); }

namespace {

// Set while a pool thread runs the calls it queued for itself as it
// continued operations (ContinuingCall::run), so that each runs in one loop
// on this thread rather than one inside the other.
thread_local bool running_own_calls = false;

}  // namespace

void ContinuingCall::run() noexcept {
  {
    EventLoop* const outer = std::exchange(pool_call_loop, pool_call_loop_for(origin));
    capture_into(call_.result_, [this] { call_.run(); });
    pool_call_loop = outer;
  }
  // May free this call (it lives in the frame of the request it resumes).
  LoopAccess::reply_from_worker(*origin, *this, call_.operation_.scope);
  // Only at a worker's top level: inside a run (a nested run's take-back on
  // this thread, while it still stands in for another loop) a next job would
  // run inside that run, under the other loop's baton (a guard: today's
  // engine queues no own next job before such a run; docs/design.md#continuation).
  if (running_own_calls || innermost_run != nullptr) return;
  running_own_calls = true;
  while (PoolJob* next = std::exchange(call_to_run_next, nullptr)) next->run();
  running_own_calls = false;
}

void ContinuingCall::deliver() noexcept {
  LoopAccess::end_call(*origin);
  awaiting_.resume();
}

std::coroutine_handle<> UserCallBase::await_suspend(std::coroutine_handle<> waiting) {
  if (after_yielded_ || at_home_) {
    // Behind the yielded requests on the loop's ready queue; or, for a
    // SEQUENTIAL method met by a pool thread continuing the operation, for
    // the loop's own thread.
    defer_resume(*innermost_run, waiting);
    return std::noop_coroutine();
  }
  queued_ = probe_queue_time();
  const Parallelization placement = operation_.placement(parallelization_);
  EventLoop* const loop = running_loop();
  if (placement == Parallelization::THREAD && loop != nullptr && LoopAccess::has_pool(*loop)) {
    continuing_.emplace(*this, waiting);
    LoopAccess::queue_call(*loop, *continuing_);
    return std::noop_coroutine();
  }
  if (in_process_ != nullptr && placement == Parallelization::PROCESS)
    task_.emplace(in_process_(operation_.executor, context_));
  if (!task_) task_.emplace(operation_.executor.run_method(parallelization_, &UserCallBase::run, *this));
  awaiter_.emplace(std::move(*task_).operator co_await());
  if (standing_in()) {
    // A process call starts where the executor's process machinery lives:
    // on the loop's thread.
    defer_resume(*innermost_run, awaiter_->await_suspend(waiting));
    return std::noop_coroutine();
  }
  return awaiter_->await_suspend(waiting);
}

}  // namespace connectors::detail
