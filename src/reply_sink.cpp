#include "reply_sink.hpp"

#include "partial_send.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace connectors::detail {

namespace {

// Staged writes past the mapping go out in pieces of this size; larger ones
// go out directly.
constexpr std::size_t staging_size = 1U << 20;

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

std::size_t round_up(std::size_t size, std::size_t granule) { return (size + granule - 1) / granule * granule; }

// Set in the child of a fork that a method makes (pthread_atfork): that child
// may return from the method too, and must not write a byte of a reply, since
// the reply files and their mappings are shared with the worker: a later
// call's reply would be overwritten while its caller reads it
// (docs/processes.md, What a misbehaving method cannot do). A flag, not a
// getpid per write: a reply of many small values writes thousands of times.
bool forked_by_a_method = false;
void note_fork_in_child() noexcept { forked_by_a_method = true; }

// A child of a fork made without fork() (a raw clone) runs no atfork
// handler: the rarer entries into a file check the process itself, and the
// mappings are not inherited at all (MADV_DONTFORK), so that the child
// faults instead of writing into them.
void check_owner(pid_t owner) noexcept {
  if (forked_by_a_method || ::getpid() != owner) ::_exit(0);
}

}  // namespace

void ReplySink::File::reset() noexcept {
  if (data != nullptr) ::munmap(data, mapped);
  data = nullptr;
  mapped = size = announced_size = 0;
  fd.reset();
  announced = false;
}

void ReplySink::set_connection(int socket, void (*before_sending)()) noexcept {
  socket_ = socket;
  before_sending_ = before_sending;
  owner_ = ::getpid();
  static const bool watching_forks = ::pthread_atfork(nullptr, nullptr, &note_fork_in_child) == 0;
  (void)watching_forks;
}

void ReplySink::begin(std::uint64_t request_flags, std::uint64_t call_id) noexcept {
  free_files_ = request_flags;
  call_id_ = call_id;
  stream_accepted_ = (request_flags & FrameHeader::stream_accepted) != 0 && socket_ >= 0;
  streaming_ = false;
  clear();
}

void ReplySink::clear() noexcept {
  if (streaming_) {
    // Part of the reply is out: the caller drops it and reads what follows
    // (an error reply) as the whole reply.
    buffer_.clear();
    std::uint64_t restart[2] = {stream_restart, call_id_};
    iovec part{restart, sizeof restart};
    send_parts(&part, 1);
    return;
  }
  // A reply abandoned half-way may have grown its file past what the parent
  // knows; the parent would take that for a forged file, so start afresh.
  if (in_file() && files_[slot_].size > files_[slot_].announced_size) files_[slot_].reset();
  buffer_.clear();
  slot_ = no_slot;
  position_ = 0;
}

std::uint64_t ReplySink::header_flags() const noexcept {
  if (!in_file()) return 0;
  std::uint64_t flags = FrameHeader::in_reply_file;
  if (slot_ == 1) flags |= FrameHeader::in_second_file;
  if (!files_[slot_].announced) flags |= FrameHeader::file_attached;
  if (outsized()) flags |= FrameHeader::file_dropped;
  return flags;
}

int ReplySink::descriptor_to_send() const noexcept {
  return in_file() && !files_[slot_].announced ? files_[slot_].fd.get() : -1;
}

void ReplySink::sent() noexcept {
  if (!in_file()) return;
  File& file = files_[slot_];
  if (outsized()) {
    // The parent holds the file until its caller has read the reply; the
    // pages go then.
    file.reset();
  } else {
    file.announced = true;
    file.announced_size = file.size;
  }
}

void ReplySink::send_parts(iovec* parts, int count) noexcept {
  // A fork in a result's save function: its child must not add to the reply.
  check_owner(owner_);
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = static_cast<std::size_t>(count);
  while (message.msg_iovlen > 0) {
    if (message.msg_iov[0].iov_len == 0) {
      ++message.msg_iov;
      --message.msg_iovlen;
      continue;
    }
    const ssize_t sent = ::sendmsg(socket_, &message, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    // The parent is gone or dropped this worker (as when a reply's write fails).
    if (sent <= 0) ::_exit(0);
    skip_sent(message, static_cast<std::size_t>(sent));
  }
}

void ReplySink::start_stream() {
  before_sending_();
  FrameHeader header{call_id_, 0, FrameHeader::streamed, 0, 0};
  iovec part{&header, sizeof header};
  send_parts(&part, 1);
  streaming_ = true;
  if (in_file()) {
    // The reply so far is in a kept file's mapping (a stream starts before
    // a reply outgrows it): it goes first.
    File& file = files_[slot_];
    stream(file.data, position_);
    // Grown for this reply past what the parent knows: the parent would take
    // it for a forged file next time (see clear()).
    if (file.size > file.announced_size) file.reset();
    slot_ = no_slot;
    position_ = 0;
  }
}

void ReplySink::stream(const char* data, std::size_t size) {
  if (buffer_.size() + size <= staging_size) {
    buffer_.append(data, size);
    return;
  }
  if (size >= staging_size) {
    // A segment the caller copies from here (stream_segment), after what is
    // staged.
    std::uint64_t segment[3] = {stream_segment | size, call_id_, reinterpret_cast<std::uintptr_t>(data)};
    send_staged_then(segment, sizeof segment);
    char answer = 0;
    for (;;) {
      const ssize_t got = ::recv(socket_, &answer, 1, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got != 1) ::_exit(0);  // the parent is gone or dropped this worker
      break;
    }
    if (answer == segment_read) return;
    if (answer != segment_resend) ::_exit(0);  // not the parent's protocol
  }
  // One chunk: what is staged, then this write from where it is (a large
  // vector's own memory), so that the chunk's length bounds a single read.
  std::uint64_t header[2] = {buffer_.size() + size, call_id_};
  iovec parts[3] = {{header, sizeof header}, {buffer_.data(), buffer_.size()}, {const_cast<char*>(data), size}};
  send_parts(parts, 3);
  buffer_.clear();
}

void ReplySink::finish_stream() noexcept {
  std::uint64_t end[2] = {stream_end, call_id_};
  send_staged_then(end, sizeof end);
  streaming_ = false;
}

void ReplySink::send_staged_then(void* mark, std::size_t mark_size) noexcept {
  // One send for both, so the mark never waits behind a second system call;
  // with nothing staged, the mark alone.
  std::uint64_t staged[2] = {buffer_.size(), call_id_};
  iovec parts[3] = {{staged, sizeof staged}, {buffer_.data(), buffer_.size()}, {mark, mark_size}};
  if (buffer_.empty()) {
    send_parts(&parts[2], 1);
  } else {
    send_parts(parts, 3);
  }
  buffer_.clear();
}

void ReplySink::complete() {
  if (streaming_ || !in_file() || buffer_.empty()) return;
  write_file(buffer_.data(), buffer_.size());
  buffer_.clear();
}

// Chooses the file for a reply that has reached `needed` bytes; false to
// stay in memory (and go through the socket).
bool ReplySink::enter_file(std::size_t needed) {
  check_owner(owner_);
  unsigned chosen = no_slot;
  for (unsigned slot = 0; slot < reply_file_slots; ++slot) {
    if ((free_files_ & FrameHeader::file_free(slot)) == 0) continue;
    // The largest free file: it is the most likely to need no growing.
    if (chosen == no_slot || files_[slot].mapped > files_[chosen].mapped) chosen = slot;
  }
  if (chosen == no_slot) {
    if (needed <= socket_reply_limit) return false;
    // Every file is still being read by a caller: take a fresh one. The
    // parent keeps the old file until that caller is done.
    chosen = files_[0].mapped <= files_[1].mapped ? 0 : 1;
    files_[chosen].reset();
  }
  File& file = files_[chosen];
  if (!file.fd.valid()) {
    file.fd.reset(above_standard_streams(::memfd_create("connectors-reply", MFD_CLOEXEC | MFD_ALLOW_SEALING)));
    if (!file.fd.valid()) fail("connectors: memfd_create");
    // The caller maps the file: it must never shrink under that mapping.
    if (::fcntl(file.fd.get(), F_ADD_SEALS, F_SEAL_SHRINK) != 0) fail("connectors: sealing a reply file");
  }
  slot_ = chosen;
  position_ = 0;
  std::string buffered;
  buffered.swap(buffer_);
  write(buffered.data(), buffered.size());
  if (buffer_.empty()) {
    buffered.clear();
    buffer_.swap(buffered);  // keeps the capacity for the next small replies
  }
  return true;
}

void ReplySink::map_at_least(std::size_t needed) {
  File& file = files_[slot_];
  if (needed <= file.mapped) return;
  const std::size_t capacity =
      std::min(round_up(std::max(needed, file.mapped + file.mapped / 2), reply_file_granule), reply_file_keep_limit);
  if (capacity > file.size && ::ftruncate(file.fd.get(), static_cast<off_t>(capacity)) != 0)
    fail("connectors: growing a reply file");
  file.size = std::max(file.size, capacity);
  void* mapping = file.data == nullptr ? ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd.get(), 0)
                                       : ::mremap(file.data, file.mapped, capacity, MREMAP_MAYMOVE);
  if (mapping == MAP_FAILED) fail("connectors: mapping a reply file");
  char* data = static_cast<char*>(mapping);
  ::madvise(data, capacity, MADV_DONTFORK);  // see check_owner
#ifdef MADV_POPULATE_WRITE
  // One call allocates and maps the new pages instead of a fault per page.
  // Without it (older kernels) the copy faults them in.
  ::madvise(data + file.mapped, capacity - file.mapped, MADV_POPULATE_WRITE);
#endif
  file.data = data;
  file.mapped = capacity;
}

void ReplySink::write(const char* data, std::size_t size) {
  File& file = files_[slot_];
  if (buffer_.empty()) {
    // Into the mapping, as far as it may reach.
    if (position_ + size <= reply_file_keep_limit) map_at_least(position_ + size);
    if (position_ < file.mapped) {
      const std::size_t part = std::min(size, file.mapped - position_);
      std::memcpy(file.data + position_, data, part);
      position_ += part;
      data += part;
      size -= part;
    }
    if (size == 0) return;
  }
  // Past the mapping: an outsized reply.
  if (buffer_.size() + size <= staging_size) {
    buffer_.append(data, size);
    return;
  }
  complete();
  if (size >= staging_size) {
    write_file(data, size);
  } else {
    buffer_.append(data, size);
  }
}

void ReplySink::write_file(const char* data, std::size_t size) {
  check_owner(owner_);
  File& file = files_[slot_];
  while (size > 0) {
    const ssize_t written = ::pwrite(file.fd.get(), data, size, static_cast<off_t>(position_));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) fail("connectors: writing a reply file");
    data += written;
    size -= static_cast<std::size_t>(written);
    position_ += static_cast<std::size_t>(written);
    file.size = std::max(file.size, position_);
  }
}

std::streamsize ReplySink::xsputn(const char* data, std::streamsize count) {
  if (forked_by_a_method) ::_exit(0);  // see note_fork_in_child
  const auto size = static_cast<std::size_t>(count);
  if (!streaming_ && stream_accepted_ && !outsized() && this->size() + size > reply_file_keep_limit) start_stream();
  if (streaming_) {
    stream(data, size);
    return count;
  }
  if (!in_file()) {
    const std::size_t needed = buffer_.size() + size;
    if (needed < reply_file_threshold || !enter_file(needed)) {
      buffer_.append(data, size);
      return count;
    }
  }
  write(data, size);
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
