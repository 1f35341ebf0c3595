#pragma once

#include <connectors/detail/executor_factory.hpp>
#include <connectors/detail/pool_call.hpp>
#include <connectors/detail/process_entry.hpp>
#include <connectors/detail/type_name.hpp>
#include <connectors/event_loop.hpp>
#include <connectors/flags.hpp>
#include <connectors/future.hpp>
#include <connectors/gather.hpp>
#include <connectors/task.hpp>

#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace connectors {

namespace detail {
class ThreadPool;
class ProcessBackend;  // <connectors/process.hpp>

template <class Method, class Owner, class... Args>
using method_result_t = std::remove_cvref_t<std::invoke_result_t<Method, Owner&, Args...>>;

template <class T>
Task<void> discard_result(Task<T> task) {
  co_await std::move(task);
}
}  // namespace detail

/// Runs coroutines on event loops and decides where each connector method runs:
/// inline on the loop's thread, on a thread pool, or in a worker process
/// (see docs/executors.md for the dispatch table). One executor may drive
/// several runs at once, from different threads, and runs may nest.
///
///     auto threads = connectors::executor(4, 0);          // a ThreadingExecutor
///     block.get_result.set_executor(threads);             // this connector's operations
///     connectors::set_default_executor(connectors::executor(0, 0));  // all others: sequential
///
///     connectors::Task<double> both(Block& a, Block& b) {
///       auto [x, y] = co_await connectors::gather(
///           threads->run_method(connectors::Parallelization::THREAD, &Block::slow, a),
///           threads->run_method(connectors::Parallelization::THREAD, &Block::slow, b));
///       co_return x + y;
///     }
///     double sum = threads->run_coroutine(both(a, b));
///
/// **Threads.** Every member may be called from any thread at any time; each
/// run happens on the thread that starts it, and several threads may run on
/// one executor at once. Its pool (if it has one) runs at most its number of
/// threads of methods at once, for all runs together; a run that something
/// may be waiting for (a network operation's, a nested one, one on a pool
/// thread) runs its own queued calls itself, beside them, when every pool
/// thread stays busy (docs/executors.md, "Nested runs"). An executor must outlive the runs and the
/// connectors that use it (connectors hold it by shared_ptr).
class Executor {
 public:
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  /// Throws nothing. Destroy an executor only when no run uses it (connectors
  /// hold it by shared_ptr, so the last of them lets it go).
  virtual ~Executor();

  /// The loop this executor runs on the calling thread (the innermost one if
  /// runs nest), or nullptr when it runs none here.
  EventLoop* get_event_loop() const noexcept;

  /// Runs `coro` on a new event loop on the calling thread; returns its value
  /// or rethrows its exception. Returns only after every method the run started
  /// has returned. Throws: what the coroutine throws; std::invalid_argument
  /// for an empty task, std::logic_error for one that was already started.
  /// May be called from a method that runs inside another run (it nests).
  template <class T>
  T run_coroutine(Task<T> coro) {
    if (detail::TaskAccess::started(coro)) {
      detail::TaskAccess::let_go(coro);
      throw std::logic_error("Executor::run_coroutine: task was already started");
    }
    if (!coro.valid()) throw std::invalid_argument("Executor::run_coroutine: empty (moved-from) task");
    detail::TaskAccess::mark_started(coro);
    try {
      run_root(coro.handle());
    } catch (...) {
      // A callback's exception (EventLoop::call_soon) stands in for the
      // run's value, not for the coroutine's own exception, which wins.
      if (!coro.done() || !coro.handle().promise().result().has_exception()) throw;
    }
    return coro.handle().promise().result().take();
  }

  /// Runs every task of `coros` (a range of Task<...>, consumed) concurrently on
  /// one new loop, waits for all of them, then rethrows the first exception.
  /// Checked before any starts: an empty task throws std::invalid_argument, a
  /// task that already started std::logic_error (as gather).
  template <class R>
  requires std::ranges::input_range<R>
  void run_coroutines(R&& coros) {
    std::vector<std::ranges::range_value_t<R>> taken;
    if constexpr (std::ranges::sized_range<R>) taken.reserve(std::ranges::size(coros));
    for (auto&& coro : coros) taken.push_back(std::move(coro));
    for (auto& coro : taken) detail::let_go_if_started(coro);
    for (const auto& coro : taken) detail::check_gatherable(coro, "Executor::run_coroutines");
    std::vector<Task<void>> all;
    all.reserve(taken.size());
    for (auto& coro : taken) all.push_back(detail::discard_result(std::move(coro)));
    run_coroutine(gather(std::move(all)));
  }

  /// Runs a new loop until `future` is done; returns its value or rethrows.
  /// Throws what the future's exception is. Threads: as run_coroutine.
  template <class T>
  T run_until_complete(Future<T> future) {
    return run_coroutine(await_future(std::move(future)));
  }
  /// Same as run_coroutine.
  /// Errors and threads as run_coroutine.
  template <class T>
  T run_until_complete(Task<T> task) {
    return run_coroutine(std::move(task));
  }

  /// Runs `method` on `instance` with `args` inline, on a pool thread or in a
  /// worker process, as `parallelization` allows and this executor offers
  /// (effective_parallelization, asked when run_method is called).
  /// Must be awaited in a coroutine that this executor runs; otherwise the
  /// await throws std::logic_error. Arguments are decay-copied into the task
  /// (like std::thread); pass std::cref to share a large one. In a worker
  /// process the method runs on a copy of the owner's state; types that cannot
  /// travel (see process_traits.hpp) then throw std::invalid_argument, and a
  /// program without connectors::init std::logic_error (docs/processes.md).
  template <class Method, class Owner, class... Args>
  requires std::invocable<Method, Owner&, std::decay_t<Args>...>
      Task<detail::method_result_t<Method, Owner, std::decay_t<Args>...>> run_method(Parallelization parallelization,
                                                                                     Method method, Owner& instance,
                                                                                     Args&&... args) {
    // The placement is chosen when the task is made (effective_parallelization
    // is a pure function of the flag), so each placement gets a coroutine of
    // its own and a THREAD call's frame carries neither the process call's
    // task nor an inline call's state: 10^5 gathered THREAD calls then fit a
    // smaller size class (docs/benchmarks.md, "Smaller frames for THREAD
    // calls"). The loop is still looked up when the task first runs, and each
    // argument is built straight into the one coroutine that takes it.
    using R = detail::method_result_t<Method, Owner, std::decay_t<Args>...>;
    switch (effective_parallelization(parallelization)) {
      case Parallelization::PROCESS:
        return call_placed_in_process<R>(std::move(method), &instance, std::decay_t<Args>(std::forward<Args>(args))...);
      case Parallelization::SEQUENTIAL:
        return call_inline<R>(std::move(method), &instance, std::decay_t<Args>(std::forward<Args>(args))...);
      case Parallelization::THREAD:
        break;
    }
    return call_on_pool(detail::PoolCall<R, Method, Owner, std::decay_t<Args>...>{std::move(method), &instance,
                                                                                  std::forward<Args>(args)...});
  }

  /// Where this executor runs a method flagged `requested`: SEQUENTIAL means
  /// inline on the loop's thread, THREAD on its pool, PROCESS in a worker.
  /// Any thread; throws nothing.
  virtual Parallelization effective_parallelization(Parallelization requested) const noexcept = 0;

 protected:
  /// For the executors derived from this class.
  Executor() = default;

  /// \cond INTERNAL
  /// The pool used for THREAD placement; null when there is none.
  virtual detail::ThreadPool* thread_pool() const noexcept { return nullptr; }
  /// Where PROCESS placements run (local worker processes, MPI ranks, ...);
  /// null when there is nowhere.
  virtual detail::ProcessBackend* process_backend() const noexcept { return nullptr; }
  /// \endcond

 private:
  void run_root(std::coroutine_handle<> root);
  EventLoop& loop_for_method_call() const;

  template <class T>
  static Task<T> await_future(Future<T> future) {
    co_return co_await future;
  }

  // The process call is a coroutine of its own (ProcessEntry::call), so that
  // the frames of inline and THREAD calls do not carry its state. An owner
  // that declares no state to travel fails without PROCESS support compiled
  // in; one that does needs <connectors/process.hpp> (detail/process_entry.hpp).
  template <class R, class Method, class Owner, class... Args>
  Task<R> call_in_process(EventLoop& loop, const Method& method, Owner* instance, const Args&... args) {
    if constexpr (detail::declares_process_state<Owner> && !detail::complete_type<detail::ProcessEntry<Owner>>) {
      static_assert(detail::complete_type<detail::ProcessEntry<Owner>>, CONNECTORS_DETAIL_PROCESS_HEADER_MISSING);
      return Task<R>{};
    } else if constexpr (detail::declares_process_state<Owner>) {
      return detail::ProcessEntry<Owner>::template call<R>(process_backend(), loop, method, instance, args...);
    } else {
      return detail::failed_task<R>(detail::no_process_state_error(
          "Executor::run_method: cannot run in a worker process: ", typeid(Owner), std::is_class_v<Owner>));
    }
  }

  template <class R, class Method, class Owner, class... Args>
  Task<R> call_placed_in_process(Method method, Owner* instance, Args... args) {
    EventLoop& loop = loop_for_method_call();
    co_return co_await call_in_process<R>(loop, method, instance, args...);
  }

  template <class R, class Method, class Owner, class... Args>
  Task<R> call_inline(Method method, Owner* instance, Args... args) {
    detail::LoopAccess::submit_queued_calls(loop_for_method_call());
    co_return std::invoke(method, *instance, std::move(args)...);
  }

  // The call is the coroutine's one parameter and is awaited in place
  // (detail::PoolCall says why).
  template <class R, class Method, class Owner, class... Args>
  Task<R> call_on_pool(detail::PoolCall<R, Method, Owner, Args...> call) {
    call.reply_to(loop_for_method_call());
    co_return co_await call;
  }
};

/// Runs every method inline on the loop's thread. Threads: as Executor.
class SequentialExecutor final : public Executor {
 public:
  /// No threads, no processes. Throws nothing.
  SequentialExecutor() = default;
  /// Always SEQUENTIAL.
  /// Any thread.
  Parallelization effective_parallelization(Parallelization) const noexcept override {
    return Parallelization::SEQUENTIAL;
  }
};

/// Runs THREAD (and, lacking processes, PROCESS) methods on a persistent pool of
/// threads, started at the first such call; SEQUENTIAL methods run inline.
/// Threads: as Executor.
class ThreadingExecutor final : public Executor {
 public:
  /// `number_of_threads`: the pool size (at least 1), or nullopt for
  /// std::thread::hardware_concurrency(). Throws std::invalid_argument for 0
  /// or a negative count, or more than 4096.
  explicit ThreadingExecutor(std::optional<int> number_of_threads);
  /// Joins the pool's threads. Throws nothing.
  ~ThreadingExecutor() override;

  /// The maximum number of threads that run methods at once. Any thread.
  std::size_t number_of_threads() const noexcept;

  /// SEQUENTIAL stays inline; THREAD and PROCESS run on the pool.
  /// Any thread.
  Parallelization effective_parallelization(Parallelization requested) const noexcept override {
    return requested == Parallelization::SEQUENTIAL ? Parallelization::SEQUENTIAL : Parallelization::THREAD;
  }

 protected:
  /// \cond INTERNAL
  detail::ThreadPool* thread_pool() const noexcept override { return pool_.get(); }
  /// \endcond

 private:
  std::unique_ptr<detail::ThreadPool> pool_;
};

}  // namespace connectors
