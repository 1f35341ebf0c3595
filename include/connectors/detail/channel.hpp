#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace connectors::detail {

// Something another thread hands to an event loop.
class ChannelNode {
 public:
  ChannelNode* next_in_channel = nullptr;
  // Called on the loop's thread, from the loop's shallow base.
  virtual void deliver() noexcept = 0;
  // The loop ended before the node could be delivered.
  virtual void discard() noexcept = 0;

 protected:
  ~ChannelNode() = default;
};

// The only way into an event loop from other threads: a FIFO of intrusive nodes
// under a mutex. A poster holds the mutex until it has finished touching the
// channel, so a loop that has taken the mutex once more knows every poster is
// done with it. That lets nodes whose completion the loop waits for (method
// calls on the pool) point at the channel without owning it.
class Channel {
 public:
  Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();

  // Appends `node`. Returns false when the channel is closed; the node is not
  // taken then and the caller disposes of it.
  [[nodiscard]] bool post(ChannelNode& node) noexcept;

  // Everything posted so far in FIFO order (linked by next_in_channel), or null.
  ChannelNode* take_all() noexcept;

  // Blocks until something was posted or `timeout` passed. Spins briefly
  // first: a reply from the pool usually arrives within microseconds.
  void wait_for_post(std::chrono::microseconds timeout) noexcept;
  // The same without the spin, for a waiter that has polled already and
  // now expects a long wait (an MPI rank's long call, docs/distributed.md,
  // "Idle ranks"): the spin would be paid on every timeout.
  void sleep_for_post(std::chrono::microseconds timeout) noexcept;

  // Refuses further posts and discards what is pending.
  void close() noexcept;

  bool has_posts() const noexcept { return nonempty_.load(std::memory_order_acquire); }

 private:
  void sleep_until_post(std::chrono::steady_clock::time_point deadline) noexcept;

  mutable std::mutex mutex_;
  std::condition_variable posted_;
  ChannelNode* head_ = nullptr;
  ChannelNode* tail_ = nullptr;
  bool closed_ = false;
  bool sleeping_ = false;
  std::atomic<bool> nonempty_{false};
};

}  // namespace connectors::detail
