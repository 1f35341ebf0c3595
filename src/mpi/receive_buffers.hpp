#pragma once

// Where rank 0 receives large replies (docs/distributed.md, "Large results").
// MPI's single-copy transfer into memory that has never been touched is
// pathologically slow: measured here, 700 ms for 64 MiB into a fresh buffer
// against 45 ms into one already faulted in. So each serving rank's large
// replies land in memory files kept from one call to the next, already
// faulted in, and the caller decodes the reply straight from them (lent to it
// as a reply file is by the local pool, process_job.hpp).

#include <connectors/detail/process_job.hpp>

#include <cstddef>
#include <memory>

namespace connectors::detail::mpi {

class ReceiveBuffers {
 public:
  ReceiveBuffers() = default;
  ReceiveBuffers(const ReceiveBuffers&) = delete;
  ReceiveBuffers& operator=(const ReceiveBuffers&) = delete;
  ReceiveBuffers(ReceiveBuffers&&) noexcept = default;
  ReceiveBuffers& operator=(ReceiveBuffers&&) noexcept = default;
  ~ReceiveBuffers();

  // Memory for a reply of `size` bytes, writable at `*data` until the
  // returned buffer (which the caller then decodes) is made; call lend()
  // once it is received. Throws std::bad_alloc.
  char* prepare(std::size_t size);
  // The reply just received into prepare()'s memory, as the job's reply.
  ByteBuffer lend(std::size_t size);
  // The reply about to be received into prepare()'s memory, lent before its
  // bytes are there, so that the caller decodes each piece as it arrives
  // (the transfer and the decoding overlap); arrived() says how much has.
  // An empty buffer when that memory is not a kept file: fresh memory
  // belongs to the buffer and could go while MPI still writes into it.
  ByteBuffer lend_before_arrival(std::size_t size);
  void arrived(std::size_t bytes) noexcept;

 private:
  struct Slot {
    std::shared_ptr<ReplyFile> file;
    char* writable = nullptr;
    std::size_t capacity = 0;
  };
  static constexpr unsigned slots = 2;

  // Gives `slot` a file of at least `size` bytes, or leaves it as it was and
  // answers false when none can be made (out of descriptors, say): the reply
  // then comes into plain memory. Throws std::bad_alloc.
  static bool grow(Slot& slot, std::size_t size);

  Slot slots_[slots];
  // What prepare() chose: a slot, or a plain allocation.
  int chosen_ = -1;
  ByteBuffer plain_;
};

}  // namespace connectors::detail::mpi
