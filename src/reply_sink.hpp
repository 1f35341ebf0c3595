#pragma once

#include "unique_fd.hpp"

#include <cstddef>
#include <streambuf>
#include <string>

namespace connectors::detail {

// Where a worker serializes a reply: memory while it is small, then a memory
// file (memfd) mapped into the worker, which the parent maps in turn, so a
// large result is copied once instead of through the socket.
class ReplySink final : public std::streambuf {
 public:
  explicit ReplySink(std::size_t threshold) noexcept : threshold_(threshold) {}
  ReplySink(const ReplySink&) = delete;
  ReplySink& operator=(const ReplySink&) = delete;
  ~ReplySink() override;

  // Forgets what was written (an error reply replaces a partial result).
  void clear();

  bool in_memory_file() const noexcept { return file_.valid(); }
  std::size_t size() const noexcept { return in_memory_file() ? file_size_ : small_.size(); }
  const std::string& small() const noexcept { return small_; }
  int file() const noexcept { return file_.get(); }

 protected:
  std::streamsize xsputn(const char* data, std::streamsize count) override;
  int_type overflow(int_type character) override;

 private:
  void reserve_file(std::size_t needed);
  void unmap() noexcept;

  std::size_t threshold_;
  std::string small_;
  UniqueFd file_;
  char* mapping_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t file_size_ = 0;
};

}  // namespace connectors::detail
