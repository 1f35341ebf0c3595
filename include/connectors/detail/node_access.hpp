#pragma once

#include <connectors/detail/node.hpp>

#include <type_traits>
#include <utility>

namespace connectors::detail {

// The one internal access point to the protocol node behind a connector
// (docs/design.md#sealed-connectors). Connectors inherit their node
// privately, so that users see only the documented members; the library
// reaches the node through this friend of every connector class.
struct NodeAccess {
  template <class Connector>
  static auto node(Connector& connector) noexcept -> decltype(connector.protocol_node()) {
    return connector.protocol_node();
  }

  // The two halves of every connect and disconnect (connectors::connect,
  // docs/design.md#connector-kinds). A source runs `use` with the output node
  // whose values it produces; a sink links that node to itself, with the
  // push that converts the source's R (or key -> R maps) to its own values.
  template <class Source, class Use>
  static void with_source_node(Source& source, Use&& use) {
    source.with_source_node(std::forward<Use>(use));
  }
  template <class R, class Sink>
  static void link_single(Sink& sink, OutputNode& node, bool connect) {
    sink.template link_single<R>(node, connect);
  }
  template <class Key, class R, class Sink>
  static void link_keyed(Sink& sink, OutputNode& node, bool connect) {
    sink.template link_keyed<Key, R>(node, connect);
  }
};

// A connector with a protocol node of its own (not a handle like mi[id] or
// a macro, which lead to the nodes of others).
template <class Connector>
concept has_node = requires(Connector& connector) {
  NodeAccess::node(connector);
};

// Whether the node of `Connector` is an output node (Output, MultiOutput) or
// an input node (Input, MultiInput). Used where a connector must be one of
// them, such as the observers given to an input's constructor.
template <class Connector>
concept has_output_node = std::is_base_of_v<OutputNode, std::remove_cvref_t<Connector>>;
template <class Connector>
concept has_input_node = std::is_base_of_v<InputNode, std::remove_cvref_t<Connector>>;

}  // namespace connectors::detail
