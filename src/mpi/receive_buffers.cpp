#include "receive_buffers.hpp"

#include "../fork_server.hpp"
#include "../unique_fd.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace connectors::detail::mpi {

namespace {

// Faults in `size` bytes at `data` in one call (no fault per page during the
// transfer); by touching them where the kernel is too old for that.
void fault_in(char* data, std::size_t size) noexcept {
#ifdef MADV_POPULATE_WRITE
  if (::madvise(data, size, MADV_POPULATE_WRITE) == 0) return;
#endif
  static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (std::size_t offset = 0; offset < size; offset += page) data[offset] = 0;
}

}  // namespace

ReceiveBuffers::~ReceiveBuffers() {
  for (Slot& slot : slots_) {
    if (slot.writable != nullptr) ::munmap(slot.writable, slot.capacity);
  }
}

bool ReceiveBuffers::grow(Slot& slot, std::size_t size) {
  const std::size_t capacity = std::min(
      (size + size / 2 + reply_file_granule - 1) / reply_file_granule * reply_file_granule, reply_file_keep_limit);
  UniqueFd fd{above_standard_streams(::memfd_create("connectors-mpi-reply", MFD_CLOEXEC))};
  if (!fd.valid() || ::ftruncate(fd.get(), static_cast<off_t>(capacity)) != 0) return false;
  void* mapping = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (mapping == MAP_FAILED) return false;
  // All made before the slot changes: a slot whose file and mapping
  // disagreed would lend a later reply from the old file, an earlier reply's
  // bytes.
  std::shared_ptr<ReplyFile> file;
  try {
    file = std::make_shared<ReplyFile>(fd.get());
  } catch (...) {
    ::munmap(mapping, capacity);
    throw;
  }
  static_cast<void>(fd.release());
  fault_in(static_cast<char*>(mapping), capacity);
  if (slot.writable != nullptr) ::munmap(slot.writable, slot.capacity);
  slot.writable = static_cast<char*>(mapping);
  slot.capacity = capacity;
  slot.file = std::move(file);
  return true;
}

char* ReceiveBuffers::prepare(std::size_t size) {
  chosen_ = -1;
  plain_ = ByteBuffer{};
  // Small replies come in eagerly and fast anywhere; only large ones are
  // worth a kept file, and only up to the size a worker keeps its own.
  if (size >= reply_file_threshold && size <= reply_file_keep_limit) {
    for (unsigned i = 0; i < slots; ++i) {
      Slot& slot = slots_[i];
      // A file a caller still decodes from is not overwritten.
      if (slot.file != nullptr && slot.file->lent.load(std::memory_order_acquire)) continue;
      if (slot.capacity < size && !grow(slot, size)) continue;  // the other slot may be large enough
      chosen_ = static_cast<int>(i);
      return slot.writable;
    }
  }
  plain_ = ByteBuffer::allocate(size);
  fault_in(plain_.data(), size);
  return plain_.data();
}

ByteBuffer ReceiveBuffers::lend(std::size_t size) {
  if (chosen_ < 0) return std::move(plain_);
  slots_[chosen_].file->arrived.store(size, std::memory_order_release);
  // Read through the file's own kept mapping (ReplyFile::map), like a
  // local worker's reply.
  return ByteBuffer::lend(slots_[chosen_].file, size, true);
}

ByteBuffer ReceiveBuffers::lend_before_arrival(std::size_t size) {
  if (chosen_ < 0) return ByteBuffer{};
  slots_[chosen_].file->arrived.store(0, std::memory_order_release);
  return ByteBuffer::lend(slots_[chosen_].file, size, true);
}

void ReceiveBuffers::arrived(std::size_t bytes) noexcept {
  if (chosen_ < 0) return;
  ReplyFile& file = *slots_[chosen_].file;
  file.arrived.store(bytes, std::memory_order_release);
  file.arrived.notify_all();
}

}  // namespace connectors::detail::mpi
