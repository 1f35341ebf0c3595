// The loop of a worker process: read a request, run it, send the reply.

#include "fork_server.hpp"

#include <connectors/detail/byte_streams.hpp>
#include <connectors/detail/process_call.hpp>
#include <connectors/detail/type_name.hpp>

#include <cxxabi.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <istream>
#include <ostream>
#include <string>
#include <typeinfo>

namespace connectors::detail {

namespace {

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

bool write_frame(int socket, const std::string& payload) {
  FrameHeader header{payload.size(), 0};
  iovec parts[2] = {{&header, sizeof header}, {const_cast<char*>(payload.data()), payload.size()}};
  std::size_t skip = 0;
  const std::size_t total = sizeof header + payload.size();
  while (skip < total) {
    iovec remaining[2];
    int count = 0;
    std::size_t offset = skip;
    for (const iovec& part : parts) {
      if (offset >= part.iov_len) {
        offset -= part.iov_len;
        continue;
      }
      remaining[count++] = {static_cast<char*>(part.iov_base) + offset, part.iov_len - offset};
      offset = 0;
    }
    msghdr message{};
    message.msg_iov = remaining;
    message.msg_iovlen = static_cast<std::size_t>(count);
    const ssize_t sent = ::sendmsg(socket, &message, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    skip += static_cast<std::size_t>(sent);
  }
  return true;
}

std::string current_exception_type() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  return type != nullptr ? demangle(type->name()) : std::string{"unknown exception"};
}

void write_error(std::string& reply, ReplyStatus status, const std::string& first, const std::string* second) {
  reply.clear();
  StringSink sink{reply};
  std::ostream stream{&sink};
  cereal::BinaryOutputArchive out{stream};
  out(static_cast<std::uint8_t>(status), first);
  if (second != nullptr) out(*second);
}

void run_request(const std::string& request, std::string& reply) {
  reply.clear();
  try {
    ByteSource source{request.data(), request.size()};
    std::istream in_stream{&source};
    cereal::BinaryInputArchive in{in_stream};
    CodeAddress invoker_address;
    in(invoker_address);
    WorkerInvoker invoker = nullptr;
    try {
      void* code = resolve_code(invoker_address);
      std::memcpy(&invoker, &code, sizeof invoker);
    } catch (const std::exception& error) {
      write_error(reply, ReplyStatus::failure, error.what(), nullptr);
      return;
    }
    StringSink sink{reply};
    std::ostream out_stream{&sink};
    cereal::BinaryOutputArchive out{out_stream};
    invoker(in, out);
  } catch (const std::exception& error) {
    const std::string message = error.what();
    write_error(reply, ReplyStatus::exception, current_exception_type(), &message);
  } catch (...) {
    const std::string message;
    write_error(reply, ReplyStatus::exception, current_exception_type(), &message);
  }
}

}  // namespace

void run_worker(UniqueFd socket, pid_t server) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != server) ::_exit(0);
  std::string request;
  std::string reply;
  for (;;) {
    FrameHeader header;
    if (!read_exactly(socket.get(), reinterpret_cast<char*>(&header), sizeof header)) ::_exit(0);
    request.resize(header.size);
    if (!read_exactly(socket.get(), request.data(), request.size())) ::_exit(0);
    run_request(request, reply);
    // What the method printed must not be lost when the worker is killed.
    std::fflush(nullptr);
    if (!write_frame(socket.get(), reply)) ::_exit(0);
    // A huge payload should not pin its memory until the next call.
    constexpr std::size_t keep = 16 << 20;
    if (request.capacity() > keep) std::string{}.swap(request);
    if (reply.capacity() > keep) std::string{}.swap(reply);
  }
}

}  // namespace connectors::detail
