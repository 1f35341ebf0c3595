#pragma once

#include <connectors/detail/channel.hpp>
#include <connectors/detail/run_context.hpp>
#include <connectors/detail/thread_pool.hpp>
#include <connectors/future.hpp>
#include <connectors/task.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace connectors {

class Executor;

namespace detail {
class DestructionWatch;
class LoopAccess;
class OperationScope;

// The call a pool thread that continues an operation (standing_in) queued
// first: it runs it itself once it has left the loop (EventLoop::reply_from_worker).
inline thread_local PoolJob* call_to_run_next = nullptr;

// The coroutine that drives a task given to EventLoop::create_task. The loop
// keeps every unfinished one in a list so that it can free them when it ends.
class DetachedTask {
 public:
  struct promise_type {
    DetachedTask get_return_object() noexcept {
      return DetachedTask{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> finished) const noexcept { finished.destroy(); }
      void await_resume() const noexcept {}
    };
    FinalAwaiter final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    // The body forwards every exception into its Future.
    void unhandled_exception() const noexcept { std::terminate(); }

    promise_type() = default;
    promise_type(const promise_type&) = delete;
    promise_type& operator=(const promise_type&) = delete;
    ~promise_type() { unlink(); }

    void unlink() noexcept {
      if (previous != nullptr) previous->next = next;
      if (next != nullptr) next->previous = previous;
      if (list_head != nullptr && *list_head == this) *list_head = next;
      previous = next = nullptr;
      list_head = nullptr;
    }

    promise_type* previous = nullptr;
    promise_type* next = nullptr;
    promise_type** list_head = nullptr;
  };

  explicit DetachedTask(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}
  std::coroutine_handle<promise_type> handle() const noexcept { return handle_; }

 private:
  std::coroutine_handle<promise_type> handle_;
};

// The first completion wins: a Future completed by hand (through a copy)
// before its task finished keeps that result, and the task's is dropped; a
// second completion here would throw out of a coroutine that cannot throw.
template <class T>
DetachedTask drive_into(Task<T> task, Future<T> future) {
  FutureState<T>& state = FutureAccess::state(future);
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
      state.try_complete([](Result<T>& result) { result.set_value(); });
    } else {
      auto&& value = co_await std::move(task);
      state.try_complete([&](Result<T>& result) { result.set_value(std::forward<decltype(value)>(value)); });
    }
  } catch (...) {
    state.try_complete([error = std::current_exception()](Result<T>& result) { result.set_exception(error); });
  }
}

}  // namespace detail

/// A single-threaded event loop. Executors create one per run (run_coroutine,
/// run_coroutines, run_until_complete) on the calling thread; inside the run,
/// Executor::get_event_loop() returns it. Coroutines of the run are only ever
/// resumed on the loop's thread. (The library's own requests in a network
/// operation may go on on a pool thread in the loop's place while the loop's
/// thread waits: docs/design.md, §4.4. Coroutines given to an executor
/// never do.)
///
///     connectors::Task<int> main_task(connectors::Executor& executor) {
///       connectors::EventLoop& loop = *executor.get_event_loop();  // the run's loop
///       connectors::Future<int> started = loop.create_task(compute());  // runs alongside
///       co_return co_await started + 1;
///     }
///     int value = executor->run_coroutine(main_task(*executor));
///
/// **Threads.** create_task and call_soon only on the loop's own thread
/// (std::logic_error elsewhere); call_soon_threadsafe, executor() and
/// thread_id() from any thread. A loop is made and destroyed by its
/// executor; users only get references to it while it runs.
class EventLoop {
 public:
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  /// Destroys the tasks given to create_task that are still waiting. Run by
  /// the executor when the run ends.
  /// Throws nothing.
  ~EventLoop();

  /// Schedules `task` to start soon, concurrently with the running coroutine.
  /// The returned Future completes with the task's result or exception. A task
  /// still waiting when the run ends is destroyed. The Future may also be
  /// completed by hand (any copy may complete a Future): the first completion
  /// wins, and the task's later result or exception is dropped. Loop thread
  /// only.
  /// Throws: std::logic_error off the loop's thread, after the run ended, or
  /// for a task that was already started (as gather), std::invalid_argument
  /// for an empty task.
  template <class T>
  Future<T> create_task(Task<T> task) {
    // (Let go of first: any refusal below destroys the task.)
    if (detail::TaskAccess::started(task)) detail::TaskAccess::let_go(task);
    check_loop_thread("EventLoop::create_task");
    if (detail::TaskAccess::started(task)) throw std::logic_error("EventLoop::create_task: task was already started");
    if (!task.valid()) throw std::invalid_argument("EventLoop::create_task: empty (moved-from) task");
    Future<T> future;
    detail::DetachedTask driver = detail::drive_into(std::move(task), future);
    adopt(driver.handle());
    return future;
  }

  /// Runs `callback` soon on the loop. Loop thread only: from other threads use
  /// call_soon_threadsafe. The first exception a callback throws does not cut
  /// the run short: the run finishes its coroutine, then rethrows it in place
  /// of the coroutine's value (an exception of the coroutine's own wins).
  /// Throws: std::logic_error off the loop's thread or after the run ended,
  /// std::invalid_argument for an empty callback.
  void call_soon(std::function<void()> callback);

  /// Runs `callback` soon on the loop; callable from any thread while the
  /// loop exists: it is destroyed when its run returns, so a thread that
  /// posts must be done before the run can end (have the run await a Future
  /// that the callback completes; a thread that may outlive the run
  /// completes a Future instead, docs/executors.md). Returns false (and drops
  /// the callback) when the loop is ending; a post racing with the end may
  /// also return true and be dropped. Throws std::invalid_argument for
  /// an empty callback. An exception the callback throws is handled as for
  /// call_soon.
  bool call_soon_threadsafe(std::function<void()> callback);

  /// The executor that runs this loop.
  /// Any thread.
  const Executor& executor() const noexcept { return *executor_; }
  /// The thread the loop runs on.
  std::thread::id thread_id() const noexcept { return thread_id_; }

 private:
  friend class detail::LoopAccess;
  friend void detail::defer_resume(EventLoop&, std::coroutine_handle<>) noexcept;

  struct Ready {
    std::coroutine_handle<> handle;
    std::function<void()> callback;
  };

  // Wakes the loop's own thread for what a pool thread continuing an
  // operation left it (reply_from_worker); in the channel at most once.
  class WakeUp final : public detail::ChannelNode {
   public:
    std::atomic<bool> posted{false};
    void deliver() noexcept override { posted.store(false, std::memory_order_relaxed); }
    void discard() noexcept override {}
  };

  EventLoop(const Executor& executor, detail::ThreadPool* pool);

  void run_until_done(std::coroutine_handle<> root);
  void adopt(std::coroutine_handle<detail::DetachedTask::promise_type> driver);
  void check_loop_thread(const char* what) const;
  void run_ready() noexcept;
  bool deliver_posts() noexcept;
  void idle() noexcept;
  void submit_outbox() noexcept;
  void shut_down() noexcept;
  void reply_from_worker(detail::ChannelNode& reply, detail::OperationScope* scope) noexcept;
  void lock_baton() noexcept;

  const Executor* executor_;
  detail::ThreadPool* pool_;
  std::thread::id thread_id_;
  std::shared_ptr<detail::Channel> channel_;
  std::deque<Ready> ready_;
  std::size_t calls_in_flight_ = 0;
  detail::JobList outbox_;
  detail::DetachedTask::promise_type* detached_ = nullptr;
  std::exception_ptr callback_error_;
  bool finished_ = false;
  bool polled_ = false;  // idle's last wait passed a poll interval without a post (idle)
  // Held by whoever runs the loop's coroutines: its own thread, except while
  // it waits for a post, when a pool thread that finished a method may take
  // it and continue the request itself (docs/design.md#continuation).
  std::mutex baton_;
  WakeUp wake_up_;
  // Whether the loop's thread is a pool worker (a run nested in a method):
  // such a loop takes its calls back at once when it waits, so it is not
  // continued by stand-ins, whose calls would not wake it (idle).
  bool home_on_worker_ = false;
  // The loop whose method the loop's thread runs, if any: a stand-in hands a
  // destruction of that loop's network there, as the loop's thread would
  // (leave_network).
  EventLoop* home_pool_call_loop_ = nullptr;
  // The loop's thread's destruction watches when the run began, parked below
  // it: a stand-in tells them of the inputs it destroys, as the loop's
  // thread would (docs/design.md#continuation).
  detail::DestructionWatch* home_watch_ = nullptr;
};

namespace detail {

// What executors need of a loop and what users must not call.
class LoopAccess {
 public:
  static std::unique_ptr<EventLoop> make(const Executor& executor, ThreadPool* pool) {
    return std::unique_ptr<EventLoop>(new EventLoop(executor, pool));
  }
  static void run_until_done(EventLoop& loop, std::coroutine_handle<> root) { loop.run_until_done(root); }
  static Channel& channel(EventLoop& loop) noexcept { return *loop.channel_; }
  static std::shared_ptr<Channel> channel_ptr(EventLoop& loop) { return loop.channel_; }
  // A method call for the pool, submitted with the others of this round. The
  // run does not end before its reply was delivered.
  // On a pool thread continuing the loop's operation, the first call is the
  // thread's own next job (call_to_run_next), without a trip through the pool;
  // unless the thread holds jobs of its chunk still, which would wait behind it
  // while other workers may be idle.
  static void queue_call(EventLoop& loop, PoolJob& call) noexcept {
    ++loop.calls_in_flight_;
    call.origin = &loop;
    if (call_to_run_next == nullptr && standing_in_for == &loop && running_loop() == &loop &&
        !ThreadPool::worker_holds_jobs()) {
      call_to_run_next = &call;
      return;
    }
    loop.outbox_.push_back(call);
  }
  // A pool thread finished the method of a call of `loop`'s operation
  // `scope`: it continues the request itself when the loop's thread is
  // waiting, and posts `reply` to it otherwise.
  static void reply_from_worker(EventLoop& loop, ChannelNode& reply, OperationScope* scope) noexcept {
    loop.reply_from_worker(reply, scope);
  }
  static bool has_pool(const EventLoop& loop) noexcept { return loop.pool_ != nullptr; }
  // Whether the loop's thread, not the calling one, keeps destruction
  // watches below its run (hand_off_unlink).
  static bool watched_elsewhere(const EventLoop& loop) noexcept {
    return loop.home_watch_ != nullptr && std::this_thread::get_id() != loop.thread_id_;
  }
  // Before a method runs inline: what was queued must not wait for it.
  // Inline, since the request engine asks before every SEQUENTIAL method.
  static void submit_queued_calls(EventLoop& loop) noexcept {
    if (!loop.outbox_.empty()) loop.submit_outbox();
  }
  // A method call served elsewhere (a worker process): the run does not end
  // before end_call.
  static void begin_call(EventLoop& loop) noexcept { ++loop.calls_in_flight_; }
  static void end_call(EventLoop& loop) noexcept { --loop.calls_in_flight_; }
  // Nothing else can run on the loop now: no coroutine is ready, no call is
  // queued or in flight (a method awaited now would be the only work).
  static bool idle(const EventLoop& loop) noexcept {
    return loop.ready_.empty() && loop.outbox_.empty() && loop.calls_in_flight_ == 0;
  }
};

}  // namespace detail

}  // namespace connectors
