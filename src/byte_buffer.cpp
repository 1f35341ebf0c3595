#include <connectors/detail/worker_pool.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <system_error>

namespace connectors::detail {

std::shared_ptr<ReplyMapping> ReplyMapping::map(int fd) {
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & F_SEAL_SHRINK) == 0) throw std::runtime_error("the reply file is not sealed");
  struct stat status {};
  if (::fstat(fd, &status) != 0) throw std::system_error(errno, std::generic_category(), "fstat of a reply file");
  const auto size = static_cast<std::size_t>(status.st_size);
  if (size == 0) throw std::runtime_error("the reply file is empty");
  // Populated at once: one call instead of a fault per 4 KiB on reading, and
  // the page tables then serve every later reply in this file.
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (mapping == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap of a reply file");
  return std::make_shared<ReplyMapping>(static_cast<const char*>(mapping), size);
}

ReplyMapping::~ReplyMapping() { ::munmap(const_cast<char*>(data_), size_); }

void advise_huge_pages(void* data, std::size_t size) noexcept {
  // Smaller vectors usually come from memory the heap reuses.
  constexpr std::size_t worth_it = 4U << 20;
  if (size < worth_it) return;
  static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto address = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t begin = (address + page - 1) / page * page;
  const std::uintptr_t end = (address + size) / page * page;
  // Only whole pages of the vector's own: the advice never reaches a
  // neighbour's memory. A failure (no transparent huge pages) costs nothing.
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

ByteBuffer ByteBuffer::allocate(std::size_t size) {
  ByteBuffer buffer;
  buffer.data_ = new char[size == 0 ? 1 : size];
  buffer.size_ = size;
  return buffer;
}

ByteBuffer ByteBuffer::lend(std::shared_ptr<ReplyMapping> file, std::size_t size) noexcept {
  ByteBuffer buffer;
  file->lent.store(true, std::memory_order_relaxed);
  // Nothing writes through it: the mapping is read-only.
  buffer.data_ = const_cast<char*>(file->data());
  buffer.size_ = size;
  buffer.file_ = std::move(file);
  return buffer;
}

void ByteBuffer::release() noexcept {
  if (file_ != nullptr) {
    // Everything read from the file happens before the worker may overwrite it.
    file_->lent.store(false, std::memory_order_release);
    file_.reset();
  } else {
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

}  // namespace connectors::detail
