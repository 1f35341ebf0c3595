#pragma once

#include "unique_fd.hpp"

#include <cstddef>
#include <streambuf>
#include <string>

namespace connectors::detail {

// Where a worker serializes a reply: memory while it is small, then a memory
// file (memfd) that travels to the parent by SCM_RIGHTS and is mapped there,
// so a large result crosses once instead of being copied through the socket.
// The file is written with pwrite, not through a shared mapping: on the
// measured machine populating a writable shared mapping page by page costs
// more than the kernel's own copy.
class ReplySink final : public std::streambuf {
 public:
  explicit ReplySink(std::size_t threshold) noexcept : threshold_(threshold) {}
  ReplySink(const ReplySink&) = delete;
  ReplySink& operator=(const ReplySink&) = delete;

  // Forgets what was written (an error reply replaces a partial result).
  void clear() noexcept;
  // Writes out what is still buffered; call before sending.
  void finish();

  // After a large reply: allocates the next memory file now, while the
  // worker is idle, so that the next large reply only has to copy its bytes
  // (allocating shared pages costs more than copying into them).
  void prepare_next(std::size_t size) noexcept;

  bool in_memory_file() const noexcept { return file_.valid(); }
  std::size_t size() const noexcept { return in_memory_file() ? file_size_ + buffer_.size() : buffer_.size(); }
  // The whole reply when it is small.
  const std::string& bytes() const noexcept { return buffer_; }
  int file() const noexcept { return file_.get(); }

 protected:
  std::streamsize xsputn(const char* data, std::streamsize count) override;
  int_type overflow(int_type character) override;

 private:
  void write_to_file(const char* data, std::size_t size);

  std::size_t threshold_;
  std::string buffer_;
  UniqueFd file_;
  std::size_t file_size_ = 0;
  UniqueFd spare_;
};

}  // namespace connectors::detail
