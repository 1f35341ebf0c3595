#pragma once

#include <connectors/connection.hpp>
#include <connectors/detail/construction_checks.hpp>
#include <connectors/detail/member.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/node_access.hpp>
#include <connectors/detail/node_inspector.hpp>
#include <connectors/detail/user_call.hpp>
#include <connectors/output.hpp>
#include <connectors/state.hpp>

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace connectors {

/// A single input connector: wraps a setter taking a V (by value or const V&)
/// of its owner, followed by the owner's outputs that depend on it (its
/// observers, declared before it):
///
///     connectors::Input<double> set_value{this, &TimesTwo::store, get_double};
///
/// Calling it sets the value at once; through a connection it receives values
/// from one output, applied when requested or as its laziness says (`docs/design.md#input`).
/// Defaults: Laziness::ON_REQUEST, Parallelization::SEQUENTIAL, the default executor.
///
///     TimesTwo a, b;                         // as in Output's example
///     b.set_value.connect(a.get_double);     // b's value comes from a from now on
///     a.set_value(3);                        // direct call: stores 3 now
///     b.set_value.set_laziness(connectors::Laziness::ON_ANNOUNCE);
///     a.set_value(4);                        // pulls a.get_double into b's setter at once;
///                                            // b.get_double is only invalidated
///
/// Looking at it (`docs/connectors.md`, "Looking at a network"):
/// `is_connected()`, `is_connected_to(output)` and `state()`.
///
/// **Threads.** Every member that calls, connects, disconnects or configures is
/// an operation on this input's network: it may be called from any thread,
/// operations on one network are serialised, operations on independent networks
/// run in parallel (`docs/connectors.md`, "Threads and nested operations").
/// Started from inside a user method, an operation on the network being
/// computed throws std::logic_error. So do the configuration and the queries
/// (set_laziness, state(), ...) of a connector of that network, called from
/// inside its computation. Destroying the owner while another thread uses the
/// network is allowed; using it while or after it is destroyed is not.
template <class V>
class Input final : private detail::InputNode {
  static_assert(std::is_object_v<V> && !std::is_const_v<V>, "connectors::Input<V>: V must be a non-const value type");

 public:
  /// The type of the values this input takes.
  using value_type = V;

  /// Wraps `setter`, a member function taking one V (by value or `const V&`)
  /// of `owner`, whose member this input is; `observers` are the owner's
  /// output connectors whose results depend on this input (declared before
  /// it). A mismatched setter or observer is a compile error. Throws
  /// std::invalid_argument for a null owner or setter, otherwise only
  /// std::bad_alloc.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the connector.
  template <class Owner, class Setter, class... Observers>
  requires std::is_member_function_pointer_v<Setter> &&
      std::derived_from<Owner, typename detail::member_owner<Setter>::type>
      Input(Owner* owner, Setter setter, Observers&... observers)
      : owner_(owner), setter_(setter), invoke_(&invoke_setter<Owner, Setter>) {
    detail::check_not_null(owner, "Input", setter);
    set_owner_type(detail::owner_type_of<Owner>());
    static_assert(std::is_invocable_v<Setter, Owner&, V&>,
                  "connectors::Input<V>: the setter must take one V (by value or const V&)");
    static_assert((detail::has_output_node<Observers> && ...),
                  "connectors::Input: observers must be output connectors of the same owner");
    if constexpr (sizeof...(Observers) > 0) {
      detail::OutputNode* const observed[] = {&detail::NodeAccess::node(observers)...};
      link_observers(observed, sizeof...(Observers));
    }
  }
  /// Leaves the network without running any user method: the source forgets
  /// this input, the observers' pending counts are balanced
  /// (`docs/design.md#lifetime`). Waits for the network's lock if another
  /// thread's operation runs.
  /// Throws nothing.
  ~Input() {
    detach();
    leave_owner_network();
  }

  /// Sets the value directly: runs the setter now, on the calling thread
  /// (whatever the parallelization flag), invalidates what depends on it and
  /// serves the non-lazy inputs downstream with this input's executor. The
  /// direct value replaces a value received from the source and not applied
  /// yet.
  ///
  /// Throws: what the setter throws (the observers are then cancelled:
  /// downstream keeps its values), what the notify condition throws, then
  /// what a non-lazy input's method throws (after all of them were served);
  /// std::logic_error when called from inside a method of the network being
  /// computed.
  ///
  /// Threads: an operation (see the class); any thread.
  void operator()(V value) {
    detail::OperationScope scope{*this};
    detail::NonLazyCollection collection{Laziness::ON_ANNOUNCE, {}};
    try {
      // Complete even when an announce condition below throws (its error
      // then comes here, and the observers are cancelled).
      announce_downstream(collection, false);
      // An announce condition below may have destroyed a block of this network.
      detail::OperationScope::check_not_poisoned(&scope);
      detail::UserCallScope user{&scope};
      detail::probed(*this, detail::Phase::setter, [&] { invoke_(owner_, setter_, value); });
      detail::OperationScope::check_not_poisoned(&scope);
    } catch (...) {
      if (!scope.destroyed(this)) {
        cancel_observers();  // never leave the observers waiting (docs/design.md#input)
        detail::unsettle_unserved(collection, &scope);
      }
      throw;
    }
    announcement_ = nullptr;
    notification_.reset();
    try {
      finish_change(value, &scope);  // a notify condition may throw
    } catch (...) {
      if (!scope.destroyed(this)) detail::unsettle_unserved(collection, &scope);
      throw;
    }
    detail::serve_non_lazy(*NodeBase::executor(), &scope, collection);
  }

  /// Makes `source` this input's source: an Output, `mo[key]`, a MacroOutput,
  /// any SingleSource; the same as `source.connect(*this)`. Its values
  /// (converted to V) arrive here. The new connection is announced downstream
  /// (as a change of this input) and the non-lazy inputs there are served. A
  /// source whose values do not convert to V, or a whole MultiOutput, is a
  /// compile error.
  ///
  ///     b.set_value.connect(a.get_double);
  ///
  /// Throws: ConnectionError if this input already has another source,
  /// CycleError if the connection would close a cycle (nothing changed in
  /// both cases; connecting the same output again does nothing); what a
  /// non-lazy input's method throws, after the connection is made;
  /// std::logic_error from inside a method of the network being computed.
  ///
  /// Threads: an operation on both networks, which it joins; any thread.
  template <class Source>
  requires Joinable<Source, Input&>
  void connect(Source&& source) { connectors::connect(std::forward<Source>(source), *this); }
  /// Breaks the connection to `source`. First pulls what the source announced
  /// (the flush), so this input keeps the last value that flowed over the
  /// connection.
  ///
  /// Throws: ConnectionError if `source` is not this input's source; what a
  /// user method run by the flush throws (the connection is broken all the
  /// same, except after a std::logic_error for a destroyed connector).
  ///
  /// Threads: an operation; any thread.
  template <class Source>
  requires Joinable<Source, Input&>
  void disconnect(Source&& source) { connectors::disconnect(std::forward<Source>(source), *this); }

  /// A predicate `bool() [const]` of the owner: when false, announcements from
  /// the connected output are ignored (not for direct calls; `docs/design.md#conditions`).
  /// It runs on the thread that coordinates the operation and must not start
  /// an operation on this network. What it throws reaches the call that
  /// announced; while a connector upstream is being destroyed, which cannot
  /// report it, a throwing condition counts as true. The condition may be
  /// one of a base of the owner's class, or of a class built on it
  /// (docs/connectors.md, Declaring connectors). Throws std::invalid_argument for a null method or one of a
  /// class unrelated to the owner's, otherwise only std::bad_alloc.
  /// Threads: takes the network lock; any thread.
  template <class Owner>
  void set_announce_condition(bool (Owner::*condition)()) {
    set_announce_condition_impl<Owner>(condition);
  }
  /// \overload
  template <class Owner>
  void set_announce_condition(bool (Owner::*condition)() const) {
    set_announce_condition_impl<Owner>(condition);
  }
  /// \overload
  /// Any other member function pointer: one qualified `&` or `const&`; a
  /// signature that does not fit is a compile error saying which it needs.
  template <class Condition>
  requires std::is_member_function_pointer_v<Condition>
  void set_announce_condition(Condition condition) {
    using Owner = typename detail::member_owner<Condition>::type;
    constexpr bool fits = std::is_invocable_r_v<bool, Condition, Owner&>;
    static_assert(fits, "connectors::Input::set_announce_condition: the condition must be bool() [const] of the owner");
    if constexpr (fits) set_announce_condition_impl<Owner>(condition);  // (no errors after the one above)
  }
  /// A predicate `bool(const V&) [const]` of the owner, checked after the
  /// setter ran: when false, the observers are cancelled instead of notified,
  /// so downstream keeps its values (`docs/design.md#conditions`). If it
  /// throws, the observers are cancelled and the exception reaches the
  /// caller of the operation. Throws std::invalid_argument for a null method or one of a
  /// class unrelated to the owner's, otherwise only std::bad_alloc.
  /// Threads: takes the network lock; any thread.
  template <class Owner>
  void set_notify_condition(bool (Owner::*condition)(const V&)) {
    set_notify_condition_impl<Owner>(condition);
  }
  /// \overload
  template <class Owner>
  void set_notify_condition(bool (Owner::*condition)(const V&) const) {
    set_notify_condition_impl<Owner>(condition);
  }
  /// \overload
  /// Any other member function pointer: one qualified `&` or `const&`; a
  /// signature that does not fit is a compile error saying which it needs.
  template <class Condition>
  requires std::is_member_function_pointer_v<Condition>
  void set_notify_condition(Condition condition) {
    using Owner = typename detail::member_owner<Condition>::type;
    constexpr bool fits = std::is_invocable_r_v<bool, Condition, Owner&, const V&>;
    static_assert(fits,
                  "connectors::Input::set_notify_condition: the condition must be bool(const V&) [const] of the owner");
    if constexpr (fits) set_notify_condition_impl<Owner>(condition);  // (no errors after the one above)
  }

  /// The object this input belongs to (the `owner` given to the
  /// constructor). Throws nothing; any thread.
  const void* owner() const noexcept override { return owner_; }

  /// When values from the connected output are applied: at the next request
  /// (ON_REQUEST, the default), as soon as they arrive (ON_NOTIFY), as soon as
  /// a change is announced (ON_ANNOUNCE) or also when connected (ON_CONNECT);
  /// `docs/laziness-and-caching.md`.
  /// Throws std::invalid_argument for a value that is none of these (an
  /// integer cast to Laziness), otherwise nothing of its own.
  /// Threads: takes the network lock; any thread.
  void set_laziness(Laziness laziness) { InputNode::set_laziness(laziness); }
  /// The laziness (set_laziness). Throws nothing. Threads: any thread; a
  /// value read while another thread changes it may be the old one.
  Laziness laziness() const noexcept { return InputNode::laziness(); }
  /// Where the setter runs for values from upstream: SEQUENTIAL (the
  /// default), THREAD or PROCESS (run as THREAD: an input's changes stay in
  /// this process); `docs/parallelization.md`. Throws std::invalid_argument
  /// for a value outside the enum. Threads: takes the network lock; any thread.
  void set_parallelization(Parallelization parallelization) { InputNode::set_parallelization(parallelization); }
  /// The parallelization flag (set_parallelization). Throws nothing.
  /// Threads: any thread; a value read while another thread changes it may
  /// be the old one.
  Parallelization parallelization() const noexcept { return InputNode::parallelization(); }
  /// The executor that runs this input's operations; null restores the
  /// default executor (`docs/executors.md`). Throws nothing of its own.
  /// Threads: takes the network lock; any thread.
  void set_executor(std::shared_ptr<Executor> executor) { NodeBase::set_executor(std::move(executor)); }
  /// The executor set with set_executor, or the default executor. Throws
  /// only std::bad_alloc (a connector's first use makes its lock). Threads:
  /// takes the network lock; any thread.
  std::shared_ptr<Executor> executor() const { return NodeBase::locked_executor(); }
  /// Names this input in pictures and timelines (`docs/observability.md`);
  /// "owner.connector" also names the owner.
  ///
  ///     block.set_value.set_name("d1.set_value");
  ///
  /// Throws only std::bad_alloc. Threads: takes the network lock; call it
  /// while building the network rather than from inside its methods.
  void set_name(std::string name) { NodeBase::set_name(std::move(name)); }
  /// The name given with set_name, if any. Throws only std::bad_alloc.
  /// Threads: takes the network lock; any thread.
  std::optional<std::string> name() const { return NodeBase::name(); }

  /// Whether an output is connected to this input (its source). Throws
  /// nothing of its own. Threads: takes the network lock; any thread (the
  /// answer may be out of date once another thread connects or disconnects).
  bool is_connected() const {
    detail::ConfigurationLock lock{*this, "is_connected"};
    return source_ != nullptr;
  }
  /// Whether `output` (an Output or a whole MultiOutput) is this input's
  /// source; a multi-output is, also through one of its keys (`mo[key]`), as
  /// its own is_connected_to answers. Throws nothing of its own. Threads: as
  /// is_connected.
  template <class Source>
  requires detail::has_output_node<Source>
  bool is_connected_to(const Source& output) const {
    detail::ConfigurationLock lock{*this, "is_connected_to"};
    return comes_from(source_, detail::NodeAccess::node(output));
  }
  /// Whether nothing is pending, a change is announced from upstream, or a
  /// received value waits to be applied (connectors::InputState). Throws
  /// nothing of its own. Threads: takes the network lock; any thread (the
  /// state may change as soon as the lock is released).
  InputState state() const {
    detail::ConfigurationLock lock{*this, "state"};
    return detail::NodeInspector::state(*this);
  }

 private:
  friend struct detail::NodeAccess;
  detail::InputNode& protocol_node() noexcept { return *this; }
  const detail::InputNode& protocol_node() const noexcept { return *this; }
  template <class R>
  void link_single(detail::OutputNode& source, bool connect) {
    if (connect) {
      detail::connect_nodes(source, *this, &receive<R>);
    } else {
      detail::disconnect_nodes(source, *this);
    }
  }

  template <class Owner, class Setter>
  static void invoke_setter(void* owner, const detail::ErasedMember& setter, V& value) {
    // A member function pointer (the constructor requires one): called
    // directly, std::invoke's <functional> is not needed.
    (static_cast<Owner*>(owner)->*setter.get<Setter>())(value);
  }

  template <class R>
  static bool receive(detail::InputNode& self, detail::OutputNode&, const void* value) {
    auto& input = static_cast<Input&>(self);
    input.notification_.emplace(*static_cast<const R*>(value));
    if (input.announcement_ != nullptr) {
      input.announcement_ = nullptr;
      input.computable_.wake_all();
    }
    return input.laziness() == Laziness::ON_NOTIFY;
  }

  // The condition may destroy blocks (docs/design.md#lifetime): this input's
  // own (then it refuses, without touching this input again) or the
  // announcer's (then there is nothing to announce, and the announcer must
  // not be remembered).
  bool accept_announcement(detail::OutputNode& from) override {
    if (conditions_ && conditions_->announce != nullptr) {
      const std::optional<bool> accepted = detail::ask_announce_condition(
          *this, [&] { return conditions_->announce(conditions_->announce_target, conditions_->announce_member); });
      if (!accepted || !*accepted || source() != &from) return false;
    }
    return InputNode::accept_announcement(from);
  }

  Task<void> request(detail::Operation& operation) override { return detail::pull(operation, *this); }

  // The typed steps the request engine calls when a value arrived
  // (docs/design.md#engine): the setter here, or where the executor places it.
  void apply_inline(detail::Operation& operation) override {
    V value = std::move(*notification_);
    notification_.reset();
    try {
      detail::UserCallScope user{operation.scope};
      detail::probed(*this, detail::Phase::setter, [&] { invoke_(owner_, setter_, value); });
      detail::OperationScope::check_not_poisoned(operation.scope);
    } catch (...) {
      if (!detail::destroyed_in(operation, this)) keep_for_retry(std::move(value));
      throw;
    }
    finish_change(value, operation.scope);
  }
  Task<void> apply_elsewhere(detail::Operation& operation) override {
    V value = std::move(*notification_);
    notification_.reset();
    try {
      co_await detail::user_call<void>(operation, parallelization(), [this, &value] {
        detail::probed(*this, detail::Phase::setter, [&] { invoke_(owner_, setter_, value); });
      });
    } catch (...) {
      if (!detail::destroyed_in(operation, this)) keep_for_retry(std::move(value));
      throw;
    }
    finish_change(value, operation.scope);
  }
  // A setter failed: a retry applies the value again (docs/design.md#input),
  // unless a newer one arrived meanwhile.
  void keep_for_retry(V&& value) {
    if (!notification_) notification_.emplace(std::move(value));
  }

  // After the setter ran: notify the observers, or cancel them when the notify
  // condition says the change does not count
  // (docs/design.md#conditions).
  void finish_change(const V& value, detail::OperationScope* scope) {
    if (!conditions_ || conditions_->notify == nullptr) {
      notify_observers();
      return;
    }
    bool passes = false;
    try {
      detail::UserCallScope user{scope};
      detail::MethodProbe probe{*this, detail::Phase::condition};
      passes = conditions_->notify(conditions_->notify_target, conditions_->notify_member, value);
    } catch (...) {
      if (scope == nullptr || !scope->destroyed(this)) cancel_observers();
      throw;
    }
    // A condition that destroyed a block of the network answered all the
    // same: its answer is followed, then the error reported
    // (docs/connectors.md, Lifetime).
    if (scope != nullptr && scope->destroyed(this)) detail::OperationScope::check_not_poisoned(scope);
    if (passes) {
      notify_observers();
    } else {
      cancel_observers();
    }
    detail::OperationScope::check_not_poisoned(scope);
  }

  bool holds_value() const noexcept override { return notification_.has_value(); }

  template <class Owner, class Condition>
  void set_announce_condition_impl(Condition condition) {
    void* target = detail::owner_as<Owner>(owner_type_, owner_, condition, "Input::set_announce_condition");
    detail::ConfigurationLock lock{*this, "set_announce_condition"};
    if (!conditions_) conditions_ = std::make_unique<Conditions>();
    conditions_->announce_target = target;
    conditions_->announce_member = detail::ErasedMember{condition};
    conditions_->announce = [](void* owner, const detail::ErasedMember& member) -> bool {
      return (static_cast<Owner*>(owner)->*member.get<Condition>())();
    };
    asks_before_accepting_ = true;
  }
  template <class Owner, class Condition>
  void set_notify_condition_impl(Condition condition) {
    void* target = detail::owner_as<Owner>(owner_type_, owner_, condition, "Input::set_notify_condition");
    detail::ConfigurationLock lock{*this, "set_notify_condition"};
    if (!conditions_) conditions_ = std::make_unique<Conditions>();
    conditions_->notify_target = target;
    conditions_->notify_member = detail::ErasedMember{condition};
    conditions_->notify = [](void* owner, const detail::ErasedMember& member, const V& value) -> bool {
      return (static_cast<Owner*>(owner)->*member.get<Condition>())(value);
    };
  }

  void* owner_;
  detail::ErasedMember setter_;
  void (*invoke_)(void*, const detail::ErasedMember&, V&);
  std::optional<V> notification_;
  // Rare, so kept out of line: most inputs have no conditions.
  struct Conditions {
    bool (*announce)(void*, const detail::ErasedMember&) = nullptr;
    bool (*notify)(void*, const detail::ErasedMember&, const V&) = nullptr;
    detail::ErasedMember announce_member;
    detail::ErasedMember notify_member;
    // The owner as the class of each condition (detail::owner_as).
    void* announce_target = nullptr;
    void* notify_target = nullptr;
  };
  std::unique_ptr<Conditions> conditions_;
};

namespace detail {
// What an Input is (connectors::SingleSink).
template <class V>
inline constexpr Kind connector_kind<Input<V>> = Kind::single_sink;
}  // namespace detail

}  // namespace connectors
