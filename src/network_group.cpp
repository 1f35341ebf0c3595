#include <connectors/detail/network_group.hpp>

#include <mutex>
#include <utility>

namespace connectors::detail {

void NetworkGroup::release(NetworkGroup* group) noexcept {
  while (group != nullptr && group->references_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    NetworkGroup* parent = group->parent_.load(std::memory_order_acquire);
    delete group;
    group = parent;
  }
}

void NetworkGroup::join(NetworkGroup& root, NetworkGroup& joined) noexcept {
  if (&root == &joined) return;
  root.add_reference();  // held by `joined` from now on
  root.size_ += joined.size_;
  // Release: a thread that finds `root` through `joined` sees it complete.
  joined.parent_.store(&root, std::memory_order_release);
}

void RootLock::lock(NetworkGroup& group) {
  unlock();
  for (;;) {
    NetworkGroup* root = NetworkGroup::root_of(&group);
    // The reference first: while we wait, the connectors that kept `root`
    // alive may be destroyed.
    root->add_reference();
    root->mutex().lock();
    if (root->is_root()) {
      root_ = root;
      return;
    }
    // Joined into another group while we waited: its root is the lock now.
    root->mutex().unlock();
    NetworkGroup::release(root);
  }
}

bool RootLock::lock_if_root(NetworkGroup& root, bool wait) {
  unlock();
  root.add_reference();
  if (wait) {
    root.mutex().lock();
  } else if (!root.mutex().try_lock()) {
    NetworkGroup::release(&root);
    return false;
  }
  if (root.is_root()) {
    root_ = &root;
    return true;
  }
  root.mutex().unlock();
  NetworkGroup::release(&root);
  return false;
}

void RootLock::wait_for(NetworkGroup& group) {
  group.add_reference();
  group.mutex().lock();
  group.mutex().unlock();
  NetworkGroup::release(&group);
}

void RootLock::unlock() noexcept {
  if (root_ == nullptr) return;
  root_->mutex().unlock();
  NetworkGroup::release(std::exchange(root_, nullptr));
}

void lock_both(NetworkGroup& first, NetworkGroup& second, RootLock& first_lock, RootLock& second_lock) {
  first_lock.unlock();
  second_lock.unlock();
  for (;;) {
    NetworkGroup* a = NetworkGroup::root_of(&first);
    NetworkGroup* b = NetworkGroup::root_of(&second);
    if (a == b) {
      first_lock.lock(*a);
      if (NetworkGroup::root_of(&second) == first_lock.root()) return;
      first_lock.unlock();
      continue;
    }
    a->add_reference();
    b->add_reference();
    // Never waits for one root while holding the other (std::lock tries the
    // second and backs off): a thread whose operation holds one of them may
    // be waiting for the other, when a method of its network starts an
    // operation on the other network or destroys a block of it
    // (docs/design.md#network-lock).
    std::lock(a->mutex(), b->mutex());
    // Under both locks the roots of `first` and `second` cannot change; they
    // may have before.
    NetworkGroup* first_root = NetworkGroup::root_of(&first);
    NetworkGroup* second_root = NetworkGroup::root_of(&second);
    if (a->is_root() && b->is_root() && first_root != second_root && (first_root == a || first_root == b) &&
        (second_root == a || second_root == b)) {
      first_lock.root_ = first_root;
      second_lock.root_ = second_root;
      return;
    }
    b->mutex().unlock();
    a->mutex().unlock();
    NetworkGroup::release(b);
    NetworkGroup::release(a);
  }
}

bool lock_both_if_roots(NetworkGroup& first_root, NetworkGroup& second_root, RootLock& first_lock,
                        RootLock& second_lock) {
  second_lock.unlock();
  if (&first_root == &second_root) return first_lock.lock_if_root(first_root, true);
  first_lock.unlock();
  first_root.add_reference();
  second_root.add_reference();
  // Never waits for one while holding the other, as lock_both.
  std::lock(first_root.mutex(), second_root.mutex());
  if (first_root.is_root() && second_root.is_root()) {
    first_lock.root_ = &first_root;
    second_lock.root_ = &second_root;
    return true;
  }
  second_root.mutex().unlock();
  first_root.mutex().unlock();
  NetworkGroup::release(&second_root);
  NetworkGroup::release(&first_root);
  return false;
}

}  // namespace connectors::detail
