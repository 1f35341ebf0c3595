#pragma once

// Work-first (docs/parallelization.md): inline for the request engine's
// per-method placement (src/pull.cpp), which asks it for every THREAD method
// of a chain; user_call.cpp gives it to the connector headers.

#include <connectors/detail/node.hpp>
#include <connectors/detail/run_context.hpp>
#include <connectors/event_loop.hpp>

namespace connectors::detail {

// Whether a THREAD method of `operation` is the only work that could run now:
// no sibling request waits to start, and the running loop has nothing ready,
// queued or in flight.
inline bool only_runnable_work_here(const Operation& operation) noexcept {
  if (operation.unstarted_requests != 0) return false;
  const EventLoop* loop = running_loop();
  return loop != nullptr && LoopAccess::idle(*loop);
}

}  // namespace connectors::detail
