#pragma once

// Rank 0's side of the MPI transport: one communication thread that owns
// every MPI call after init, hands queued calls to idle serving ranks and
// matches their replies to the waiting jobs (docs/distributed.md).

#include "receive_buffers.hpp"

#include <connectors/detail/call_settings.hpp>
#include <connectors/detail/process_job.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace connectors::detail::mpi {

// What one MpiExecutor asks of the ranks: its settings, read when a call is
// sent (0 or -1: none).
struct ClientRecord : CallSettings {};

class Dispatcher {
 public:
  // `world_size`: ranks in the job; `serving`: the ranks that may get calls
  // (those running rank 0's binary).
  Dispatcher(int world_size, const std::vector<int>& serving);
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // The dispatcher of this process when it is rank 0 of an MPI launch, else
  // null.
  static Dispatcher* instance() noexcept;
  static void install(std::unique_ptr<Dispatcher> dispatcher) noexcept;

  std::size_t serving_ranks() const noexcept { return ranks_.size(); }

  // Queues `job` for `client`; it completes through its channel.
  void submit(const std::shared_ptr<ClientRecord>& client, ProcessJob& job) noexcept;
  // Fails the client's queued and running calls (WorkerError) and asks the
  // ranks running them to stop them; returns once no MPI call reads them.
  void close(const ClientRecord& client);
  // Rank 0 is ending: fails every call, tells every serving rank to stop,
  // waits until all have, and stops the thread. Further calls fail.
  void shut_down();

 private:
  struct Pending {
    ProcessJob* job;
    std::shared_ptr<ClientRecord> client;
  };
  struct Rank {
    int rank = 0;
    ProcessJob* job = nullptr;
    const ClientRecord* client = nullptr;
    std::uint64_t call_id = 0;
    // Waiting for a reply (also after its job was abandoned).
    bool busy = false;
    // The communication thread is sending the job's request.
    bool sending = false;
    bool cancel_due = false;
    // When its current call was sent, and how long its previous one took
    // until its reply (zero: none yet): they set how often the
    // communication thread polls (docs/distributed.md, "Idle ranks").
    std::chrono::steady_clock::time_point sent_at{};
    std::chrono::microseconds previous{0};
    // Where its large replies land (the communication thread's).
    std::shared_ptr<ReceiveBuffers> buffers = std::make_shared<ReceiveBuffers>();
  };

  void run() noexcept;
  // Sends queued calls to idle ranks and due cancels; `lock` is held on entry
  // and exit, released while sending.
  void send_work(std::unique_lock<std::mutex>& lock);
  void receive_reply(int from, const struct MessageHeader& header);
  // The job of `from`'s call `call_id`, which has its reply, and marks the
  // rank idle; null if that call was abandoned or is not the rank's.
  ProcessJob* answered(int from, std::uint64_t call_id);
  void stop_ranks();
  // How long to sleep before polling again for the replies in flight; `lock`
  // held.
  std::chrono::microseconds in_flight_poll_pause() const noexcept;
  Rank* find(int rank) noexcept;

  const int world_size_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable sent_;
  std::deque<Pending> queue_;
  std::vector<Rank> ranks_;
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
  std::uint64_t last_call_id_ = 0;
};

}  // namespace connectors::detail::mpi
