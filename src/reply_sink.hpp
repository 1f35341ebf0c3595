#pragma once

#include "fork_server.hpp"
#include "unique_fd.hpp"

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <streambuf>
#include <string>

namespace connectors::detail {

// Where a worker serializes a reply: memory while it is small, then one of the
// worker's reply files (memfds, sealed so that they can only grow). Up to
// reply_file_keep_limit a file is mapped here and in the caller and kept from
// one call to the next: a reply is one memcpy on each side into pages that
// are already there. Past that limit the rest of the reply goes out with
// pwrite (through a small staging buffer), the caller reads it with pread
// straight into its result (no second copy of an outsized result in the
// caller), and the file is dropped as soon as the reply is sent, so that one
// outsized result does not stay with the worker for life.
//
// When the request accepts it (FrameHeader::stream_accepted), a reply that
// would outgrow reply_file_keep_limit is streamed instead: its frame header
// goes out at once and the reply follows on the worker's socket in chunks as
// cereal writes it, a large write (the elements of a big vector) straight
// from the result's own memory. No file of the reply's size exists on either
// side, and the caller reads the chunks straight into its result
// (docs/processes.md).
class ReplySink final : public std::streambuf {
 public:
  ReplySink() = default;
  ReplySink(const ReplySink&) = delete;
  ReplySink& operator=(const ReplySink&) = delete;

  // Where a streamed reply goes (the worker's socket), and what is called
  // before anything of a reply is sent (it ends a process that must not
  // answer: docs/processes.md). Without a connection nothing is streamed.
  void set_connection(int socket, void (*before_sending)()) noexcept;
  // Starts the reply to call `call_id`, whose request had these header
  // flags: which reply files the parent no longer reads, whether it accepts
  // a streamed reply.
  void begin(std::uint64_t request_flags, std::uint64_t call_id) noexcept;
  // Forgets what was written (an error reply replaces a partial result); a
  // streamed reply is told to start over.
  void clear() noexcept;
  // Writes out what is still staged; throws std::system_error.
  void complete();

  // The reply is being streamed: its header and part of it are sent already.
  bool streaming() const noexcept { return streaming_; }
  // Sends what is staged of a streamed reply and its end.
  void finish_stream() noexcept;

  bool in_file() const noexcept { return slot_ != no_slot; }
  std::size_t size() const noexcept { return in_file() ? position_ + buffer_.size() : buffer_.size(); }
  // The whole reply when it is not in a file.
  const std::string& bytes() const noexcept { return buffer_; }
  // The reply's frame header flags, and the descriptor that must travel with
  // it (-1 if the parent already has the file).
  std::uint64_t header_flags() const noexcept;
  int descriptor_to_send() const noexcept;
  // The reply went out: the parent now has its file; an outsized file is
  // dropped.
  void sent() noexcept;

 protected:
  std::streamsize xsputn(const char* data, std::streamsize count) override;
  int_type overflow(int_type character) override;

 private:
  struct File {
    UniqueFd fd;
    // The writable mapping of the file's first `mapped` bytes.
    char* data = nullptr;
    std::size_t mapped = 0;
    // The file's size.
    std::size_t size = 0;
    // The size the parent knows of; a failed reply may leave the file larger.
    std::size_t announced_size = 0;
    // The parent has the descriptor.
    bool announced = false;

    File() = default;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    ~File() { reset(); }
    void reset() noexcept;
  };

  static constexpr unsigned no_slot = reply_file_slots;

  bool enter_file(std::size_t needed);
  // Appends to the reply in its file.
  void write(const char* data, std::size_t size);
  // Maps (growing the file) at least the first `needed` bytes, at most
  // reply_file_keep_limit.
  void map_at_least(std::size_t needed);
  void write_file(const char* data, std::size_t size);
  bool outsized() const noexcept { return in_file() && files_[slot_].size > reply_file_keep_limit; }
  // Sends the frame header of a streamed reply and what the reply holds so
  // far; later writes go out as chunks.
  void start_stream();
  // Appends to a streamed reply: staged while small, else sent as one chunk
  // with what is staged.
  void stream(const char* data, std::size_t size);
  // Sends `count` parts in one go; a worker whose parent is gone ends.
  void send_parts(iovec* parts, int count) noexcept;
  // Sends what is staged as a chunk, then `mark` (a segment or the end of the
  // stream), and empties the staging buffer.
  void send_staged_then(void* mark, std::size_t mark_size) noexcept;

  // The reply while it is small; once in a file, what is staged for its part
  // past the mapping.
  std::string buffer_;
  File files_[reply_file_slots];
  std::uint64_t free_files_ = 0;
  unsigned slot_ = no_slot;
  // Once in a file: how much of the reply is in it (staged bytes follow).
  std::size_t position_ = 0;

  int socket_ = -1;
  pid_t owner_ = 0;  // the worker
  void (*before_sending_)() = nullptr;
  std::uint64_t call_id_ = 0;
  bool stream_accepted_ = false;
  bool streaming_ = false;
};

}  // namespace connectors::detail
