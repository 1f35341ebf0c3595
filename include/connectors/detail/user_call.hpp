#pragma once

#include <connectors/detail/node.hpp>
#include <connectors/detail/operation.hpp>
#include <connectors/detail/result.hpp>

#include <coroutine>
#include <optional>
#include <utility>

namespace connectors::detail {

// Awaitable that runs a user method for a protocol step, where the operation's
// executor places it. Inline placement costs no coroutine frame: the method runs
// in await_ready. Either way the method runs inside a UserCallScope, so that an
// operation it starts knows it is nested.
template <class R, class Function>
class UserCall {
 public:
  UserCall(Operation& operation, Parallelization parallelization, Function function)
      : operation_(operation), parallelization_(parallelization), function_(std::move(function)) {}
  UserCall(const UserCall&) = delete;
  UserCall& operator=(const UserCall&) = delete;

  bool await_ready() {
    if (operation_.placement(parallelization_) != Parallelization::SEQUENTIAL) return false;
    capture_into(result_, [this]() -> R { return run(); });
    return true;
  }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> waiting) {
    task_.emplace(operation_.executor.run_method(parallelization_, &UserCall::run, *this));
    awaiter_.emplace(std::move(*task_).operator co_await());
    return awaiter_->await_suspend(waiting);
  }
  R await_resume() {
    if (awaiter_) return awaiter_->await_resume();
    return result_.take();
  }

 private:
  R run() {
    UserCallScope scope{operation_.scope};
    return function_();
  }

  Operation& operation_;
  Parallelization parallelization_;
  Function function_;
  Result<R> result_;
  std::optional<Task<R>> task_;
  std::optional<typename Task<R>::Awaiter> awaiter_;
};

template <class R, class Function>
UserCall<R, Function> user_call(Operation& operation, Parallelization parallelization, Function function) {
  return UserCall<R, Function>{operation, parallelization, std::move(function)};
}

}  // namespace connectors::detail
