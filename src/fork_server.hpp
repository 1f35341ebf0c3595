#pragma once

// The fork server ("zygote"): a single-threaded child forked by init() while
// the program is still single-threaded. It forks worker processes on request,
// reaps them and reports how they ended. See docs/processes.md.

#include "unique_fd.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace connectors::detail {

// The messages on the control socket (SOCK_SEQPACKET, one message each).
struct ForkServerMessage {
  enum Kind : std::uint32_t {
    spawn = 1,    // parent -> server: start a worker
    kill = 2,     // parent -> server: SIGKILL worker `pid` (if it still runs)
    spawned = 3,  // server -> parent: worker `pid` started (its socket attached), or pid -1 and errno in `value`
    exited = 4,   // server -> parent: worker `pid` was reaped, wait status in `value`
  };
  std::uint32_t kind = 0;
  std::int32_t pid = 0;
  std::int32_t value = 0;
};

// The parent's end of the control socket; -1 when init() was not called.
int fork_server_socket() noexcept;
// The fork server's pid; -1 when init() was not called.
pid_t fork_server_pid() noexcept;

// Runs the fork server; never returns.
[[noreturn]] void run_fork_server(UniqueFd control, pid_t parent);

// Runs a worker on `socket` (its end of the connection to the parent); never
// returns. `server` is the fork server's pid.
[[noreturn]] void run_worker(UniqueFd socket, pid_t server);

// Frames on a worker connection: this header, then `size` bytes; or, for a
// reply with `in_memory_file` set, no bytes on the socket: the header carries
// a memory file (SCM_RIGHTS) whose first `size` bytes are the payload.
struct FrameHeader {
  static constexpr std::uint64_t in_memory_file = 1;
  std::uint64_t size = 0;
  std::uint64_t flags = 0;
};

// Replies from this size on travel in a memory file that the parent maps,
// instead of being copied through the socket. Below it the socket is faster:
// glibc reuses freed heap blocks up to 32 MiB (its largest dynamic mmap
// threshold), so both sides' buffers are already mapped, while a memory file
// always takes fresh pages. Above it every buffer is a fresh mapping anyway.
inline constexpr std::size_t memory_file_threshold = 32U << 20;

}  // namespace connectors::detail
