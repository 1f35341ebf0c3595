#pragma once

#include <connectors/task.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <utility>

namespace connectors::detail {

class NodeBase;
class OperationScope;
class ProcessJob;

// What a user method does for its connector (docs/observability.md).
enum class Phase : std::uint8_t { setter, getter, condition };

// Whether a connectors::Trace or connectors::Progress is alive. The hooks
// below read it once, relaxed, and do nothing else when it is false: that is
// the whole cost of observability for a network nobody watches
// (docs/benchmarks.md, "Observability"). A cache line of its own: pool
// threads read it for every method while the coordinating thread writes its
// neighbours (operation ids, the default executor's mutex).
alignas(64) inline std::atomic<bool> observing{false};

#ifdef CONNECTORS_NO_PROBES
// Benchmarks only: the probes compiled out, to measure what they cost
// (docs/benchmarks.md, "Observability").
constexpr bool is_observing() noexcept { return false; }
#else
inline bool is_observing() noexcept { return observing.load(std::memory_order_relaxed); }
#endif

// The record of one method call under way; lives in src/method_probe.cpp.
struct ProbeRecord;
ProbeRecord* probe_begin(const NodeBase& node, Phase phase) noexcept;
void probe_end(ProbeRecord* record, bool failed) noexcept;
// Steady-clock nanoseconds, the one clock of every trace (and of worker
// processes: CLOCK_MONOTONIC is system-wide on Linux).
std::int64_t probe_clock() noexcept;

// Around the call of a user method, on the thread that calls it: the only
// place that knows when the method actually started and ended, whatever
// decided where it runs.
class MethodProbe {
 public:
  MethodProbe(const NodeBase& node, Phase phase) noexcept {
    if (is_observing()) [[unlikely]] {
      record_ = probe_begin(node, phase);
      exceptions_ = std::uncaught_exceptions();
    }
  }
  MethodProbe(const MethodProbe&) = delete;
  MethodProbe& operator=(const MethodProbe&) = delete;
  ~MethodProbe() {
    if (record_ != nullptr) [[unlikely]]
      probe_end(record_, failed_ || std::uncaught_exceptions() > exceptions_);
  }

  // The method threw, and its error was caught before the probe ends (an
  // announce condition's, held for the end of its walk).
  void note_failure() noexcept { failed_ = true; }

 private:
  ProbeRecord* record_ = nullptr;
  int exceptions_ = 0;
  bool failed_ = false;
};

// Calls `function` (which calls one user method) under a MethodProbe. The
// probe's object lives only on the observed path, so that the unobserved
// one is a load and a branch around the plain call (docs/benchmarks.md).
template <class Function>
decltype(auto) probed(const NodeBase& node, Phase phase, Function&& function) {
  if (!is_observing()) [[likely]]
    return function();
  MethodProbe probe{node, phase};
  return function();
}

// When a method placed on a thread pool was queued: set by the dispatching
// side (UserCall), taken by the MethodProbe that starts on the pool thread
// (the methods nested in that one were not queued).
inline thread_local std::int64_t queued_at = 0;
inline std::int64_t probe_queue_time() noexcept { return is_observing() ? probe_clock() : 0; }
class QueuedAt {
 public:
  // A method run where it was called, inside another that was queued,
  // restores that one's time when it ends.
  explicit QueuedAt(std::int64_t time) noexcept : saved_(std::exchange(queued_at, time)) {}
  QueuedAt(const QueuedAt&) = delete;
  QueuedAt& operator=(const QueuedAt&) = delete;
  ~QueuedAt() { queued_at = saved_; }

 private:
  std::int64_t saved_;
};

// What the parent knows of the last process call completed on this thread:
// the worker, the bytes, and when the request was sent and the reply
// received. ProcessCall::await_resume writes it; the coroutine that awaited
// the call resumes on the same thread right after (symmetric transfer), so
// it reads its own call's entry.
struct ProcessCallNote {
  int worker_pid = 0;
  std::int64_t sent = 0;
  std::int64_t replied = 0;
  std::size_t bytes_sent = 0;
  std::size_t bytes_received = 0;
};
inline thread_local ProcessCallNote last_process_call{};
void note_process_call(const ProcessJob& job) noexcept;
// A streamed reply's size, known once it has been read (decode_reply).
inline void note_streamed_reply(std::uint64_t bytes) noexcept {
  if (is_observing()) last_process_call.bytes_received = static_cast<std::size_t>(bytes);
}
// The worker pool's side: a request goes to the worker `pid`; its reply came.
void note_start(ProcessJob& job, int pid) noexcept;
void note_reply(ProcessJob& job) noexcept;

void probe_process_end(const NodeBase& node, Phase phase, std::int64_t queued, bool failed) noexcept;

// The PROCESS call `task` of a method of `node`, recorded as the method
// while observed (src/method_probe.cpp).
Task<void> traced_process_call(const NodeBase& node, Phase phase, Task<void> task);

// A PROCESS call's task, recorded as the method of `node` when observed.
inline Task<void> probe_process(const NodeBase& node, Phase phase, Task<void> task) {
  if (!is_observing() || !task.valid()) return task;
  return traced_process_call(node, phase, std::move(task));
}

// A top-level operation starts (after taking the network lock) or ends.
void probe_operation_begin(const OperationScope& scope, const NodeBase& start) noexcept;
void probe_operation_end(const OperationScope& scope) noexcept;
inline void operation_begins(const OperationScope& scope, const NodeBase& start, bool top_level) noexcept {
  if (top_level && is_observing()) [[unlikely]]
    probe_operation_begin(scope, start);
}
inline void operation_ends(const OperationScope& scope, bool top_level) noexcept {
  if (top_level && is_observing()) [[unlikely]]
    probe_operation_end(scope);
}

}  // namespace connectors::detail
