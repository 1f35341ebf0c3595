#pragma once

#include <connectors/detail/channel.hpp>
#include <connectors/detail/result.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace connectors {

namespace detail {

// The channel of the loop running on the calling thread; throws
// std::logic_error naming `what` when no loop runs here.
std::shared_ptr<Channel> running_loop_channel(const char* what);

// A coroutine suspended on a Future, on its way back to its own loop.
class FutureWaiter final : public ChannelNode {
 public:
  FutureWaiter(std::shared_ptr<Channel> channel, std::coroutine_handle<> handle) noexcept
      : channel_(std::move(channel)), handle_(handle) {}

  void wake() noexcept {
    std::shared_ptr<Channel> channel = channel_;  // the node may be gone once posted
    if (!channel->post(*this)) discard();
  }
  void deliver() noexcept override {
    std::coroutine_handle<> handle = handle_;
    delete this;
    handle.resume();
  }
  void discard() noexcept override { delete this; }

  // Its place in the future's waiters (FutureState::waiters).
  std::size_t position = 0;

 private:
  std::shared_ptr<Channel> channel_;
  std::coroutine_handle<> handle_;
};

template <class T>
struct FutureState {
  std::mutex mutex;
  std::atomic<bool> done{false};
  Result<T> result;
  // The coroutines suspended on it, oldest first (they are woken in that
  // order). A coroutine destroyed while it waits (its run ended,
  // EventLoop::shut_down) leaves a null in its place, and the nulls are
  // squeezed out once they are half of the list: a long-lived future awaited
  // by many runs keeps no waiter of theirs. (A vector, not a linked list: the
  // wake-up walk over 10^5 waiters is not a chain of dependent loads.)
  std::vector<FutureWaiter*> waiters;
  std::size_t abandoned = 0;

  ~FutureState() {
    // Unreachable while every waiter's Awaiter holds the state; kept so that
    // no waiter can leak.
    for (FutureWaiter* waiter : waiters) {
      if (waiter != nullptr) waiter->discard();
    }
  }

  // Under `mutex`, while not done. Throws std::bad_alloc, registering
  // nothing. (The list grows geometrically: one future awaited by 10^5
  // coroutines registers them in linear time.)
  void add_waiter(FutureWaiter& waiter) {
    waiters.push_back(&waiter);
    waiter.position = waiters.size() - 1;
  }
  // Takes out and frees the waiter of a coroutine destroyed before the
  // future woke it; does nothing once the future is done (the waiter is
  // then the completing thread's, on its way to the loop, which discards it
  // if the loop ended).
  void abandon_waiter(FutureWaiter& waiter) noexcept {
    {
      std::lock_guard lock{mutex};
      if (done.load(std::memory_order_relaxed)) return;
      waiters[waiter.position] = nullptr;
      if (++abandoned * 2 >= waiters.size()) squeeze_out_abandoned();
    }
    waiter.discard();
  }
  void squeeze_out_abandoned() noexcept {
    std::size_t kept = 0;
    for (FutureWaiter* waiter : waiters) {
      if (waiter == nullptr) continue;
      waiter->position = kept;
      waiters[kept++] = waiter;
    }
    waiters.resize(kept);
    abandoned = 0;
    // The memory too, when most of it is unused (its many waiters ended
    // together); a shrink that finds no memory keeps the larger buffer.
    if (waiters.capacity() > 64 && waiters.capacity() / 4 > kept) {
      try {
        waiters.shrink_to_fit();
      } catch (...) {
      }
    }
  }

  // Stores through `store` and wakes the waiters; false, storing nothing,
  // if it was completed already.
  template <class Store>
  bool try_complete(Store&& store) {
    std::vector<FutureWaiter*> to_wake;
    {
      std::lock_guard lock{mutex};
      if (done.load(std::memory_order_relaxed)) return false;
      std::forward<Store>(store)(result);
      done.store(true, std::memory_order_release);
      to_wake.swap(waiters);
      abandoned = 0;
    }
    for (FutureWaiter* waiter : to_wake) {
      if (waiter != nullptr) waiter->wake();
    }
    return true;
  }

  template <class Store>
  void complete(Store&& store) {
    if (!try_complete(std::forward<Store>(store))) {
      throw std::logic_error("connectors::Future: the result was already set");
    }
  }
};

struct FutureAccess;

}  // namespace detail

/// A copyable handle to one shared, one-shot result (like asyncio.Future).
/// Any copy may complete it, from any thread; coroutines awaiting it are
/// resumed on their own loop's thread. Completing it twice throws
/// std::logic_error. Awaiting yields a copy of the value (a move-only value is
/// moved out, so such a Future can be awaited once).
///
///     connectors::Future<int> future;
///     std::thread worker{[future]() mutable { future.set_result(42); }};
///     int value = connectors::executor()->run_until_complete(future);
///     worker.join();
///
/// **Threads.** Every member may be called from any thread, concurrently with
/// the others, on any copy; the shared state is locked.
template <class T = void>
class Future {
 public:
  /// The type of the result.
  using value_type = T;

  /// A new, not yet completed result. Throws only std::bad_alloc.
  Future() : state_(std::make_shared<detail::FutureState<T>>()) {}
  /// Another handle to the same result. Throws nothing.
  Future(const Future&) = default;
  /// As the copy: a handle is never empty, so a moved-from Future still
  /// refers to its result (like a copy kept by the thread that completes
  /// it). Throws nothing.
  Future(Future&& other) noexcept : state_(other.state_) {}
  /// Refers to `other`'s result. Throws nothing.
  Future& operator=(const Future&) = default;
  /// As the copy assignment. Throws nothing.
  Future& operator=(Future&& other) noexcept {
    state_ = other.state_;
    return *this;
  }

  /// Completes the future with `value` and wakes its awaiters (each on its
  /// own loop). Throws std::logic_error if it was completed already.
  template <class U = T>
  requires(!std::is_void_v<U> && std::is_convertible_v<U&&, T>) void set_result(U&& value) {
    state_->complete([&](detail::Result<T>& result) { result.set_value(std::forward<U>(value)); });
  }
  /// Completes a Future<void> and wakes its awaiters. Throws
  /// std::logic_error if it was completed already.
  void set_result() requires std::is_void_v<T> {
    state_->complete([](detail::Result<T>& result) { result.set_value(); });
  }
  /// Completes the future with an exception, rethrown to every awaiter.
  /// Throws std::invalid_argument for a null `error`, std::logic_error if it
  /// was completed already.
  void set_exception(std::exception_ptr error) {
    if (!error) throw std::invalid_argument("connectors::Future::set_exception: null exception_ptr");
    state_->complete([&](detail::Result<T>& result) { result.set_exception(std::move(error)); });
  }

  /// True once a result or an exception was set.
  bool done() const noexcept { return state_->done.load(std::memory_order_acquire); }

  /// What `co_await future` uses; not for direct use.
  class Awaiter {
   public:
    /// \cond INTERNAL
    explicit Awaiter(std::shared_ptr<detail::FutureState<T>> state) noexcept : state_(std::move(state)) {}
    /// \endcond
    /// Takes `other`'s await (before it suspends). Throws nothing.
    Awaiter(Awaiter&& other) noexcept
        : state_(std::move(other.state_)), waiter_(std::exchange(other.waiter_, nullptr)) {}
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    Awaiter& operator=(Awaiter&&) = delete;
    /// A coroutine destroyed while it waits (its run ended) stops waiting:
    /// the future keeps nothing of it. Throws nothing.
    ~Awaiter() {
      if (waiter_ != nullptr) state_->abandon_waiter(*waiter_);
    }
    /// True if the future is completed already.
    bool await_ready() const noexcept { return state_->done.load(std::memory_order_acquire); }
    /// Registers `awaiting` to be resumed on its loop when the future
    /// completes. Throws std::logic_error outside a coroutine run by an
    /// executor.
    bool await_suspend(std::coroutine_handle<> awaiting) {
      auto channel =
          detail::running_loop_channel("connectors::Future can only be awaited in a coroutine run by an executor");
      std::lock_guard lock{state_->mutex};
      if (state_->done.load(std::memory_order_relaxed)) return false;
      // Owned until the list has it: a registration that fails to grow the
      // list leaks nothing.
      auto waiter = std::make_unique<detail::FutureWaiter>(std::move(channel), awaiting);
      state_->add_waiter(*waiter);
      waiter_ = waiter.release();
      return true;
    }
    /// The result (a copy; a move-only value is moved out), or the
    /// exception, rethrown.
    T await_resume() {
      waiter_ = nullptr;  // delivered (and freed) by the loop
      return extract(*state_);
    }

   private:
    std::shared_ptr<detail::FutureState<T>> state_;
    // Registered with the future and not woken yet, as far as this await
    // knows (see ~Awaiter).
    detail::FutureWaiter* waiter_ = nullptr;
  };

  /// Awaits the result in a coroutine run by an executor:
  /// `int value = co_await future;`. Any number of coroutines may await one
  /// future (a move-only result: only one).
  Awaiter operator co_await() const noexcept { return Awaiter{state_}; }

 private:
  friend struct detail::FutureAccess;

  static T extract(detail::FutureState<T>& state) {
    if constexpr (std::is_void_v<T>) {
      state.result.peek();
    } else if constexpr (std::is_copy_constructible_v<T>) {
      return state.result.peek();
    } else {
      std::lock_guard lock{state.mutex};
      return state.result.take();
    }
  }

  std::shared_ptr<detail::FutureState<T>> state_;
};

namespace detail {

// The library's side of a Future (EventLoop::create_task's driver).
struct FutureAccess {
  template <class T>
  static FutureState<T>& state(const Future<T>& future) noexcept {
    return *future.state_;
  }
  // How many coroutines wait on `future` (for tests).
  template <class T>
  static std::size_t waiter_count(const Future<T>& future) {
    FutureState<T>& shared = *future.state_;
    std::lock_guard lock{shared.mutex};
    return shared.waiters.size() - shared.abandoned;
  }
};

}  // namespace detail

}  // namespace connectors
