#include <connectors/detail/method_probe.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/operation.hpp>

#include <stdexcept>
#include <unordered_set>
#include <vector>

namespace connectors::detail {

namespace {

// Guards every network when no operation is running on the calling thread.
std::mutex top_level_mutex;

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

OperationScope::OperationScope(const NodeBase& start, const NodeBase* joined)
    : start_(start), parent_(current_operation) {
  if (parent_ == nullptr) {
    lock_ = std::unique_lock{top_level_mutex};
  } else {
    std::unordered_set<const NodeBase*> busy;
    for (OperationScope* outer = parent_; outer != nullptr; outer = outer->parent_) busy.insert(&outer->start_);
    if (reaches_any(start, busy) || (joined != nullptr && reaches_any(*joined, busy))) {
      throw std::logic_error(
          "connectors: a user method started an operation on the network that is computing it "
          "(re-entering a network from inside its own computation is not allowed)");
    }
    lock_ = std::unique_lock{parent_->children_};
  }
  current_operation = this;
  operation_begins(*this, start_, parent_ == nullptr);
}

OperationScope::~OperationScope() {
  operation_ends(*this, parent_ == nullptr);
  current_operation = parent_;
}

bool OperationScope::destroyed(const NodeBase* node) const noexcept {
  if (!poisoned()) return false;
  for (const OperationScope* scope = this; scope != nullptr; scope = scope->parent_) {
    for (const NodeBase* gone : scope->destroyed_) {
      if (gone == node) return true;
    }
  }
  return false;
}

void OperationScope::throw_destroyed_inside() {
  throw std::logic_error(
      "connectors: a user method destroyed a connector of the network being computed (destroy blocks outside "
      "their network's computation)");
}

bool note_destruction(const NodeBase& node) noexcept {
  if (current_operation == nullptr) return false;
  try {
    std::unordered_set<const NodeBase*> busy;
    for (OperationScope* outer = current_operation; outer != nullptr; outer = outer->parent_) {
      busy.insert(&outer->start_);
    }
    const NodeBase* reached = find_reached(node, busy);
    if (reached == nullptr) return false;
    OperationScope* computing = current_operation;
    while (&computing->start_ != reached) computing = computing->parent_;
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

NetworkLock::NetworkLock() : lock_(current_operation != nullptr ? current_operation->children_ : top_level_mutex) {}

}  // namespace connectors::detail
