#include <connectors/detail/channel.hpp>

#include <chrono>

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

}  // namespace

Channel::~Channel() { close(); }

bool Channel::post(ChannelNode& node) noexcept {
  std::lock_guard lock{mutex_};
  if (closed_) return false;
  node.next_in_channel = nullptr;
  if (tail_ != nullptr) {
    tail_->next_in_channel = &node;
  } else {
    head_ = &node;
  }
  tail_ = &node;
  nonempty_.store(true, std::memory_order_release);
  // Notified under the lock: once the loop holds the lock again, no poster
  // touches the channel any more (see the class comment). Only the first post
  // after the loop fell asleep wakes it; the others find it awake.
  if (sleeping_) {
    sleeping_ = false;
    posted_.notify_one();
  }
  return true;
}

ChannelNode* Channel::take_all() noexcept {
  if (!nonempty_.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard lock{mutex_};
  ChannelNode* taken = head_;
  head_ = tail_ = nullptr;
  nonempty_.store(false, std::memory_order_relaxed);
  return taken;
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

void Channel::sleep_until_post(std::chrono::steady_clock::time_point deadline) noexcept {
  std::unique_lock lock{mutex_};
  sleeping_ = true;
  posted_.wait_until(lock, deadline, [this] { return head_ != nullptr || closed_; });
  sleeping_ = false;
}

void Channel::close() noexcept {
  ChannelNode* pending = nullptr;
  {
    std::lock_guard lock{mutex_};
    closed_ = true;
    pending = head_;
    head_ = tail_ = nullptr;
    nonempty_.store(false, std::memory_order_relaxed);
  }
  while (pending != nullptr) {
    ChannelNode* next = pending->next_in_channel;
    pending->discard();
    pending = next;
  }
}

}  // namespace connectors::detail
