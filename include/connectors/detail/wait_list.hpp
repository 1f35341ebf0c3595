#pragma once

#include <connectors/detail/run_context.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>
#include <utility>

namespace connectors::detail {

// Coroutines of one operation waiting for a connector to become computable
// (all announced changes notified or cancelled). Everything happens on the
// operation's loop thread (or a pool thread standing in for it, holding the
// loop), so there is no locking. A failure upstream aborts
// the waiters with its exception, so no wait outlives a failed operation.
// The abort is remembered for the rest of that operation: a coroutine that
// comes to wait after it (it was still busy elsewhere when the failure
// happened) fails at once instead of waiting for a change that will not come.
class WaitList {
 public:
  class Awaiter {
   public:
    Awaiter(WaitList& list, bool ready, std::uint64_t operation) noexcept : list_(list), ready_(ready) {
      if (!ready_ && list.failure_ && list.failed_operation_ == operation) {
        ready_ = true;
        error_ = list.failure_;
      }
    }
    bool await_ready() const noexcept { return ready_; }
    void await_suspend(std::coroutine_handle<> waiting) noexcept {
      handle_ = waiting;
      loop_ = running_loop();
      next_ = list_.head_;
      list_.head_ = this;
    }
    void await_resume() const {
      if (error_) std::rethrow_exception(error_);
    }

   private:
    friend class WaitList;
    WaitList& list_;
    bool ready_;
    std::coroutine_handle<> handle_;
    EventLoop* loop_ = nullptr;  // the waiting operation's loop
    Awaiter* next_ = nullptr;
    std::exception_ptr error_;
  };

  // Suspends unless `ready`; resumed by wake_all or abort_all. `operation`
  // is the id of the waiting operation (Operation::id).
  Awaiter wait(bool ready, std::uint64_t operation) noexcept { return Awaiter{*this, ready, operation}; }

  bool empty() const noexcept { return head_ == nullptr; }

  // Most lists are empty when woken (a chain's nodes, one by one): no error
  // to build and copy then.
  void wake_all() noexcept {
    if (head_ != nullptr) release(nullptr);
  }
  void abort_all(const std::exception_ptr& error, std::uint64_t operation) noexcept {
    failure_ = error;
    failed_operation_ = operation;
    release(error);
  }

 private:
  void release(const std::exception_ptr& error) noexcept {
    Awaiter* waiter = std::exchange(head_, nullptr);
    while (waiter != nullptr) {
      Awaiter* next = waiter->next_;
      waiter->error_ = error;
      // Resumed from the loop, never from inside the notifying call, which may
      // be deep in protocol bookkeeping; and from the waiting operation's
      // loop, not the innermost one here: a method of that operation may wake
      // it from inside a run of its own (destroying a block of the network),
      // whose loop would run the branch inside that run, or drop it when the
      // run ends (docs/design.md#destruction-inside).
      if (waiter->loop_ != nullptr) {
        defer_resume(*waiter->loop_, waiter->handle_);
      } else {
        waiter->handle_.resume();  // unreachable: waiters exist only inside a run
      }
      waiter = next;
    }
  }

  Awaiter* head_ = nullptr;
  std::exception_ptr failure_;
  std::uint64_t failed_operation_ = 0;
};

}  // namespace connectors::detail
