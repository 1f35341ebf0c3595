// The loop of a worker process: read a request, run it, send the reply.

#include "descriptor_passing.hpp"
#include "fork_server.hpp"
#include "partial_send.hpp"
#include "reply_sink.hpp"
#include "request_check.hpp"
#include "request_handler.hpp"

#include <connectors/detail/process_call.hpp>

#include <malloc.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigaction and sigset_t, not only <csignal>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

namespace connectors::detail {

namespace {

std::uint64_t running_call_id = 0;

// Reads exactly `size` bytes; false on EOF or error (the parent is gone or
// dropped this worker).
bool read_exactly(int socket, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t got = ::recv(socket, data, size, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    data += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}

bool send_all(int socket, msghdr& message, std::size_t total) {
  std::size_t sent_total = 0;
  while (sent_total < total) {
    const ssize_t sent = ::sendmsg(socket, &message, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    sent_total += static_cast<std::size_t>(sent);
    // Only the first sendmsg carries the descriptor; skip what was sent.
    message.msg_control = nullptr;
    message.msg_controllen = 0;
    skip_sent(message, static_cast<std::size_t>(sent));
  }
  return true;
}

bool write_reply(int socket, std::uint64_t call_id, ReplySink& reply) {
  FrameHeader header{call_id, reply.size(), reply.header_flags(), 0, 0};
  iovec parts[2] = {{&header, sizeof header}, {const_cast<char*>(reply.bytes().data()), reply.bytes().size()}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = reply.in_file() ? 1 : 2;
  DescriptorControl control;
  if (const int file = reply.descriptor_to_send(); file >= 0) attach_descriptor(message, control, file);
  const std::size_t total = sizeof header + (reply.in_file() ? 0 : reply.bytes().size());
  if (!send_all(socket, message, total)) return false;
  reply.sent();
  return true;
}

struct SocketIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const SocketIdentity&) const = default;
};

// Which socket `fd` is now; a default identity when it is closed.
SocketIdentity identify(int fd) {
  struct stat status {};
  if (::fstat(fd, &status) != 0 || !S_ISSOCK(status.st_mode)) return {};
  return {status.st_dev, status.st_ino};
}

// Who may answer: this worker (not the child of a fork in a method) on the
// socket it started with (docs/processes.md).
pid_t worker_pid = 0;
int worker_socket = -1;
SocketIdentity worker_connection;

// Ends a process that must not answer; called before anything of a reply is
// sent, which for a streamed reply is while the result is being serialized.
void check_may_answer() {
  if (::getpid() != worker_pid) ::_exit(0);  // the child of a fork in the method
  // What the method printed must not be lost when the worker is killed.
  std::fflush(nullptr);
  if (identify(worker_socket) != worker_connection) ::_exit(worker_lost_connection_exit);
}

}  // namespace

std::uint64_t current_call_id() noexcept { return running_call_id; }

namespace {
[[noreturn]] void serve(UniqueFd socket, pid_t server);
}  // namespace

void run_worker(UniqueFd socket, pid_t server) {
  try {
    serve(std::move(socket), server);
  } catch (...) {
    // A method's own exceptions are its call's reply (run_request); this is
    // the loop's, which must never reach init's caller (worker_failed_exit).
    ::_exit(worker_failed_exit);
  }
}

namespace {

void serve(UniqueFd socket, pid_t server) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != server) ::_exit(0);
  // A method may fork: its child returns from the method too, and must never
  // answer in this worker's name (docs/processes.md).
  worker_pid = ::getpid();
  // A method may close or replace the socket; then the worker says so with
  // its exit code, its only way left to tell the parent.
  worker_socket = socket.get();
  worker_connection = identify(worker_socket);
  // Segments of streamed replies are read by the program (stream_segment);
  // only Yama's ptrace scope needs this, elsewhere it fails harmlessly.
  ::prctl(PR_SET_PTRACER, static_cast<unsigned long>(program_pid), 0, 0, 0);
  // Streamed replies: see stream_send_buffer.
  ::setsockopt(worker_socket, SOL_SOCKET, SO_SNDBUF, &stream_send_buffer, sizeof stream_send_buffer);
  // Large results are built call after call: keeping freed memory in the
  // worker's heap (up to a bound) spares the page faults of fresh mappings,
  // which cost more than the copying on the machines we measured.
  ::mallopt(M_MMAP_MAX, 0);
  ::mallopt(M_TRIM_THRESHOLD, 128 << 20);
  std::string request;
  ReplySink reply;
  reply.set_connection(worker_socket, &check_may_answer);
  for (;;) {
    FrameHeader header;
    if (!read_exactly(socket.get(), reinterpret_cast<char*>(&header), sizeof header)) ::_exit(0);
    request.resize(header.size);
    if (!read_exactly(socket.get(), request.data(), request.size())) ::_exit(0);
    reply.begin(header.flags, header.call_id);
    if (header.code_size > request.size() ||
        request_check(header.call_id, request.data(), header.code_size) != header.check) {
      write_error(reply, ReplyStatus::failure, "the request failed its check (it was not made by the parent)", nullptr);
    } else {
      running_call_id = header.call_id;
      run_request(request, reply);
      running_call_id = 0;
    }
    check_may_answer();
    if (reply.streaming()) {
      reply.finish_stream();
    } else if (!write_reply(socket.get(), header.call_id, reply)) {
      ::_exit(0);
    }
    if (request.capacity() > (16U << 20)) std::string{}.swap(request);
  }
}

}  // namespace

}  // namespace connectors::detail
