#include <connectors/detail/channel.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

namespace connectors::detail {

namespace {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// How long a loop spins for a post before it sleeps. A reply from a pool
// thread usually takes a few microseconds; sleeping costs a futex round trip.
constexpr auto spin_duration = std::chrono::microseconds{20};

// What `posted_` holds once the channel is closed: never a node's address.
ChannelNode* closed_mark() noexcept {
  alignas(ChannelNode*) static char mark;
  return reinterpret_cast<ChannelNode*>(&mark);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
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

bool Channel::post(ChannelNode& node) noexcept {
  // Counted before the node is visible: the loop may deliver it, end and
  // close the channel at once, and close() then waits for this poster.
  posters_.fetch_add(1, std::memory_order_seq_cst);
  ChannelNode* newest = posted_.load(std::memory_order_relaxed);
  do {
    if (newest == closed_mark()) {
      posters_.fetch_sub(1, std::memory_order_release);
      return false;
    }
    node.next_in_channel = newest;
  } while (!posted_.compare_exchange_weak(newest, &node, std::memory_order_seq_cst, std::memory_order_relaxed));
  // seq_cst with the consumer's store of sleeping_ and its look at posted_:
  // either it sees this post before it sleeps, or this sees it sleeping.
  if (sleeping_.load(std::memory_order_seq_cst)) {
    std::lock_guard lock{mutex_};
    if (sleeping_.load(std::memory_order_relaxed)) {
      sleeping_.store(false, std::memory_order_relaxed);
      woken_.notify_one();
    }
  }
  posters_.fetch_sub(1, std::memory_order_release);
  return true;
}

bool Channel::has_posts() const noexcept {
  ChannelNode* newest = posted_.load(std::memory_order_acquire);
  return newest != nullptr && newest != closed_mark();
}

ChannelNode* Channel::take_all() noexcept {
  ChannelNode* newest = posted_.load(std::memory_order_acquire);
  do {
    if (newest == nullptr || newest == closed_mark()) return nullptr;
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

// The flag is raised again before every wait, not once per sleep: a poster
// pushes before it takes the mutex, so it may reach the mutex only after the
// sleep it saw has ended and the next one begun (with its post already
// taken), clear the flag and wake this waiter for nothing. Waiting on with
// the flag down would let every later post pass by without a wake-up.
void Channel::sleep_until_post(std::chrono::steady_clock::time_point deadline) noexcept {
  std::unique_lock lock{mutex_};
  for (;;) {
    sleeping_.store(true, std::memory_order_seq_cst);
    if (posted_.load(std::memory_order_seq_cst) != nullptr) break;
    if (woken_.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  sleeping_.store(false, std::memory_order_relaxed);
}

void Channel::close() noexcept {
  ChannelNode* pending = posted_.exchange(closed_mark(), std::memory_order_seq_cst);
  if (pending == closed_mark()) pending = nullptr;
  // A poster that pushed before the exchange may still be waking the loop.
  while (posters_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  pending = in_arrival_order(pending);
  while (pending != nullptr) {
    ChannelNode* next = pending->next_in_channel;
    pending->discard();
    pending = next;
  }
}

}  // namespace connectors::detail
