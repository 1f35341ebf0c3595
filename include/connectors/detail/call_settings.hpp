#pragma once

#include <connectors/worker_limits.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace connectors::detail {

// What a caller sets on the workers of a backend (a local pool, the ranks of
// an MPI job) while calls run; the thread that starts each call reads it
// (docs/processes.md, Worker limits).
struct CallSettings {
  std::atomic<long long> timeout_ms{-1};  // -1: none
  // WorkerLimits, 0 for "none".
  std::atomic<std::uint64_t> memory_limit{0};
  std::atomic<std::uint64_t> recycle_after_calls{0};
  std::atomic<std::uint64_t> recycle_above_memory{0};
  std::atomic<std::uint64_t> max_reply_size{0};

  std::optional<std::chrono::milliseconds> call_timeout() const noexcept;
  // Throws std::invalid_argument for a limit of 0 (and then changes nothing).
  void set_limits(const WorkerLimits& limits);
  WorkerLimits limits() const;
};

}  // namespace connectors::detail
