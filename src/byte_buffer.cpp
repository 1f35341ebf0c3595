#include <connectors/detail/worker_pool.hpp>
#include <connectors/errors.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

}  // namespace

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

void advise_huge_pages(void* data, std::size_t size) noexcept {
  // Smaller vectors usually come from memory the heap reuses.
  constexpr std::size_t worth_it = 4U << 20;
  if (size < worth_it) return;
  static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto address = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t begin = (address + page - 1) / page * page;
  const std::uintptr_t end = (address + size) / page * page;
  // Only whole pages of the vector's own: the advice never reaches a
  // neighbour's memory. A failure (no transparent huge pages) costs nothing.
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
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

void ByteBuffer::release() noexcept {
  if (file_ != nullptr) {
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
  if (reply.file() == nullptr || reply.read_through_mapping()) {
    const char* bytes = reply.file() == nullptr ? reply.data() : reply.file()->map(reply.size());
    char* begin = const_cast<char*>(bytes);  // streambuf's interface is not const; nothing writes
    setg(begin, begin, begin + reply.size());
    return;
  }
  fd_ = reply.file()->fd();
  buffer_ = new char[file_chunk];
  setg(buffer_, buffer_, buffer_);
}

ReplyReader::~ReplyReader() { delete[] buffer_; }

std::size_t ReplyReader::available() const noexcept {
  const auto buffered = static_cast<std::size_t>(egptr() - gptr());
  return fd_ < 0 ? buffered : buffered + (end_ - file_offset_);
}

std::size_t ReplyReader::chunk_limit() const noexcept {
  return fd_ < 0 ? std::numeric_limits<std::size_t>::max() : file_chunk;
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
  if (kept >= wanted || fd_ < 0) return;
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
  if (fd_ < 0 || file_offset_ >= end_) return traits_type::eof();
  fill(1);
  return traits_type::to_int_type(*gptr());
}

std::streamsize ReplyReader::xsgetn(char* data, std::streamsize count) {
  auto wanted = static_cast<std::size_t>(std::max<std::streamsize>(count, 0));
  wanted = std::min(wanted, available());
  const std::size_t buffered = std::min(wanted, static_cast<std::size_t>(egptr() - gptr()));
  traits_type::copy(data, gptr(), buffered);
  setg(eback(), gptr() + buffered, egptr());
  std::size_t done = buffered;
  if (done < wanted && wanted - done >= file_chunk) {
    // Large: straight from the file into the destination, one copy.
    read_file(data + done, wanted - done);
    done = wanted;
  }
  while (done < wanted) {
    fill(std::min(wanted - done, file_chunk));
    const std::size_t part = std::min(wanted - done, static_cast<std::size_t>(egptr() - gptr()));
    traits_type::copy(data + done, gptr(), part);
    setg(eback(), gptr() + part, egptr());
    done += part;
  }
  return static_cast<std::streamsize>(done);
}

}  // namespace connectors::detail
