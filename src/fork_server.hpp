#pragma once

// The fork server ("zygote"): a single-threaded process forked (through an
// intermediate, so that it is no child of the program) by init() while the
// program is still single-threaded. It forks worker processes on request,
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

// The program's process (the one that called init), inherited by the fork
// server and the workers: a worker lets it read its memory (PR_SET_PTRACER)
// for segments of streamed replies.
inline pid_t program_pid = 0;
// True in the fork server and in every worker (forked from it): processes
// that were forked inside connectors::init, whose lock they hold for good.
inline bool in_library_process = false;

// The parent's end of the control socket; -1 when init() was not called.
int fork_server_socket() noexcept;
// Runs the fork server; never returns. It ends (killing its workers) when
// `control` reads end-of-file: the program is gone or closed it.
[[noreturn]] void run_fork_server(UniqueFd control);

// Runs a worker on `socket` (its end of the connection to the parent); never
// returns. `server` is the fork server's pid.
[[noreturn]] void run_worker(UniqueFd socket, pid_t server);

// Frames on a worker connection: this header, then `size` bytes; or, for a
// reply with `in_reply_file` set, no bytes on the socket: the payload is the
// first `size` bytes of one of the worker's two reply files (memfds, see
// ReplySink). The parent holds their descriptors and maps or reads them; or,
// for a reply with `streamed` set, a sequence of chunks (see stream_end).
//
// Every request carries a call id and the reply must carry the same one: a
// method can write to the worker's socket (stray bytes, a fork whose child
// answers too), and the parent must never take such bytes for the reply to
// the call it is waiting for (docs/processes.md, "What a misbehaving method
// cannot do").
struct FrameHeader {
  // Request: the parent no longer reads reply file `slot`, so the worker may
  // overwrite it. A file still lent to a caller that has not decoded its
  // reply is not free.
  static constexpr std::uint64_t file_free(unsigned slot) noexcept { return std::uint64_t{1} << slot; }
  // Reply: the payload is in reply file `slot`.
  static constexpr std::uint64_t in_reply_file = 1;
  static constexpr std::uint64_t in_second_file = 2;
  // Reply: that file is new; its descriptor comes with this header
  // (SCM_RIGHTS) and replaces the parent's file of the slot.
  static constexpr std::uint64_t file_attached = 4;
  // Reply: the worker has dropped that file (it outgrew
  // reply_file_keep_limit); the parent drops it once the reply is read.
  static constexpr std::uint64_t file_dropped = 8;
  // Reply: the reply follows on the socket as a stream of chunks (see
  // stream_end), written while the worker serializes it; `size` is zero.
  static constexpr std::uint64_t streamed = 16;
  static constexpr std::uint64_t known_reply_flags =
      in_reply_file | in_second_file | file_attached | file_dropped | streamed;
  // Request: the caller reads an outsized reply as a stream, straight from
  // the worker's socket into its result (a caller that forwards the reply's
  // bytes elsewhere, such as a serving MPI rank, does not).
  static constexpr std::uint64_t stream_accepted = std::uint64_t{1} << 8;

  std::uint64_t call_id = 0;
  std::uint64_t size = 0;
  std::uint64_t flags = 0;
  // Request: the first `code_size` bytes (the invoker and the callable) are
  // what `check` covers (see request_check.hpp). Zero in replies.
  std::uint64_t code_size = 0;
  std::uint64_t check = 0;
};

// The exit code of a worker whose method closed or replaced its socket: the
// worker cannot tell the parent otherwise (a method calling _exit with this
// code is reported the same way).
inline constexpr int worker_lost_connection_exit = 121;
// The exit code of a worker whose own loop failed between methods (no memory
// for the next request, say): it ends rather than let the failure unwind
// out of connectors::init into the program's main, which would then run on
// in the worker (docs/processes.md).
inline constexpr int worker_failed_exit = 122;

// The call id of the request the worker runs now (0 outside a call): lets a
// test play a method that forges whole frames, as a hostile one could.
std::uint64_t current_call_id() noexcept;

// The number of reply files per worker: while a caller still reads one, the
// worker can write the next reply into the other.
inline constexpr unsigned reply_file_slots = 2;

// Replies from this size on go into a reply file when one is free. Below it
// the socket is as fast and never ties a file to a caller.
inline constexpr std::size_t reply_file_threshold = 1U << 20;

// When no reply file is free, replies up to this size go through the socket;
// a larger one replaces a busy file with a fresh one (the caller keeps its
// mapping of the old file until it has decoded its reply).
inline constexpr std::size_t socket_reply_limit = 32U << 20;

// A reply file up to this size is kept for the next replies (its pages are
// then already allocated): a 64 MiB result and its framing fit. A larger one
// serves one reply and is dropped, so that an outsized result does not stay
// with the worker for life.
inline constexpr std::size_t reply_file_keep_limit = 80U << 20;

// A streamed reply (FrameHeader::streamed) is a sequence of chunks, each a
// 64-bit length, the call id (as in frame headers: stray bytes on the socket
// are never taken for the reply) and that many bytes; a length of
// stream_end ends the reply,
// and stream_restart discards what came before it: the worker failed while
// serializing (its save threw) and an error reply follows in its place.
// A reply that would outgrow reply_file_keep_limit is streamed when the
// request accepts it, so that no file of its size is created on either side.
inline constexpr std::uint64_t stream_end = 0;
inline constexpr std::uint64_t stream_restart = ~std::uint64_t{0};
// A length with this bit set announces a segment: the chunk's bytes are not
// on the socket but in the worker's memory, at the address of the 64-bit word
// that follows the call id, and the caller copies them with process_vm_readv straight
// into its result, so that they cross no socket buffer (measured in
// docs/benchmarks.md). The worker waits meanwhile (it must not touch those
// bytes) for one byte from the caller: segment_read, or segment_resend when
// the caller cannot read other processes' memory (a seccomp filter, Yama's
// ptrace scope) and wants the bytes as an ordinary chunk instead.
inline constexpr std::uint64_t stream_segment = std::uint64_t{1} << 63;
inline constexpr char segment_read = 'R';
inline constexpr char segment_resend = 'S';

// The worker's send buffer for streamed replies: large enough that the
// worker and the reading caller rarely wait for each other (measured on the
// machine of docs/benchmarks.md: 0.6 GB/s through an AF_UNIX socket with the
// default buffer, 2 GB/s with 4 MiB); the kernel caps it at its wmem_max.
inline constexpr int stream_send_buffer = 4 << 20;

// Kept reply files grow in steps of this size (a huge page's), up to
// reply_file_keep_limit.
inline constexpr std::size_t reply_file_granule = 2U << 20;

}  // namespace connectors::detail
