#include <connectors/detail/node.hpp>
#include <connectors/detail/operation.hpp>

#include <stdexcept>
#include <unordered_set>
#include <vector>

namespace connectors::detail {

namespace {

// Guards every network when no operation is running on the calling thread.
std::mutex top_level_mutex;

// Whether `start` belongs to the same network as any node in `busy`.
bool reaches_any(const NodeBase& start, const std::unordered_set<const NodeBase*>& busy) {
  std::unordered_set<const NodeBase*> seen{&start};
  std::vector<const NodeBase*> pending{&start};
  struct Context {
    std::unordered_set<const NodeBase*>* seen;
    std::vector<const NodeBase*>* pending;
  } context{&seen, &pending};
  while (!pending.empty()) {
    const NodeBase* node = pending.back();
    pending.pop_back();
    if (busy.count(node) != 0) return true;
    node->for_each_neighbour(
        [](const NodeBase& neighbour, void* raw) {
          auto& ctx = *static_cast<Context*>(raw);
          if (ctx.seen->insert(&neighbour).second) ctx.pending->push_back(&neighbour);
        },
        &context);
  }
  return false;
}

}  // namespace

OperationScope::OperationScope(const NodeBase& start) : start_(start), parent_(current_operation) {
  if (parent_ == nullptr) {
    lock_ = std::unique_lock{top_level_mutex};
  } else {
    std::unordered_set<const NodeBase*> busy;
    for (OperationScope* outer = parent_; outer != nullptr; outer = outer->parent_) busy.insert(&outer->start_);
    if (reaches_any(start, busy)) {
      throw std::logic_error(
          "connectors: a user method started an operation on the network that is computing it "
          "(re-entering a network from inside its own computation is not allowed)");
    }
    lock_ = std::unique_lock{parent_->children_};
  }
  current_operation = this;
}

OperationScope::~OperationScope() { current_operation = parent_; }

NetworkLock::NetworkLock() : lock_(current_operation != nullptr ? current_operation->children_ : top_level_mutex) {}

}  // namespace connectors::detail
