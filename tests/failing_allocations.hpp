// Replaces the global operator new of the program that includes this header
// (include it in one file of a program only), so that a test can make the
// calling thread's allocations fail: exactly the Nth one counted from a
// point, or every one from the Nth on (memory staying exhausted).
// ThreadSanitizer's runtime defines operator new itself: not under it.
#pragma once

#include <cstdlib>
#include <new>

namespace failing_allocations {

// The allocation, counted from 0 on this thread since `counted` was reset,
// that fails; -1: none. With `from_then_on`, so does every later one.
inline thread_local long failing = -1;
inline thread_local bool from_then_on = false;
inline thread_local long counted = 0;
inline thread_local bool failed = false;  // whether one did

// Counts from now on, failing the allocation numbered `at`.
inline void arm(long at, bool and_every_later_one = false) noexcept {
  counted = 0;
  failed = false;
  from_then_on = and_every_later_one;
  failing = at;
}
inline void disarm() noexcept { failing = -1; }

}  // namespace failing_allocations

void* operator new(std::size_t size) {
  using namespace failing_allocations;
  if (failing >= 0) {
    const long number = counted++;
    if (number == failing || (from_then_on && number > failing)) {
      failed = true;
      throw std::bad_alloc{};
    }
  }
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc{};
}
// g++ takes the replaced operator new's memory, inlined into a caller, for
// memory that free must not release; it is malloc's.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
