#include "reply_sink.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace connectors::detail {

ReplySink::~ReplySink() { unmap(); }

void ReplySink::clear() {
  unmap();
  file_.reset();
  capacity_ = 0;
  file_size_ = 0;
  small_.clear();
}

void ReplySink::unmap() noexcept {
  if (mapping_ != nullptr) ::munmap(mapping_, capacity_);
  mapping_ = nullptr;
}

void ReplySink::reserve_file(std::size_t needed) {
  if (needed <= capacity_) return;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::size_t capacity = std::max(needed, capacity_ * 2);
  capacity = (capacity + page - 1) / page * page;
  if (!file_.valid()) {
    file_.reset(::memfd_create("connectors-reply", MFD_CLOEXEC));
    if (!file_.valid()) throw std::system_error(errno, std::generic_category(), "connectors: memfd_create");
  }
  // Allocating all pages in one call is much cheaper than a fault per page.
  if (::fallocate(file_.get(), 0, 0, static_cast<off_t>(capacity)) != 0 &&
      ::ftruncate(file_.get(), static_cast<off_t>(capacity)) != 0) {
    throw std::system_error(errno, std::generic_category(), "connectors: growing a reply file");
  }
  unmap();
  void* mapping = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, file_.get(), 0);
  if (mapping == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "connectors: mmap of a reply file");
  mapping_ = static_cast<char*>(mapping);
  capacity_ = capacity;
}

std::streamsize ReplySink::xsputn(const char* data, std::streamsize count) {
  const auto size = static_cast<std::size_t>(count);
  if (!file_.valid() && small_.size() + size < threshold_) {
    small_.append(data, size);
    return count;
  }
  if (!file_.valid()) {
    reserve_file(small_.size() + size);
    std::memcpy(mapping_, small_.data(), small_.size());
    file_size_ = small_.size();
    small_.clear();
  }
  reserve_file(file_size_ + size);
  std::memcpy(mapping_ + file_size_, data, size);
  file_size_ += size;
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
