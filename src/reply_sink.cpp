#include "reply_sink.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace connectors::detail {

namespace {
// Small pieces are gathered into writes of at least this size.
constexpr std::size_t write_chunk = 64 * 1024;
}  // namespace

void ReplySink::clear() noexcept {
  file_.reset();
  file_size_ = 0;
  buffer_.clear();
}

void ReplySink::prepare_next(std::size_t size) noexcept {
  UniqueFd file{::memfd_create("connectors-reply", MFD_CLOEXEC)};
  if (!file.valid() || ::fallocate(file.get(), 0, 0, static_cast<off_t>(size)) != 0) return;
  spare_ = std::move(file);
}

void ReplySink::write_to_file(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t written = ::pwrite(file_.get(), data, size, static_cast<off_t>(file_size_));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) throw std::system_error(errno, std::generic_category(), "connectors: writing a reply file");
    data += written;
    size -= static_cast<std::size_t>(written);
    file_size_ += static_cast<std::size_t>(written);
  }
}

void ReplySink::finish() {
  if (!file_.valid() || buffer_.empty()) return;
  write_to_file(buffer_.data(), buffer_.size());
  buffer_.clear();
}

std::streamsize ReplySink::xsputn(const char* data, std::streamsize count) {
  const auto size = static_cast<std::size_t>(count);
  if (!file_.valid()) {
    if (buffer_.size() + size < threshold_) {
      buffer_.append(data, size);
      return count;
    }
    file_ = spare_.valid() ? std::move(spare_) : UniqueFd{::memfd_create("connectors-reply", MFD_CLOEXEC)};
    if (!file_.valid()) throw std::system_error(errno, std::generic_category(), "connectors: memfd_create");
  }
  if (buffer_.size() + size < write_chunk) {
    buffer_.append(data, size);
    return count;
  }
  finish();
  write_to_file(data, size);
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
