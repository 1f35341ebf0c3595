#pragma once

// The messages between rank 0 and the serving ranks (docs/distributed.md,
// "What is sent per call"). Every message is a MessageHeader with
// header_tag, followed, when `size` is not zero, by the payload in pieces of
// at most payload_piece bytes with payload_tag (MPI counts are ints). A
// payload is the request or the reply in the format every backend shares
// (process_call.hpp).

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>

namespace connectors::detail::mpi {

inline constexpr int header_tag = 1;
inline constexpr int payload_tag = 2;
inline constexpr std::size_t payload_piece = std::size_t{1} << 30;

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

// Sends a header and its payload to `rank` (blocking: the payload is read in
// place, never copied).
inline void send_message(const MessageHeader& header, const char* payload, int rank) {
  MPI_Send(&header, sizeof header, MPI_BYTE, rank, header_tag, MPI_COMM_WORLD);
  for (std::size_t done = 0; done < header.size;) {
    const std::size_t piece = std::min<std::size_t>(header.size - done, payload_piece);
    MPI_Send(payload + done, static_cast<int>(piece), MPI_BYTE, rank, payload_tag, MPI_COMM_WORLD);
    done += piece;
  }
}

// Receives the payload announced by a header from `rank` into `data`
// (header.size bytes).
inline void receive_payload(const MessageHeader& header, char* data, int rank) {
  for (std::size_t done = 0; done < header.size;) {
    const std::size_t piece = std::min<std::size_t>(header.size - done, payload_piece);
    MPI_Recv(data + done, static_cast<int>(piece), MPI_BYTE, rank, payload_tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    done += piece;
  }
}

// A header from any rank if one has arrived: its sender, or -1.
inline int poll_header(MessageHeader& header) {
  int arrived = 0;
  MPI_Message message;
  MPI_Status status;
  MPI_Improbe(MPI_ANY_SOURCE, header_tag, MPI_COMM_WORLD, &arrived, &message, &status);
  if (arrived == 0) return -1;
  MPI_Mrecv(&header, sizeof header, MPI_BYTE, &message, MPI_STATUS_IGNORE);
  return status.MPI_SOURCE;
}

}  // namespace connectors::detail::mpi
