#pragma once

// What travels between the caller and wherever a PROCESS call runs (a local
// worker process, another MPI rank): the job a backend completes, and the
// reply it fills in. Transport-neutral; see docs/processes.md, "Backends".

#include <connectors/detail/channel.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <streambuf>
#include <string>
#include <utility>

namespace connectors::detail {

// A worker's reply file as the parent holds it. The supervisor only checks
// it; the caller reads its reply from it while decoding: through a read-only
// mapping kept with the file while the file is one the worker keeps (at most
// reply_file_keep_limit, sealed against shrinking), else with pread, never
// mapping it, so that an outsized reply is copied once, straight into the
// result (docs/processes.md). While a caller has not decoded a reply in it,
// the file is lent to that caller and the worker must not overwrite it.
class ReplyFile {
 public:
  explicit ReplyFile(int fd) noexcept : fd_(fd) {}
  ReplyFile(const ReplyFile&) = delete;
  ReplyFile& operator=(const ReplyFile&) = delete;
  ~ReplyFile();

  int fd() const noexcept { return fd_; }
  // The file's first `size` bytes, mapped and populated (the mapping is kept
  // for later replies); the caller it is lent to calls this. Throws
  // std::system_error.
  const char* map(std::size_t size);

  std::atomic<bool> lent{false};
  // The supervisor's: the largest size it has seen the file have, and
  // whether it is sealed against shrinking (only then is it mapped).
  std::uint64_t known_size = 0;
  bool sealed = false;

 private:
  int fd_;
  // The caller's: the mapping and how much of it is populated.
  const char* mapping_ = nullptr;
  std::size_t mapped_ = 0;
  std::size_t populated_ = 0;
};

// A reply received from a worker: bytes read from its socket (allocated
// without the zero-filling a std::string resize would cost), or a large reply
// lent from one of the worker's reply files, returned when this buffer goes.
class ByteBuffer {
 public:
  ByteBuffer() noexcept = default;
  ByteBuffer(ByteBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        file_(std::move(other.file_)),
        mapped_(std::exchange(other.mapped_, false)) {}
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      file_ = std::move(other.file_);
      mapped_ = std::exchange(other.mapped_, false);
    }
    return *this;
  }
  ~ByteBuffer() { release(); }

  static ByteBuffer allocate(std::size_t size);
  // The first `size` bytes of `file`, which must not be lent already; read
  // through its mapping if `mapped`, else with pread.
  static ByteBuffer lend(std::shared_ptr<ReplyFile> file, std::size_t size, bool mapped) noexcept;

  // The bytes, for a reply read from the socket; null for one in a file.
  char* data() noexcept { return data_; }
  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  // The reply file, or null.
  ReplyFile* file() const noexcept { return file_.get(); }
  bool read_through_mapping() const noexcept { return mapped_; }

 private:
  void release() noexcept;

  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::shared_ptr<ReplyFile> file_;
  bool mapped_ = false;
};

// Lets cereal read a reply wherever it is: in place for one read from the
// socket or in a mapped reply file, through a small buffer (pread) for an
// outsized one, so that decoding it costs one copy into the result.
class ReplyReader final : public std::streambuf {
 public:
  explicit ReplyReader(const ByteBuffer& reply);
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;
  ~ReplyReader() override;

  // The bytes not read yet.
  std::size_t available() const noexcept;
  // The largest `size` take() accepts.
  std::size_t chunk_limit() const noexcept;
  // The next `size` bytes, contiguous (size <= available(), chunk_limit());
  // valid until the next read. Throws WorkerError when a reply file ends early.
  const char* take(std::size_t size);

 protected:
  int_type underflow() override;
  std::streamsize xsgetn(char* data, std::streamsize count) override;

 private:
  // Reads the file on so that at least `wanted` bytes are buffered.
  void fill(std::size_t wanted);
  void read_file(char* data, std::size_t size);

  int fd_ = -1;
  std::size_t end_ = 0;          // the reply's size
  std::size_t file_offset_ = 0;  // the next byte of the file not buffered yet
  char* buffer_ = nullptr;
};

// One method call for a process backend. It lives in the awaiting coroutine's
// frame; the backend completes it exactly once, by filling `reply` or
// `failure` and posting it to `channel` (the awaiting loop's), from its own
// thread.
class ProcessJob : public ChannelNode {
 public:
  std::string request;
  // How many of the request's first bytes name code (see ProcessRequest).
  std::size_t code_size = 0;
  ByteBuffer reply;
  std::exception_ptr failure;
  Channel* channel = nullptr;
  // For traces (docs/observability.md): the worker that ran the call, and
  // when (steady clock) its request was sent and its reply received.
  int worker_pid = 0;
  std::int64_t sent_at = 0;
  std::int64_t replied_at = 0;

 protected:
  ~ProcessJob() = default;
};

// Hands `job` back to its caller (a post to the awaiting loop, which waits
// for it, so its channel is open), from the backend's thread.
void complete_job(ProcessJob& job) noexcept;
// Completes `job` with a WorkerError saying `message`.
void fail_job(ProcessJob& job, const std::string& message) noexcept;

// Asks the kernel to back the whole pages of [data, data + size) with huge
// pages when it faults them in, if `size` is large enough to matter; the
// pages should not have been touched yet. Changes nothing else.
void advise_huge_pages(void* data, std::size_t size) noexcept;

}  // namespace connectors::detail
