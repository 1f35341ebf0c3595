#pragma once

// Work-first (docs/parallelization.md): inline for the request engine's
// per-method placement (src/pull.cpp), which asks it for every THREAD method
// of a chain with the loop it looked up once; user_call.cpp gives it to the
// connector headers.

#include <connectors/detail/node.hpp>
#include <connectors/detail/run_context.hpp>
#include <connectors/event_loop.hpp>

namespace connectors::detail {

// Whether a THREAD method of `operation` is the only work that could run now:
// no sibling request waits to start, and the running loop has nothing ready,
// queued or in flight.
inline bool only_runnable_work_here(const Operation& operation, const EventLoop* loop) noexcept {
  return operation.unstarted_requests == 0 && loop != nullptr && LoopAccess::idle(*loop);
}
inline bool only_runnable_work_here(const Operation& operation) noexcept {
  return only_runnable_work_here(operation, running_loop());
}

}  // namespace connectors::detail
