#include <connectors/detail/channel.hpp>

#include "cpu_relax.hpp"

#include <algorithm>
#include <chrono>

namespace connectors::detail {

namespace {

// How long a loop spins for a post before it sleeps. A reply from a pool
// thread usually takes a few microseconds; sleeping costs a futex round trip.
constexpr auto spin_duration = std::chrono::microseconds{20};

// What `posted_` holds once the channel is closed, and while it is empty and
// the consumer sleeps: never a node's address.
ChannelNode* closed_mark() noexcept {
  alignas(ChannelNode*) static char mark;
  return reinterpret_cast<ChannelNode*>(&mark);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}
ChannelNode* sleeping_mark() noexcept {
  alignas(ChannelNode*) static char mark;
  return reinterpret_cast<ChannelNode*>(&mark);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

bool holds_posts(const ChannelNode* newest) noexcept {
  return newest != nullptr && newest != closed_mark() && newest != sleeping_mark();
}

// The stack of posts (newest first) in arrival order.
ChannelNode* in_arrival_order(ChannelNode* newest_first) noexcept {
  ChannelNode* oldest_first = nullptr;
  while (newest_first != nullptr) {
    ChannelNode* next = newest_first->next_in_channel;
    newest_first->next_in_channel = oldest_first;
    oldest_first = newest_first;
    newest_first = next;
  }
  return oldest_first;
}

}  // namespace

Channel::~Channel() { close(); }

// One compare-and-swap, and nothing after it, unless the consumer sleeps: a
// poster that touched the channel after publishing its node could find it
// destroyed (the loop may deliver the node, end and close at once).
bool Channel::post(ChannelNode& node) noexcept {
  ChannelNode* newest = posted_.load(std::memory_order_relaxed);
  do {
    if (newest == closed_mark()) return false;
    node.next_in_channel = newest == sleeping_mark() ? nullptr : newest;
  } while (!posted_.compare_exchange_weak(newest, &node, std::memory_order_release, std::memory_order_relaxed));
  if (newest == sleeping_mark()) {
    // The consumer does not leave its sleep before it has seen woken_, which
    // it reads under the mutex: the channel outlives this block.
    std::lock_guard lock{mutex_};
    woken_ = true;
    wake_up_.notify_one();
  }
  return true;
}

bool Channel::has_posts() const noexcept { return holds_posts(posted_.load(std::memory_order_acquire)); }

ChannelNode* Channel::take_all() noexcept {
  ChannelNode* newest = posted_.load(std::memory_order_acquire);
  do {
    if (!holds_posts(newest)) return nullptr;
  } while (!posted_.compare_exchange_weak(newest, nullptr, std::memory_order_acquire, std::memory_order_acquire));
  return in_arrival_order(newest);
}

void Channel::wait_for_post(std::chrono::microseconds timeout) noexcept {
  const auto start = std::chrono::steady_clock::now();
  const auto spin_until =
      start + std::min(timeout, std::chrono::duration_cast<std::chrono::microseconds>(spin_duration));
  for (unsigned i = 0;; ++i) {
    if (has_posts()) return;
    cpu_relax();
    if ((i & 63U) == 63U && std::chrono::steady_clock::now() >= spin_until) break;
  }
  sleep_until_post(start + timeout);
}

void Channel::sleep_for_post(std::chrono::microseconds timeout) noexcept {
  sleep_until_post(std::chrono::steady_clock::now() + timeout);
}

// The sleep is announced in the stack's word itself (empty → sleeping mark),
// so a poster learns whether to wake the consumer from the same
// compare-and-swap that publishes its node: no wake-up can be lost between a
// flag and the stack, and exactly one poster per sleep takes the mutex.
void Channel::sleep_until_post(std::chrono::steady_clock::time_point deadline) noexcept {
  std::unique_lock lock{mutex_};
  ChannelNode* empty = nullptr;
  if (!posted_.compare_exchange_strong(empty, sleeping_mark(), std::memory_order_acq_rel, std::memory_order_acquire)) {
    return;  // posts arrived (or the channel is closed)
  }
  if (wake_up_.wait_until(lock, deadline, [this] { return woken_; })) {
    woken_ = false;
    return;
  }
  // Timed out: take the mark back, unless a poster replaced it already; that
  // poster is on its way to the mutex, and must be waited for (past the
  // deadline if it is descheduled there: its post is already in).
  ChannelNode* mark = sleeping_mark();
  if (posted_.compare_exchange_strong(mark, nullptr, std::memory_order_acq_rel, std::memory_order_acquire)) return;
  wake_up_.wait(lock, [this] { return woken_; });
  woken_ = false;
}

void Channel::close() noexcept {
  // The consumer's thread: it is not asleep, so no poster is waking it, and
  // every other poster is done with the channel.
  ChannelNode* pending = posted_.exchange(closed_mark(), std::memory_order_acq_rel);
  if (!holds_posts(pending)) pending = nullptr;
  pending = in_arrival_order(pending);
  while (pending != nullptr) {
    ChannelNode* next = pending->next_in_channel;
    pending->discard();
    pending = next;
  }
}

}  // namespace connectors::detail
