#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <optional>
#include <type_traits>

namespace connectors::detail {

// An output's cached value. Small trivially copyable values live in an atomic
// word, so that a cache hit can read them without the network lock while
// another thread's operation may be storing a new one; anything else is read
// under the lock. The word is an unsigned integer holding the value's bytes:
// atomics of other types may need libatomic calls (clang, structs).
template <std::size_t Size>
using AtomicWord = std::conditional_t<
    Size == 1, std::uint8_t,
    std::conditional_t<Size == 2, std::uint16_t, std::conditional_t<Size == 4, std::uint32_t, std::uint64_t>>>;

template <class R>
constexpr bool publishable_atomically() {
  constexpr std::size_t size = sizeof(R);
  return std::is_trivially_copyable_v<R> && (size == 1 || size == 2 || size == 4 || size == 8) &&
         std::atomic<AtomicWord<size>>::is_always_lock_free;
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
  R load() const noexcept { return std::bit_cast<R>(bits_.load(std::memory_order_relaxed)); }
  void store(const R& value) noexcept { bits_.store(std::bit_cast<Word>(value), std::memory_order_relaxed); }
  void reset() noexcept {}  // a stale value is never read: the valid flag is false

 private:
  using Word = AtomicWord<sizeof(R)>;
  std::atomic<Word> bits_{};
};

}  // namespace connectors::detail
