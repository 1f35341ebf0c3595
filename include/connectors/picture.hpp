#pragma once

#include <connectors/detail/node.hpp>
#include <connectors/detail/node_access.hpp>

#include <string>
#include <type_traits>

namespace connectors {

namespace detail {
std::string network_dot(const NodeBase& start);
void render_svg(const std::string& path, const std::string& dot);
}  // namespace detail

/// The whole network reachable from `connector` as Graphviz DOT
/// (docs/observability.md): each owner a cluster (its type, and its name if
/// given), each connector a node with its name and state (valid, stale or
/// announced cache; laziness; parallelization; an executor of its own), each
/// connection an edge (with a multi-input's data id or a multi-output's key).
/// Any connector kind: Output, Input, MultiInput, MultiOutput, `mi[id]`,
/// `mo[key]`, MacroInput, MacroOutput.
///
///     std::string dot = connectors::to_dot(d2.get_double);
///
/// A MacroInput is drawn from its first exported input's network.
///
/// Thread safety: takes the network lock; safe while other threads compute
/// (it waits for their operations). From inside a user method of the same
/// network it throws std::logic_error (it would wait for itself); otherwise
/// only std::bad_alloc.
template <class Connector>
std::string to_dot(const Connector& connector) {
  // A connector, a handle (its multi-connector's node) or a macro (a
  // connector of the network it exports).
  return detail::network_dot(detail::NodeAccess::node(connector));
}

/// Renders to_dot(connector) as an SVG file at `path` with Graphviz `dot`
/// (Debian package graphviz), replacing any file there once the picture is
/// rendered (a throw leaves that file as it was). Throws connectors::Error
/// saying so when `dot` is missing or fails, or the file cannot be
/// replaced; std::invalid_argument for an empty path.
///
///     connectors::write_svg("plots/network.svg", d2.get_double);
///
/// Thread safety: as to_dot.
template <class Connector>
void write_svg(const std::string& path, const Connector& connector) {
  detail::render_svg(path, to_dot(connector));
}

}  // namespace connectors
