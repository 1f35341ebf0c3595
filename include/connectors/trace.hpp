#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace connectors {

/// A timeline of what a program's networks ran (docs/observability.md).
/// While a Trace is alive it records every user method that runs (setters,
/// getters, conditions; inline, on a pool thread or in a worker process) and
/// every top-level operation, from every thread; `write_json` writes them in
/// the Chrome trace event format that Perfetto (ui.perfetto.dev) and
/// chrome://tracing open.
///
///     connectors::Trace trace;
///     d2.get_double();
///     std::ofstream out{"trace.json"};
///     trace.write_json(out);
///
/// Several traces may be alive at once; each records what began in its
/// lifetime (an operation or method under way when it was created is not
/// recorded, whatever else observes). With none alive, recording costs one relaxed atomic load per
/// method (docs/benchmarks.md).
///
/// Thread safety: all members may be called from any thread, also while
/// methods run.
class Trace {
 public:
  /// One recorded user method. Times are steady-clock nanoseconds.
  struct Method {
    std::string owner;               ///< the owner's type, and its name if given
    std::string connector;           ///< the connector's name, or its type
    std::string phase;               ///< "setter", "getter" or "condition"
    int pid = 0;                     ///< the worker's process id for a PROCESS method
    int tid = 0;                     ///< the thread's id (the worker's pid for PROCESS)
    bool process = false;            ///< it ran in a worker process
    bool failed = false;             ///< it threw
    std::int64_t queued = 0;         ///< when it was handed on; 0 when it ran where it was called
    std::int64_t start = 0;          ///< when it started
    std::int64_t end = 0;            ///< when it ended
    std::size_t bytes_sent = 0;      ///< PROCESS only: the request's size
    std::size_t bytes_received = 0;  ///< PROCESS only: the reply's size
    std::uint64_t operation = 0;     ///< its top-level operation; 0: none, or one begun before the trace
  };
  /// One top-level operation (a call, a connect or a disconnect).
  struct Operation {
    std::string name;        ///< owner and connector that started it
    int pid = 0;             ///< the process it ran in
    int tid = 0;             ///< the thread that started it
    std::int64_t start = 0;  ///< when it began
    std::int64_t end = 0;    ///< when it ended
    std::uint64_t id = 0;    ///< numbers the operations (Method::operation refers to it)
  };

  /// Starts recording. Throws only std::bad_alloc. Any thread.
  Trace();
  /// Stops recording; methods that end afterwards are not recorded here.
  /// Throws nothing; any thread.
  ~Trace();
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  /// The methods recorded so far, in the order they ended.
  /// Throws only std::bad_alloc; any thread.
  std::vector<Method> methods() const;
  /// The top-level operations that ended so far.
  /// Throws only std::bad_alloc; any thread.
  std::vector<Operation> operations() const;

  /// Writes everything recorded so far as a Chrome trace event JSON object:
  /// one track per thread, each worker process as a process of its own, all
  /// on one clock (microseconds since the trace began).
  ///
  ///     std::ofstream out{"plots/trace.json"};
  ///     trace.write_json(out);
  /// Throws only what writing to `out` throws; any thread.
  void write_json(std::ostream& out) const;

 private:
  struct Recorder;
  std::unique_ptr<Recorder> recorder_;
};

}  // namespace connectors
