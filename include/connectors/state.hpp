#pragma once

namespace connectors {

/// What an output's (or a multi-output's) value is at the moment
/// (docs/connectors.md, "Looking at a network"; the picture of
/// docs/observability.md shows the same states).
///
///     if (block.get_double.state() == connectors::OutputState::valid) { ... }
///
/// A plain enumeration: any thread.
enum class OutputState {
  valid,     ///< A cached value is up to date: a call returns it without computing.
  stale,     ///< No up-to-date value: the next call computes it.
  announced  ///< Stale, and an input it depends on has a change coming that was not applied yet.
};

/// Where an input (or a multi-input) is in the protocol at the moment
/// (docs/connectors.md, "Looking at a network").
///
///     if (block.set_value.state() == connectors::InputState::settled) { ... }
///
/// A plain enumeration: any thread.
enum class InputState {
  settled,       ///< Nothing pending: its observers hold what it last applied.
  announced,     ///< A change is coming from upstream and was not received yet.
  value_waiting  ///< A value arrived from upstream and waits to be applied at the next request.
};

}  // namespace connectors
