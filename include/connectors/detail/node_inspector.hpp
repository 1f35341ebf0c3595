#pragma once

#include <connectors/detail/multi_output_node.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/state.hpp>

#include <cstddef>
#include <memory>

namespace connectors::detail {

// Read-only access to a connector's protocol state for the picture, the
// progress estimate (docs/observability.md) and the connectors' introspection
// members (docs/connectors.md, "Looking at a network"). Callers hold the
// network lock.
struct NodeInspector {
  static bool announced(const OutputNode& output) noexcept { return output.pending_announcements_ > 0; }
  static bool announcing(const InputNode& input) noexcept { return input.announcing_; }
  static bool holds_value(const InputNode& input) noexcept { return input.holds_value(); }
  static const Executor* own_executor(const NodeBase& node) noexcept { return node.executor_.get(); }
  static const MultiOutputKeyNode* as_key_item(const NodeBase& node) noexcept {
    return dynamic_cast<const MultiOutputKeyNode*>(&node);
  }

  static OutputState state(const OutputNode& output) noexcept {
    if (announced(output)) return OutputState::announced;
    return output.valid() ? OutputState::valid : OutputState::stale;
  }
  static InputState state(const InputNode& input) noexcept {
    if (holds_value(input)) return InputState::value_waiting;
    return announcing(input) ? InputState::announced : InputState::settled;
  }
  // The connections of an output; of a multi-output, the whole ones and
  // those of its keys.
  static std::size_t connection_count(const OutputNode& output) noexcept {
    std::size_t count = output.connections().size();
    if (output.kind_ == OutputNode::Kind::multi) {
      for (const MultiOutputKeyNode* item : static_cast<const MultiOutputNode&>(output).items()) {
        count += item->connections().size();
      }
    }
    return count;
  }
};

}  // namespace connectors::detail
