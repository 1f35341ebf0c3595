#pragma once

#include <coroutine>
#include <cstddef>

namespace connectors {
class Executor;
class EventLoop;
}  // namespace connectors

namespace connectors::detail {

// One entry per event loop running on a thread, innermost first. A run nested
// inside another (a method that starts a run of its own) pushes a new entry.
struct RunFrame {
  const Executor* executor = nullptr;
  EventLoop* loop = nullptr;
  // Where the loop resumes coroutines from; symmetric transfers measure their
  // stack depth against it (see transfer_to).
  const char* stack_base = nullptr;
  RunFrame* outer = nullptr;
};

inline thread_local RunFrame* innermost_run = nullptr;

// The loop running on the calling thread (innermost), or null.
inline EventLoop* running_loop() noexcept {
  RunFrame* frame = innermost_run;
  return frame != nullptr ? frame->loop : nullptr;
}

// The loop whose method call (PoolCall) the calling pool thread is running,
// or null: where a destructor in that method hands its unlinking to
// (leave_network, docs/connectors.md#lifetime).
inline thread_local EventLoop* pool_call_loop = nullptr;

// What pool_call_loop is while the calling thread runs a method call of
// `origin`: that loop, unless the call was taken back by the loop's own
// thread (EventLoop::idle), where the method runs as the loop's inline
// methods do. Made the loop's, a destruction on a pool thread running that
// loop would be handed to its own channel and wait for itself.
inline EventLoop* pool_call_loop_for(EventLoop* origin) noexcept {
  return running_loop() == origin ? pool_call_loop : origin;
}

// The loop whose operation the calling pool thread continues after a method
// it ran for it (EventLoop::reply_from_worker), or null: while it does, it is
// that loop's thread for the operation's bookkeeping (docs/design.md#continuation).
inline thread_local EventLoop* standing_in_for = nullptr;

// Whether the calling thread continues an operation of the loop running on it
// in place of the loop's own thread (which must then run SEQUENTIAL methods).
inline bool standing_in() noexcept {
  EventLoop* loop = standing_in_for;
  return loop != nullptr && running_loop() == loop;
}

// How much stack a chain of coroutine transfers may use before it is bounced
// through the loop. Far below the 8 MiB default, far above any single frame.
inline constexpr std::ptrdiff_t transfer_stack_budget = std::ptrdiff_t{128} * 1024;

// Queues `next` on the loop of `frame`, or on `loop` (defined with
// EventLoop); on the loop's thread, or a stand-in's.
void defer_resume(RunFrame& frame, std::coroutine_handle<> next) noexcept;
void defer_resume(EventLoop& loop, std::coroutine_handle<> next) noexcept;

// Symmetric transfer with a guard. Where the compiler turns the transfer into a
// tail call (clang, optimised g++), the stack never grows and this is a plain
// return of `next`. Where it does not (g++ at -O0, sanitizers), every transfer
// nests a call; once the chain has used `transfer_stack_budget` bytes, `next`
// is handed to the loop, this stack unwinds, and the loop resumes `next` from
// its shallow base. So a chain of a million nested co_awaits cannot overflow.
[[gnu::always_inline]] inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
  RunFrame* frame = innermost_run;
  if (frame != nullptr) {
    const char* here = static_cast<const char*>(__builtin_frame_address(0));
    if (frame->stack_base - here > transfer_stack_budget) {
      defer_resume(*frame, next);
      return std::noop_coroutine();
    }
  }
  return next;
}

// A plain resume with the same guard (gather's start of a task, which nests
// a call): past the budget, `next` is handed to the loop instead, and
// resumed from its shallow base.
[[gnu::always_inline]] inline void resume_within_budget(std::coroutine_handle<> next) noexcept {
  RunFrame* frame = innermost_run;
  if (frame != nullptr) {
    const char* here = static_cast<const char*>(__builtin_frame_address(0));
    if (frame->stack_base - here > transfer_stack_budget) {
      defer_resume(*frame, next);
      return;
    }
  }
  next.resume();
}

}  // namespace connectors::detail
