#pragma once

#include <connectors/detail/frame_allocator.hpp>
#include <connectors/detail/result.hpp>
#include <connectors/detail/run_context.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace connectors {

template <class T = void>
class Task;

namespace detail {

// Several tasks started together (gather): the last one to finish resumes the
// awaiting coroutine. Only touched by whoever holds the loop (its thread, or a
// pool thread continuing its operation under its baton), so not atomic.
struct TaskGroup {
  std::size_t remaining = 0;
  std::coroutine_handle<> awaiting;
};

class PromiseBase {
 public:
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> finished) noexcept {
      PromiseBase& promise = finished.promise();
      if (promise.group_ != nullptr) {
        if (--promise.group_->remaining != 0) return std::noop_coroutine();
        return transfer_to(promise.group_->awaiting);
      }
      return transfer_to(promise.continuation_);
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }

  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { free_frame(frame, size); }

  void set_continuation(std::coroutine_handle<> continuation) noexcept { continuation_ = continuation; }
  void join_group(TaskGroup& group) noexcept { group_ = &group; }
  // Its Task let go of it while a coroutine awaits it (TaskAccess::let_go):
  // that coroutine frees it once it has taken the result.
  void orphan() noexcept { orphaned_ = true; }
  bool orphaned() const noexcept { return orphaned_; }
  // A coroutine awaits it through Task::Awaiter and has not let go of its
  // await yet: it will still take the result, even when the task has
  // finished (its continuation may wait in the loop's queue, transfer_to).
  void set_awaited(bool awaited) noexcept { awaited_ = awaited; }
  bool awaited() const noexcept { return awaited_; }

 private:
  std::coroutine_handle<> continuation_ = std::noop_coroutine();
  TaskGroup* group_ = nullptr;
  bool orphaned_ = false;
  bool awaited_ = false;
};

template <class T>
class Promise : public PromiseBase {
 public:
  template <class U = T>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) { result_.set_value(std::forward<U>(value)); }
  void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }
  Result<T>& result() noexcept { return result_; }

 private:
  Result<T> result_;
};

template <>
class Promise<void> : public PromiseBase {
 public:
  void return_void() noexcept { result_.set_value(); }
  void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }
  Result<void>& result() noexcept { return result_; }

 private:
  Result<void> result_;
};

// Whether a task was started, for the schedulers that start tasks (gather,
// Executor::run_coroutine).
struct TaskAccess {
  template <class T>
  static bool started(const Task<T>& task) noexcept {
    return task.started_;
  }
  template <class T>
  static void mark_started(Task<T>& task) noexcept {
    task.started_ = true;
  }
  // A task refused because it was started elsewhere (awaited through a
  // reference, then handed to gather or an executor): the refusing side
  // must not free a frame that a coroutine still awaits, so the task lets
  // go of it (and stays marked started); the awaiting coroutine frees it.
  // A finished task's frame is let go as well while its awaiting coroutine
  // has not taken the result yet.
  template <class T>
  static void let_go(Task<T>& task) noexcept {
    if (!task.started_ || !task.handle_) return;
    if (task.handle_.done() && !task.handle_.promise().awaited()) return;
    task.handle_.promise().orphan();
    task.handle_ = {};
  }
};

}  // namespace detail

/// A lazy coroutine producing a T. Nothing runs until the task is awaited (or
/// handed to an executor, EventLoop::create_task or gather). co_await yields the
/// value or rethrows the coroutine's exception. Destroying a task frees its
/// frame, except while a coroutine awaits it (`co_await task` on a task kept
/// elsewhere) and has not taken the result: then that coroutine frees it.
/// Tasks are move-only.
///
///     connectors::Task<int> answer() { co_return 42; }
///     connectors::Task<int> twice() { co_return 2 * co_await answer(); }
///
///     int value = connectors::executor()->run_coroutine(twice());  // 84
///
/// **Threads.** A task is not synchronised: one task is used by one thread
/// at a time (it runs on the loop that awaits it). Different tasks may be
/// used on different threads concurrently.
template <class T>
class [[nodiscard]] Task {
  static_assert(!std::is_reference_v<T>, "connectors::Task<T>: T must not be a reference; return a value");

 public:
  /// The type the task produces.
  using value_type = T;

  /// The coroutine promise the compiler uses for a function returning
  /// Task<T>; not for direct use.
  class promise_type : public detail::Promise<T> {
   public:
    /// The task the coroutine returns to its caller. Throws nothing.
    Task get_return_object() noexcept { return Task{std::coroutine_handle<promise_type>::from_promise(*this)}; }
  };
  /// The coroutine handle type (see handle()).
  using handle_type = std::coroutine_handle<promise_type>;

  /// An empty task (valid() is false).
  Task() noexcept = default;
  /// Takes `other`'s coroutine; `other` becomes empty.
  Task(Task&& other) noexcept
      : handle_(std::exchange(other.handle_, {})), started_(std::exchange(other.started_, false)) {}
  /// Destroys this task's coroutine (see ~Task) and takes `other`'s.
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
      started_ = std::exchange(other.started_, false);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  /// Frees the coroutine frame; a frame that a coroutine still awaits (through
  /// `co_await task` on this object) is freed by that coroutine once it has
  /// taken the result, or when it is destroyed. Throws nothing.
  ~Task() { reset(); }

  /// False for a default-constructed or moved-from task.
  bool valid() const noexcept { return static_cast<bool>(handle_); }
  /// True once the coroutine has run to its end (returned or threw).
  bool done() const noexcept { return handle_ && handle_.done(); }

  /// What `co_await task` uses; not for direct use.
  class Awaiter {
   public:
    /// Awaits the coroutine `handle`, which `started_before` says was
    /// started already. Throws nothing.
    explicit Awaiter(handle_type handle, bool started_before = false) noexcept
        : handle_(handle), started_before_(started_before) {}
    /// Takes `other`'s await (before it starts). Throws nothing.
    Awaiter(Awaiter&& other) noexcept
        : handle_(std::exchange(other.handle_, {})),
          started_before_(other.started_before_),
          waiting_(std::exchange(other.waiting_, false)) {}
    Awaiter& operator=(Awaiter&&) = delete;
    /// Frees the awaited frame if its task let go of it
    /// (detail::TaskAccess::let_go, ~Task): after the result was taken, or
    /// when the awaiting coroutine is destroyed before it resumed.
    ~Awaiter() {
      if (!waiting_ || !handle_) return;
      if (handle_.promise().orphaned()) {
        handle_.destroy();
      } else {
        handle_.promise().set_awaited(false);
      }
    }
    /// True if the task has finished already. Throws std::logic_error for an
    /// empty task, or one that was started (awaited) before.
    bool await_ready() const {
      if (!handle_) throw std::logic_error("connectors::Task: awaiting an empty (moved-from) task");
      // Before done(): a finished task awaited again would give its result
      // (or rethrow its error) a second time.
      if (started_before_) throw std::logic_error("connectors::Task: a task can be awaited only once");
      return handle_.done();
    }
    /// Starts the task; `awaiting` resumes when it finishes. Throws nothing.
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      waiting_ = true;
      handle_.promise().set_awaited(true);
      handle_.promise().set_continuation(awaiting);
      return detail::transfer_to(handle_);
    }
    /// The task's value, moved out, or its exception, rethrown.
    T await_resume() { return handle_.promise().result().take(); }

   private:
    handle_type handle_;
    bool started_before_;
    bool waiting_ = false;  // suspended in this await (its task was started by it)
  };

  /// Awaits the task: `co_await make_task()`. A task can be awaited once;
  /// awaiting an empty or already started task throws std::logic_error.
  Awaiter operator co_await() && noexcept { return Awaiter{handle_, std::exchange(started_, true)}; }
  /// \overload
  Awaiter operator co_await() & noexcept { return Awaiter{handle_, std::exchange(started_, true)}; }

  /// The coroutine handle, for the library's own schedulers.
  handle_type handle() const noexcept { return handle_; }

 private:
  friend struct detail::TaskAccess;

  explicit Task(handle_type handle) noexcept : handle_(handle) {}

  // A frame its awaiting coroutine has not taken the result of yet is that
  // coroutine's to free (~Awaiter): freed here, a finished task whose
  // continuation waits in the loop's queue would be read after it is gone.
  void reset() noexcept {
    if (!handle_) return;
    if (handle_.promise().awaited()) {
      handle_.promise().orphan();
      handle_ = {};
      return;
    }
    std::exchange(handle_, {}).destroy();
  }

  handle_type handle_;
  // Kept here, not in the coroutine's frame: gather checks every task before
  // it starts any, and a pass over 10^5 frames only to read a flag costs a
  // tenth of gathering them (docs/design.md#frames). Only the Task object can
  // start its coroutine, so it knows.
  bool started_ = false;
};

}  // namespace connectors
