#pragma once

#include <cstddef>
#include <new>

namespace connectors::detail {

// Coroutine frames come and go in LIFO bursts (a request walks up a chain,
// then unwinds; a gather of 10^5 tasks frees them all at its end). A
// per-thread free list per size class turns their allocation into a pointer
// pop. A thread keeps up to `kept_between_runs` frames per class for good;
// while it runs an event loop it keeps every frame freed (up to
// `kept_bytes_during_a_run` in all), so a run that repeats a large burst does
// not give the frames back to malloc and take them again each time; when its
// outermost run ends, frames the run never used are given back
// (docs/design.md §5, "Frames").
// Frames may be freed on another thread than the one that allocated them; they
// then simply join that thread's lists. Under AddressSanitizer the lists are
// bypassed, so that every frame stays checked.
#if defined(__SANITIZE_ADDRESS__)
#define CONNECTORS_PLAIN_FRAMES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONNECTORS_PLAIN_FRAMES 1
#endif
#endif

#if defined(CONNECTORS_PLAIN_FRAMES)
inline void* allocate_frame(std::size_t size) { return ::operator new(size); }
inline void free_frame(void* frame, std::size_t) noexcept { ::operator delete(frame); }
inline void begin_outermost_run() noexcept {}
inline void end_outermost_run() noexcept {}
inline std::size_t cached_frames(std::size_t) noexcept { return 0; }
inline std::size_t cached_frame_bytes() noexcept { return 0; }
#else
void* allocate_frame_slow(std::size_t size);
void free_frame_slow(void* frame, std::size_t size) noexcept;

struct FrameCache {
  static constexpr std::size_t granularity = 64;
  static constexpr std::size_t classes = 16;  // frames up to 1 KiB are cached
  static constexpr std::size_t kept_between_runs = 4096;
  static constexpr std::size_t kept_bytes_during_a_run = std::size_t{32} << 20;
  static constexpr std::size_t class_bytes(std::size_t index) noexcept { return (index + 1) * granularity; }
  struct Block {
    Block* next;
  };
  Block* free[classes] = {};
  std::size_t count[classes] = {};
  // The fewest frames each list held since the outermost run began: that
  // many sat unused through the run.
  std::size_t low_water[classes] = {};
  std::size_t kept_bytes = 0;
  bool in_run = false;
  ~FrameCache();
};

inline thread_local FrameCache frame_cache;

inline void* allocate_frame(std::size_t size) {
  const std::size_t index = (size - 1) / FrameCache::granularity;
  if (index < FrameCache::classes) {
    FrameCache& cache = frame_cache;
    if (FrameCache::Block* block = cache.free[index]) {
      cache.free[index] = block->next;
      if (--cache.count[index] < cache.low_water[index]) cache.low_water[index] = cache.count[index];
      cache.kept_bytes -= FrameCache::class_bytes(index);
      return block;
    }
  }
  return allocate_frame_slow(size);
}

inline void free_frame(void* frame, std::size_t size) noexcept {
  const std::size_t index = (size - 1) / FrameCache::granularity;
  if (index < FrameCache::classes) {
    FrameCache& cache = frame_cache;
    if (cache.count[index] < FrameCache::kept_between_runs ||
        (cache.in_run && cache.kept_bytes < FrameCache::kept_bytes_during_a_run)) {
      auto* block = static_cast<FrameCache::Block*>(frame);
      block->next = cache.free[index];
      cache.free[index] = block;
      ++cache.count[index];
      cache.kept_bytes += FrameCache::class_bytes(index);
      return;
    }
  }
  free_frame_slow(frame, size);
}

// Called by an event loop that is the outermost one on its thread, when it
// starts and when it ends.
void begin_outermost_run() noexcept;
void end_outermost_run() noexcept;
// How many frames of `size` bytes the calling thread keeps, and how many
// bytes of frames in all (for tests).
std::size_t cached_frames(std::size_t size) noexcept;
std::size_t cached_frame_bytes() noexcept;
#endif

}  // namespace connectors::detail
