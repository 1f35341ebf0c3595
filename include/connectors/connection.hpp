#pragma once

#include <connectors/detail/node_access.hpp>

#include <type_traits>
#include <utility>

namespace connectors {

namespace detail {

// What a connector kind is, for the concepts below
// (docs/design.md#connector-kinds). Each kind's header specialises
// `connector_kind` for its class; anything else is no connector.
enum class Kind : unsigned char {
  none,
  single_source,  // values of type value_type, one at a time: Output, mo[key], MacroOutput
  keyed_source,   // key -> value maps: a whole MultiOutput
  single_sink,    // takes values of type value_type: Input, mi[id], MacroInput
  any_sink,       // also takes key -> value maps: MultiInput
};
template <class Connector>
inline constexpr Kind connector_kind = Kind::none;

// Whether a sink takes values of type R. A sink kind that needs more (a
// MacroInput forwards exactly its V) specialises it.
template <class Sink, class R>
inline constexpr bool sink_accepts = std::is_convertible_v<const R&, typename Sink::value_type>;

}  // namespace detail

/// A connector that produces values of its `value_type` one at a time:
/// Output, `mo[key]`, MacroOutput (docs/connectors.md, "Connector kinds").
/// It connects to any SingleSink.
template <class Connector>
concept SingleSource = detail::connector_kind<std::remove_cvref_t<Connector>>
== detail::Kind::single_source;

/// A connector that produces one value per key: a whole MultiOutput, with
/// `value_type` and `key_type`. It connects to a KeyedSink only.
template <class Connector>
concept KeyedSource = detail::connector_kind<std::remove_cvref_t<Connector>>
== detail::Kind::keyed_source;

/// A connector that takes values of its `value_type`: Input, `mi[id]`,
/// MacroInput, MultiInput.
template <class Connector>
concept SingleSink = detail::connector_kind<std::remove_cvref_t<Connector>>
== detail::Kind::single_sink || detail::connector_kind<std::remove_cvref_t<Connector>> == detail::Kind::any_sink;

/// A connector that also takes whole keyed sources, storing each key's value
/// under the key as data id (`id_type`): MultiInput.
template <class Connector>
concept KeyedSink = detail::connector_kind<std::remove_cvref_t<Connector>>
== detail::Kind::any_sink;

/// Whether `Source` may be connected to `Sink` by their kinds: a single
/// source to any sink, a keyed source to a keyed sink. Value types are
/// checked by connect itself, with a message saying which ones do not fit.
template <class Source, class Sink>
concept Joinable = (SingleSource<Source> && SingleSink<Sink>) || (KeyedSource<Source> && KeyedSink<Sink>);

namespace detail {

// Whether a keyed source's keys convert to a keyed sink's ids (true for a
// single source, which has no keys).
template <class Source, class Sink>
constexpr bool keys_fit() {
  if constexpr (KeyedSource<Source>) {
    return std::is_convertible_v<const typename std::remove_cvref_t<Source>::key_type&,
                                 typename std::remove_cvref_t<Sink>::id_type>;
  } else {
    return true;
  }
}

// Connects (`connecting`) or disconnects a pair whose kinds, values and keys
// connect and disconnect have checked, each with its own messages.
template <class Source, class Sink>
void join_pair(Source& source, Sink& sink, bool connecting) {
  using SourceType = std::remove_cvref_t<Source>;
  using R = typename SourceType::value_type;
  NodeAccess::with_source_node(source, [&](OutputNode& node) {
    if constexpr (KeyedSource<Source>) {
      NodeAccess::link_keyed<typename SourceType::key_type, R>(sink, node, connecting);
    } else {
      NodeAccess::link_single<R>(sink, node, connecting);
    }
  });
}

}  // namespace detail

/// Connects `source` to `sink`: what `sink.connect(source)` and
/// `source.connect(sink)` do for every pair of connector kinds
/// (docs/connectors.md, "Connector kinds"). Source values must convert to the
/// sink's value type (a MacroInput<V> takes sources of type V exactly), a
/// keyed source's keys to a keyed sink's ids; anything else is a compile
/// error naming the mismatch.
///
///     connectors::connect(a.get_double, b.set_value);  // b.set_value.connect(a.get_double)
///
/// Throws: CycleError, ConnectionError and the errors of the sink's connect
/// (docs/connectors.md, "Connections").
/// Threads: an operation on both networks, which it joins; any thread.
template <class Source, class Sink>
requires Joinable<Source, Sink>
void connect(Source&& source, Sink&& sink) {
  using SourceType = std::remove_cvref_t<Source>;
  using SinkType = std::remove_cvref_t<Sink>;
  constexpr bool values_fit = detail::sink_accepts<SinkType, typename SourceType::value_type>;
  static_assert(values_fit,
                "connectors::connect: the source's value type does not convert to the sink's value type (a "
                "MacroInput<V> takes sources of type V exactly)");
  constexpr bool keys_fit = detail::keys_fit<Source, Sink>();
  static_assert(keys_fit,
                "connectors::connect: the multi-output's key type does not convert to the multi-input's id type");
  // After a failed check nothing more is instantiated: one error, not a
  // cascade from inside the sink.
  if constexpr (values_fit && keys_fit) detail::join_pair(source, sink, true);
}

/// Breaks the connection between `source` and `sink`: what
/// `sink.disconnect(source)` and `source.disconnect(sink)` do for every pair
/// of connector kinds. The same pairs as connect compile.
///
///     connectors::disconnect(a.get_double, b.set_value);
///
/// Throws: ConnectionError if they are not connected; what a user method run
/// by the disconnect throws (docs/connectors.md, "Connections").
/// Threads: an operation; any thread.
template <class Source, class Sink>
requires Joinable<Source, Sink>
void disconnect(Source&& source, Sink&& sink) {
  using SourceType = std::remove_cvref_t<Source>;
  using SinkType = std::remove_cvref_t<Sink>;
  constexpr bool values_fit = detail::sink_accepts<SinkType, typename SourceType::value_type>;
  static_assert(values_fit,
                "connectors::disconnect: the source's value type does not convert to the sink's value type (a "
                "MacroInput<V> takes sources of type V exactly)");
  constexpr bool keys_fit = detail::keys_fit<Source, Sink>();
  static_assert(keys_fit,
                "connectors::disconnect: the multi-output's key type does not convert to the multi-input's id type");
  if constexpr (values_fit && keys_fit) detail::join_pair(source, sink, false);
}

}  // namespace connectors
