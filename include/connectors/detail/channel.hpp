#pragma once

#include <connectors/detail/channel_node.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace connectors::detail {

// The only way into an event loop from other threads: intrusive nodes pushed
// with one compare-and-swap onto a stack, which the loop takes whole and turns
// into arrival order, so pool threads finishing calls at the same time never
// wait for each other or for the loop (docs/design.md §4.2, "Event loops").
// A consumer about to sleep leaves a mark in the stack's word; the one poster
// that replaces the mark wakes it, and the consumer does not leave its sleep
// before that poster is done with the channel. Every other poster is done with
// the channel once its compare-and-swap succeeded: once the consumer has taken
// the posts it waits for, it may close and destroy the channel at once. That
// lets nodes whose completion the loop waits for (method calls on the pool)
// point at the channel without owning it.
class Channel {
 public:
  Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();

  // Appends `node`. Returns false when the channel is closed; the node is not
  // taken then and the caller disposes of it. Once it returns true the node
  // may already have been delivered: the caller must not touch it.
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

  // Refuses further posts and discards what is pending. The consumer's
  // thread only (as take_all and the waits).
  void close() noexcept;

  bool has_posts() const noexcept;

 private:
  void sleep_until_post(std::chrono::steady_clock::time_point deadline) noexcept;

  // The posts, newest first; null when there are none; `sleeping_mark()`
  // when there are none and the consumer sleeps (or is about to);
  // `closed_mark()` once closed.
  std::atomic<ChannelNode*> posted_{nullptr};
  // Under mutex_: the poster that replaced the sleeping mark has woken the
  // consumer and is done with the channel.
  bool woken_ = false;
  std::mutex mutex_;
  std::condition_variable wake_up_;
};

}  // namespace connectors::detail
