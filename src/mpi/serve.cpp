#include "serve.hpp"

#include "backoff.hpp"
#include "protocol.hpp"

#include <connectors/detail/byte_streams.hpp>
#include <connectors/detail/channel.hpp>
#include <connectors/detail/process_call.hpp>
#include <connectors/detail/worker_pool.hpp>

#include <unistd.h>
#include <cereal/archives/binary.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

namespace connectors::detail::mpi {

namespace {

// A call this rank hands to its own worker pool.
class RankJob final : public ProcessJob {
 public:
  bool done = false;

 private:
  void deliver() noexcept override { done = true; }
  void discard() noexcept override { done = true; }
};

// A reply in the shared format saying the call failed where it ran.
std::string worker_error_reply(const std::string& message) {
  std::string bytes;
  StringSink sink{bytes};
  std::ostream stream{&sink};
  cereal::BinaryOutputArchive out{stream};
  out(static_cast<std::uint8_t>(ReplyStatus::worker_error), message);
  return bytes;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown host";
  return name;
}

class Server {
 public:
  Server(int rank, bool same_binary)
      : same_binary_(same_binary),
        where_("connectors: on MPI rank " + std::to_string(rank) + " (" + host_name() + "): ") {}

  void run() {
    precise_sleeps();
    Backoff backoff{idle_rank_hot, idle_rank_sleep};
    Backoff after_reply{0us, after_reply_sleep};
    Backoff::Clock::time_point follow_until{};
    for (;;) {
      MessageHeader header;
      const int source = poll_header(header);
      if (source < 0) {
        // Hot first if the call came within the hot period: a trivial
        // call's next one is then picked up at once.
        (!backoff.hot() && Backoff::Clock::now() < follow_until ? after_reply : backoff).pause();
        continue;
      }
      backoff.reset();
      if (header.kind == MessageKind::stop) break;
      if (header.kind != MessageKind::call) continue;  // a cancel for a call already answered
      run_call(header, source);
      if (stop_requested_) break;
      // The next call of a fan-out follows once rank 0 has seen the reply
      // (backoff.hpp, after_reply_period).
      after_reply.reset();
      follow_until = Backoff::Clock::now() + after_reply_period;
    }
    pool_.reset();
    const MessageHeader stopped{MessageKind::stopped};
    send_message(stopped, nullptr, 0);
  }

 private:
  void run_call(const MessageHeader& header, int source) {
    RankJob job;
    try {
      job.request.resize(header.size);
    } catch (const std::exception& error) {
      // Every call gets a reply: rank 0 waits for it, and this rank serves on.
      discard_payload(header, source);
      reply(header.call_id, worker_error_reply(where_ + "could not take a request of " + std::to_string(header.size) +
                                               " bytes (" + error.what() + ")"));
      return;
    }
    receive_payload(header, job.request.data(), source);
    if (!same_binary_) {
      // Rank 0 never sends one; refusing is all this binary may do.
      reply(header.call_id, worker_error_reply(where_ + "this rank runs a different binary than rank 0"));
      return;
    }
    try {
      if (!pool_) pool_ = std::make_unique<WorkerPool>(1);
      apply_settings(header);
    } catch (const std::exception& error) {
      reply(header.call_id, worker_error_reply(where_ + error.what()));
      return;
    }
    job.code_size = header.code_size;
    job.channel = &channel_;
    pool_->submit(job);
    wait_for(job, header.call_id);
    if (job.failure) {
      std::string message;
      try {
        std::rethrow_exception(job.failure);
      } catch (const std::exception& error) {
        message = error.what();
      } catch (...) {
        message = "unknown failure";
      }
      // "connectors: on MPI rank 2 (host): the worker process ... was killed by SIGSEGV ..."
      const std::string prefix = "connectors: ";
      if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
      reply(header.call_id, worker_error_reply(where_ + message));
      return;
    }
    send_reply(header.call_id, std::move(job.reply));
  }

  void apply_settings(const MessageHeader& header) {
    pool_->set_call_timeout(header.timeout_ms < 0 ? std::nullopt
                                                  : std::optional{std::chrono::milliseconds{header.timeout_ms}});
    auto limit = [](std::uint64_t value) -> std::optional<std::size_t> {
      if (value == 0) return std::nullopt;
      return static_cast<std::size_t>(value);
    };
    WorkerLimits limits;
    limits.memory_limit = limit(header.memory_limit);
    limits.recycle_after_calls = limit(header.recycle_after_calls);
    limits.recycle_above_memory = limit(header.recycle_above_memory);
    limits.max_reply_size = limit(header.max_reply_size);
    pool_->set_worker_limits(limits);
  }

  // Waits for the local worker's answer, watching for a cancel or a stop
  // from rank 0 meanwhile; either kills the local worker (its call then
  // fails here, and the reply still goes out: every call gets one).
  void wait_for(RankJob& job, std::uint64_t call_id) {
    // Polled hot at first: most calls answer within the hot period, and
    // sleeping on the channel would add a wake-up to each of them. Then
    // asleep on the channel, which the reply wakes at once; the timeout is
    // only the look for rank 0's messages, each a wake-up that takes CPU from
    // the workers (docs/distributed.md, "Idle ranks").
    const auto start = Backoff::Clock::now();
    const auto hot_until = start + local_call_hot_period(previous_call_);
    while (!job.done) {
      if (Backoff::Clock::now() < hot_until) {
        if (!channel_.has_posts()) ::sched_yield();
      } else {
        channel_.sleep_for_post(running_call_poll);
      }
      for (ChannelNode* node = channel_.take_all(); node != nullptr;) {
        ChannelNode* next = node->next_in_channel;
        node->deliver();
        node = next;
      }
      if (job.done) break;
      MessageHeader other;
      if (poll_header(other) < 0) continue;
      const bool cancelled = other.kind == MessageKind::cancel && other.call_id == call_id;
      if (other.kind == MessageKind::stop) stop_requested_ = true;
      // Destroying the pool fails the call through the channel and kills
      // the worker; a fresh pool serves the next call.
      if (cancelled || stop_requested_) pool_.reset();
    }
    previous_call_ = std::chrono::duration_cast<std::chrono::microseconds>(Backoff::Clock::now() - start);
  }

  void reply(std::uint64_t call_id, const std::string& bytes) {
    MessageHeader header{MessageKind::reply};
    header.call_id = call_id;
    header.size = bytes.size();
    send_message(header, bytes.data(), 0);
  }

  // The worker's reply goes out from where it is: its bytes, or the mapping
  // of the worker's reply file (no copy here); only an outsized reply, which
  // is never mapped, is read into memory first.
  void send_reply(std::uint64_t call_id, ByteBuffer local_reply) {
    MessageHeader header{MessageKind::reply};
    header.call_id = call_id;
    header.size = local_reply.size();
    if (local_reply.file() == nullptr) {
      send_message(header, local_reply.data(), 0);
      return;
    }
    if (local_reply.read_through_mapping()) {
      const char* bytes = nullptr;
      try {
        bytes = local_reply.file()->map(local_reply.size());
      } catch (const std::exception& error) {
        reply(call_id, worker_error_reply(where_ + error.what()));
        return;
      }
      send_message(header, bytes, 0);
      return;
    }
    std::string bytes;
    try {
      bytes.resize(local_reply.size());
      ReplyReader reader{local_reply};
      reader.sgetn(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    } catch (const std::exception& error) {
      reply(call_id, worker_error_reply(where_ + error.what()));
      return;
    }
    send_message(header, bytes.data(), 0);
  }

  const bool same_binary_;
  const std::string where_;
  Channel channel_;
  std::unique_ptr<WorkerPool> pool_;
  bool stop_requested_ = false;
  // How long the last call took here, which says whether to poll hot for
  // the next one's reply (zero: no call yet).
  std::chrono::microseconds previous_call_{0};
};

}  // namespace

void serve(int rank, bool same_binary) { Server{rank, same_binary}.run(); }

}  // namespace connectors::detail::mpi
