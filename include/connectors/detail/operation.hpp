#pragma once

#include <connectors/detail/network_group.hpp>
#include <connectors/detail/run_context.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

namespace connectors::detail {

class NodeBase;
class HelperLink;

// One operation on a network: a call, a connect or a disconnect.
//
// Thread safety (docs/connectors.md, Threads). Each network has a lock of its
// own (NetworkGroup): an operation holds it from start to end, so operations
// on one network from several user threads are serialised, and operations on
// different networks never wait for each other. An operation started from
// inside a user method (on any thread the library runs it on) knows the
// operation that called the method (current_operation). On another network
// it takes that network's lock like any operation. Re-entering a network
// being computed would corrupt its state and throws std::logic_error. A
// network that only shares the lock of one being computed (it was connected
// to it once) cannot take that lock, which the computing operation holds:
// such nested operations take the computing operation's inner lock instead,
// which serialises the methods of one operation that use it.
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

  // The outermost operation this one is nested in (itself if top-level).
  const OperationScope* top_level() const noexcept {
    const OperationScope* scope = this;
    while (scope->parent_ != nullptr) scope = scope->parent_;
    return scope;
  }

  // Throws std::logic_error if poisoned; called after every user method.
  static void check_not_poisoned(const OperationScope* scope) {
    if (scope != nullptr && scope->poisoned()) throw_destroyed_inside();
  }

 private:
  friend class UserCallScope;
  friend class NetworkLock;
  friend bool note_destruction(const NodeBase& node) noexcept;
  friend bool hand_off_unlink(const NodeBase& node, void (*unlink)(void*) noexcept, void* context) noexcept;
  friend void join_networks(const NodeBase&, const NodeBase&);
  friend HelperLink* link_to_current_operation();
  friend class ConfigurationLock;

  [[noreturn]] static void throw_destroyed_inside();

  // The root this operation works under (its start's, followed to the root).
  NetworkGroup* root() const noexcept { return NetworkGroup::root_of(group_); }
  // The innermost of `innermost` and the operations it is nested in (on this
  // thread, or in one whose method this thread runs) working under the root
  // of `group`, or null. `across_helpers`: also those whose helper this
  // thread is (connectors::as_helper), which an operation the helper starts
  // nests in, as a ConfigurationLock the helper takes does; a destructor on
  // a helper is not part of the method's operation, and looks on this side
  // only (docs/design.md#helper-threads).
  static OperationScope* holder_of(NetworkGroup& group, OperationScope* innermost, bool across_helpers) noexcept;
  static OperationScope* holder_of_root(const NetworkGroup* root, OperationScope* innermost,
                                        bool across_helpers) noexcept;
  // A nested operation's locks, decided on the roots as they are: false,
  // holding nothing, when they changed before they could be taken (decide
  // again). Throws std::logic_error for a re-entry.
  bool lock_nested(const NodeBase& start, const NodeBase* joined, NetworkGroup* joined_group);
  // The enclosing operation, unless this one was started by a helper: the
  // chain of operations the calling thread takes part in as itself.
  OperationScope* outer_on_this_side() const noexcept { return entered_through_ != nullptr ? nullptr : parent_; }
  // Among the calling thread's current_operation and those it is nested in
  // on this side, the one whose start reaches `node`: the one computing
  // node's network, or null. Throws std::bad_alloc.
  static OperationScope* reaching(const NodeBase& node);

  const NodeBase& start_;
  OperationScope* parent_;
  // The thread that runs this operation's protocol: the only one that may
  // unlink a connector of its network while it lasts (leave_network), with
  // a pool thread that continues a request in its place
  // (acting_coordinator_of).
  // (Told by the address of a thread-local of src/operation.cpp rather than
  // a std::thread::id: <thread> stays out of the connector headers.)
  const void* coordinator_;
  // The operation whose coordinating thread the thread that started this
  // one acted for then (a pool thread standing in for a loop,
  // acting_coordinator_of), or null: a stand-in for this operation's loop
  // acts for that thread too (hand_off_unlink).
  const OperationScope* acting_for_;
  NetworkGroup* group_;                                // the start's group, referenced while the operation lasts
  RootLock roots_[2];                                  // the networks this operation locked
  std::unique_lock<std::recursive_mutex> inner_lock_;  // or the inner lock of the one it shares a root with
  // The inner lock: serialises operations nested in this one's methods.
  // Recursive: a destructor that unlinks under it may call a multi-input's
  // remove, which may destroy another block or start an operation nested in
  // the same one (docs/design.md#nested-operations).
  std::recursive_mutex children_;
  std::atomic<bool> poisoned_{false};
  // The link of helpers of this operation's methods, made by the first of
  // them (connectors::as_helper); and the one this operation was started
  // through, when a helper started it (its parent_ is then the helper's
  // operation, on another thread).
  std::atomic<HelperLink*> helper_link_{nullptr};
  HelperLink* entered_through_ = nullptr;
  // Written by the coordinating thread only, or a pool thread acting for it
  // (acting_coordinator_of; a destruction in a method on a pool thread is
  // handed there by leave_network), the first entry before poisoned_ is set,
  // a block's further connectors after it.
  std::vector<const NodeBase*> destroyed_;
  // Whether failed announce conditions counted as held on this thread when
  // the operation began (a destructor announcing, FailedConditionsHold):
  // not inside it, whose callers can be told; again once it ends.
  bool outer_conditions_held_ = false;
};

// The error of an operation in whose computation a user method destroyed a
// connector of its network: a std::logic_error to users, with a type of its
// own so that a macro's connect can tell it from a refusal (it completes
// instead of undoing; docs/design.md#destruction-inside).
class DestroyedInside : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// The error that waits on a connector destroyed inside its network's
// computation end with (the one check_not_poisoned throws).
std::exception_ptr destroyed_inside_error() noexcept;

// Called first by a connector's destructor. If the connector belongs to a
// network that an operation on this thread is computing (a user method is
// destroying its own block, or the block that requested it), that operation
// is poisoned and true returned: the destructor must then not start an
// operation of its own.
bool note_destruction(const NodeBase& node) noexcept;

// Whether `unlink(context)` was run on another thread for a connector
// destroyed by a user method on a pool thread (see leave_network); false:
// the caller runs it itself.
bool hand_off_unlink(const NodeBase& node, void (*unlink)(void*) noexcept, void* context) noexcept;

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

// The operation whose request the calling pool thread continues in its loop's
// place (EventLoop::reply_from_worker): it acts as that operation's
// coordinating thread, which unlinks a destroyed connector of a network that
// any of its operations computes itself (hand_off_unlink;
// docs/design.md#continuation).
inline thread_local const OperationScope* acting_coordinator_of = nullptr;

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

// Runs `unlink`, the part of a connector's destructor that changes the
// network, where that is safe (docs/connectors.md#lifetime). A user method on
// a pool thread that destroys a connector of a network being computed would
// unlink it while the operation's coordinating thread uses those links: the
// unlinking is handed to the loop that called the method (and on from there
// towards the coordinating thread of the operation computing that network),
// which runs it between two protocol steps, while this thread waits. Costs a
// check of two thread-local pointers otherwise.
template <class Unlink>
void leave_network(const NodeBase& node, Unlink unlink) noexcept {
  if (current_operation != nullptr && pool_call_loop != nullptr) [[unlikely]] {
    auto run = [](void* context) noexcept { (*static_cast<Unlink*>(context))(); };
    if (hand_off_unlink(node, run, &unlink)) return;
  }
  unlink();
}

// The lock an operation on `node`'s network would take, without being one:
// for configuration and destructors, which unlink a connector from its peers.
// None for a connector without a network group (no other thread knows it).
// `across_helpers`: on a helper of a method (connectors::as_helper), nested in
// the method's operation as a ConfigurationLock is, but never refused (what
// is allowed inside a computation: naming, a reading of the executor, the
// end of a connect); a destructor keeps to this side (docs/design.md#helper-threads).
class NetworkLock {
 public:
  NetworkLock() noexcept = default;  // holds nothing
  explicit NetworkLock(const NodeBase& node, bool across_helpers = false) { lock(node, across_helpers); }
  NetworkLock(const NetworkLock&) = delete;
  NetworkLock& operator=(const NetworkLock&) = delete;
  ~NetworkLock();
  // Takes the lock; once, on a NetworkLock that holds nothing.
  void lock(const NodeBase& node, bool across_helpers = false);

 private:
  RootLock root_;
  std::unique_lock<std::recursive_mutex> inner_lock_;
  HelperLink* entered_ = nullptr;  // left once the locks are released
};

// The lock of the public configuration and queries of a connector
// (set_caching, state(), ...): NetworkLock, but refused with std::logic_error
// when the calling thread takes part in an operation computing the
// connector's network: configuring or inspecting it reads and writes what
// that operation's coordinating thread uses without a lock, as re-entering
// the network would (docs/design.md#nested-operations). A helper of a method
// (connectors::as_helper) takes part as an operation it starts would: nested
// in the method's operation, checked and locked as one of its nested
// operations. `what` names the call. Checked once locked: the check walks
// the connector's links, which an operation nested beside this thread's may
// be changing until then. Costs two thread-local loads outside operations.
class ConfigurationLock {
 public:
  ConfigurationLock(const NodeBase& node, const char* what);
  ConfigurationLock(const ConfigurationLock&) = delete;
  ConfigurationLock& operator=(const ConfigurationLock&) = delete;
  ~ConfigurationLock();

 private:
  void release() noexcept;

  RootLock root_;
  std::unique_lock<std::recursive_mutex> inner_lock_;
  HelperLink* entered_ = nullptr;  // left once the locks are released
};

// Makes `a` and `b` one network (their roots must be locked by the caller,
// or at least one of them must be a connector no other thread knows yet).
void join_networks(const NodeBase& a, const NodeBase& b);

}  // namespace connectors::detail
