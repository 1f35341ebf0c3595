#pragma once

#include <connectors/task.hpp>

#include <coroutine>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

namespace connectors {

namespace detail {

// void results take a place in gather's tuple as std::monostate.
template <class T>
using gathered_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
gathered_t<T> take_gathered(Task<T>& task) {
  if constexpr (std::is_void_v<T>) {
    task.handle().promise().result().take();
    return {};
  } else {
    return task.handle().promise().result().take();
  }
}

// Call let_go_if_started on every task of a group first: a started one is
// refused, and the unwinding that follows frees the others' frames.
template <class T>
void check_gatherable(const Task<T>& task, const char* what = "connectors::gather") {
  if (TaskAccess::started(task)) throw std::logic_error(std::string(what) + ": task was already started");
  if (!task.valid()) throw std::invalid_argument(std::string(what) + ": empty (moved-from) task");
}
template <class T>
void let_go_if_started(Task<T>& task) noexcept {
  TaskAccess::let_go(task);
}

template <class T>
void start_in_group(Task<T>& task, TaskGroup& group) noexcept {
  if (task.done()) {
    --group.remaining;
    return;
  }
  TaskAccess::mark_started(task);
  task.handle().promise().join_group(group);
  // A plain (nested) resume: the task runs until its first suspension, then
  // the next one starts. Deep chains inside it are bounced by transfer_to,
  // gathers nested in gathers by resume_within_budget.
  resume_within_budget(task.handle());
}

// Starts every task, then suspends until the last of them has finished.
template <class StartAll>
class GroupAwaiter {
 public:
  GroupAwaiter(std::size_t count, StartAll start_all) : start_all_(start_all) { group_.remaining = count + 1; }
  bool await_ready() const noexcept { return group_.remaining == 1; }
  bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
    group_.awaiting = awaiting;
    start_all_(group_);
    return --group_.remaining != 0;  // zero: all finished synchronously
  }
  void await_resume() const noexcept {}

 private:
  TaskGroup group_;
  StartAll start_all_;
};

template <class T>
void note_first_error(std::exception_ptr& first, const Task<T>& task) {
  if (!first) first = task.handle().promise().result().exception();
}

}  // namespace detail

/// Runs the tasks concurrently on the current loop and waits for all of them,
/// even when one fails; then rethrows the first exception (in argument order),
/// or returns every result (std::monostate for void tasks).
///
///     auto [a, b] = co_await connectors::gather(load("a"), load("b"));
///
/// Throws: the first exception of a task; std::invalid_argument for an
/// empty task and std::logic_error for one already started (before any task
/// starts). Threads: inside a coroutine run by an executor; the tasks run on
/// its loop (the methods they await may run on other threads).
template <class... T>
Task<std::tuple<detail::gathered_t<T>...>> gather(Task<T>... tasks) {
  (detail::let_go_if_started(tasks), ...);
  (detail::check_gatherable(tasks), ...);
  co_await detail::GroupAwaiter{
      sizeof...(T), [&](detail::TaskGroup& group) noexcept { (detail::start_in_group(tasks, group), ...); }};
  std::exception_ptr first;
  (detail::note_first_error(first, tasks), ...);
  if (first) std::rethrow_exception(first);
  co_return std::tuple<detail::gathered_t<T>...>{detail::take_gathered(tasks)...};
}

/// Runs the tasks concurrently on the current loop and waits for all of them;
/// then rethrows the first exception (in vector order) or returns the results
/// in order. Errors and threads as the variadic gather.
template <class T>
Task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> gather(std::vector<Task<T>> tasks) {
  for (Task<T>& task : tasks) detail::let_go_if_started(task);
  for (const Task<T>& task : tasks) detail::check_gatherable(task);
  co_await detail::GroupAwaiter{tasks.size(), [&](detail::TaskGroup& group) noexcept {
                                  for (Task<T>& task : tasks) detail::start_in_group(task, group);
                                }};
  // One pass over the tasks: taking a result in vector order rethrows the
  // first exception in that order, and each frame is freed while it is still
  // in the cache (10^5 frames do not fit there twice).
  if constexpr (std::is_void_v<T>) {
    for (Task<T>& task : tasks) {
      detail::take_gathered(task);
      task = Task<T>{};
    }
    co_return;
  } else {
    std::vector<T> results;
    results.reserve(tasks.size());
    for (Task<T>& task : tasks) {
      results.push_back(detail::take_gathered(task));
      task = Task<T>{};
    }
    co_return results;
  }
}

}  // namespace connectors
