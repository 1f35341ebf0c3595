#pragma once

#include "fork_server.hpp"
#include "unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <streambuf>
#include <string>

namespace connectors::detail {

// Where a worker serializes a reply: memory while it is small, then one of the
// worker's reply files (memfds), which the parent keeps mapped. The files stay
// allocated and mapped in both processes from one call to the next, so a large
// result is copied once into shared pages that are already there and read once
// by the parent: no page faults, no mapping, no freeing per call. On the
// measured machine a page fault costs about 2.2 µs per 4 KiB, which for a
// fresh 64 MiB file was more than all the copying.
class ReplySink final : public std::streambuf {
 public:
  ReplySink() = default;
  ReplySink(const ReplySink&) = delete;
  ReplySink& operator=(const ReplySink&) = delete;

  // Starts a reply to a request with these header flags, which say which
  // reply files the parent no longer reads.
  void begin(std::uint64_t request_flags) noexcept;
  // Forgets what was written (an error reply replaces a partial result).
  void clear() noexcept;

  bool in_file() const noexcept { return slot_ != no_slot; }
  std::size_t size() const noexcept { return in_file() ? position_ : buffer_.size(); }
  // The whole reply when it is not in a file.
  const std::string& bytes() const noexcept { return buffer_; }
  // The reply's frame header flags, and the descriptor that must travel with
  // it (-1 if the parent already has the file).
  std::uint64_t header_flags() const noexcept;
  int descriptor_to_send() const noexcept;
  // The reply went out: the parent now has its file.
  void sent() noexcept;

 protected:
  std::streamsize xsputn(const char* data, std::streamsize count) override;
  int_type overflow(int_type character) override;

 private:
  // A reply file and the worker's writable mapping of it. It never shrinks
  // (sealed), so the parent's read-only mapping can never point past its end.
  struct File {
    UniqueFd fd;
    char* data = nullptr;
    std::size_t capacity = 0;
    // The parent has the file at this capacity.
    bool announced = false;

    File() = default;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    ~File() { reset(); }
    void reset() noexcept;
  };

  static constexpr unsigned no_slot = reply_file_slots;

  bool enter_file(std::size_t needed);
  void reserve(std::size_t needed);

  std::string buffer_;
  File files_[reply_file_slots];
  std::uint64_t free_files_ = 0;
  unsigned slot_ = no_slot;
  std::size_t position_ = 0;
};

}  // namespace connectors::detail
