#pragma once

#include <atomic>
#include <optional>
#include <type_traits>

namespace connectors::detail {

// An output's cached value. Small trivially copyable values live in an atomic,
// so that a cache hit can read them without the network lock while another
// thread's operation may be storing a new one; anything else is read under
// the lock.
template <class R>
constexpr bool publishable_atomically() {
  if constexpr (std::is_trivially_copyable_v<R>) {
    return std::atomic<R>::is_always_lock_free;
  } else {
    return false;
  }
}

template <class R, bool = publishable_atomically<R>()>
class CacheSlot {
 public:
  static constexpr bool lock_free = false;
  const R& load() const { return *value_; }
  void store(const R& value) { value_.emplace(value); }
  void reset() noexcept { value_.reset(); }

 private:
  std::optional<R> value_;
};

template <class R>
class CacheSlot<R, true> {
 public:
  static constexpr bool lock_free = true;
  // Relaxed: the output's valid flag (release/acquire) orders the value.
  R load() const noexcept { return value_.load(std::memory_order_relaxed); }
  void store(const R& value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void reset() noexcept {}  // a stale value is never read: the valid flag is false

 private:
  std::atomic<R> value_{};
};

}  // namespace connectors::detail
