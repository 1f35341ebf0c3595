#include <connectors/detail/worker_pool.hpp>

#include <sys/mman.h>

#include <cerrno>
#include <system_error>

namespace connectors::detail {

ByteBuffer ByteBuffer::allocate(std::size_t size) {
  ByteBuffer buffer;
  buffer.data_ = new char[size == 0 ? 1 : size];
  buffer.size_ = size;
  return buffer;
}

ByteBuffer ByteBuffer::map(int fd, std::size_t size) {
  ByteBuffer buffer;
  if (size == 0) return allocate(0);
  // Populated at once: one call instead of a page fault per 4 KiB on reading.
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (mapping == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "connectors: mmap of a reply");
  buffer.data_ = static_cast<char*>(mapping);
  buffer.size_ = size;
  buffer.mapped_ = true;
  return buffer;
}

void ByteBuffer::release() noexcept {
  if (data_ == nullptr) return;
  if (mapped_) {
    ::munmap(data_, size_);
  } else {
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
  mapped_ = false;
}

}  // namespace connectors::detail
