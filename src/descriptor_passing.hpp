#pragma once

// Passing a file descriptor to another process over a Unix socket
// (SCM_RIGHTS): the fork server hands out worker sockets, workers hand back
// the memory files of large replies.

#include "unique_fd.hpp"

#include <sys/socket.h>

#include <cstring>

namespace connectors::detail {

// Room for one descriptor in a message's control data.
struct DescriptorControl {
  alignas(cmsghdr) char bytes[CMSG_SPACE(sizeof(int))];
};

// Lets `message` carry `fd` to the receiving process.
inline void attach_descriptor(msghdr& message, DescriptorControl& control, int fd) noexcept {
  std::memset(control.bytes, 0, sizeof control.bytes);
  message.msg_control = control.bytes;
  message.msg_controllen = sizeof control.bytes;
  cmsghdr* part = CMSG_FIRSTHDR(&message);
  part->cmsg_level = SOL_SOCKET;
  part->cmsg_type = SCM_RIGHTS;
  part->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(part), &fd, sizeof fd);
}

// Makes room in `message` for a descriptor it may receive.
inline void expect_descriptor(msghdr& message, DescriptorControl& control) noexcept {
  message.msg_control = control.bytes;
  message.msg_controllen = sizeof control.bytes;
}

// The descriptor a received `message` carried, or -1; never 0, 1 or 2 (see
// above_standard_streams). A message carrying more than one (not our
// protocol) has the others closed.
inline int received_descriptor(msghdr& message) noexcept {
  int fd = -1;
  for (cmsghdr* part = CMSG_FIRSTHDR(&message); part != nullptr; part = CMSG_NXTHDR(&message, part)) {
    if (part->cmsg_level != SOL_SOCKET || part->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (part->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int received = -1;
      std::memcpy(&received, CMSG_DATA(part) + i * sizeof(int), sizeof received);
      if (fd >= 0) ::close(fd);
      fd = received;
    }
  }
  return above_standard_streams(fd);
}

}  // namespace connectors::detail
