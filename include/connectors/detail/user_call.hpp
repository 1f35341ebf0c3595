#pragma once

#include <connectors/detail/channel_node.hpp>
#include <connectors/detail/method_probe.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/operation.hpp>
#include <connectors/detail/result.hpp>
#include <connectors/detail/run_context.hpp>
#include <connectors/detail/thread_pool.hpp>
#include <connectors/task.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace connectors::detail {

// Hands the calls queued for the pool by other branches of `loop`'s run to
// the pool (src/user_call.cpp).
void submit_queued_calls(EventLoop& loop) noexcept;
// Work-first (docs/parallelization.md): whether a THREAD method of
// `operation` is the only work that could run now (no sibling request waits
// to start, and the running loop has nothing ready, queued or in flight), so
// that it runs on the coordinating thread, which would only wait for it.
bool only_runnable_work(const Operation& operation) noexcept;

// Awaitable that runs a user method for a protocol step, where the operation's
// executor places it. Inline placement costs no coroutine frame: the method runs
// in await_ready. On a thread it runs inside a UserCallScope, so that an
// operation it starts knows it is nested.
//
// Untyped: the method is `run(context)`, which keeps its result in the
// context, and its PROCESS task is `in_process(executor, context)`. So the
// executor's dispatch (run_method's coroutine, the pool call) is compiled
// once, in the library, rather than for every connector type in every file
// that declares one (docs/design.md#light-headers). A connector without
// `in_process` has its PROCESS methods run as THREAD instead, which the
// dispatch rules allow.
class UserCallBase;

// A THREAD method on the pool whose request goes on, after it, on the pool
// thread that ran it if the loop's thread is waiting (EventLoop's
// reply_from_worker, docs/design.md#continuation). Lives in the awaiting
// coroutine's frame; the same object is the pool's job and the loop's post.
class ContinuingCall final : public PoolJob {
 public:
  ContinuingCall(UserCallBase& call, std::coroutine_handle<> awaiting) noexcept : call_(call), awaiting_(awaiting) {}
  ContinuingCall(const ContinuingCall&) = delete;
  ContinuingCall& operator=(const ContinuingCall&) = delete;

  void run() noexcept override;
  void deliver() noexcept override;
  void discard() noexcept override {}

 private:
  UserCallBase& call_;
  std::coroutine_handle<> awaiting_;
};

class UserCallBase {
 public:
  using RunFn = void (*)(void* context);
  using InProcessFn = Task<void> (*)(Executor& executor, void* context);

  UserCallBase(Operation& operation, Parallelization parallelization, RunFn run, InProcessFn in_process,
               void* context) noexcept
      : operation_(operation),
        parallelization_(in_process == nullptr && parallelization == Parallelization::PROCESS ? Parallelization::THREAD
                                                                                              : parallelization),
        run_(run),
        in_process_(in_process),
        context_(context) {}
  UserCallBase(const UserCallBase&) = delete;
  UserCallBase& operator=(const UserCallBase&) = delete;

  bool await_ready() {
    const Parallelization placement = operation_.placement(parallelization_);
    if (placement == Parallelization::PROCESS) return false;
    // A pool thread continuing the operation runs no method while it holds
    // the loop: a THREAD one is its own next job, a SEQUENTIAL one runs on
    // the loop's thread (docs/design.md#continuation).
    if (standing_in()) {
      at_home_ = placement == Parallelization::SEQUENTIAL;
      return false;
    }
    if (placement == Parallelization::THREAD && !only_runnable_work()) return false;
    // A THREAD method of another branch waits on the loop to be decided
    // (the request engine's yield): it goes first, to the pool beside this
    // one, which runs when resumed (docs/design.md#work-first).
    if (operation_.yielded_requests != 0 && innermost_run != nullptr) {
      after_yielded_ = true;
      return false;
    }
    run_on_this_thread();
    return true;
  }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> waiting);
  void await_resume() {
    if (after_yielded_ || at_home_) run_on_this_thread();
    if (awaiter_) {
      awaiter_->await_resume();
      return;
    }
    result_.take();
  }

  // The method, where it runs: on the coordinating thread or a pool thread.
  friend class ContinuingCall;
  void run() {
    UserCallScope scope{operation_.scope};
    QueuedAt queued{queued_};
    run_(context_);
    OperationScope::check_not_poisoned(operation_.scope);
  }

 private:
  bool only_runnable_work() const noexcept { return detail::only_runnable_work(operation_); }
  // On the coordinating thread. Calls queued for the pool by other branches
  // start before this method occupies it.
  void run_on_this_thread() {
    if (EventLoop* loop = running_loop()) submit_queued_calls(*loop);
    capture_into(result_, [this] { run(); });
  }

  Operation& operation_;
  Parallelization parallelization_;
  RunFn run_;
  InProcessFn in_process_;
  void* context_;
  std::int64_t queued_ = 0;  // for traces (docs/observability.md)
  bool after_yielded_ = false;
  bool at_home_ = false;  // resumed on the loop's thread to run there
  Result<void> result_;
  std::optional<ContinuingCall> continuing_;
  std::optional<Task<void>> task_;
  std::optional<Task<void>::Awaiter> awaiter_;
};

// The typed face of a user call: keeps the function and its result.
// `in_process(executor, result)` makes the PROCESS task, which stores the
// result into `result` (std::optional<R>&); only the owner's type knows how.
template <class R, class Function, class InProcess = std::nullptr_t>
class UserCall : public UserCallBase {
  struct NoResult {};
  using Slot = std::conditional_t<std::is_void_v<R>, NoResult, std::optional<R>>;

 public:
  UserCall(Operation& operation, Parallelization parallelization, Function function, InProcess in_process = nullptr)
      : UserCallBase(operation, parallelization, &run_here, in_process_entry(), this),
        function_(std::move(function)),
        in_process_(std::move(in_process)) {}

  R await_resume() {
    UserCallBase::await_resume();
    if constexpr (!std::is_void_v<R>) return std::move(*result_);
  }

 private:
  static void run_here(void* context) {
    auto& call = *static_cast<UserCall*>(context);
    if constexpr (std::is_void_v<R>) {
      call.function_();
    } else {
      call.result_.emplace(call.function_());
    }
  }
  static Task<void> start_in_process(Executor& executor, void* context) {
    auto& call = *static_cast<UserCall*>(context);
    return call.in_process_(executor, call.result_);
  }
  static constexpr InProcessFn in_process_entry() noexcept {
    if constexpr (std::is_null_pointer_v<InProcess>) {
      return nullptr;
    } else {
      return &start_in_process;
    }
  }

  Function function_;
  InProcess in_process_;
  Slot result_;
};

template <class R, class Function, class InProcess = std::nullptr_t>
UserCall<R, Function, InProcess> user_call(Operation& operation, Parallelization parallelization, Function function,
                                           InProcess in_process = nullptr) {
  return UserCall<R, Function, InProcess>{operation, parallelization, std::move(function), std::move(in_process)};
}

// Asks an announce condition of `input` (`ask()` calls it) as a method of
// the current operation: what it answers, or nothing when it destroyed
// `input`'s block, which must then not be touched again
// (docs/design.md#lifetime). A condition that throws counts as held while a
// destructor announces (FailedConditionsHold).
template <class Ask>
std::optional<bool> ask_announce_condition(InputNode& input, Ask&& ask) {
  InputNode* alive = &input;
  DestructionWatch watch{alive};
  bool accepted = false;
  {
    UserCallScope user{UserCallScope::current()};
    MethodProbe probe{input, Phase::condition};
    accepted = FailedConditionsHold::ask([&] {
      try {
        return ask();
      } catch (...) {
        probe.note_failure();  // the hold may catch it before the probe ends
        throw;
      }
    });
  }
  if (alive == nullptr) return std::nullopt;
  return accepted;
}

}  // namespace connectors::detail
