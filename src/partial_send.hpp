#pragma once

// A sendmsg may send only part of its iovecs (a full socket buffer, a
// signal): what was sent is skipped before the next try. Used by the worker's
// reply writers (worker.cpp, reply_sink.cpp).

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstddef>

namespace connectors::detail {

inline void skip_sent(msghdr& message, std::size_t sent) noexcept {
  while (sent > 0 && message.msg_iovlen > 0) {
    iovec& part = message.msg_iov[0];
    const std::size_t taken = std::min(sent, part.iov_len);
    part.iov_base = static_cast<char*>(part.iov_base) + taken;
    part.iov_len -= taken;
    sent -= taken;
    if (part.iov_len == 0) {
      ++message.msg_iov;
      --message.msg_iovlen;
    }
  }
}

}  // namespace connectors::detail
