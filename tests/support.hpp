#pragma once

// Helpers shared by the tests: observing concurrency directly instead of
// through wall-clock bounds.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace connectors::testing {

// A latch whose wait gives up after a generous timeout and reports whether
// every party arrived; a test then fails instead of hanging.
class TimedLatch {
 public:
  explicit TimedLatch(std::size_t parties) : remaining_(parties) {}

  bool arrive_and_wait(std::chrono::seconds timeout = std::chrono::seconds{30}) {
    std::unique_lock lock{mutex_};
    if (remaining_ > 0 && --remaining_ == 0) all_arrived_.notify_all();
    return all_arrived_.wait_for(lock, timeout, [this] { return remaining_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_arrived_;
  std::size_t remaining_;
};

// Counts how many callers are inside a section at once and the highest count.
class ConcurrencyProbe {
 public:
  class Scope {
   public:
    explicit Scope(ConcurrencyProbe& probe) : probe_(probe) {
      const int now = probe_.active_.fetch_add(1) + 1;
      int seen = probe_.peak_.load();
      while (now > seen && !probe_.peak_.compare_exchange_weak(seen, now)) {
      }
    }
    ~Scope() { probe_.active_.fetch_sub(1); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ConcurrencyProbe& probe_;
  };

  int peak() const { return peak_.load(); }

 private:
  std::atomic<int> active_{0};
  std::atomic<int> peak_{0};
};

}  // namespace connectors::testing
