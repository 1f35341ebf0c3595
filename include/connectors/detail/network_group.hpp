#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace connectors::detail {

// The lock of one network (docs/connectors.md, Threads). Connectors that are
// connected, or belong to one owner, share a group: groups are joined when a
// connection is made and never split, so a group may outlive the connection
// that joined it (two networks joined once stay one lock). Joined groups form
// a tree; only its root's mutex is used. A connector holds a reference to its
// own group, a joined group one to its parent, so every group on the way from
// a live connector to the root stays alive.
class NetworkGroup {
 public:
  NetworkGroup() = default;
  NetworkGroup(const NetworkGroup&) = delete;
  NetworkGroup& operator=(const NetworkGroup&) = delete;

  // The group's current root. Without a lock the answer may be outdated by
  // a join on another thread; under the root's lock it is not.
  static NetworkGroup* root_of(NetworkGroup* group) noexcept {
    while (NetworkGroup* parent = group->parent_.load(std::memory_order_acquire)) group = parent;
    return group;
  }
  bool is_root() const noexcept { return parent_.load(std::memory_order_acquire) == nullptr; }

  void add_reference() noexcept { references_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; the last one deletes the group (and drops its parent).
  static void release(NetworkGroup* group) noexcept;

  // Makes `joined` (a root, locked by the caller like `root`) part of `root`.
  static void join(NetworkGroup& root, NetworkGroup& joined) noexcept;

  std::mutex& mutex() noexcept { return mutex_; }
  std::uint32_t size() const noexcept { return size_; }

 private:
  ~NetworkGroup() = default;

  std::mutex mutex_;
  std::atomic<NetworkGroup*> parent_{nullptr};
  std::atomic<std::uint32_t> references_{1};
  // Groups joined into this one, itself included (roots only; never
  // decreases): the smaller root joins the larger, which keeps trees shallow.
  std::uint32_t size_ = 1;
};

// Holds the lock of the network `group` belongs to, following joins that
// happen while it waits, and a reference that keeps the root alive even if
// the connector it was found from is destroyed meanwhile.
class RootLock {
 public:
  RootLock() noexcept = default;
  explicit RootLock(NetworkGroup& group) { lock(group); }
  RootLock(const RootLock&) = delete;
  RootLock& operator=(const RootLock&) = delete;
  ~RootLock() { unlock(); }

  void lock(NetworkGroup& group);
  // Locks `root` (a root when the caller looked) only if it is still a root
  // once locked; false, holding nothing, if it was joined into another group
  // meanwhile, whose lock may be one the caller must not wait for (an
  // enclosing operation's: docs/design.md#nested-operations). `wait`: false
  // tries once, and also answers false while another thread holds it.
  bool lock_if_root(NetworkGroup& root, bool wait);
  // Waits until no thread holds `group`'s mutex, holding nothing afterwards.
  static void wait_for(NetworkGroup& group);
  void unlock() noexcept;
  NetworkGroup* root() const noexcept { return root_; }

 private:
  friend void lock_both(NetworkGroup&, NetworkGroup&, RootLock&, RootLock&);
  friend bool lock_both_if_roots(NetworkGroup&, NetworkGroup&, RootLock&, RootLock&);

  NetworkGroup* root_ = nullptr;
};

// Locks the roots of two groups without deadlock (in address order, retried
// until both are still roots once locked). One lock when they share a root.
void lock_both(NetworkGroup& first, NetworkGroup& second, RootLock& first_lock, RootLock& second_lock);
// lock_both, once, for the two roots the caller found (RootLock::lock_if_root):
// false, holding nothing, if either was joined into another group meanwhile.
bool lock_both_if_roots(NetworkGroup& first_root, NetworkGroup& second_root, RootLock& first_lock,
                        RootLock& second_lock);

}  // namespace connectors::detail
