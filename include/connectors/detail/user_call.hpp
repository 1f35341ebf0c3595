#pragma once

#include <connectors/detail/method_probe.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/operation.hpp>
#include <connectors/detail/result.hpp>

#include <coroutine>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace connectors::detail {

// Awaitable that runs a user method for a protocol step, where the operation's
// executor places it. Inline placement costs no coroutine frame: the method runs
// in await_ready. On a thread it runs inside a UserCallScope, so that an
// operation it starts knows it is nested. PROCESS placement needs the owner's
// type, which only the connector knows: `in_process` makes that task (a
// connector without one has its PROCESS methods run as THREAD instead, which
// the dispatch rules allow).
template <class R, class Function, class InProcess = std::nullptr_t>
class UserCall {
 public:
  UserCall(Operation& operation, Parallelization parallelization, Function function, InProcess in_process = nullptr)
      : operation_(operation),
        parallelization_(parallelization),
        function_(std::move(function)),
        in_process_(std::move(in_process)) {
    if constexpr (std::is_null_pointer_v<InProcess>) {
      if (parallelization_ == Parallelization::PROCESS) parallelization_ = Parallelization::THREAD;
    }
  }
  UserCall(const UserCall&) = delete;
  UserCall& operator=(const UserCall&) = delete;

  bool await_ready() {
    const Parallelization placement = operation_.placement(parallelization_);
    if (placement == Parallelization::PROCESS) return false;
    if (placement == Parallelization::THREAD && !only_runnable_work()) return false;
    // Calls queued for the pool by other branches start before this method
    // occupies the coordinating thread.
    if (EventLoop* loop = running_loop()) LoopAccess::submit_queued_calls(*loop);
    capture_into(result_, [this]() -> R { return run(); });
    return true;
  }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> waiting) {
    queued_ = probe_queue_time();
    if constexpr (!std::is_null_pointer_v<InProcess>) {
      if (operation_.placement(parallelization_) == Parallelization::PROCESS)
        task_.emplace(in_process_(operation_.executor));
    }
    if (!task_) task_.emplace(operation_.executor.run_method(parallelization_, &UserCall::run, *this));
    awaiter_.emplace(std::move(*task_).operator co_await());
    return awaiter_->await_suspend(waiting);
  }
  R await_resume() {
    if (awaiter_) return awaiter_->await_resume();
    return result_.take();
  }

 private:
  // Work-first (docs/parallelization.md): a THREAD method that nothing else
  // could overlap runs on the coordinating thread, which would only wait.
  bool only_runnable_work() const noexcept {
    if (operation_.unstarted_requests != 0) return false;
    const EventLoop* loop = running_loop();
    return loop != nullptr && LoopAccess::idle(*loop);
  }

  R run() {
    UserCallScope scope{operation_.scope};
    QueuedAt queued{queued_};
    if constexpr (std::is_void_v<R>) {
      function_();
      OperationScope::check_not_poisoned(operation_.scope);
    } else {
      R result = function_();
      OperationScope::check_not_poisoned(operation_.scope);
      return result;
    }
  }

  Operation& operation_;
  Parallelization parallelization_;
  Function function_;
  InProcess in_process_;
  std::int64_t queued_ = 0;  // for traces (docs/observability.md)
  Result<R> result_;
  std::optional<Task<R>> task_;
  std::optional<typename Task<R>::Awaiter> awaiter_;
};

template <class R, class Function, class InProcess = std::nullptr_t>
UserCall<R, Function, InProcess> user_call(Operation& operation, Parallelization parallelization, Function function,
                                           InProcess in_process = nullptr) {
  return UserCall<R, Function, InProcess>{operation, parallelization, std::move(function), std::move(in_process)};
}

}  // namespace connectors::detail
