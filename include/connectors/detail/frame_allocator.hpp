#pragma once

#include <cstddef>
#include <new>

namespace connectors::detail {

// Coroutine frames come and go in LIFO bursts (a request walks up a chain,
// then unwinds). A per-thread free list per size class turns their allocation
// into a pointer pop. Frames may be freed on another thread than the one that
// allocated them; they then simply join that thread's lists. Under
// AddressSanitizer the lists are bypassed, so that every frame stays checked.
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
#else
void* allocate_frame_slow(std::size_t size);
void free_frame_slow(void* frame, std::size_t size) noexcept;

struct FrameCache {
  static constexpr std::size_t granularity = 64;
  static constexpr std::size_t classes = 16;  // frames up to 1 KiB are cached
  static constexpr std::size_t kept_per_class = 4096;
  struct Block {
    Block* next;
  };
  Block* free[classes] = {};
  std::size_t count[classes] = {};
  ~FrameCache();
};

inline thread_local FrameCache frame_cache;

inline void* allocate_frame(std::size_t size) {
  const std::size_t index = (size - 1) / FrameCache::granularity;
  if (index < FrameCache::classes) {
    FrameCache& cache = frame_cache;
    if (FrameCache::Block* block = cache.free[index]) {
      cache.free[index] = block->next;
      --cache.count[index];
      return block;
    }
  }
  return allocate_frame_slow(size);
}

inline void free_frame(void* frame, std::size_t size) noexcept {
  const std::size_t index = (size - 1) / FrameCache::granularity;
  if (index < FrameCache::classes) {
    FrameCache& cache = frame_cache;
    if (cache.count[index] < FrameCache::kept_per_class) {
      auto* block = static_cast<FrameCache::Block*>(frame);
      block->next = cache.free[index];
      cache.free[index] = block;
      ++cache.count[index];
      return;
    }
  }
  free_frame_slow(frame, size);
}
#endif

}  // namespace connectors::detail
