#pragma once

// What travels between the caller and wherever a PROCESS call runs (a local
// worker process, another MPI rank): the job a backend completes, and the
// reply it fills in. Transport-neutral; see docs/processes.md, "Backends".

#include <connectors/detail/channel.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
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
  // How many of the reply's first bytes are there: all of a worker's reply
  // file; of a reply MPI still receives (docs/distributed.md, "What is sent
  // per call"), the pieces so far, raised and notified as they arrive. The
  // caller decodes what has arrived and waits for the rest.
  std::atomic<std::size_t> arrived{std::numeric_limits<std::size_t>::max()};
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

// An outsized reply that the worker streams through its socket while it
// serializes it (docs/processes.md, "Design"). The supervisor stops reading
// the worker's socket and lends the caller a duplicate of it for the length
// of the reply; the caller reads the chunks straight into its result, then
// says how its reading ended and, unless it gave up, waits for the
// supervisor's verdict: the worker may have passed its memory limit, timed
// out or died meanwhile, and then the call fails.
class ReplyStream {
 public:
  enum class End : int {
    reading,    // the caller reads
    complete,   // it read the whole reply
    broken,     // the socket ended before the reply did
    abandoned,  // it stopped reading (the worker must be killed: what is left cannot be skipped)
  };

  // Takes `fd`, a duplicate of the socket of worker `pid`, which streams
  // its reply to call `call_id`; a reply larger than `max_size` bytes (0:
  // any) is refused.
  ReplyStream(int fd, int pid, std::uint64_t call_id, std::uint64_t max_size) noexcept
      : fd_(fd), pid_(pid), call_id_(call_id), max_size_(max_size) {}
  ReplyStream(const ReplyStream&) = delete;
  ReplyStream& operator=(const ReplyStream&) = delete;
  virtual ~ReplyStream();

  int fd() const noexcept { return fd_; }
  int pid() const noexcept { return pid_; }
  std::uint64_t call_id() const noexcept { return call_id_; }
  std::uint64_t max_size() const noexcept { return max_size_; }

  // The caller's, once: how its reading ended. After `complete` or `broken`
  // it waits for the verdict and returns why the call failed (empty: it
  // succeeded).
  std::string end(End how);
  End ended() const noexcept { return ended_.load(std::memory_order_acquire); }
  // The caller's, when it starts reading: until then the worker waits for
  // it, and the call's timeout does not run (docs/processes.md, Timeout).
  void begin_reading() noexcept {
    if (!reading_begun_.exchange(true, std::memory_order_acq_rel)) notify();
  }
  bool reading_begun() const noexcept { return reading_begun_.load(std::memory_order_acquire); }

  // The supervisor's: the call's outcome (empty: success); the first
  // verdict counts. A failure also cuts the socket, so a caller waiting for
  // bytes wakes up.
  void settle(const std::string& failure) noexcept;

 protected:
  // Wakes the supervisor once the caller has begun or ended its reading.
  virtual void notify() noexcept = 0;

 private:
  int fd_;
  int pid_;
  std::uint64_t call_id_;
  std::uint64_t max_size_;
  std::atomic<End> ended_{End::reading};
  std::atomic<bool> reading_begun_{false};
  std::mutex mutex_;
  std::condition_variable settled_signal_;
  bool settled_ = false;
  bool failed_ = false;
  std::string failure_;
};

// Whether callers copy the segments of streamed replies from the workers'
// memory (process_vm_readv) or ask for them through the socket, as they do
// by themselves once such a read is not permitted. For tests of the latter.
void read_worker_memory(bool enabled) noexcept;

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
        stream_(std::move(other.stream_)),
        mapped_(std::exchange(other.mapped_, false)) {}
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      file_ = std::move(other.file_);
      stream_ = std::move(other.stream_);
      mapped_ = std::exchange(other.mapped_, false);
    }
    return *this;
  }
  ~ByteBuffer() { release(); }

  static ByteBuffer allocate(std::size_t size);
  // The first `size` bytes of `file`, which must not be lent already; read
  // through its mapping if `mapped`, else with pread.
  static ByteBuffer lend(std::shared_ptr<ReplyFile> file, std::size_t size, bool mapped) noexcept;
  // A streamed reply (its size is not known: size() is 0). A caller that
  // drops it unread ends the stream as abandoned.
  static ByteBuffer stream(std::shared_ptr<ReplyStream> stream) noexcept;

  // The bytes, for a reply read from the socket; null for one in a file.
  char* data() noexcept { return data_; }
  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  // The reply file, or null.
  ReplyFile* file() const noexcept { return file_.get(); }
  bool read_through_mapping() const noexcept { return mapped_; }
  // The stream, or null.
  ReplyStream* stream() const noexcept { return stream_.get(); }

 private:
  void release() noexcept;

  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::shared_ptr<ReplyFile> file_;
  std::shared_ptr<ReplyStream> stream_;
  bool mapped_ = false;
};

// Thrown by a ReplyReader when a streamed reply starts over (the worker's
// serialization failed half-way, FrameHeader::streamed): what was decoded is
// void, and the reply that follows is decoded instead.
struct ReplyRestarted {};

// Lets cereal read a reply wherever it is: in place for one read from the
// socket or in a mapped reply file, through a small buffer (pread, recv) for
// an outsized one or a stream, so that decoding it costs one copy into the
// result.
class ReplyReader final : public std::streambuf {
 public:
  explicit ReplyReader(const ByteBuffer& reply);
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;
  ~ReplyReader() override;

  bool streamed() const noexcept { return stream_ != nullptr; }
  // Of a stream: the bytes its chunks announced so far (a restarted reply's
  // first attempt included).
  std::uint64_t streamed_bytes() const noexcept { return announced_; }
  // After the reply is decoded: a stream must end here (nothing more may
  // follow), and the supervisor's verdict on the call is taken. Throws
  // WorkerError.
  void finish();

  // The bytes not read yet. Of a stream: the rest of the current chunk,
  // or of the next one when the current one is used up (a single write of
  // the worker never spans chunks); throws WorkerError.
  std::size_t available();
  // The largest `size` take() accepts (of a reply still arriving, a piece:
  // each take() waits only for its own bytes).
  std::size_t chunk_limit() const noexcept;
  // The next `size` bytes, contiguous (size <= available(), chunk_limit());
  // valid until the next read. Throws WorkerError when a reply file ends early.
  const char* take(std::size_t size);

 protected:
  int_type underflow() override;
  std::streamsize xsgetn(char* data, std::streamsize count) override;

 private:
  // Reads the file (or the stream) on so that at least `wanted` bytes are
  // buffered.
  void fill(std::size_t wanted);
  void read_file(char* data, std::size_t size);
  // A reply still arriving: waits until its first `end` bytes are there
  // (at most the reply's size) and makes them readable.
  void await_arrival(std::size_t end);
  // Streams: reads the next chunk's length; at the end, sets stream_done_.
  void next_chunk();
  // Streams: receives between 1 and `size` bytes from the socket; throws
  // WorkerError when the socket ends first.
  std::size_t receive(char* data, std::size_t size);
  // Streams: between 1 and `size` bytes of the current chunk (at most what
  // is left of it), from the socket or the worker's memory.
  std::size_t receive_chunk(char* data, std::size_t size);
  // Streams: answers a segment (FrameHeader's stream_segment).
  void answer(char answer);
  [[noreturn]] void broken();
  void receive_exactly(char* data, std::size_t size);
  [[noreturn]] void refuse(const std::string& what);

  ReplyStream* stream_ = nullptr;
  // The file of a reply still arriving, or null.
  const ReplyFile* arriving_ = nullptr;
  std::uint64_t chunk_left_ = 0;  // of the current chunk, not yet received
  std::uint64_t segment_ = 0;     // the worker's address of the rest of a segment (0: on the socket)
  std::uint64_t announced_ = 0;   // the sum of the chunks' lengths
  bool stream_done_ = false;
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
  // The caller decodes the reply where it arrives and can read a stream
  // (ReplyStream); one that forwards the reply's bytes cannot.
  bool accepts_stream = false;
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
// Faults in the whole pages of [data, data + size) in one call, if `size` is
// large enough to matter: cheaper than a fault per page (measured in
// docs/benchmarks.md). Only for memory that is about to be written whole.
void populate_pages(void* data, std::size_t size) noexcept;

}  // namespace connectors::detail
