#include "reply_sink.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace connectors::detail {

namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

std::size_t round_up(std::size_t size, std::size_t granule) { return (size + granule - 1) / granule * granule; }

}  // namespace

void ReplySink::File::reset() noexcept {
  if (data != nullptr) ::munmap(data, capacity);
  data = nullptr;
  capacity = 0;
  fd.reset();
  announced = false;
}

void ReplySink::begin(std::uint64_t request_flags) noexcept {
  free_files_ = request_flags;
  clear();
}

void ReplySink::clear() noexcept {
  buffer_.clear();
  slot_ = no_slot;
  position_ = 0;
}

std::uint64_t ReplySink::header_flags() const noexcept {
  if (!in_file()) return 0;
  std::uint64_t flags = FrameHeader::in_reply_file;
  if (slot_ == 1) flags |= FrameHeader::in_second_file;
  if (!files_[slot_].announced) flags |= FrameHeader::file_attached;
  return flags;
}

int ReplySink::descriptor_to_send() const noexcept {
  return in_file() && !files_[slot_].announced ? files_[slot_].fd.get() : -1;
}

void ReplySink::sent() noexcept {
  if (in_file()) files_[slot_].announced = true;
}

// Chooses the file for a reply that has reached `needed` bytes and moves what
// is buffered there; false to stay in memory (and go through the socket).
bool ReplySink::enter_file(std::size_t needed) {
  unsigned chosen = no_slot;
  for (unsigned slot = 0; slot < reply_file_slots; ++slot) {
    if ((free_files_ & FrameHeader::file_free(slot)) == 0) continue;
    // The largest free file: it is the most likely to need no growing.
    if (chosen == no_slot || files_[slot].capacity > files_[chosen].capacity) chosen = slot;
  }
  if (chosen == no_slot) {
    if (needed <= socket_reply_limit) return false;
    // Every file is still being read by a caller: take a fresh one. The
    // parent keeps its mapping of the old file until that caller is done.
    chosen = files_[0].capacity <= files_[1].capacity ? 0 : 1;
    files_[chosen].reset();
  }
  slot_ = chosen;
  position_ = 0;
  reserve(needed);
  std::memcpy(files_[slot_].data, buffer_.data(), buffer_.size());
  position_ = buffer_.size();
  buffer_.clear();
  return true;
}

void ReplySink::reserve(std::size_t needed) {
  File& file = files_[slot_];
  if (needed <= file.capacity) return;
  const std::size_t capacity = round_up(std::max(needed, file.capacity + file.capacity / 2), reply_file_granule);
  if (!file.fd.valid()) {
    file.fd.reset(above_standard_streams(::memfd_create("connectors-reply", MFD_CLOEXEC | MFD_ALLOW_SEALING)));
    if (!file.fd.valid()) fail("connectors: memfd_create");
    // The parent maps the file: it must never shrink under that mapping.
    if (::fcntl(file.fd.get(), F_ADD_SEALS, F_SEAL_SHRINK) != 0) fail("connectors: sealing a reply file");
  }
  if (::ftruncate(file.fd.get(), static_cast<off_t>(capacity)) != 0) fail("connectors: growing a reply file");
  void* mapping = file.data == nullptr ? ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd.get(), 0)
                                       : ::mremap(file.data, file.capacity, capacity, MREMAP_MAYMOVE);
  if (mapping == MAP_FAILED) fail("connectors: mapping a reply file");
  char* data = static_cast<char*>(mapping);
#ifdef MADV_POPULATE_WRITE
  // One call allocates and maps the new pages instead of a fault per page;
  // the parent's populated mapping then finds them all. Without it (older
  // kernels) the copy faults them in.
  ::madvise(data + file.capacity, capacity - file.capacity, MADV_POPULATE_WRITE);
#endif
  file.data = data;
  file.capacity = capacity;
  file.announced = false;
}

std::streamsize ReplySink::xsputn(const char* data, std::streamsize count) {
  const auto size = static_cast<std::size_t>(count);
  if (!in_file()) {
    const std::size_t needed = buffer_.size() + size;
    if (needed < reply_file_threshold || !enter_file(needed)) {
      buffer_.append(data, size);
      return count;
    }
  }
  reserve(position_ + size);
  std::memcpy(files_[slot_].data + position_, data, size);
  position_ += size;
  return count;
}

ReplySink::int_type ReplySink::overflow(int_type character) {
  if (!traits_type::eq_int_type(character, traits_type::eof())) {
    const char byte = traits_type::to_char_type(character);
    xsputn(&byte, 1);
  }
  return traits_type::not_eof(character);
}

}  // namespace connectors::detail
