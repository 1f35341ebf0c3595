#pragma once

#include <connectors/executor.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace connectors::detail {

class NodeBase;

// One top-level operation on a network: a call, a connect or a disconnect.
//
// Thread safety. Networks are guarded by one lock: a top-level operation holds
// it from start to end, so operations from several user threads are
// serialised, never racing. An operation started from inside a user method
// (on any thread) runs *within* the operation that called the method; it does
// not take the outer lock (the outer operation is waiting for the method) but
// the lock of its parent, so that two methods of one operation that both use
// another network are serialised too. Such a nested operation must work on a
// different network: re-entering one already being computed would corrupt its
// state and throws std::logic_error.
class OperationScope {
 public:
  explicit OperationScope(const NodeBase& start) : OperationScope(start, nullptr) {}
  // An operation that joins two networks (a connect): re-entering either one
  // from inside its computation is refused.
  OperationScope(const NodeBase& start, const NodeBase* joined);
  OperationScope(const OperationScope&) = delete;
  OperationScope& operator=(const OperationScope&) = delete;
  ~OperationScope();

  // Whether a user method destroyed a connector of the network this operation
  // computes (or of one an enclosing operation computes). The operation then
  // fails with std::logic_error as soon as the method returns, and unwinding
  // leaves the destroyed connectors alone.
  bool poisoned() const noexcept { return poisoned_.load(std::memory_order_acquire); }
  bool destroyed(const NodeBase* node) const noexcept;

  // Throws std::logic_error if poisoned; called after every user method.
  static void check_not_poisoned(const OperationScope* scope) {
    if (scope != nullptr && scope->poisoned()) throw_destroyed_inside();
  }

 private:
  friend class UserCallScope;
  friend class NetworkLock;
  friend bool note_destruction(const NodeBase& node) noexcept;

  [[noreturn]] static void throw_destroyed_inside();

  const NodeBase& start_;
  OperationScope* parent_;
  std::unique_lock<std::mutex> lock_;
  std::mutex children_;  // serialises operations nested in this one's methods
  std::atomic<bool> poisoned_{false};
  // Written by the thread that destroys (the first entry before poisoned_
  // is set, a block's further connectors after it): safe when that is the
  // coordinating thread; not yet from a pool thread while other branches run
  // (docs/connectors.md, Lifetime).
  std::vector<const NodeBase*> destroyed_;
};

// Called first by a connector's destructor. If the connector belongs to a
// network that an operation on this thread is computing (a user method is
// destroying its own block, or the block that requested it), that operation
// is poisoned and true returned: the destructor must then not start an
// operation of its own.
bool note_destruction(const NodeBase& node) noexcept;

// The flag of a request under way, reset when the request ends unless its
// connector was destroyed meanwhile (OperationScope::destroyed).
class RunningFlag {
 public:
  RunningFlag(bool& flag, const NodeBase& node, const OperationScope* scope) noexcept
      : flag_(flag), node_(node), scope_(scope) {
    flag_ = true;
  }
  RunningFlag(const RunningFlag&) = delete;
  RunningFlag& operator=(const RunningFlag&) = delete;
  ~RunningFlag() {
    if (scope_ == nullptr || !scope_->destroyed(&node_)) flag_ = false;
  }

 private:
  bool& flag_;
  const NodeBase& node_;
  const OperationScope* scope_;
};

// The operation the calling thread works for: as its coordinating thread, or
// running one of its user methods. Inline: it is set around every user call.
inline thread_local OperationScope* current_operation = nullptr;

// Marks the calling thread as running a user method of `operation` (if any), so
// that an operation the method starts knows its parent.
class UserCallScope {
 public:
  explicit UserCallScope(OperationScope* operation) noexcept : saved_(current_operation) {
    current_operation = operation;
  }
  UserCallScope(const UserCallScope&) = delete;
  UserCallScope& operator=(const UserCallScope&) = delete;
  ~UserCallScope() { current_operation = saved_; }

  // The operation running on this thread (set by OperationScope), for capture
  // before a method is dispatched.
  static OperationScope* current() noexcept { return current_operation; }

 private:
  OperationScope* saved_;
};

// The lock an operation would take, without being one: for destructors, which
// unlink a connector from its peers.
class NetworkLock {
 public:
  NetworkLock();

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace connectors::detail
