#pragma once

#include <connectors/connection.hpp>
#include <connectors/detail/construction_checks.hpp>
#include <connectors/detail/find_if.hpp>
#include <connectors/detail/label.hpp>
#include <connectors/detail/member.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/node_access.hpp>
#include <connectors/detail/node_inspector.hpp>
#include <connectors/detail/owned_keys.hpp>
#include <connectors/detail/pending_values.hpp>
#include <connectors/detail/preset_ids.hpp>
#include <connectors/detail/source_table.hpp>
#include <connectors/detail/user_call.hpp>
#include <connectors/errors.hpp>
#include <connectors/gather.hpp>
#include <connectors/output.hpp>
#include <connectors/state.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace connectors {

template <class V, class Id>
class MultiInputItem;

/// A multi-input connector: accepts any number of connections at once
/// (docs/multi-inputs.md; `docs/design.md#multi-input`). It wraps the owner's `Id add(V)` and `remove(Id)`, followed by
/// the owner's outputs that depend on it:
///
///     connectors::MultiInput<double> add_summand{this, &Sum::add, &Sum::remove, get_result};
///
/// Each connection stores its values under one data id: the first value with
/// `add` (the id it returns is remembered), later ones with `replace(id, v)`
/// (`set_replace`) or, without one, by removing the old id and adding again,
/// which moves the value to the end of the owner's order. Breaking a connection
/// removes what it stored. `mi[id]` is a virtual single input whose values go
/// through `replace(id, v)`; a whole MultiOutput delivers one value per key.
///
/// Every change — a direct call, `remove`, `replace`, `mi[id](v)`, a
/// disconnect — first applies the values announced from upstream, so no change
/// overtakes one announced earlier (`docs/design.md#multi-input`, Direct changes). (Without observers there is
/// nobody to tell: `mi[id](v)` then only calls replace, as in the original.) The notify condition is checked
/// for direct `remove`/`replace` calls too (repair R, `docs/design.md#cancel`).
/// Defaults: Laziness::ON_REQUEST, Parallelization::SEQUENTIAL, the default executor.
///
///     class Sum {
///      public:
///       connectors::Output<double> get_result{this, &Sum::result};
///       connectors::MultiInput<double> add_summand{this, &Sum::add, &Sum::remove, get_result};
///       Sum() { add_summand.set_replace(&Sum::replace); }
///
///      private:
///       std::size_t add(double value) { return values_.add(value); }
///       void remove(std::size_t id) { values_.erase(id); }
///       void replace(std::size_t id, double value) { values_[id] = value; }
///       double result() const {
///         double sum = 0;
///         for (const auto& [id, value] : values_) sum += value;
///         return sum;
///       }
///       connectors::MultiInputData<double> values_;
///     };
///
///     Sum sum;
///     sum.add_summand.connect(a.get_double);   // each connection stores one value
///     sum.add_summand.connect(b.get_double);
///     sum.add_summand(1.0);                    // a direct value, stored under a new id
///     double total = sum.get_result();
///
/// Looking at it (`docs/connectors.md`, "Looking at a network"):
/// `is_connected()`, `connection_count()`, `is_connected_to(output)` and
/// `state()`.
///
/// **Threads.** Every member that calls, connects, disconnects or configures is
/// an operation on this multi-input's network: it may be called from any
/// thread, operations on one network are serialised, operations on independent
/// networks run in parallel (`docs/connectors.md`, "Threads and nested
/// operations"). Started from inside a user method, an operation on the network
/// being computed throws std::logic_error. So do the configuration and the
/// queries (set_laziness, state(), ...) of a connector of that network, called
/// from inside its computation. The owner's `add`, `remove` and `replace` run
/// one at a time, never concurrently with each other. Destroying the owner
/// while another thread uses the network is allowed; using it while or after it
/// is destroyed is not.
template <class V, class Id = std::size_t>
class MultiInput final : private detail::InputNode {
  static_assert(std::is_object_v<V> && !std::is_const_v<V>,
                "connectors::MultiInput<V, Id>: V must be a non-const value type");
  static_assert(std::equality_comparable<Id>, "connectors::MultiInput<V, Id>: Id needs ==");
  static_assert(std::is_nothrow_move_constructible_v<Id> && std::is_nothrow_move_assignable_v<Id>,
                "connectors::MultiInput<V, Id>: Id needs a move that does not throw (it records an id the owner "
                "returned, after the owner's method stored the value)");

 public:
  /// The type of the values this multi-input takes.
  using value_type = V;
  /// The type of the data ids values are stored under.
  using id_type = Id;

  /// Wraps the owner's `Id add(V)` (by value or `const V&`), which stores a
  /// value and returns its new data id, and `remove(Id)`; `observers` are the
  /// owner's outputs that depend on the stored values (declared before it). A
  /// mismatched method is a compile error. Throws std::invalid_argument for a
  /// null owner, add or remove, otherwise only std::bad_alloc.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the connector.
  template <class Owner, class Add, class Remove, class... Observers>
  requires std::is_member_function_pointer_v<Add> && std::is_member_function_pointer_v<Remove> &&
      std::derived_from<Owner, typename detail::member_owner<Add>::type> &&
      std::derived_from<Owner, typename detail::member_owner<Remove>::type>
      MultiInput(Owner* owner, Add add, Remove remove, Observers&... observers)
      : InputNode(true),
        owner_(owner),
        add_(add),
        remove_(remove),
        invoke_add_(&invoke_add<Owner, Add>),
        invoke_remove_(&invoke_remove<Owner, Remove>) {
    detail::check_not_null(owner, "MultiInput", add, remove);
    set_owner_type(detail::owner_type_of<Owner>());
    static_assert(std::is_invocable_v<Add, Owner&, V&>,
                  "connectors::MultiInput<V, Id>: add must take one V (by value or const V&)");
    static_assert(std::is_convertible_v<std::invoke_result_t<Add, Owner&, V&>, Id>,
                  "connectors::MultiInput<V, Id>: add must return the new data id (an Id)");
    static_assert(std::is_invocable_v<Remove, Owner&, const Id&>,
                  "connectors::MultiInput<V, Id>: remove must take one Id");
    static_assert((detail::has_output_node<Observers> && ...),
                  "connectors::MultiInput: observers must be output connectors of the same owner");
    if constexpr (sizeof...(Observers) > 0) {
      detail::OutputNode* const observed[] = {&detail::NodeAccess::node(observers)...};
      link_observers(observed, sizeof...(Observers));
    }
  }

  /// Leaves the network without running any user method; the sources forget
  /// this multi-input (`docs/design.md#lifetime`). Waits for the network's
  /// lock if another thread's operation runs.
  /// Throws nothing.
  ~MultiInput() {
    detail::leave_network(*this, [this]() noexcept {
      const bool inside = detail::note_destruction(*this);
      detail::NetworkLock lock{*this};
      if (inside) abort_own_waits();
      for (Source& source : sources_) source.node->remove_connection(*this);
      // Destroyed by a remove that the loss of that source called: the
      // source no longer counts among ours, but still lists us until its
      // walk ends, and a walk of the network meanwhile (note_destruction)
      // would reach this freed input there.
      for (const Losing* losing = losing_; losing != nullptr; losing = losing->outer)
        losing->source->remove_connection(*this);
      sources_.clear();
      detach_locked();
    });
    leave_owner_network();
  }

  /// Adds a value directly: first applies the values announced from upstream,
  /// then runs `add` now, on the calling thread, and returns the new data id;
  /// then notifies (or cancels) the observers and serves the non-lazy inputs
  /// downstream.
  ///
  /// Throws: what the owner's method throws, or what applying a value
  /// announced from upstream throws (the observers stay announced where a
  /// change is still pending, so the next pull retries); what the notify
  /// condition or a non-lazy input's method throws; std::logic_error from
  /// inside a method of the network being computed, or when the owner's
  /// method destroys a block of this network (this one included).
  ///
  /// Threads: an operation (see the class); any thread.
  Id operator()(V value) {
    return change(
        [&] {
          const detail::NodeBase* self = this;
          Id id = invoke_add_(owner_, add_, value);
          // The change is noted before the error of a method that destroyed
          // another block (change() throws it), or a cancel would keep the
          // observers' caches over it.
          throw_if_destroyed(self);
          note_change(id, std::move(value));
          return id;
        },
        true);
  }

  /// The virtual single input for `id`: `mi[id](v)` stores through
  /// replace(id, v); `mi[id].connect(out)` stores every value of `out` there.
  /// Only makes a small handle: throws nothing but what copying the Id
  /// throws; any thread. Using the handle needs `set_replace`.
  MultiInputItem<V, Id> operator[](Id id) { return MultiInputItem<V, Id>{*this, std::move(id)}; }

  /// Removes the value stored under `id` through the protocol: applies what
  /// upstream announced, calls the owner's remove on the calling thread, then
  /// notifies the observers if the notify condition holds for the removal
  /// (cancels them otherwise) and serves the non-lazy inputs downstream.
  ///
  /// Throws: what the owner's method throws, or copying the Id (before
  /// anything changes), or what applying a value
  /// announced from upstream throws (the observers stay announced where a
  /// change is still pending, so the next pull retries); what the notify
  /// condition or a non-lazy input's method throws; std::logic_error from
  /// inside a method of the network being computed, or when the owner's
  /// method destroys a block of this network (this one included).
  ///
  /// Threads: an operation (see the class); any thread.
  void remove(const Id& id) {
    change(
        [&] {
          const detail::NodeBase* self = this;
          // A copy, before anything changes: `id` may be the owner's own
          // key, which its remove destroys.
          const Id removed = id;
          invoke_remove_(owner_, remove_, removed);
          throw_if_destroyed(self);  // noted first, as in operator()
          forget_stored_under(removed);
          note_change(removed, std::nullopt);
        },
        true);
  }

  /// Stores `value` under `id` through the protocol (replace, or the fallback
  /// remove-then-add); returns the id the value is stored under now. As
  /// remove() for what happens around it.
  ///
  /// Throws: what the owner's method throws, or copying the Id (before
  /// anything changes), or what applying a value
  /// announced from upstream throws (the observers stay announced where a
  /// change is still pending, so the next pull retries); what the notify
  /// condition or a non-lazy input's method throws; std::logic_error from
  /// inside a method of the network being computed, or when the owner's
  /// method destroys a block of this network (this one included).
  ///
  /// Threads: an operation (see the class); any thread.
  Id replace(const Id& id, V value) {
    return change(
        [&] {
          const detail::NodeBase* self = this;
          // A copy, before anything changes: `id` may be the owner's own
          // key, which its methods destroy.
          Id target = id;
          if (invoke_replace_ == nullptr) {
            // The fallback's two steps are noted one by one: an add that
            // fails after the remove leaves the removal a change.
            invoke_remove_(owner_, remove_, target);
            throw_if_destroyed(self);
            forget_stored_under(target);
            note_change(target, std::nullopt);
            Id added = invoke_add_(owner_, add_, value);
            throw_if_destroyed(self);
            note_change(added, std::move(value));
            return added;
          }
          std::optional<Id> stored = invoke_replace_(replace_target_, replace_, target, value);
          throw_if_destroyed(self);
          forget_if_moved(target, stored);
          note_change(stored ? *stored : target, std::move(value));
          return stored ? std::move(*stored) : std::move(target);
        },
        true);
  }

  /// Connects a source: an Output, `mo[key]` or MacroOutput (any
  /// SingleSource), whose first value is added and later ones replace it
  /// (or, without `set_replace`, remove it and add again); or a whole
  /// MultiOutput (a KeyedSource), one value per key with the keys as data ids,
  /// stored through replace, keys it no longer delivers removed. First values
  /// of several new connections of one value each are stored in connection
  /// order (a whole MultiOutput's keys pulled with them come after them,
  /// docs/multi-inputs.md). Values that
  /// do not convert to V, or keys that do not convert to Id, are a compile
  /// error. The same as `source.connect(*this)`.
  ///
  ///     sum.add_summand.connect(a.get_double);
  ///
  /// Throws: ConnectionError if the output is already connected here through
  /// another id (connecting it the same way again does nothing); CycleError
  /// if the connection would close a cycle (nothing changed in both cases);
  /// std::logic_error for a whole MultiOutput without `set_replace`; what a
  /// non-lazy input's method throws, after the connection is made;
  /// std::logic_error from inside a method of the network being computed.
  ///
  /// Threads: an operation on both networks, which it joins; any thread.
  template <class Source>
  requires Joinable<Source, MultiInput&>
  void connect(Source&& source) { connectors::connect(std::forward<Source>(source), *this); }
  /// Breaks the connection to `source` (also one made through `mi[id]`):
  /// applies what the *other* sources announced, then removes what this
  /// connection stored (no pending value of `source` is applied; for a whole
  /// multi-output, every key it stored), then notifies or cancels the
  /// observers and serves the non-lazy inputs.
  ///
  /// Throws: ConnectionError if `source` is not connected here; what the
  /// owner's methods throw (the removal and the disconnect happen anyway);
  /// std::logic_error from inside a method of the network being computed.
  ///
  /// Threads: an operation; any thread.
  template <class Source>
  requires Joinable<Source, MultiInput&>
  void disconnect(Source&& source) { connectors::disconnect(std::forward<Source>(source), *this); }

  /// The owner's `Id replace(Id, V)` (or `void replace(Id, V)`: same id). It
  /// must also accept an id that holds nothing yet and store the value under
  /// it: `mi[id]` and whole multi-outputs rely on that. Without it, those
  /// throw std::logic_error and updates fall back to remove-then-add. A
  /// mismatched method is a compile error; throws std::invalid_argument for a null method or one of a
  /// class unrelated to the owner's.
  /// Threads: takes the network lock; any thread.
  template <class Owner, class Replace>
  requires std::is_member_function_pointer_v<Replace> &&
      std::derived_from<Owner, typename detail::member_owner<Replace>::type>
  void set_replace(Replace replace) {
    static_assert(std::is_invocable_v<Replace, Owner&, const Id&, V&>,
                  "connectors::MultiInput<V, Id>::set_replace: replace must take (Id, V)");
    using Result = std::invoke_result_t<Replace, Owner&, const Id&, V&>;
    static_assert(std::is_void_v<Result> || std::is_convertible_v<Result, Id>,
                  "connectors::MultiInput<V, Id>::set_replace: replace must return the data id (an Id) or void");
    void* target = detail::owner_as<Owner>(owner_type_, owner_, replace, "MultiInput::set_replace");
    detail::ConfigurationLock lock{*this, "set_replace"};
    replace_target_ = target;
    replace_ = detail::ErasedMember{replace};
    invoke_replace_ = &invoke_replace<Owner, Replace>;
  }
  /// \overload
  /// The owner type deduced from the member pointer.
  /// Throws std::invalid_argument for a null method or one of a
  /// class unrelated to the owner's. Threads: takes the network lock; any thread.
  template <class Replace>
  requires std::is_member_function_pointer_v<Replace>
  void set_replace(Replace replace) { set_replace<typename detail::member_owner<Replace>::type>(replace); }

  /// A predicate `bool(const Id&) [const]` of the owner: when false, an
  /// announcement from a source whose value is stored under that id is
  /// ignored. Not consulted for direct calls, nor for whole multi-outputs (no
  /// single id; `docs/design.md#multi-input`), nor for plain connections that have stored nothing
  /// yet (no id yet). A connection through `mi[id]` has its id from the start:
  /// if the condition rejects it when it is connected, the observers are not
  /// announced (what they cached stays valid), but the new connection is
  /// still fetched at this multi-input's next pull, as every new connection
  /// is (docs/multi-inputs.md). What the condition throws reaches the call
  /// that announced (a set upstream, say); while a connector upstream is
  /// being destroyed, which cannot report it, a throwing condition counts
  /// as true. Throws std::invalid_argument for a null method or one of a
  /// class unrelated to the owner's, otherwise only std::bad_alloc.
  /// Threads: takes the network lock; any thread.
  template <class Owner>
  void set_announce_condition(bool (Owner::*condition)(const Id&)) {
    set_announce_condition_impl<Owner>(condition);
  }
  /// \overload
  template <class Owner>
  void set_announce_condition(bool (Owner::*condition)(const Id&) const) {
    set_announce_condition_impl<Owner>(condition);
  }
  /// \overload
  /// Any other member function pointer: one qualified `&` or `const&`; a
  /// signature that does not fit is a compile error saying which it needs.
  template <class Condition>
  requires std::is_member_function_pointer_v<Condition>
  void set_announce_condition(Condition condition) {
    using Owner = typename detail::member_owner<Condition>::type;
    constexpr bool fits = std::is_invocable_r_v<bool, Condition, Owner&, const Id&>;
    static_assert(
        fits,
        "connectors::MultiInput::set_announce_condition: the condition must be bool(const Id&) [const] of the owner");
    if constexpr (fits) set_announce_condition_impl<Owner>(condition);  // (no errors after the one above)
  }
  /// A predicate `bool(const Id&, const std::optional<V>&) [const]` of the
  /// owner (the value is empty for a removal), checked for each change applied
  /// together: the observers are notified if it holds for any, cancelled
  /// otherwise (`docs/design.md#multi-input`, Notify condition). If it
  /// throws, the exception reaches the caller of the operation. Throws
  /// std::invalid_argument for a null method or one of a class unrelated to
  /// the owner's, otherwise only std::bad_alloc.
  /// Threads: takes the network lock; any thread.
  template <class Owner>
  void set_notify_condition(bool (Owner::*condition)(const Id&, const std::optional<V>&)) {
    set_notify_condition_impl<Owner>(condition);
  }
  /// \overload
  template <class Owner>
  void set_notify_condition(bool (Owner::*condition)(const Id&, const std::optional<V>&) const) {
    set_notify_condition_impl<Owner>(condition);
  }
  /// \overload
  /// Any other member function pointer: one qualified `&` or `const&`; a
  /// signature that does not fit is a compile error saying which it needs.
  template <class Condition>
  requires std::is_member_function_pointer_v<Condition>
  void set_notify_condition(Condition condition) {
    using Owner = typename detail::member_owner<Condition>::type;
    constexpr bool fits = std::is_invocable_r_v<bool, Condition, Owner&, const Id&, const std::optional<V>&>;
    static_assert(fits,
                  "connectors::MultiInput::set_notify_condition: the condition must be bool(const Id&, const "
                  "std::optional<V>&) [const] of the owner");
    if constexpr (fits) set_notify_condition_impl<Owner>(condition);  // (no errors after the one above)
  }

  /// When values from upstream are applied (as Input::set_laziness; one
  /// laziness for all connections, `docs/laziness-and-caching.md`). Throws
  /// std::invalid_argument for a value that is not a Laziness, otherwise
  /// nothing of its own. Threads: takes the network lock; any thread.
  void set_laziness(Laziness laziness) { InputNode::set_laziness(laziness); }
  /// The laziness (set_laziness). Throws nothing. Threads: any thread; a
  /// value read while another thread changes it may be the old one.
  Laziness laziness() const noexcept { return InputNode::laziness(); }
  /// Where the owner's methods run for values from upstream (as
  /// Input::set_parallelization; PROCESS runs as THREAD). Throws
  /// std::invalid_argument for a value outside the enum. Threads: takes the
  /// network lock; any thread.
  void set_parallelization(Parallelization parallelization) { InputNode::set_parallelization(parallelization); }
  /// The parallelization flag (set_parallelization). Throws nothing.
  /// Threads: any thread; a value read while another thread changes it may
  /// be the old one.
  Parallelization parallelization() const noexcept { return InputNode::parallelization(); }
  /// The executor that runs this multi-input's operations; null restores the
  /// default executor (`docs/executors.md`). Throws nothing of its own.
  /// Threads: takes the network lock; any thread.
  void set_executor(std::shared_ptr<Executor> executor) { NodeBase::set_executor(std::move(executor)); }
  /// The executor set with set_executor, or the default executor. Throws
  /// only std::bad_alloc (a connector's first use makes its lock). Threads:
  /// takes the network lock; any thread.
  std::shared_ptr<Executor> executor() const { return NodeBase::locked_executor(); }
  /// Names this multi-input in pictures and timelines
  /// (`docs/observability.md`); "owner.connector" also names the owner.
  ///
  ///     sum.add_summand.set_name("sum.add_summand");
  ///
  /// Throws only std::bad_alloc. Threads: takes the network lock; call it
  /// while building the network rather than from inside its methods.
  void set_name(std::string name) { NodeBase::set_name(std::move(name)); }
  /// The name given with set_name, if any. Throws only std::bad_alloc.
  /// Threads: takes the network lock; any thread.
  std::optional<std::string> name() const { return NodeBase::name(); }

  /// Whether any output is connected to this multi-input (also through
  /// `mi[id]`). Throws nothing of its own. Threads: takes the network lock;
  /// any thread (the answer may be out of date once another thread connects
  /// or disconnects).
  bool is_connected() const { return connection_count() != 0; }
  /// How many outputs are connected (a whole multi-output counts once).
  /// Throws nothing of its own. Threads: as is_connected.
  std::size_t connection_count() const {
    detail::ConfigurationLock lock{*this, "connection_count"};
    return sources_.size();
  }
  /// Whether `output` (an Output or a whole MultiOutput) is connected here,
  /// also through `mi[id]`; a multi-output is, also through one of its keys
  /// (`mo[key]`), as its own is_connected_to answers. Throws nothing of its
  /// own. Threads: as is_connected.
  template <class Connector>
  requires detail::has_output_node<Connector>
  bool is_connected_to(const Connector& output) const {
    detail::ConfigurationLock lock{*this, "is_connected_to"};
    const detail::OutputNode& node = detail::NodeAccess::node(output);
    if (find(node) != nullptr) return true;
    if (node.is_single()) return false;  // (the keys of a whole multi-output are searched)
    for (const Source& source : sources_) {
      if (comes_from(source.node, node)) return true;
    }
    return false;
  }
  /// Whether nothing is pending, a change is announced from upstream, or
  /// received values wait to be applied (connectors::InputState). Throws
  /// nothing of its own. Threads: takes the network lock; any thread (the
  /// state may change as soon as the lock is released).
  InputState state() const {
    detail::ConfigurationLock lock{*this, "state"};
    if (has_pending_values()) return InputState::value_waiting;
    return detail::NodeInspector::state(*this);
  }

 private:
  friend struct detail::NodeAccess;
  detail::InputNode& protocol_node() noexcept { return *this; }
  const detail::InputNode& protocol_node() const noexcept { return *this; }
  template <class R>
  void link_single(detail::OutputNode& source, bool connect) {
    if (connect) {
      connect_source(source, &receive<R>, SourceKind::single, std::nullopt);
    } else {
      disconnect_source(source);
    }
  }
  template <class Key, class R>
  void link_keyed(detail::OutputNode& source, bool connect) {
    if (connect) {
      connect_source(source, &receive_map<Key, R>, SourceKind::whole, std::nullopt);
    } else {
      disconnect_source(source);
    }
  }

  template <class, class>
  friend class MultiInputItem;

  enum class SourceKind : unsigned char {
    single,  // an Output or a multi-output's key
    keyed,   // through mi[id]: every value goes through replace(id, v)
    whole,   // a whole multi-output: key -> value maps
  };
  struct Source {
    detail::OutputNode* node;
    SourceKind kind;
    bool announcing = false;
    bool stored = false;           // a value is stored under `id` (docs/design.md#multi-input, Disconnect)
    bool holds_preset_id = false;  // an mi[id] connection, its id among preset_ids_
    std::optional<Id> id;          // where this source's value is stored (preset for mi[id])
    detail::OwnedKeys<Id> owned;   // whole: key -> the id its value is stored under
    typename detail::PendingValues<V>::Slot pending{};  // its entry among the values to apply
    bool map_pending = false;                           // whole: a map of its waits in pending_maps_
  };
  struct PendingMap {
    detail::OutputNode* source;
    std::vector<std::pair<Id, V>> values;
  };

  template <class Owner, class Add>
  static Id invoke_add(void* owner, const detail::ErasedMember& add, V& value) {
    return (static_cast<Owner*>(owner)->*add.get<Add>())(value);
  }
  template <class Owner, class Remove>
  static void invoke_remove(void* owner, const detail::ErasedMember& remove, const Id& id) {
    (static_cast<Owner*>(owner)->*remove.get<Remove>())(id);
  }
  // The id the value is stored under now; none: `id` itself (a replace
  // returning void), which is then not copied: a copy that fails after the
  // owner stored the value would report a change as a failure.
  template <class Owner, class Replace>
  static std::optional<Id> invoke_replace(void* owner, const detail::ErasedMember& replace, const Id& id, V& value) {
    if constexpr (std::is_void_v<std::invoke_result_t<Replace, Owner&, const Id&, V&>>) {
      (static_cast<Owner*>(owner)->*replace.get<Replace>())(id, value);
      return std::nullopt;
    } else {
      return (static_cast<Owner*>(owner)->*replace.get<Replace>())(id, value);
    }
  }

  // The owner's value under `id` was removed directly (remove, or replace's
  // fallback): the connection whose value it was holds none now, and its
  // disconnect (or its key's loss) must not remove it a second time (SPEC
  // A18; docs/multi-inputs.md, Direct calls). Every source is searched: no
  // connection's value passes this way, only a direct call's.
  void forget_stored_under(const Id& id) noexcept {
    for (Source& source : sources_) {
      if (source.kind != SourceKind::whole) {
        if (source.stored && source.id && *source.id == id) source.stored = false;
        continue;
      }
      for (const auto& [key, stored_under] : source.owned) {
        if (stored_under == id) {
          (void)source.owned.take(key);
          break;
        }
      }
    }
  }

  // A direct replace that moved the value under `id` to another id: a
  // connection whose value it was holds none now (the moved one is a direct
  // value), as after a direct remove.
  void forget_if_moved(const Id& id, const std::optional<Id>& stored) noexcept {
    if (stored && !(*stored == id)) forget_stored_under(id);
  }

  // Stores `value` under `id`; returns the id it is stored under now (none:
  // `id`). With `stored_before` false and no replace method there is nothing
  // to remove first: the value is simply added.
  std::optional<Id> replace_now(const Id& id, V& value, bool stored_before) {
    if (invoke_replace_ != nullptr) return invoke_replace_(replace_target_, replace_, id, value);
    if (stored_before) invoke_remove_(owner_, remove_, id);
    return invoke_add_(owner_, add_, value);
  }

  void require_replace() const {
    if (invoke_replace_ == nullptr) {
      throw std::logic_error(
          "connectors::MultiInput: mi[id] and whole multi-outputs store values under given ids, which needs a "
          "replace method (set_replace)");
    }
  }

  const void* owner() const noexcept override { return owner_; }

  // The data id of a connection, for the picture (docs/observability.md).
  std::string connection_label(const detail::NodeBase& peer) const override {
    for (const Source& source : sources_) {
      if (source.node != &peer) continue;
      if (source.kind == SourceKind::whole) return "all keys";
      return source.id ? "id " + detail::to_label(*source.id) : std::string{};
    }
    return {};
  }

  Source* find(const detail::OutputNode& node) noexcept { return sources_.find(node); }
  const Source* find(const detail::OutputNode& node) const noexcept { return sources_.find(node); }

  bool has_pending_values() const noexcept { return !pending_maps_.empty() || pending_.has_values(); }

  // A source has delivered (or will not deliver) its announced change.
  void source_settled(Source& source) noexcept {
    if (!source.announcing) return;
    source.announcing = false;
    if (--announcing_sources_ == 0) computable_.wake_all();
  }

  // Records a change for finish_changes; `value` is what `id` holds now
  // (std::nullopt: removed), moved or copied only for a notify condition.
  // changed_ comes first: a change whose value cannot be kept for the
  // condition (its move or copy throws) is still a change, and the next
  // request notifies the observers without asking the condition, rather
  // than cancelling them over a stale result.
  template <class Value>
  void note_change(const Id& id, Value&& value) {
    changed_ = true;
    ++changes_noted_;
    if (!conditions_ || conditions_->notify == nullptr) return;
    try {
      checks_.emplace_back(id, std::forward<Value>(value));
    } catch (...) {
      unchecked_change_ = true;
      throw;
    }
  }

  // ---- values from upstream ---------------------------------------------------

  template <class R>
  static bool receive(detail::InputNode& self, detail::OutputNode& from, const void* value) {
    auto& input = static_cast<MultiInput&>(self);
    Source* source = input.sources_.find(from, input.expected_source_);
    if (source == nullptr) return false;
    input.pending_.receive(source->pending, from, input.sources_.position(*source), V(*static_cast<const R*>(value)));
    input.source_settled(*source);
    return input.laziness() == Laziness::ON_NOTIFY;
  }

  template <class Key, class R>
  static bool receive_map(detail::InputNode& self, detail::OutputNode& from, const void* value) {
    auto& input = static_cast<MultiInput&>(self);
    Source* source = input.find(from);
    if (source == nullptr) return false;
    std::vector<std::pair<Id, V>> converted;
    for (const auto& [key, result] : *static_cast<const std::vector<std::pair<Key, R>>*>(value)) {
      converted.emplace_back(Id(key), V(result));
    }
    // Searched only when one is waiting already (a second delivery before a
    // get): many whole multi-outputs each delivering once cost linear time.
    if (source->map_pending) {
      auto entry = detail::find_if(input.waiting_maps_begin(), input.pending_maps_.end(),
                                   [&](const PendingMap& pending) { return pending.source == &from; });
      entry->values = std::move(converted);
    } else {
      input.pending_maps_.push_back(PendingMap{&from, std::move(converted)});
      source->map_pending = true;
    }
    input.source_settled(*source);
    return input.laziness() == Laziness::ON_NOTIFY;
  }

  // ---- the protocol -------------------------------------------------------------

  // The announcement is recorded before the condition is asked, and taken
  // back if it refuses: a condition may destroy blocks (docs/design.md#lifetime),
  // and a destruction may withdraw the very change being announced (the
  // announcer's own source gone: its cancel arrives while the condition
  // runs). Recorded first, the cancel finds it; recorded after, the cancel
  // passed unseen and the next get waited forever for a value that was not
  // coming. A condition that destroys this multi-input's own block refuses
  // without touching it again; one that destroys the source's block leaves
  // nothing to announce from it.
  bool accept_announcement(detail::OutputNode& from) override {
    Source* source = find(from);
    if (source == nullptr) return false;
    const bool was_announcing = source->announcing;
    if (!was_announcing) {
      source->announcing = true;
      ++announcing_sources_;
    }
    if (conditions_ && conditions_->announce != nullptr && source->kind != SourceKind::whole && source->id &&
        (source->stored || source->kind == SourceKind::keyed)) {
      const std::optional<bool> accepted = detail::ask_announce_condition(*this, [&] {
        const Id id = *source->id;  // the entry may move while the condition runs
        return conditions_->announce(conditions_->announce_target, conditions_->announce_member, id);
      });
      if (!accepted) return false;
      source = find(from);  // a source destroyed meanwhile has left the table (entries move)
      if (source == nullptr || !source->announcing) return false;  // withdrawn meanwhile
      if (!*accepted) {
        if (!was_announcing) source_settled(*source);
        return false;
      }
    }
    return true;
  }

  bool multi_is_announced_by(const detail::OutputNode& from) const noexcept override {
    const Source* source = find(from);
    return source != nullptr && source->announcing;
  }

  // Repair R (docs/design.md#cancel): the observers are cancelled only when nothing
  // announced is left, no received value waits to be applied and no change
  // made waits to be told.
  bool multi_take_cancel(detail::OutputNode& from) noexcept override {
    Source* source = find(from);
    if (source == nullptr || !source->announcing) return false;
    source_settled(*source);
    return multi_waits_for_nothing();
  }

  // Nothing announced is left, no received value waits to be applied, and no
  // change was made that the observers have not been told of: a change made
  // by a request or a disconnect that then failed (a method destroyed a
  // block) keeps them announced, so that a cancel arriving meanwhile (the
  // destroyed block's, from upstream) does not re-validate their caches
  // over it; the next request tells them.
  bool multi_waits_for_nothing() const noexcept override {
    return announcing_sources_ == 0 && !has_pending_values() && !changed_;
  }

  void multi_for_each_source(Visit visit, void* context) const override {
    for (const Source& source : sources_) visit(*source.node, context);
  }
  bool multi_has_source(const detail::OutputNode* output) const noexcept override {
    return sources_.find_address(output) != nullptr;
  }

  // The source is being destroyed (docs/design.md#lifetime): what it stored is removed, as in
  // a disconnect, without any other user method running.
  bool multi_lose_source(detail::OutputNode& from) noexcept override {
    Source* source = find(from);
    if (source == nullptr) return false;
    source_settled(*source);
    forget_pending(from);
    const StoredIds stored = take_stored_ids(*source);
    sources_.erase(from);
    if (stored.empty()) return multi_waits_for_nothing();
    // Everything downstream learns of the change; nothing is computed now.
    // The non-lazy inputs it reaches stay unserved, so the path to them must
    // not count as settled for the next announcement (which serves them).
    // An announce condition below, or the remove, may destroy this
    // multi-input's own block: then nothing of it may be touched any more
    // (docs/design.md#lifetime; the watch tells).
    detail::InputNode* alive = this;
    // (A remove may destroy another source of this input, whose loss nests.)
    Losing losing{&from, losing_};
    losing_ = &losing;
    // The removals are a change under way (multi_waits_for_nothing): a cancel
    // that a destruction sends meanwhile (a remove that destroys another
    // source of this input) must not re-validate the observers over them.
    const bool changed_before = changed_;
    changed_ = true;
    {
      detail::DestructionWatch watch{alive};
      detail::NonLazyCollection unserved{Laziness::ON_CONNECT, {}};
      {
        detail::FailedConditionsHold hold;  // a destructor cannot report a condition's error
        announce_downstream(unserved, false);
      }
      // (An input destroyed by a condition has left the collection.)
      for (detail::InputNode* input : unserved.inputs) detail::unsettle_upstream(*input);
      if (alive == nullptr) return false;
      detail::UserCallScope user{detail::UserCallScope::current()};
      stored.for_each([&](const Id& id) {
        detail::MethodProbe probe{*this, detail::Phase::setter};
        try {
          invoke_remove_(owner_, remove_, id);
        } catch (...) {
          // A destructor cannot report it; the other removals go on (nothing
          // else would remove those values), and what depends on this input
          // is invalidated below all the same.
        }
        return alive != nullptr;
      });
    }
    if (alive == nullptr) return false;
    losing_ = losing.outer;
    changed_ = changed_before;
    if (multi_waits_for_nothing()) {
      notify_observers();
    } else {
      // Values announced or received from other sources are still to be
      // applied: the observers stay announced until a request applies them.
      for (detail::OutputNode* observer : observers_) observer->mark_changed();
    }
    return false;
  }

  // The ids a source's values are stored under, taken out of its record
  // without a copy (Id moves do not throw): the removals that follow cannot
  // fail before they start (a failing copy left a disconnected source's
  // values stored), and a destructor cannot throw.
  struct StoredIds {
    std::optional<Id> single;
    detail::OwnedKeys<Id> owned;  // a whole multi-output's: key -> id
    bool empty() const noexcept { return !single && owned.empty(); }
    // Calls `visit(id)` for each, until it returns false.
    template <class Visit>
    void for_each(Visit visit) const {
      if (single && !visit(*single)) return;
      for (const auto& entry : owned) {
        if (!visit(entry.second)) return;
      }
    }
  };
  // Also frees the source's mi[id] (once), before its id is moved out.
  StoredIds take_stored_ids(Source& source) noexcept {
    if (source.holds_preset_id) {
      preset_ids_.erase(*source.id);
      source.holds_preset_id = false;
    }
    StoredIds ids;
    if (source.kind == SourceKind::whole) {
      ids.owned = std::move(source.owned);
      source.owned.clear();
      // A key staged for the owner's method running now has no value yet,
      // or one the method stores without this connection: the method's end
      // removes it (note_stored_key), not the loss.
      if (staged_.source == source.node && ids.owned.find(*staged_.key) != nullptr) (void)ids.owned.take(*staged_.key);
    } else if (source.stored) {
      ids.single = std::move(source.id);
    }
    source.stored = false;
    return ids;
  }

  void forget_pending(const detail::OutputNode& from) noexcept {
    Source* source = find(from);
    if (source != nullptr) pending_.erase(source->pending);
    if (source != nullptr && !source->map_pending) return;
    // (The maps already taken, before maps_taken_, are not searched: they
    // are being applied, or were.)
    // (By hand rather than std::remove_if: docs/design.md#light-headers.)
    auto kept = waiting_maps_begin();
    for (auto entry = kept; entry != pending_maps_.end(); ++entry) {
      if (entry->source == &from) continue;
      if (kept != entry) *kept = std::move(*entry);
      ++kept;
    }
    pending_maps_.erase(kept, pending_maps_.end());
    if (source != nullptr) source->map_pending = false;
    empty_maps_if_all_taken();
  }
  // The maps still waiting to be applied begin here: taking the first one
  // moves this mark instead of shifting the rest (docs/multi-inputs.md, Wide
  // networks).
  typename std::vector<PendingMap>::iterator waiting_maps_begin() noexcept {
    return pending_maps_.begin() + static_cast<std::ptrdiff_t>(maps_taken_);
  }
  // Once none waits, the taken ones go too: pending_maps_ is empty exactly
  // when no map waits (has_pending_values).
  void empty_maps_if_all_taken() noexcept {
    if (maps_taken_ != pending_maps_.size()) return;
    pending_maps_.clear();
    maps_taken_ = 0;
  }
  // Takes the first waiting map out.
  PendingMap take_first_map() noexcept {
    PendingMap map = std::move(pending_maps_[maps_taken_++]);
    empty_maps_if_all_taken();
    if (Source* source = find(*map.source)) source->map_pending = false;
    return map;
  }

  Task<void> request(detail::Operation& operation) override {
    detail::OperationScope::check_not_poisoned(operation.scope);  // this connector may be gone
    if (running_) co_return;
    detail::RunningFlag running{running_, *this, operation.scope};
    try {
      co_await retrieve_pending(operation);
      finish_changes(operation.scope);
    } catch (...) {
      if (!detail::destroyed_in(operation, this)) abort_observers(std::current_exception(), operation);
      throw;
    }
  }

  // The fallback's remove of a source's value ran (the add follows).
  void note_removed(detail::OutputNode* from, std::size_t position, const Id& old_id) {
    if (Source* source = sources_.find(*from, position)) source->stored = false;
    note_change(old_id, std::nullopt);
  }

  // A source's value is stored: what records it must not fail (Id moves do
  // not throw), or a retry would store it a second time. `replaced` says
  // that it replaced the source's stored value under `old_id`.
  void note_stored(detail::OutputNode* from, std::size_t position, bool by_key, bool replaced, std::optional<Id>& id,
                   const std::optional<Id>& old_id, V&& value) {
    Source* after = sources_.find(*from, position);
    const Id* stored_under = id ? &*id : &*old_id;
    if (after == nullptr) {
      // (`old_id` is there only when the value replaced one stored under it.)
      if (!replaced || !removed_by_loss(id, *old_id)) forget_orphan(*stored_under);
      return;
    }
    if (!by_key && id) {
      after->id = std::move(id);
      stored_under = &*after->id;
    }
    after->stored = true;
    pending_.erase(after->pending, true);
    note_change(*stored_under, std::move(value));
  }

  // Removes the value of a key (`entry`: key -> id, already taken out of
  // its source's `owned`) that its whole multi-output no longer delivers.
  // The entry goes back only if the owner's method did not run, so that a
  // retry removes it (the record has its place still; its index, if it
  // cannot take the entry back, is dropped: OwnedKeys::put_back).
  Task<void> remove_vanished_key(detail::Operation& operation, detail::OutputNode* from, std::pair<Id, Id> entry) {
    bool removed = false;
    try {
      co_await apply(operation, [this, &entry, &removed] {
        invoke_remove_(owner_, remove_, entry.second);
        removed = true;
      });
    } catch (...) {
      if (!detail::destroyed_in(operation, this)) {
        if (removed) {
          note_change(entry.second, std::nullopt);
        } else if (Source* again = find(*from)) {
          again->owned.put_back(std::move(entry));
        }
      }
      throw;
    }
    note_change(entry.second, std::nullopt);
  }

  // A whole multi-output's value for `key` is stored (under the id the
  // owner's method returned, or `old_id`; `replaced`: over the key's value
  // stored before). Returns false if the multi-output went meanwhile: then
  // the value is removed again, unless its loss did (forget_orphan).
  bool note_stored_key(const detail::OutputNode* from, const Id& key, bool replaced, std::optional<Id>& id,
                       const Id& old_id, const V& value) {
    Source* after = find(*from);
    if (after == nullptr) {
      if (!replaced || !removed_by_loss(id, old_id)) forget_orphan(id ? *id : old_id);
      return false;
    }
    // The key's entry was made before the owner's method ran
    // (stage_key_entry): recording the value moves an id in, which cannot
    // fail. Without it (the connection was made anew meanwhile), a copy that
    // fails leaves the old state for the retry, which stores the value again.
    const Id* held = after->owned.find(key);
    if (held == nullptr || id) held = &after->owned.store(key, id ? std::move(*id) : Id(old_id));
    note_change(*held, value);
    return true;
  }

  // A whole multi-output's new key that an mi[id] connection holds as its
  // id: storing it would overwrite that connection's value, and the key's
  // loss remove it (SPEC 1.4: each connection owns its ids). Refused at each
  // delivery, until one of the two is disconnected (docs/multi-inputs.md).
  void refuse_preset_key(const Id& key) const {
    if (preset_ids_.contains(key)) {
      throw ConnectionError(
          "connectors: a whole multi-output delivered a key that an mi[id] connection of this multi-input holds as "
          "its id; each connection owns its ids: disconnect one of them");
    }
  }

  // Makes the entry of a key not stored before, under the key itself, before
  // the owner's method stores its value: the copies of the key and the id
  // may fail, and must do so while nothing is stored without its record
  // (docs/multi-inputs.md, Ids). Taken out again if the method stores
  // nothing (take_staged_key). While the method runs the entry is staged:
  // a loss of the source then leaves it to the method's end (take_stored_ids).
  void stage_key_entry(Source& source, const Id& key) {
    (void)source.owned.store(key, Id(key));
    staged_ = Staged{source.node, &key};
  }
  void take_staged_key(const detail::OutputNode* from, const Id& key) noexcept {
    Source* source = find(*from);
    if (source != nullptr && source->owned.find(key) != nullptr) (void)source->owned.take(key);
  }

  // Whether a source's loss, while the owner's method stored a value that
  // replaced the one stored under `old_id`, removed that value already: the
  // loss removes the id the connection recorded, which is where the value is
  // if it stayed under that id.
  static bool removed_by_loss(const std::optional<Id>& id, const Id& old_id) { return !id || *id == old_id; }

  // The source went while its value was being stored (the owner's method
  // destroyed its block, and the operation fails): no connection records the
  // value, so it is removed, as the source's destruction removes what a
  // connection recorded. The operation's error is what gets reported.
  void forget_orphan(const Id& id) noexcept {
    detail::InputNode* alive = this;
    detail::DestructionWatch watch{alive};
    try {
      detail::UserCallScope user{detail::UserCallScope::current()};
      detail::MethodProbe probe{*this, detail::Phase::setter};
      invoke_remove_(owner_, remove_, id);
    } catch (...) {
      // (the operation fails already)
    }
    if (alive == nullptr) return;
    changed_ = true;
    unchecked_change_ = true;  // nothing to ask a notify condition about: the value is gone
  }

  // Pending retrieval (docs/design.md#multi-input): pull every announcing source, then apply what
  // arrived — removals first, then single-valued sources one after another
  // in the order of their first values, then the whole multi-outputs.
  Task<void> retrieve_pending(detail::Operation& operation) {
    if (announcing_sources_ > 0) {
      std::vector<detail::OutputNode*> announcers;
      std::vector<std::size_t> positions;  // where each announcer's entry is (lookup hints)
      announcers.reserve(announcing_sources_);
      positions.reserve(announcing_sources_);
      for (const Source& source : sources_) {
        if (source.announcing) {
          announcers.push_back(source.node);
          positions.push_back(sources_.position(source));
        }
      }
      if (announcers.size() == 1) {
        co_await announcers.front()->request(operation);
      } else if (pulls_one_by_one(operation, announcers)) {
        request_inline(operation, announcers, positions);
      } else {
        std::vector<Task<void>> requests;
        for (detail::OutputNode* announcer : announcers)
          requests.push_back(request_if_announcing(operation, announcer));
        co_await detail::request_concurrently(operation, std::move(requests));
      }
      // An announcer requested and done, valid and delivering nothing, will
      // not deliver: it held this input's value already and its change was
      // withdrawn (a method destroyed a block upstream while the change was
      // being announced). Its announcement is over, as a single input's is
      // when nothing arrives. (Single outputs only: a multi-output's keys
      // keep no validity of their own.)
      for (Source& source : sources_) {
        if (source.announcing && source.node->is_single() && source.node->valid() && !source.node->request_running())
          source_settled(source);
      }
      co_await computable_.wait(announcing_sources_ == 0, operation.id);
      // (Woken by a destruction, this multi-input may be gone too:
      // MultiOutput::pull_announcers.)
      detail::OperationScope::check_not_poisoned(operation.scope);
    }
    // Removals of keys a whole multi-output no longer delivers, found once
    // per map. A removal that destroyed a block of the network fails the
    // operation here, so no map moves under this walk (forget_pending takes
    // a lost multi-output's map away).
    for (std::size_t index = maps_taken_; index < pending_maps_.size(); ++index) {
      detail::OutputNode* const from = pending_maps_[index].source;
      const std::vector<Id> vanished = find(*from)->owned.keys_missing_from(pending_maps_[index].values);
      for (const Id& key : vanished) {
        // Taken out first, so that a removal that destroys the multi-output
        // does not make its loss remove the value a second time.
        co_await remove_vanished_key(operation, from, find(*from)->owned.take(key));
        detail::OperationScope::check_not_poisoned(operation.scope);
      }
    }
    // Single-valued sources, in order.
    for (;;) {
      auto* entry = pending_.first_with_value();
      if (entry == nullptr) break;
      detail::OutputNode* from = entry->source;
      const std::size_t hint = entry->source_hint;
      Source& source = *sources_.find(*from, hint);
      // Where to look first after a method ran: sources connected or gone
      // meanwhile may have moved the entry.
      const std::size_t position = sources_.position(source);
      const bool by_key = source.kind == SourceKind::keyed;
      const bool use_replace = by_key || (source.stored && invoke_replace_ != nullptr);
      const bool replaces_stored = use_replace && source.stored;
      // Copied before the value is taken out: a failing copy leaves it pending.
      const std::optional<Id> old_id = source.id;
      V value = pending_.take(*entry);
      // The id the owner's method returned (none: the value stays under old_id).
      std::optional<Id> id;
      // Which of the owner's methods ran: one that ran and then reported a
      // failure it did not throw itself (it destroyed a block of the
      // network) did its part all the same, and a retry must not repeat it
      // (docs/design.md#errors).
      bool removed = false;
      bool stored = false;
      // A change is under way from here: a cancel that arrives while the
      // owner's method runs (a block it destroyed withdrew an announcement
      // upstream) must not re-validate the observers over it
      // (multi_waits_for_nothing). Taken back if no method changed anything.
      const bool changed_before = changed_;
      changed_ = true;
      try {
        if (!use_replace && source.stored) {
          // The fallback in two steps, so that a failing add leaves a state a
          // retry can continue from: removed, nothing stored.
          co_await apply(operation, [&] {
            invoke_remove_(owner_, remove_, *old_id);
            removed = true;
          });
          note_removed(from, position, *old_id);
        }
        co_await apply(operation, [&] {
          if (use_replace) {
            id = invoke_replace_(replace_target_, replace_, *old_id, value);
          } else {
            id.emplace(invoke_add_(owner_, add_, value));
          }
          stored = true;
        });
      } catch (...) {
        if (!detail::destroyed_in(operation, this)) {
          if (stored) {
            note_stored(from, position, by_key, replaces_stored, id, old_id, std::move(value));
          } else {
            if (removed) {
              note_removed(from, position, *old_id);
            } else {
              changed_ = changed_before;
            }
            restore_pending(from, std::move(value));  // a retry applies it again (docs/design.md#errors)
          }
        }
        throw;
      }
      note_stored(from, position, by_key, replaces_stored, id, old_id, std::move(value));
    }
    // Whole multi-outputs: every key's value under the key itself. The map is
    // taken out first: a new one may arrive while a value is being stored.
    while (!pending_maps_.empty()) {
      PendingMap map = take_first_map();
      try {
        for (auto& entry : map.values) {
          // Named references, not a structured binding: clang 14 cannot
          // capture those in the lambdas below.
          const Id& key = entry.first;
          V& value = entry.second;
          Source& source = *find(*map.source);
          const Id* owned = source.owned.find(key);
          const bool stored_before = owned != nullptr;
          const Id old_id = stored_before ? *owned : key;
          if (!stored_before) refuse_preset_key(key);
          if (!stored_before) stage_key_entry(source, key);
          std::optional<Id> id;  // none: stored under old_id
          bool stored = false;   // the owner's method ran (and then perhaps destroyed a block)
          try {
            co_await apply(operation, [&] {
              id = replace_now(old_id, value, stored_before);
              stored = true;
            });
            staged_ = Staged{};
          } catch (...) {
            if (!detail::destroyed_in(operation, this)) {
              staged_ = Staged{};
              if (stored) {
                note_stored_key(map.source, key, stored_before, id, old_id, value);
              } else if (!stored_before) {
                take_staged_key(map.source, key);
              }
            }
            throw;
          }
          // (The multi-output went while its value was being stored: the
          // rest of its map belongs to no connection.)
          if (!note_stored_key(map.source, key, stored_before, id, old_id, value)) break;
        }
      } catch (...) {
        if (detail::destroyed_in(operation, this)) throw;
        // A multi-output that went meanwhile has nothing left to apply.
        if (find(*map.source) == nullptr) throw;
        // The whole map is retried (storing a value again is harmless); a
        // remainder alone would make the retry remove the keys stored already.
        Source& source = *find(*map.source);
        if (!source.map_pending) {  // (a newer map waits: it replaces this one)
          if (maps_taken_ > 0) {
            pending_maps_[--maps_taken_] = std::move(map);
          } else {
            pending_maps_.insert(pending_maps_.begin(), std::move(map));  // retried (docs/design.md#errors)
          }
          source.map_pending = true;
        }
        throw;
      }
    }
  }

  // Whether the announcers may be requested one after another by the request
  // engine's loop instead of as concurrent requests: every method of the
  // operation runs on this thread, so each concurrent request would run to its
  // end before the next started anyway, and each announcer is a single output
  // (what the engine serves itself). It saves a coroutine frame per source,
  // all alive at once (docs/design.md#multi-input, Retrieval).
  static bool pulls_one_by_one(const detail::Operation& operation,
                               const std::vector<detail::OutputNode*>& announcers) noexcept {
    return operation.all_inline() &&
           detail::find_if(announcers.begin(), announcers.end(), [](const detail::OutputNode* announcer) {
             return !announcer->is_single();
           }) == announcers.end();
  }

  // The inline counterpart of request_concurrently: every announcer still
  // announcing is requested, in order, even after one failed; then the first
  // error is rethrown.
  // The positions are lookup hints: with 10^5 sources, a hash lookup per
  // announcer and per received value is a cache miss each, enough to make the
  // wide retrieval grow faster than its size (docs/multi-inputs.md, Wide
  // networks).
  void request_inline(detail::Operation& operation, const std::vector<detail::OutputNode*>& announcers,
                      const std::vector<std::size_t>& positions) {
    std::exception_ptr first_error;
    for (std::size_t index = 0; index < announcers.size(); ++index) {
      detail::OutputNode* announcer = announcers[index];
      try {
        detail::OperationScope::check_not_poisoned(operation.scope);  // this connector may be gone
        const Source* source = sources_.find(*announcer, positions[index]);
        if (source == nullptr || !source->announcing) continue;
        expected_source_ = positions[index];
        detail::pull_inline_nested(operation, *announcer);
      } catch (...) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (first_error) std::rethrow_exception(first_error);
  }

  // An announcer whose value arrived meanwhile, pushed by a request of
  // another source (it feeds this input directly and through that source), is
  // not requested again: an uncached output would run its getter twice.
  // (Callers check first that no method destroyed this connector: a member
  // call on a destroyed one is what the check is there to prevent.)
  bool still_announcing(const detail::OutputNode& announcer) const noexcept {
    const Source* source = find(announcer);
    return source != nullptr && source->announcing;
  }
  Task<void> request_if_announcing(detail::Operation& operation, detail::OutputNode* announcer) {
    detail::OperationScope::check_not_poisoned(operation.scope);  // this connector may be gone
    if (still_announcing(*announcer)) co_await announcer->request(operation);
  }

  // One application, where the input's parallelization and the executor say
  // (a PROCESS flag runs as THREAD: an input's changes must stay in this process).
  template <class Function>
  auto apply(detail::Operation& operation, Function function) {
    return detail::user_call<void>(operation, parallelization(), [this, function = std::move(function)]() mutable {
      detail::probed(*this, detail::Phase::setter, function);
    });
  }

  // (A source disconnected meanwhile has nothing left to apply.)
  void restore_pending(detail::OutputNode* from, V value) {
    if (Source* source = find(*from))
      pending_.restore(source->pending, *from, sources_.position(*source), std::move(value));
  }

  // After changes: notify the observers, or cancel them if nothing changed or
  // the notify condition holds for none of the changes
  // (docs/design.md#multi-input, Notify condition).
  void finish_changes(detail::OperationScope* scope) {
    bool changed = std::exchange(changed_, false);
    std::vector<std::pair<Id, std::optional<V>>> checks = std::exchange(checks_, {});
    const bool unchecked = std::exchange(unchecked_change_, false);
    if (conditions_ && conditions_->notify != nullptr && !unchecked) {
      changed = false;
      try {
        detail::UserCallScope user{scope};
        for (const auto& [id, value] : checks) {
          bool passes = false;
          {
            detail::MethodProbe probe{*this, detail::Phase::condition};
            passes = conditions_->notify(conditions_->notify_target, conditions_->notify_member, id, value);
          }
          // A condition that destroyed a block answered all the same; the
          // rest are not asked: the change counts (telling the observers
          // too much only recomputes them), and the error follows.
          if (passes || (scope != nullptr && scope->poisoned())) {
            changed = true;
            break;
          }
        }
      } catch (...) {
        if (scope == nullptr || !scope->destroyed(this)) cancel_observers();
        throw;
      }
      if (scope != nullptr && scope->destroyed(this)) detail::OperationScope::check_not_poisoned(scope);
    }
    if (changed) {
      notify_observers();
    } else {
      cancel_observers();
    }
    detail::OperationScope::check_not_poisoned(scope);  // a condition destroyed a block
  }

  // After a direct change failed (docs/design.md#multi-input, Failure): never leave the observers waiting.
  // What upstream announced and is not applied yet keeps them announced (with
  // their caches dropped if something changed already): the next pull
  // retries it.
  void finish_after_failure(detail::OperationScope* scope) {
    if (announcing_sources_ > 0 || has_pending_values()) {
      if (std::exchange(changed_, false)) {
        for (detail::OutputNode* observer : observers_) observer->mark_changed();
      }
      checks_.clear();
      unchecked_change_ = false;
    } else {
      finish_changes(scope);
    }
  }

  // Applies what upstream announced, in a run of its own (direct changes).
  // The ON_NOTIFY multi-inputs its pushes reached go to `deferred`: they may
  // wait for this input's observers, which wait for the change under way, so
  // they are served after it, with its non-lazy service (serve_non_lazy).
  void apply_pending_now(detail::OperationScope& scope, std::vector<detail::InputNode*>& deferred) {
    if (multi_waits_for_nothing()) return;
    detail::RunningFlag running{running_, *this, &scope};  // an ON_NOTIFY push must not re-enter
    std::shared_ptr<Executor> executor = NodeBase::executor();
    detail::Operation operation{*executor, &scope};
    detail::run_to_end(*executor, retrieve_pending(operation));
    deferred = std::move(operation.deferred_notified);
  }

  // A direct change (docs/design.md#multi-input, Direct changes): announce, apply what
  // upstream announced, make the change on the calling thread, notify or
  // cancel, serve the non-lazy inputs downstream.
  template <class Change>
  auto change(Change make_change, bool announce) {
    detail::OperationScope scope{*this};
    detail::NonLazyCollection collection{Laziness::ON_ANNOUNCE, {}};
    using Result = decltype(make_change());
    std::optional<std::conditional_t<std::is_void_v<Result>, char, Result>> result;
    std::vector<detail::InputNode*> deferred;
    try {
      // Complete even when an announce condition below throws (its error
      // then comes here, and the observers are cancelled).
      if (announce) announce_downstream(collection, false);
      // An announce condition below may have destroyed a block of this network.
      detail::OperationScope::check_not_poisoned(&scope);
      apply_pending_now(scope, deferred);
      detail::UserCallScope user{&scope};
      detail::MethodProbe probe{*this, detail::Phase::setter};
      if constexpr (std::is_void_v<Result>) {
        make_change();
      } else {
        result.emplace(make_change());
      }
      detail::OperationScope::check_not_poisoned(&scope);
    } catch (...) {
      if (!scope.destroyed(this)) {
        finish_after_failure(&scope);
        detail::unsettle_unserved(collection, &scope);
      }
      throw;
    }
    try {
      finish_changes(&scope);  // a notify condition may throw
    } catch (...) {
      if (!scope.destroyed(this)) detail::unsettle_unserved(collection, &scope);
      throw;
    }
    detail::serve_non_lazy(*NodeBase::executor(), &scope, collection, std::move(deferred));
    if constexpr (!std::is_void_v<Result>) return std::move(*result);
  }

  // After the owner's method in a direct change: one that destroyed this
  // block ends the change before anything of it is touched; one that
  // destroyed another block of the network still made its change, which is
  // noted, and change() then throws (docs/design.md#destruction-inside).
  // `self` is taken before the method runs: a destroyed block's members may
  // not be called, nor its address converted (UBSan's vptr check).
  static void throw_if_destroyed(const detail::NodeBase* self) {
    const detail::OperationScope* scope = detail::UserCallScope::current();
    if (scope != nullptr && scope->destroyed(self)) detail::OperationScope::check_not_poisoned(scope);
  }

  // mi[id](v), with repair A12 (docs/design.md#multi-input, Direct changes).
  void call_item(const Id& id, V value) {
    require_replace();
    // Nothing to tell and nothing announced to apply first (values announced
    // from upstream go in before a direct one): the owner's method alone.
    if (observers_.empty() && announcing_sources_ == 0 && !has_pending_values()) {
      detail::OperationScope scope{*this};
      detail::UserCallScope user{&scope};
      detail::MethodProbe probe{*this, detail::Phase::setter};
      const std::optional<Id> stored = invoke_replace_(replace_target_, replace_, id, value);
      // (Moved, the value is a direct one also when the method destroyed
      // another block and the call fails.)
      if (!scope.destroyed(this)) forget_if_moved(id, stored);
      detail::OperationScope::check_not_poisoned(&scope);
      return;
    }
    change(
        [&] {
          const detail::NodeBase* self = this;
          const std::optional<Id> stored = invoke_replace_(replace_target_, replace_, id, value);
          throw_if_destroyed(self);  // noted first, as in operator()
          forget_if_moved(id, stored);
          note_change(stored ? *stored : id, std::move(value));
        },
        true);
  }

  // The connect step (docs/design.md#multi-input, Connect).
  void connect_source(detail::OutputNode& from, detail::OutputNode::Push push, SourceKind kind, std::optional<Id> key) {
    detail::OperationScope scope{*this, &from};
    if (const Source* existing = find(from)) {
      // An identical repeated connect is a no-op (docs/design.md#connect).
      if (existing->kind == kind && (kind != SourceKind::keyed || existing->id == key)) return;
      throw ConnectionError(
          "connectors: this output is already connected to this multi-input (through another id); disconnect it "
          "first");
    }
    if (kind != SourceKind::single) require_replace();
    if (kind == SourceKind::keyed && preset_ids_.contains(*key)) {
      throw ConnectionError(
          "connectors: another output is connected to this mi[id] already (a virtual input takes one source, as an "
          "Input does); disconnect it first");
    }
    detail::check_no_cycle(from, *this);
    Source& added = sources_.push_back(Source{&from, kind, false, false, false, key, {}});
    try {
      if (kind == SourceKind::keyed) {
        preset_ids_.insert(*key);
        added.holds_preset_id = true;
      }
      if (kind != SourceKind::whole) pending_.add_placeholder(added.pending, from, sources_.position(added));
      from.add_connection(*this, push);
    } catch (...) {
      forget_pending(from);
      if (Source* failed = find(from); failed != nullptr && failed->holds_preset_id) preset_ids_.erase(*key);
      sources_.erase(from);
      throw;
    }
    // The new source is requested at the next pull, whatever the announce
    // condition says.
    Source& source = *find(from);
    source.announcing = true;
    ++announcing_sources_;
    detail::NonLazyCollection collection{Laziness::ON_CONNECT, {}};
    // The announce conditions (this input's, then those below) may destroy
    // blocks: the connect then ends with std::logic_error, the connection made
    // and announced all the same (as connect_nodes does).
    // An announce condition that throws counts as held: the connection is
    // made and announced, then the error is reported (as connect_nodes does).
    detail::ConditionFailures failures;
    const bool accepted = accept_announcement(from);
    if (accepted) announce_downstream(collection, true);
    if (!scope.destroyed(&from)) detail::unsettle_above(from, Laziness::ON_CONNECT);
    detail::OperationScope::check_not_poisoned(&scope);
    if (std::exception_ptr failure = failures.take_first()) {
      detail::unsettle_unserved(collection, &scope);
      std::rethrow_exception(failure);
    }
    detail::serve_non_lazy(*NodeBase::executor(), &scope, collection);
  }

  // The disconnect step (docs/design.md#multi-input, Disconnect): no flush of the source's pending value.
  void disconnect_source(detail::OutputNode& from) {
    detail::OperationScope scope{*this};
    Source* source = find(from);
    if (source == nullptr) {
      throw ConnectionError("connectors: cannot disconnect a multi-input from an output it is not connected to");
    }
    source_settled(*source);
    forget_pending(from);
    // The removals below are a change under way from here: a cancel that
    // arrives before they are made (a method run by the retrieval destroyed
    // a block upstream) must not re-validate the observers over them
    // (multi_waits_for_nothing). Taken back if the first removal fails.
    const bool changed_before = changed_;
    if (source->stored || !source->owned.empty()) changed_ = true;
    detail::NonLazyCollection collection{Laziness::ON_CONNECT, {}};
    std::exception_ptr error;
    try {
      // Complete even when an announce condition below throws; its error is
      // reported after the removal, which happens anyway.
      announce_downstream(collection, true);
    } catch (...) {
      error = std::current_exception();
    }
    // An announce condition below may have destroyed a block of this network.
    detail::OperationScope::check_not_poisoned(&scope);
    std::vector<detail::InputNode*> deferred;
    const std::uint64_t changes_before_retrieval = changes_noted_;
    try {
      apply_pending_now(scope, deferred);
    } catch (...) {
      if (scope.destroyed(this)) throw;  // a method destroyed this block: touch nothing more
      // Reported after the removal, which happens anyway: also when a method
      // destroyed another block (the source's announcement is settled
      // already, so a connection left in place would never deliver again).
      if (!error) error = std::current_exception();
    }
    try {
      // (A source whose block a method destroyed is gone from the table, and
      // what it stored with it.)
      const StoredIds stored = find(from) != nullptr ? take_stored_ids(*find(from)) : StoredIds{};
      detail::UserCallScope user{&scope};
      // A change that cannot be kept for the notify condition still counts
      // (note_change); the other removals go on, then it is reported.
      std::exception_ptr unkept;
      std::exception_ptr failed_removal;
      bool removed_any = false;
      stored.for_each([&](const Id& id) {
        detail::MethodProbe probe{*this, detail::Phase::setter};
        try {
          invoke_remove_(owner_, remove_, id);
        } catch (...) {
          if (scope.destroyed(this)) throw;
          // The other removals go on: their record is gone with the
          // connection, and nothing else would remove those values. The
          // first error is reported after them.
          if (!failed_removal) failed_removal = std::current_exception();
          return true;
        }
        if (scope.destroyed(this)) return false;
        removed_any = true;
        // A remove that destroyed another block still removed its value:
        // the change counts, and the other removals go on.
        try {
          note_change(id, std::nullopt);
        } catch (...) {
          if (!unkept) unkept = std::current_exception();
        }
        return true;
      });
      if (failed_removal) {
        // Nothing was removed, and nothing applied from upstream before.
        if (!removed_any && changes_noted_ == changes_before_retrieval) changed_ = changed_before;
        std::rethrow_exception(failed_removal);
      }
      if (unkept) std::rethrow_exception(unkept);
    } catch (...) {
      if (!error) error = std::current_exception();
    }
    // A remove destroyed this block: touch nothing more. One that destroyed
    // another block (the source's, perhaps: then it is gone from the table
    // already) still leaves the values removed and the connection broken in
    // agreement; the observers stay announced (the change is noted) and the
    // disconnect reports std::logic_error (docs/connectors.md, Lifetime).
    if (scope.destroyed(this)) detail::OperationScope::check_not_poisoned(&scope);
    if (Source* leaving = find(from)) {
      // Announced again meanwhile (a destroyed block's loss upstream reached
      // it) or a value received: neither counts any more.
      source_settled(*leaving);
      forget_pending(from);
      from.remove_connection(*this);
      sources_.erase(from);
    }
    // After a destroyed block, no condition is asked: the observers stay
    // announced (a change made is noted), and the next request tells them.
    detail::OperationScope::check_not_poisoned(&scope);
    if (error) {
      finish_after_failure(&scope);
      // Unserved, the collected inputs stay announced: the inputs above them
      // must not count as settled (docs/design.md#settled).
      detail::unsettle_unserved(collection, &scope);
      std::rethrow_exception(error);
    }
    finish_changes(&scope);
    detail::serve_non_lazy(*NodeBase::executor(), &scope, collection, std::move(deferred));
  }

  template <class Owner, class Condition>
  void set_announce_condition_impl(Condition condition) {
    void* target = detail::owner_as<Owner>(owner_type_, owner_, condition, "MultiInput::set_announce_condition");
    detail::ConfigurationLock lock{*this, "set_announce_condition"};
    if (!conditions_) conditions_ = std::make_unique<Conditions>();
    conditions_->announce_target = target;
    conditions_->announce_member = detail::ErasedMember{condition};
    conditions_->announce = [](void* owner, const detail::ErasedMember& member, const Id& id) -> bool {
      return (static_cast<Owner*>(owner)->*member.get<Condition>())(id);
    };
  }
  template <class Owner, class Condition>
  void set_notify_condition_impl(Condition condition) {
    void* target = detail::owner_as<Owner>(owner_type_, owner_, condition, "MultiInput::set_notify_condition");
    detail::ConfigurationLock lock{*this, "set_notify_condition"};
    if (!conditions_) conditions_ = std::make_unique<Conditions>();
    conditions_->notify_target = target;
    conditions_->notify_member = detail::ErasedMember{condition};
    conditions_->notify = [](void* owner, const detail::ErasedMember& member, const Id& id,
                             const std::optional<V>& value) -> bool {
      return (static_cast<Owner*>(owner)->*member.get<Condition>())(id, value);
    };
  }

  void* owner_;
  detail::ErasedMember add_;
  detail::ErasedMember remove_;
  detail::ErasedMember replace_;
  Id (*invoke_add_)(void*, const detail::ErasedMember&, V&);
  void (*invoke_remove_)(void*, const detail::ErasedMember&, const Id&);
  std::optional<Id> (*invoke_replace_)(void*, const detail::ErasedMember&, const Id&, V&) = nullptr;
  void* replace_target_ = nullptr;  // the owner as replace's class (detail::owner_as)

  detail::SourceTable<Source> sources_;
  detail::PresetIds<Id> preset_ids_;  // the ids of the mi[id] connections among sources_
  // Where the source being requested by request_inline is: its value is
  // looked up there first (a hint: checked, never trusted).
  std::size_t expected_source_ = 0;
  std::size_t announcing_sources_ = 0;
  detail::PendingValues<V> pending_;
  std::vector<PendingMap> pending_maps_;
  std::size_t maps_taken_ = 0;  // how many of pending_maps_ were taken out (moved from) already
  // The sources whose destruction calls remove (multi_lose_source, nested
  // when a remove destroys another source): no longer among sources_, but
  // still listing this input until their walks end.
  struct Losing {
    detail::OutputNode* source;
    const Losing* outer;
  };
  const Losing* losing_ = nullptr;
  bool changed_ = false;
  // The whole multi-output key whose entry was made for the owner's method
  // that stores its first value, while it runs (stage_key_entry).
  struct Staged {
    const detail::OutputNode* source = nullptr;
    const Id* key = nullptr;
  };
  Staged staged_;
  std::uint64_t changes_noted_ = 0;                      // counts note_change: whether a step changed anything
  std::vector<std::pair<Id, std::optional<V>>> checks_;  // only with a notify condition
  bool unchecked_change_ = false;                        // a change missing from checks_ (note_change)

  struct Conditions {
    bool (*announce)(void*, const detail::ErasedMember&, const Id&) = nullptr;
    bool (*notify)(void*, const detail::ErasedMember&, const Id&, const std::optional<V>&) = nullptr;
    detail::ErasedMember announce_member;
    detail::ErasedMember notify_member;
    // The owner as the class of each condition (detail::owner_as).
    void* announce_target = nullptr;
    void* notify_target = nullptr;
  };
  std::unique_ptr<Conditions> conditions_;
};

/// `mi[id]`: a virtual single input of a MultiInput whose values are stored
/// under `id` (`docs/design.md#multi-input`). A value: it may be used as a temporary, and
/// connections made through it belong to the multi-input.
///
///     sum.add_summand[7].connect(a.get_double);  // a's values are stored under id 7
///     sum.add_summand[8](2.5);                   // replace(8, 2.5) through the protocol
///
/// Every use needs the multi-input's `set_replace` (std::logic_error
/// otherwise). Threads: as the multi-input's members; the handle itself is a
/// plain value, to be used while its multi-input lives.
template <class V, class Id>
class MultiInputItem {
 public:
  /// The type of the values this input takes.
  using value_type = V;

  /// The handle for `id` of `input`; usually made by `input[id]`. Throws
  /// only what copying the Id throws.
  /// Any thread.
  MultiInputItem(MultiInput<V, Id>& input, Id id) : input_(&input), id_(std::move(id)) {}

  /// Stores `value` under the id through the protocol (replace(id, value)):
  /// first applies what upstream announced to the multi-input, then notifies
  /// or cancels its observers. Without observers only replace runs.
  /// Throws: std::logic_error without `set_replace`; otherwise as
  /// MultiInput::replace. Threads: an operation; any thread.
  void operator()(V value) const { input_->call_item(id_, std::move(value)); }

  /// Connects a source (an Output, `mo[key]`, a MacroOutput: any
  /// SingleSource): its values are stored under this id through replace.
  /// The same as `source.connect(*this)`; values that do not convert to V
  /// are a compile error.
  ///
  ///     sum.add_summand[7].connect(a.get_double);
  ///
  /// One source per id, as an Input takes one: the id is free again once
  /// that source is disconnected or destroyed.
  ///
  /// Throws std::logic_error without `set_replace`; ConnectionError if
  /// another source is connected through this id (nothing changed);
  /// otherwise as MultiInput::connect. Threads: an operation; any thread.
  template <class Source>
  requires Joinable<Source, const MultiInputItem&>
  void connect(Source&& source) const { connectors::connect(std::forward<Source>(source), *this); }
  /// Breaks the connection to `source`: the same as
  /// `multi_input().disconnect(source)` (the connection belongs to the
  /// multi-input), with its errors. Threads: an operation; any thread.
  template <class Source>
  requires Joinable<Source, const MultiInputItem&>
  void disconnect(Source&& source) const { connectors::disconnect(std::forward<Source>(source), *this); }

  /// Sets the *multi-input's* laziness (there is one for all its ids).
  /// Threads: takes the network lock; any thread. Throws
  /// std::invalid_argument for a value that is not a Laziness, otherwise
  /// nothing of its own.
  void set_laziness(Laziness laziness) const { input_->set_laziness(laziness); }
  /// Sets the multi-input's parallelization flag. Throws
  /// std::invalid_argument for a value outside the enum. Threads: takes the
  /// network lock; any thread.
  void set_parallelization(Parallelization parallelization) const { input_->set_parallelization(parallelization); }
  /// Sets the multi-input's executor (null: the default executor). Threads:
  /// takes the network lock; any thread. Throws nothing of its own.
  void set_executor(std::shared_ptr<Executor> executor) const { input_->set_executor(std::move(executor)); }

  /// The multi-input this handle belongs to. Throws nothing; any thread.
  MultiInput<V, Id>& multi_input() const noexcept { return *input_; }
  /// The data id this handle stores under. Throws nothing; any thread.
  const Id& id() const noexcept { return id_; }

 private:
  friend struct detail::NodeAccess;
  // A connection point of its multi-input: the multi-input's node.
  detail::InputNode& protocol_node() const noexcept { return detail::NodeAccess::node(*input_); }
  template <class R>
  void link_single(detail::OutputNode& source, bool connect) const {
    using Multi = MultiInput<V, Id>;
    if (connect) {
      input_->connect_source(source, &Multi::template receive<R>, Multi::SourceKind::keyed, id_);
    } else {
      input_->disconnect_source(source);
    }
  }

  MultiInput<V, Id>* input_;
  Id id_;
};

namespace detail {
// What a MultiInput and `mi[id]` are (connectors::KeyedSink, connectors::SingleSink).
template <class V, class Id>
inline constexpr Kind connector_kind<MultiInput<V, Id>> = Kind::any_sink;
template <class V, class Id>
inline constexpr Kind connector_kind<MultiInputItem<V, Id>> = Kind::single_sink;
}  // namespace detail

}  // namespace connectors
