#pragma once

#include <connectors/detail/multi_output_node.hpp>
#include <connectors/detail/node.hpp>

#include <memory>

namespace connectors::detail {

// Read-only access to a connector's protocol state for the picture and the
// progress estimate (docs/observability.md). Callers hold the network lock.
struct NodeInspector {
  static bool announced(const OutputNode& output) noexcept { return output.pending_announcements_ > 0; }
  static bool announcing(const InputNode& input) noexcept { return input.announcing_; }
  static bool holds_value(const InputNode& input) noexcept { return input.holds_value(); }
  static const Executor* own_executor(const NodeBase& node) noexcept { return node.executor_.get(); }
  static const MultiOutputKeyNode* as_key_item(const NodeBase& node) noexcept {
    return dynamic_cast<const MultiOutputKeyNode*>(&node);
  }
};

}  // namespace connectors::detail
