#include <connectors/detail/frame_allocator.hpp>

#include <algorithm>
#include <iterator>
#include <utility>

namespace connectors::detail {

#if !defined(CONNECTORS_PLAIN_FRAMES)

void* allocate_frame_slow(std::size_t size) {
  const std::size_t index = (size - 1) / FrameCache::granularity;
  // Cached frames are allocated at their class's full size, so any frame of
  // the class can reuse them.
  return ::operator new(index < FrameCache::classes ? (index + 1) * FrameCache::granularity : size);
}

void free_frame_slow(void* frame, std::size_t) noexcept { ::operator delete(frame); }

void begin_outermost_run() noexcept {
  FrameCache& cache = frame_cache;
  cache.in_run = true;
  std::copy(std::begin(cache.count), std::end(cache.count), std::begin(cache.low_water));
}

// Gives back what the run never used, keeping at least kept_between_runs: a
// thread that repeats a large gather run after run keeps its frames, one that
// did it once keeps them only until its next run.
void end_outermost_run() noexcept {
  FrameCache& cache = frame_cache;
  for (std::size_t index = 0; index < FrameCache::classes; ++index) {
    std::size_t surplus = cache.count[index] > FrameCache::kept_between_runs
                              ? std::min(cache.count[index] - FrameCache::kept_between_runs, cache.low_water[index])
                              : 0;
    for (; surplus > 0; --surplus) {
      ::operator delete(std::exchange(cache.free[index], cache.free[index]->next));
      --cache.count[index];
      cache.kept_bytes -= FrameCache::class_bytes(index);
    }
    cache.low_water[index] = cache.count[index];
  }
  cache.in_run = false;
}

std::size_t cached_frames(std::size_t size) noexcept {
  const std::size_t index = (size - 1) / FrameCache::granularity;
  return index < FrameCache::classes ? frame_cache.count[index] : 0;
}

std::size_t cached_frame_bytes() noexcept { return frame_cache.kept_bytes; }

FrameCache::~FrameCache() {
  for (Block*& head : free) {
    while (head != nullptr) ::operator delete(std::exchange(head, head->next));
  }
}

#endif

}  // namespace connectors::detail
