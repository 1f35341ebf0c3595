#pragma once

#include <cstddef>
#include <optional>

namespace connectors {

/// Limits on the worker processes of a process executor; every field is off
/// (nullopt) by default. Set with `set_worker_limits` on
/// MultiprocessingExecutor or ThreadingMultiprocessingExecutor; they apply to
/// calls started afterwards. See docs/processes.md, "Worker limits".
/// A plain value; the executors copy it.
struct WorkerLimits {
  /// Hard limit on a worker's resident memory, in bytes (its heap, stack and
  /// reply files). The call during which the worker's memory first exceeds
  /// it fails with WorkerError; the worker is killed and replaced. Checked
  /// when each reply arrives (against the worker's peak) and every 10 ms
  /// while a call runs.
  std::optional<std::size_t> memory_limit;
  /// Replace a worker once it has run this many calls (the calls succeed).
  std::optional<std::size_t> recycle_after_calls;
  /// Replace a worker after a call that leaves its resident memory above this
  /// many bytes (that call succeeds).
  std::optional<std::size_t> recycle_above_memory;
  /// The largest reply, in bytes, the caller accepts from a worker for one
  /// call; a larger one fails the call with WorkerError and the worker is
  /// killed.
  std::optional<std::size_t> max_reply_size;
};

}  // namespace connectors
