#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace connectors {

/// How far one top-level operation is (docs/observability.md).
struct ProgressReport {
  std::uint64_t operation = 0;  ///< numbers the operations, from 1
  std::size_t finished = 0;     ///< user methods (setters, getters) that ended
  std::size_t expected = 0;     ///< those it expects in all; it may grow
  bool done = false;            ///< the operation ended: finished == expected
};

/// Reports the progress of top-level operations while alive (of one at a
/// time: when operations on independent networks overlap, the one begun
/// while none was followed, to its end): the
/// number of user methods finished and the number expected, estimated when
/// the operation starts from the stale caches and announced inputs upstream
/// of the connector it computes, and raised when more run. Within an
/// operation `finished` and `expected` never decrease and `finished <
/// expected` until its last report, whose `done` is true and where both are
/// equal; that report comes exactly once. (Once more methods ran than
/// estimated, reports pause until that last one; an overestimate, from a
/// change a condition cancelled, is settled there.)
///
///     connectors::Progress progress{[](const connectors::ProgressReport& report) {
///       std::fprintf(stderr, "\r%zu/%zu", report.finished, report.expected);
///     }};
///     sink.result();  // reports as its methods finish
///
/// The callback runs on the thread where a method ended (a pool thread, or
/// the operation's), one report at a time; it must be quick and must not
/// use a network or any Trace or Progress (it runs under their lock). Without one, the
/// latest report is polled with latest().
///
/// Thread safety: latest() may be called from any thread.
class Progress {
 public:
  /// Called with each report; see the class for where and how.
  using Callback = std::function<void(const ProgressReport&)>;

  /// Starts following operations without a callback: poll latest(). Throws
  /// only std::bad_alloc. Any thread.
  Progress();
  /// Starts following operations; `callback` gets every report. Throws only
  /// std::bad_alloc. Any thread.
  explicit Progress(Callback callback);
  /// Stops following; after it returns the callback is not called again.
  /// Throws nothing; any thread, but not from its own callback.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// The last report made (all zero before the first).
  /// Throws nothing in practice; any thread.
  ProgressReport latest() const;

 private:
  struct Counter;
  std::unique_ptr<Counter> counter_;
};

}  // namespace connectors
