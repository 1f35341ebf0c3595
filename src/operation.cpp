#include <connectors/detail/method_probe.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/operation.hpp>
#include <connectors/event_loop.hpp>

#include "helper_link.hpp"

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

namespace connectors::detail {

namespace {

// Which thread this is, while it lives: the address of a thread-local (the
// coordinator of an operation outlives its operation).
const void* this_thread_mark() noexcept {
  static thread_local const char mark = 0;
  return &mark;
}

// The node of `busy` in the same network as `start`, or null.
const NodeBase* find_reached(const NodeBase& start, const std::unordered_set<const NodeBase*>& busy) {
  std::unordered_set<const NodeBase*> seen{&start};
  std::vector<const NodeBase*> pending{&start};
  struct Context {
    std::unordered_set<const NodeBase*>* seen;
    std::vector<const NodeBase*>* pending;
  } context{&seen, &pending};
  while (!pending.empty()) {
    const NodeBase* node = pending.back();
    pending.pop_back();
    if (busy.count(node) != 0) return node;
    node->for_each_neighbour(
        [](const NodeBase& neighbour, void* raw) {
          auto& ctx = *static_cast<Context*>(raw);
          if (ctx.seen->insert(&neighbour).second) ctx.pending->push_back(&neighbour);
        },
        &context);
  }
  return nullptr;
}

bool reaches_any(const NodeBase& start, const std::unordered_set<const NodeBase*>& busy) {
  return find_reached(start, busy) != nullptr;
}

}  // namespace

OperationScope* OperationScope::holder_of(NetworkGroup& group, OperationScope* innermost,
                                          bool across_helpers) noexcept {
  return holder_of_root(NetworkGroup::root_of(&group), innermost, across_helpers);
}

OperationScope* OperationScope::holder_of_root(const NetworkGroup* root, OperationScope* innermost,
                                               bool across_helpers) noexcept {
  for (OperationScope* scope = innermost; scope != nullptr;
       scope = across_helpers ? scope->parent_ : scope->outer_on_this_side()) {
    if (scope->root() == root) return scope;
  }
  return nullptr;
}

OperationScope* OperationScope::reaching(const NodeBase& node) {
  // Only an operation under the connector's root can reach it. Walked under
  // that root's innermost holder's inner lock, as the re-entry checks are: a
  // sibling method's nested operation may be connecting there meanwhile.
  OperationScope* holder = holder_of(node.network_group(), current_operation, false);
  if (holder == nullptr) return nullptr;
  std::lock_guard lock{holder->children_};
  std::unordered_set<const NodeBase*> busy;
  for (OperationScope* outer = current_operation; outer != nullptr; outer = outer->outer_on_this_side()) {
    busy.insert(&outer->start_);
  }
  const NodeBase* reached = find_reached(node, busy);
  if (reached == nullptr) return nullptr;
  OperationScope* computing = current_operation;
  while (&computing->start_ != reached) computing = computing->parent_;
  return computing;
}

OperationScope::OperationScope(const NodeBase& start, const NodeBase* joined)
    : start_(start),
      parent_(current_operation),
      coordinator_(this_thread_mark()),
      acting_for_(acting_coordinator_of),
      group_(&start.network_group()) {
  if (parent_ == nullptr) {
    // A helper of a method (connectors::as_helper): nested in the method's
    // operation while that lasts, which then waits for this one to end.
    if (HelperLink* link = current_helper_link()) {
      parent_ = link->enter();
      if (parent_ != nullptr) entered_through_ = link;
    }
  }
  group_->add_reference();
  try {
    NetworkGroup* joined_group = joined != nullptr ? &joined->network_group() : nullptr;
    if (parent_ == nullptr) {
      // The calling thread holds no lock of the library's: the locks follow
      // joins made while it waits.
      if (joined_group != nullptr) {
        lock_both(*group_, *joined_group, roots_[0], roots_[1]);
      } else {
        roots_[0].lock(*group_);
      }
    } else {
      while (!lock_nested(start, joined, joined_group)) {
      }
    }
  } catch (...) {
    // In the destructor's order: the helper's method may end, and its
    // operation with the inner lock, once the helper leaves.
    roots_[1].unlock();
    roots_[0].unlock();
    inner_lock_ = {};
    NetworkGroup::release(group_);
    if (entered_through_ != nullptr) entered_through_->leave();
    throw;
  }
  current_operation = this;
  outer_conditions_held_ = FailedConditionsHold::exchange_active(false);
  operation_begins(*this, start_, parent_ == nullptr);
}

bool OperationScope::lock_nested(const NodeBase& start, const NodeBase* joined, NetworkGroup* joined_group) {
  // Decided on the roots as they are now. A root held by an enclosing
  // operation stays the root while it is held (join_networks); another one
  // may be joined meanwhile, by a method's nested connect, into the root an
  // enclosing operation holds, and waiting for that one would never end: a
  // root is locked only if it is still one, and otherwise all is decided
  // again.
  NetworkGroup* start_root = NetworkGroup::root_of(group_);
  NetworkGroup* joined_root = joined_group != nullptr ? NetworkGroup::root_of(joined_group) : nullptr;
  OperationScope* start_holder = holder_of_root(start_root, parent_, true);
  OperationScope* joined_holder = joined_root != nullptr ? holder_of_root(joined_root, parent_, true) : nullptr;
  if (start_holder == nullptr && joined_holder == nullptr) {
    // Networks no enclosing operation computes: their own locks, as from
    // any thread.
    if (joined_root == nullptr) return roots_[0].lock_if_root(*start_root, true);
    return lock_both_if_roots(*start_root, *joined_root, roots_[0], roots_[1]);
  }
  if (start_holder != nullptr && joined_holder != nullptr && start_holder != joined_holder) {
    // The joined root would be under one of the two enclosing operations
    // only, and reachable by the other's nested operations beside it.
    throw std::logic_error(
        "connectors: a user method connected two networks that two enclosing operations are computing "
        "(connect them outside those computations)");
  }
  // The one holder: its inner lock serialises every operation nested below it.
  OperationScope* holder = start_holder != nullptr ? start_holder : joined_holder;
  inner_lock_ = std::unique_lock{holder->children_};
  // Under the lock of a network being computed: allowed only if the network
  // is not that one (it was merely connected to it once). Walked under the
  // inner lock: a sibling operation on a network sharing the lock may be
  // connecting or disconnecting the connectors walked. Only from an end under
  // that lock: connected connectors share a root, so the other end cannot
  // reach a start held there, and its network, not locked yet, may be
  // changing under another thread.
  std::unordered_set<const NodeBase*> busy;
  for (OperationScope* outer = parent_; outer != nullptr; outer = outer->parent_) busy.insert(&outer->start_);
  if ((start_holder != nullptr && reaches_any(start, busy)) ||
      (joined_holder != nullptr && reaches_any(*joined, busy))) {
    throw std::logic_error(
        "connectors: a user method started an operation on the network that is computing it "
        "(re-entering a network from inside its own computation is not allowed)");
  }
  NetworkGroup* unheld = nullptr;
  RootLock* unheld_lock = nullptr;
  if (start_holder == nullptr) {
    unheld = start_root;
    unheld_lock = &roots_[0];
  } else if (joined_root != nullptr && joined_holder == nullptr) {
    unheld = joined_root;
    unheld_lock = &roots_[1];
  }
  if (unheld == nullptr || unheld_lock->lock_if_root(*unheld, false)) return true;
  // Not waited for under the inner lock: the operation holding the other
  // network may be waiting for the inner lock itself (a method of it
  // starting an operation on a network that shares the held root). Waited
  // for holding nothing, then decided again (docs/design.md#network-lock).
  inner_lock_ = {};
  RootLock::wait_for(*unheld);
  return false;
}

OperationScope::~OperationScope() {
  // Operations of helpers nested in this one may hold its inner lock and
  // count on its locks: they end first.
  if (HelperLink* link = helper_link_.load(std::memory_order_acquire)) {
    link->close();
    release(link);
  }
  operation_ends(*this, parent_ == nullptr);
  FailedConditionsHold::exchange_active(outer_conditions_held_);
  current_operation = entered_through_ != nullptr ? nullptr : parent_;
  roots_[1].unlock();
  roots_[0].unlock();
  inner_lock_ = {};
  NetworkGroup::release(group_);
  if (entered_through_ != nullptr) entered_through_->leave();
}

bool OperationScope::destroyed(const NodeBase* node) const noexcept {
  if (!poisoned()) return false;
  for (const OperationScope* scope = this; scope != nullptr; scope = scope->outer_on_this_side()) {
    for (const NodeBase* gone : scope->destroyed_) {
      if (gone == node) return true;
    }
  }
  return false;
}

namespace {
constexpr const char* destroyed_inside_message =
    "connectors: a user method destroyed a connector of the network being computed (destroy blocks outside "
    "their network's computation)";
}  // namespace

void OperationScope::throw_destroyed_inside() { throw DestroyedInside(destroyed_inside_message); }

std::exception_ptr destroyed_inside_error() noexcept {
  try {
    return std::make_exception_ptr(DestroyedInside(destroyed_inside_message));
  } catch (...) {
    return std::current_exception();  // out of memory: that error ends the waits instead
  }
}

namespace {

// A destructor's unlinking handed from a pool thread to the loop that called
// its method (leave_network). It lives on the destroying thread's stack, which
// waits until the loop's thread has run it.
class UnlinkRequest final : public ChannelNode {
 public:
  UnlinkRequest(const NodeBase& node, void (*unlink)(void*) noexcept, void* context, OperationScope* requester) noexcept
      : node_(node), unlink_(unlink), context_(context), requester_(requester) {}

  void deliver() noexcept override {
    {
      // The destroying method's operations, so that the destruction is
      // noted (note_destruction) as if it happened here.
      UserCallScope scope{requester_};
      if (!hand_off_unlink(node_, unlink_, context_)) unlink_(context_);
    }
    finish();
  }
  // Unreachable: a loop does not end while the call that destroys is in flight.
  void discard() noexcept override {
    unlink_(context_);
    finish();
  }

  void wait() noexcept {
    std::unique_lock lock{mutex_};
    finished_.wait(lock, [this] { return done_; });
  }

 private:
  void finish() noexcept {
    // Notified under the lock: the waiter frees this object once it sees done_.
    std::lock_guard lock{mutex_};
    done_ = true;
    finished_.notify_one();
  }

  const NodeBase& node_;
  void (*unlink_)(void*) noexcept;
  void* context_;
  OperationScope* requester_;
  std::mutex mutex_;
  std::condition_variable finished_;
  bool done_ = false;
};

}  // namespace

bool hand_off_unlink(const NodeBase& node, void (*unlink)(void*) noexcept, void* context) noexcept {
  EventLoop* loop = pool_call_loop;
  if (loop == nullptr || current_operation == nullptr) return false;
  // A connector in no network being computed is unlinked here, unless the
  // loop's thread watches inputs that user code may destroy (DestructionWatch:
  // a macro input's connect going through its exported inputs) and this one
  // watches none: only that thread tells its watches (a stand-in has taken
  // them over).
  const bool watched = acting_coordinator_of == nullptr && DestructionWatch::innermost() == nullptr &&
                       LoopAccess::watched_elsewhere(*loop);
  NetworkGroup* group = node.group_.load(std::memory_order_acquire);
  const OperationScope* holder =
      group != nullptr ? OperationScope::holder_of(*group, current_operation, false) : nullptr;
  if (holder != nullptr) {
    // The innermost operation under the connector's lock may be a nested one
    // on a network that merely shares it (connected once): the operation
    // whose start reaches the connector computes its network, and only that
    // one's coordinating thread may unlink it (docs/design.md#destruction-inside).
    try {
      if (const OperationScope* computing = OperationScope::reaching(node)) holder = computing;
    } catch (...) {
      // Out of memory while looking: the lock's holder it is.
    }
  }
  if (holder == nullptr && !watched) return false;
  if (holder != nullptr && holder->coordinator_ == this_thread_mark()) return false;
  // A stand-in acts as its loop's thread for every operation that thread
  // coordinates: each is parked below the loop's run on that thread's stack
  // (the innermost, the operation it continues; outer ones in the method that
  // started it), and the loop's thread would unlink for any of them itself.
  // So it does for the thread that one acted for when it started the
  // operation, and so on down. Handed to a loop instead, the unlinking would
  // wait for one of those threads, which waits for the baton this thread
  // holds, or for a thread that does.
  for (const OperationScope* acting = acting_coordinator_of; holder != nullptr && acting != nullptr;
       acting = acting->acting_for_) {
    if (holder->coordinator_ == acting->coordinator_) return false;
  }
  UnlinkRequest request{node, unlink, context, current_operation};
  if (!LoopAccess::channel(*loop).post(request)) return false;
  request.wait();
  return true;
}

bool note_destruction(const NodeBase& node) noexcept {
  if (current_operation == nullptr) return false;
  try {
    OperationScope* computing = OperationScope::reaching(node);
    if (computing == nullptr) {
      // An earlier destruction cut it off from the start, but a request of
      // the operation holding its network is still under way in it: its
      // coroutines must not touch it again either.
      OperationScope* holder = OperationScope::holder_of(node.network_group(), current_operation, false);
      if (holder != nullptr && node.request_running()) computing = holder;
    }
    if (computing == nullptr) return false;
    computing->destroyed_.push_back(&node);
    for (OperationScope* scope = current_operation;; scope = scope->parent_) {
      scope->poisoned_.store(true, std::memory_order_release);
      if (scope == computing) break;
    }
    return true;
  } catch (...) {
    // Out of memory while looking: the destructor goes on as it would
    // without an operation around it.
    return false;
  }
}

namespace {

// The operation a lock taken on this thread nests in: the thread's own, or
// on a helper of a method (`link`) the method's while it lasts, entered
// (`entered`, paired with a leave); once it has ended, none, and the link
// is dropped.
OperationScope* innermost_through(HelperLink*& link, HelperLink*& entered) noexcept {
  if (link == nullptr) return current_operation;
  OperationScope* operation = link->enter();
  if (operation != nullptr) {
    entered = link;
  } else {
    link = nullptr;
  }
  return operation;
}

}  // namespace

ConfigurationLock::ConfigurationLock(const NodeBase& node, const char* what) {
  // A helper of a method, outside any operation of its own: nested in the
  // method's operation while that lasts, which then waits for this lock.
  HelperLink* link = current_operation == nullptr ? current_helper_link() : nullptr;
  try {
    NetworkGroup& group = node.network_group();
    for (;;) {
      OperationScope* innermost = innermost_through(link, entered_);
      // Across helpers: an operation started through a helper link runs
      // beside the method's operation, not in place of it, and the
      // computation it is nested in is the one to keep away from.
      NetworkGroup* root = NetworkGroup::root_of(&group);
      OperationScope* holder = OperationScope::holder_of_root(root, innermost, true);
      if (holder == nullptr) {
        // Another network: its own lock, as from any thread. A helper leaves
        // the link first, so the method's operation does not wait for it.
        if (entered_ != nullptr) std::exchange(entered_, nullptr)->leave();
        if (root_.lock_if_root(*root, true)) return;
        continue;  // joined meanwhile, perhaps into the root a computation holds
      }
      inner_lock_ = std::unique_lock{holder->children_};
      // Under the lock of an enclosing operation: refused only if the
      // connector is in the network it computes, not merely in one connected
      // to it once.
      std::unordered_set<const NodeBase*> busy;
      for (OperationScope* outer = innermost; outer != nullptr; outer = outer->parent_) busy.insert(&outer->start_);
      if (reaches_any(node, busy)) {
        throw std::logic_error(std::string("connectors: ") + what +
                               " called from inside the computation of the connector's network (configure and "
                               "inspect a network outside its computation)");
      }
      return;
    }
  } catch (...) {
    release();
    throw;
  }
}

ConfigurationLock::~ConfigurationLock() { release(); }

void ConfigurationLock::release() noexcept {
  // The link last: the method's operation may end, and its inner lock with
  // it, once this helper leaves.
  inner_lock_ = {};
  root_.unlock();
  if (entered_ != nullptr) std::exchange(entered_, nullptr)->leave();
}

void NetworkLock::lock(const NodeBase& node, bool across_helpers) {
  // A connector never connected, operated on nor configured: no other thread
  // can reach it, and a destructor then needs no lock (nor the allocation
  // of one, which it could not report).
  if (!node.has_network_group()) return;
  HelperLink* link = across_helpers && current_operation == nullptr ? current_helper_link() : nullptr;
  NetworkGroup& group = node.network_group();
  for (;;) {
    OperationScope* innermost = innermost_through(link, entered_);
    NetworkGroup* root = NetworkGroup::root_of(&group);
    if (OperationScope* holder = OperationScope::holder_of_root(root, innermost, across_helpers)) {
      inner_lock_ = std::unique_lock{holder->children_};
      return;
    }
    // Another network: a helper leaves the link first, so that the method's
    // operation does not wait for it. Joined meanwhile, perhaps into the
    // root an enclosing operation holds: decided again.
    if (entered_ != nullptr) std::exchange(entered_, nullptr)->leave();
    if (root_.lock_if_root(*root, true)) return;
  }
}

NetworkLock::~NetworkLock() {
  // The link last: the method's operation may end, and its inner lock with
  // it, once this helper leaves.
  inner_lock_ = {};
  root_.unlock();
  if (entered_ != nullptr) entered_->leave();
}

void join_networks(const NodeBase& a, const NodeBase& b) {
  NetworkGroup* group_a = a.group_.load(std::memory_order_acquire);
  NetworkGroup* group_b = b.group_.load(std::memory_order_acquire);
  if (group_a == nullptr && group_b == nullptr) group_a = &a.network_group();
  // A connector without a group joins by taking the other's root as its own;
  // one with an owner takes its owner's network, which is joined below.
  auto adopt = [](const NodeBase& node, NetworkGroup* other) -> NetworkGroup* {
    if (node.owner() != nullptr) return &node.network_group();
    NetworkGroup* root = NetworkGroup::root_of(other);
    root->add_reference();
    NetworkGroup* expected = nullptr;
    if (node.group_.compare_exchange_strong(expected, root, std::memory_order_acq_rel)) return nullptr;
    NetworkGroup::release(root);
    return expected;  // it got one meanwhile: join the two below
  };
  if (group_a == nullptr) group_a = adopt(a, group_b);
  if (group_a == nullptr) return;
  if (group_b == nullptr) group_b = adopt(b, group_a);
  if (group_b == nullptr) return;
  NetworkGroup* root_a = NetworkGroup::root_of(group_a);
  NetworkGroup* root_b = NetworkGroup::root_of(group_b);
  if (root_a == root_b) return;
  // The root an enclosing operation works under must stay the root: other
  // threads find its network by it while that operation holds its lock.
  NetworkGroup* survivor = root_a->size() >= root_b->size() ? root_a : root_b;
  if (current_operation != nullptr) {
    for (OperationScope* scope = current_operation->parent_; scope != nullptr; scope = scope->parent_) {
      NetworkGroup* held = scope->root();
      if (held == root_a || held == root_b) {
        survivor = held;
        break;
      }
    }
  }
  NetworkGroup::join(*survivor, survivor == root_a ? *root_b : *root_a);
}

}  // namespace connectors::detail
