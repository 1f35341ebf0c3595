#include <connectors/detail/frame_allocator.hpp>

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

FrameCache::~FrameCache() {
  for (Block*& head : free) {
    while (head != nullptr) ::operator delete(std::exchange(head, head->next));
  }
}

#endif

}  // namespace connectors::detail
