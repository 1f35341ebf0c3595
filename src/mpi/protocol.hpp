#pragma once

// The messages between rank 0 and the serving ranks (docs/distributed.md,
// "What is sent per call"). Every message is a MessageHeader with
// header_tag, followed, when `size` is not zero, by the payload: in the same
// message up to inline_payload_limit, else in pieces of at most payload_piece
// bytes with payload_tag. A
// payload is the request or the reply in the format every backend shares
// (process_call.hpp).

#include "backoff.hpp"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace connectors::detail::mpi {

inline constexpr int header_tag = 1;
inline constexpr int payload_tag = 2;
// Small enough that rank 0's caller decodes the first pieces of a large
// reply while MPI still moves the rest (docs/distributed.md, "What is sent per
// call"), large enough that the cost of a message per piece does not show.
inline constexpr std::size_t payload_piece = std::size_t{4} << 20;

enum class MessageKind : std::uint32_t {
  call = 1,     // rank 0 -> serving rank: run the request in the payload
  reply = 2,    // serving rank -> rank 0: the reply to call `call_id`
  cancel = 3,   // rank 0 -> serving rank: call `call_id` is abandoned, stop it
  stop = 4,     // rank 0 -> serving rank: rank 0 is ending; finish and exit
  stopped = 5,  // serving rank -> rank 0: sent nothing after this
};

struct MessageHeader {
  MessageKind kind = MessageKind::call;
  std::uint32_t reserved = 0;
  std::uint64_t call_id = 0;
  std::uint64_t size = 0;
  // Calls: how many of the request's first bytes name code (see
  // ProcessRequest), the executor's call timeout (-1: none) and its
  // WorkerLimits (0: none), applied by the serving rank's worker pool.
  std::uint64_t code_size = 0;
  std::int64_t timeout_ms = -1;
  std::uint64_t memory_limit = 0;
  std::uint64_t recycle_after_calls = 0;
  std::uint64_t recycle_above_memory = 0;
  std::uint64_t max_reply_size = 0;
};

// Payloads up to this size travel in the header's own message: a trivial call
// is then one message each way instead of two (each costs a raw MPI
// latency; docs/benchmarks.md, "MPI ranks").
inline constexpr std::size_t inline_payload_limit = std::size_t{16} << 10;

inline bool payload_inline(const MessageHeader& header) noexcept { return header.size <= inline_payload_limit; }

// The message last received by poll_header on this thread, when its payload
// came with it; and the buffer this thread sends such messages from.
inline thread_local std::string inline_message;
inline thread_local std::string inline_outgoing;

// Waits for `requests` without spinning a core: Open MPI's MPI_Waitall polls
// in a loop, and a large payload keeps its sender waiting for as long as the
// receiver copies it (the receiver does the single copy).
inline void wait_politely(std::vector<MPI_Request>& requests) {
  Backoff backoff{send_hot, send_sleep};
  for (;;) {
    int done = 0;
    MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE);
    if (done != 0) return;
    backoff.pause();
  }
}

// Sends a header and its payload to `rank` (returns once it is sent; a large
// payload is read in place, never copied).
inline void send_message(const MessageHeader& header, const char* payload, int rank) {
  if (payload_inline(header)) {
    if (header.size == 0 || payload == nullptr) {
      MPI_Send(&header, sizeof header, MPI_BYTE, rank, header_tag, MPI_COMM_WORLD);
      return;
    }
    std::string& message = inline_outgoing;
    message.assign(reinterpret_cast<const char*>(&header), sizeof header);
    message.append(payload, header.size);
    MPI_Send(message.data(), static_cast<int>(message.size()), MPI_BYTE, rank, header_tag, MPI_COMM_WORLD);
    return;
  }
  MPI_Send(&header, sizeof header, MPI_BYTE, rank, header_tag, MPI_COMM_WORLD);
  // Every piece offered at once: the receiver takes them one after the other
  // without waiting for this side to offer the next.
  std::vector<MPI_Request> requests;
  requests.reserve((header.size + payload_piece - 1) / payload_piece);
  for (std::size_t done = 0; done < header.size;) {
    const std::size_t piece = std::min<std::size_t>(header.size - done, payload_piece);
    requests.push_back(MPI_REQUEST_NULL);
    MPI_Isend(payload + done, static_cast<int>(piece), MPI_BYTE, rank, payload_tag, MPI_COMM_WORLD, &requests.back());
    done += piece;
  }
  wait_politely(requests);
}

// Receives the payload announced by a header that poll_header returned on
// this thread, from `rank` into `data` (header.size bytes); says after each
// piece how much has arrived, `arrived(bytes)`.
template <class Arrived>
void receive_payload(const MessageHeader& header, char* data, int rank, Arrived arrived) {
  if (payload_inline(header)) {
    if (header.size > 0) std::memcpy(data, inline_message.data() + sizeof header, header.size);
    arrived(static_cast<std::size_t>(header.size));
    return;
  }
  for (std::size_t done = 0; done < header.size;) {
    const std::size_t piece = std::min<std::size_t>(header.size - done, payload_piece);
    MPI_Recv(data + done, static_cast<int>(piece), MPI_BYTE, rank, payload_tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    done += piece;
    arrived(done);
  }
}

inline void receive_payload(const MessageHeader& header, char* data, int rank) {
  receive_payload(header, data, rank, [](std::size_t) {});
}

// Receives and drops the payload announced by `header`, a piece at a time
// (its sender waits until it is taken).
inline void discard_payload(const MessageHeader& header, int rank) {
  if (payload_inline(header)) return;
  std::unique_ptr<char[]> scratch{new char[std::min<std::size_t>(header.size, payload_piece)]};
  for (std::size_t done = 0; done < header.size;) {
    const std::size_t piece = std::min<std::size_t>(header.size - done, payload_piece);
    MPI_Recv(scratch.get(), static_cast<int>(piece), MPI_BYTE, rank, payload_tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    done += piece;
  }
}

// A header from any rank if one has arrived: its sender, or -1. A payload
// that came with it is kept for receive_payload.
inline int poll_header(MessageHeader& header) {
  int arrived = 0;
  MPI_Message message;
  MPI_Status status;
  MPI_Improbe(MPI_ANY_SOURCE, header_tag, MPI_COMM_WORLD, &arrived, &message, &status);
  if (arrived == 0) return -1;
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  if (static_cast<std::size_t>(count) <= sizeof header) {
    MPI_Mrecv(&header, sizeof header, MPI_BYTE, &message, MPI_STATUS_IGNORE);
    return status.MPI_SOURCE;
  }
  std::string& received = inline_message;
  received.resize(static_cast<std::size_t>(count));
  MPI_Mrecv(received.data(), count, MPI_BYTE, &message, MPI_STATUS_IGNORE);
  std::memcpy(&header, received.data(), sizeof header);
  return status.MPI_SOURCE;
}

}  // namespace connectors::detail::mpi
