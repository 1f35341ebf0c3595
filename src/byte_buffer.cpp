#include <connectors/detail/worker_pool.hpp>
#include <connectors/errors.hpp>

#include "fork_server.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>

namespace connectors::detail {

namespace {

// The reading buffer of a reply in a file: small enough to stay in the
// processor's cache between the read and the copy into the result.
constexpr std::size_t file_chunk = 256U << 10;

// What a caller takes at once of a reply still arriving: the pieces MPI
// receives it in (src/mpi/protocol.hpp), so that it copies one while the next
// arrives.
constexpr std::size_t arrival_chunk = 4U << 20;

// Set once reading a worker's memory failed for want of permission: every
// later segment is asked for through the socket.
std::atomic<bool> worker_memory_unreadable{false};

}  // namespace

void read_worker_memory(bool enabled) noexcept { worker_memory_unreadable.store(!enabled, std::memory_order_relaxed); }

ReplyStream::~ReplyStream() { ::close(fd_); }

std::string ReplyStream::end(End how) {
  ended_.store(how, std::memory_order_release);
  notify();
  if (how == End::abandoned) return {};
  std::unique_lock lock{mutex_};
  // Every way a worker ends reaches the supervisor (docs/processes.md); the
  // bound only keeps a caller from waiting for ever should that change.
  if (!settled_signal_.wait_for(lock, std::chrono::minutes{1}, [this] { return settled_; })) {
    return "connectors: the supervisor gave no verdict on a streamed reply within a minute";
  }
  if (failed_ && failure_.empty()) return "connectors: a worker process failed during its reply";
  return failure_;
}

void ReplyStream::settle(const std::string& failure) noexcept {
  {
    std::lock_guard lock{mutex_};
    if (settled_) return;
    settled_ = true;
    failed_ = !failure.empty();
    try {
      failure_ = failure;
    } catch (...) {
      // failed_ still says so; end() words it.
    }
  }
  settled_signal_.notify_all();
  if (!failure.empty()) ::shutdown(fd_, SHUT_RDWR);
}

ReplyFile::~ReplyFile() {
  if (mapping_ != nullptr) ::munmap(const_cast<char*>(mapping_), mapped_);
  ::close(fd_);
}

const char* ReplyFile::map(std::size_t size) {
  if (size > mapped_) {
    // The worker grew the file: map it anew at its new size.
    void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd_, 0);
    if (mapping == MAP_FAILED)
      throw std::system_error(errno, std::generic_category(), "connectors: mapping a reply file");
    if (mapping_ != nullptr) ::munmap(const_cast<char*>(mapping_), mapped_);
    mapping_ = static_cast<const char*>(mapping);
    mapped_ = size;
    populated_ = 0;
  }
  if (size > populated_) {
#ifdef MADV_POPULATE_READ
    // One call instead of a fault per 4 KiB; the page tables then serve
    // every later reply in this file. The size is bounded (see the class).
    ::madvise(const_cast<char*>(mapping_) + populated_, size - populated_, MADV_POPULATE_READ);
#endif
    populated_ = size;
  }
  return mapping_;
}

namespace {
struct PageRange {
  std::uintptr_t begin;
  std::uintptr_t end;
};
// The whole pages inside [data, data + size): advice given to them never
// reaches memory the range does not own.
PageRange whole_pages_within(void* data, std::size_t size) noexcept {
  static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto address = reinterpret_cast<std::uintptr_t>(data);
  return {(address + page - 1) / page * page, (address + size) / page * page};
}
}  // namespace

void advise_huge_pages(void* data, std::size_t size) noexcept {
  // Smaller vectors usually come from memory the heap reuses.
  constexpr std::size_t worth_it = 4U << 20;
  if (size < worth_it) return;
  // Only whole pages of the vector's own: the advice never reaches a
  // neighbour's memory. A failure (no transparent huge pages) costs nothing.
  const auto [begin, end] = whole_pages_within(data, size);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

void populate_pages(void* data, std::size_t size) noexcept {
#ifdef MADV_POPULATE_WRITE
  constexpr std::size_t worth_it = 4U << 20;
  if (size < worth_it) return;
  const auto [begin, end] = whole_pages_within(data, size);
  // A failure (an older kernel) leaves the pages to fault in one by one.
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
  (void)data;
  (void)size;
#endif
}

ByteBuffer ByteBuffer::allocate(std::size_t size) {
  ByteBuffer buffer;
  buffer.data_ = new char[size == 0 ? 1 : size];
  buffer.size_ = size;
  return buffer;
}

ByteBuffer ByteBuffer::lend(std::shared_ptr<ReplyFile> file, std::size_t size, bool mapped) noexcept {
  ByteBuffer buffer;
  file->lent.store(true, std::memory_order_relaxed);
  buffer.size_ = size;
  buffer.file_ = std::move(file);
  buffer.mapped_ = mapped;
  return buffer;
}

ByteBuffer ByteBuffer::stream(std::shared_ptr<ReplyStream> stream) noexcept {
  ByteBuffer buffer;
  buffer.stream_ = std::move(stream);
  return buffer;
}

void ByteBuffer::release() noexcept {
  if (stream_ != nullptr) {
    // Dropped before its end (decoding failed, or nobody decoded it): the
    // worker is still sending and must be replaced.
    if (stream_->ended() == ReplyStream::End::reading) stream_->end(ReplyStream::End::abandoned);
    stream_.reset();
  } else if (file_ != nullptr) {
    // Everything read from the file happens before the worker may overwrite it.
    file_->lent.store(false, std::memory_order_release);
    file_.reset();
  } else {
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

ReplyReader::ReplyReader(const ByteBuffer& reply) : end_(reply.size()) {
  if (reply.stream() != nullptr) {
    stream_ = reply.stream();
    buffer_ = new char[file_chunk];
    setg(buffer_, buffer_, buffer_);
    stream_->begin_reading();
    return;
  }
  if (reply.file() == nullptr || reply.read_through_mapping()) {
    const char* bytes = reply.file() == nullptr ? reply.data() : reply.file()->map(reply.size());
    char* begin = const_cast<char*>(bytes);  // streambuf's interface is not const; nothing writes
    setg(begin, begin, begin + reply.size());
    if (reply.file() != nullptr) {
      const std::size_t arrived = reply.file()->arrived.load(std::memory_order_acquire);
      if (arrived < reply.size()) {
        arriving_ = reply.file();
        setg(begin, begin, begin + arrived);
      }
    }
    return;
  }
  fd_ = reply.file()->fd();
  buffer_ = new char[file_chunk];
  setg(buffer_, buffer_, buffer_);
}

ReplyReader::~ReplyReader() { delete[] buffer_; }

std::size_t ReplyReader::available() {
  if (arriving_ != nullptr) return end_ - static_cast<std::size_t>(gptr() - eback());
  const auto buffered = static_cast<std::size_t>(egptr() - gptr());
  if (stream_ != nullptr) {
    // A large write (a segment) follows what was staged before it in a
    // chunk of its own.
    while (buffered == 0 && chunk_left_ == 0 && !stream_done_) next_chunk();
    return buffered + static_cast<std::size_t>(chunk_left_);
  }
  return fd_ < 0 ? buffered : buffered + (end_ - file_offset_);
}

std::size_t ReplyReader::chunk_limit() const noexcept {
  if (arriving_ != nullptr) return arrival_chunk;
  return fd_ < 0 && stream_ == nullptr ? std::numeric_limits<std::size_t>::max() : file_chunk;
}

void ReplyReader::await_arrival(std::size_t end) {
  end = std::min(end, end_);
  if (static_cast<std::size_t>(egptr() - eback()) >= end) return;
  std::size_t arrived = arriving_->arrived.load(std::memory_order_acquire);
  // MPI delivers every piece of a reply whose header came (a rank that dies
  // ends the whole job), so this wait ends.
  while (arrived < end) {
    arriving_->arrived.wait(arrived, std::memory_order_acquire);
    arrived = arriving_->arrived.load(std::memory_order_acquire);
  }
  setg(eback(), gptr(), eback() + std::min(arrived, end_));
}

void ReplyReader::refuse(const std::string& what) {
  stream_->end(ReplyStream::End::abandoned);
  throw WorkerError("connectors: a worker process " + what + "; it was killed");
}

std::size_t ReplyReader::receive(char* data, std::size_t size) {
  for (;;) {
    const ssize_t got = ::recv(stream_->fd(), data, size, MSG_DONTWAIT);
    if (got > 0) return static_cast<std::size_t>(got);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The supervisor cuts the socket (shutdown) when it ends the call, so
      // this wait always ends.
      pollfd watched{stream_->fd(), POLLIN, 0};
      ::poll(&watched, 1, -1);
      continue;
    }
    broken();
  }
}

void ReplyReader::broken() {
  // The worker's end closed (it died, or closed its socket) or the
  // supervisor cut the stream: the supervisor says why.
  std::string failure = stream_->end(ReplyStream::End::broken);
  if (failure.empty()) failure = "connectors: a worker process ended in the middle of its reply";
  throw WorkerError(failure);
}

void ReplyReader::answer(char answer) {
  for (;;) {
    // The worker reads nothing else meanwhile: the byte never waits.
    const ssize_t sent = ::send(stream_->fd(), &answer, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent == 1) return;
    if (sent < 0 && errno == EINTR) continue;
    broken();
  }
}

std::size_t ReplyReader::receive_chunk(char* data, std::size_t size) {
  size = static_cast<std::size_t>(std::min<std::uint64_t>(size, chunk_left_));
  std::size_t got = 0;
  if (segment_ == 0) {
    got = receive(data, size);
  } else {
    iovec local{data, size};
    iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(segment_)), size};
    const ssize_t read = ::process_vm_readv(stream_->pid(), &local, 1, &remote, 1, 0);
    if (read <= 0 && errno == ESRCH) broken();
    if (read <= 0) refuse("named memory of its own for its reply that could not be read");
    got = static_cast<std::size_t>(read);
    segment_ += got;
  }
  chunk_left_ -= got;
  if (segment_ != 0 && chunk_left_ == 0) {
    // The worker may go on (and free those bytes).
    segment_ = 0;
    answer(segment_read);
  }
  return got;
}

void ReplyReader::receive_exactly(char* data, std::size_t size) {
  while (size > 0) {
    const std::size_t got = receive(data, size);
    data += got;
    size -= got;
  }
}

void ReplyReader::next_chunk() {
  std::uint64_t header[2] = {};
  receive_exactly(reinterpret_cast<char*>(header), sizeof header);
  std::uint64_t length = header[0];
  if (header[1] != stream_->call_id()) {
    refuse("sent something other than its reply in the middle of it (the method wrote to the worker's connection)");
  }
  if (length == stream_end) {
    stream_done_ = true;
    return;
  }
  if (length == stream_restart) {
    setg(buffer_, buffer_, buffer_);
    throw ReplyRestarted{};
  }
  if ((length & stream_segment) != 0) {
    std::uint64_t address = 0;
    receive_exactly(reinterpret_cast<char*>(&address), sizeof address);
    length &= ~stream_segment;
    if (length == 0 || address == 0) refuse("sent a malformed reply (the method wrote to the worker's connection)");
    // Whether this process may read the worker's memory: learnt once, by
    // reading the segment's first byte.
    bool readable = !worker_memory_unreadable.load(std::memory_order_relaxed);
    if (readable) {
      char first = 0;
      iovec local{&first, 1};
      iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(address)), 1};
      if (::process_vm_readv(stream_->pid(), &local, 1, &remote, 1, 0) != 1) {
        if (errno == ESRCH) broken();
        if (errno == EFAULT) refuse("named memory of its own for its reply that could not be read");
        // EPERM (ptrace rules), ENOSYS or a seccomp filter: the socket it is.
        worker_memory_unreadable.store(true, std::memory_order_relaxed);
        readable = false;
      }
    }
    if (!readable) {
      answer(segment_resend);
      next_chunk();  // the same bytes, as an ordinary chunk
      return;
    }
    segment_ = address;
  }
  announced_ += std::min(length, std::numeric_limits<std::uint64_t>::max() - announced_);
  if (stream_->max_size() != 0 && announced_ > stream_->max_size()) {
    refuse("sent a reply of more than " + std::to_string(stream_->max_size()) +
           " bytes, the executor's largest accepted reply (WorkerLimits::max_reply_size)");
  }
  chunk_left_ = length;
}

void ReplyReader::finish() {
  if (stream_ == nullptr) return;
  // Nothing may follow the reply but its end (empty chunks aside).
  for (;;) {
    if (gptr() != egptr() || chunk_left_ != 0) {
      refuse("sent more than its reply (the method wrote to the worker's connection)");
    }
    if (stream_done_) break;
    next_chunk();
  }
  if (std::string failure = stream_->end(ReplyStream::End::complete); !failure.empty()) throw WorkerError(failure);
}

void ReplyReader::read_file(char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t got = ::pread(fd_, data, size, static_cast<off_t>(file_offset_));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      // The worker shrank or replaced its file under the reply: not our
      // protocol, and nothing past the file's end is ever read.
      throw WorkerError("connectors: the reply file of a worker process ended " + std::to_string(end_ - file_offset_) +
                        " bytes before its reply");
    }
    data += got;
    size -= static_cast<std::size_t>(got);
    file_offset_ += static_cast<std::size_t>(got);
  }
}

void ReplyReader::fill(std::size_t wanted) {
  const auto kept = static_cast<std::size_t>(egptr() - gptr());
  if (kept >= wanted) return;
  if (arriving_ != nullptr) {
    await_arrival(static_cast<std::size_t>(gptr() - eback()) + wanted);
    return;
  }
  if (stream_ != nullptr) {
    std::memmove(buffer_, gptr(), kept);
    std::size_t have = kept;
    setg(buffer_, buffer_, buffer_ + have);
    while (have < wanted && !stream_done_) {
      if (chunk_left_ == 0) {
        next_chunk();
        continue;
      }
      // Never past the chunk: its end is followed by the next one's length.
      have += receive_chunk(buffer_ + have, file_chunk - have);
      setg(buffer_, buffer_, buffer_ + have);
    }
    return;
  }
  if (fd_ < 0) return;
  std::memmove(buffer_, gptr(), kept);
  const std::size_t more = std::min(file_chunk - kept, end_ - file_offset_);
  read_file(buffer_ + kept, more);
  setg(buffer_, buffer_, buffer_ + kept + more);
}

const char* ReplyReader::take(std::size_t size) {
  fill(size);
  char* taken = gptr();
  setg(eback(), taken + size, egptr());
  return taken;
}

ReplyReader::int_type ReplyReader::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  if (arriving_ != nullptr || stream_ != nullptr) {
    // Either may end without another byte: fill says so by leaving none.
    fill(1);
    return gptr() < egptr() ? traits_type::to_int_type(*gptr()) : traits_type::eof();
  }
  if (fd_ < 0 || file_offset_ >= end_) return traits_type::eof();
  fill(1);
  return traits_type::to_int_type(*gptr());
}

std::streamsize ReplyReader::xsgetn(char* data, std::streamsize count) {
  if (stream_ != nullptr) {
    const auto wanted = static_cast<std::size_t>(std::max<std::streamsize>(count, 0));
    std::size_t done = 0;
    while (done < wanted) {
      if (gptr() < egptr()) {
        const std::size_t part = std::min(wanted - done, static_cast<std::size_t>(egptr() - gptr()));
        traits_type::copy(data + done, gptr(), part);
        setg(eback(), gptr() + part, egptr());
        done += part;
      } else if (chunk_left_ == 0) {
        if (stream_done_) break;
        next_chunk();
      } else if (wanted - done >= file_chunk) {
        // Large: straight from the socket (or the worker's memory) into the
        // destination, one copy.
        done += receive_chunk(data + done, wanted - done);
      } else {
        fill(wanted - done);
        if (gptr() == egptr()) break;
      }
    }
    // A read that used up its chunk (a string's or a container's size, say)
    // learns at once how much the next chunk announces: the load allocates
    // for that size next, and a string's resize writes every byte of it.
    // Read now, a segment past max_reply_size is refused before that
    // allocation, not after (docs/processes.md). The worker sends the next
    // header without waiting for this side, so this wait ends.
    if (done == wanted && gptr() == egptr() && chunk_left_ == 0 && !stream_done_) next_chunk();
    return static_cast<std::streamsize>(done);
  }
  auto wanted = static_cast<std::size_t>(std::max<std::streamsize>(count, 0));
  wanted = std::min(wanted, available());
  const std::size_t buffered = std::min(wanted, static_cast<std::size_t>(egptr() - gptr()));
  traits_type::copy(data, gptr(), buffered);
  setg(eback(), gptr() + buffered, egptr());
  std::size_t done = buffered;
  if (done < wanted && wanted - done >= file_chunk && arriving_ == nullptr) {
    // Large: straight from the file into the destination, one copy.
    read_file(data + done, wanted - done);
    done = wanted;
  }
  while (done < wanted) {
    // Of a reply still arriving, whatever has come: the copy follows MPI
    // piece by piece.
    fill(arriving_ != nullptr ? 1 : std::min(wanted - done, file_chunk));
    const std::size_t part = std::min(wanted - done, static_cast<std::size_t>(egptr() - gptr()));
    traits_type::copy(data + done, gptr(), part);
    setg(eback(), gptr() + part, egptr());
    done += part;
  }
  return static_cast<std::streamsize>(done);
}

}  // namespace connectors::detail
