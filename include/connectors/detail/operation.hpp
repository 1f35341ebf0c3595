#pragma once

#include <connectors/executor.hpp>

#include <memory>
#include <mutex>
#include <utility>

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
  explicit OperationScope(const NodeBase& start);
  OperationScope(const OperationScope&) = delete;
  OperationScope& operator=(const OperationScope&) = delete;
  ~OperationScope();

 private:
  friend class UserCallScope;
  friend class NetworkLock;

  const NodeBase& start_;
  OperationScope* parent_;
  std::unique_lock<std::mutex> lock_;
  std::mutex children_;  // serialises operations nested in this one's methods
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
