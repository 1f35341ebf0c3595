#pragma once

#include <connectors/connection.hpp>
#include <connectors/detail/cache_slot.hpp>
#include <connectors/detail/construction_checks.hpp>
#include <connectors/detail/member.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/node_access.hpp>
#include <connectors/detail/node_inspector.hpp>
#include <connectors/detail/process_entry.hpp>
#include <connectors/detail/user_call.hpp>
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
#include <typeinfo>
#include <utility>
#include <vector>

namespace connectors {

/// An output connector: wraps a getter `R() [const]` (or one returning
/// `const R&`) of its owner. Calling it returns the cached result when valid,
/// otherwise computes what is stale upstream and then the getter, with this
/// output's executor (`docs/design.md#output`). Declared as a member:
///
///     class TimesTwo {
///      public:
///       connectors::Output<double> get_double{this, &TimesTwo::compute};
///       connectors::Input<double> set_value{this, &TimesTwo::store, get_double};
///
///      private:
///       void store(double value) { value_ = value; }
///       double compute() const { return 2 * value_; }
///       double value_ = 0;
///     };
///
///     TimesTwo a, b;
///     b.set_value.connect(a.get_double);  // or a.get_double.connect(b.set_value)
///     a.set_value(2);
///     double four = a.get_double();        // computed, then cached
///     double eight = b.get_double();       // pulls a, then computes b
///
/// Defaults: caching on, Parallelization::THREAD, the default executor.
///
/// Looking at it (`docs/connectors.md`, "Looking at a network"):
/// `is_connected()`, `connection_count()`, `is_connected_to(input)` and
/// `state()`.
///
/// **Threads.** Every member that calls, connects, disconnects or configures is
/// an operation on this output's network: it may be called from any thread,
/// operations on one network are serialised, operations on independent networks
/// run in parallel (`docs/connectors.md`, "Threads and nested operations").
/// Started from inside a user method, an operation on the network being
/// computed throws std::logic_error. So do the configuration and the queries
/// (set_caching, state(), ...) of a connector of that network, called from
/// inside its computation. Destroying the owner while another thread uses the
/// network is allowed (the destructor waits for the network lock); using it
/// while or after it is destroyed is not.
template <class R>
class Output final : private detail::OutputNode {
  static_assert(std::is_object_v<R> && !std::is_const_v<R>, "connectors::Output<R>: R must be a non-const value type");
  static_assert(std::is_copy_constructible_v<R>,
                "connectors::Output<R>: R must be copyable (results are cached and pushed to every connection)");

 public:
  /// The type of the values this output produces.
  using value_type = R;

  /// Wraps `getter`, a member function `R() [const]` (or returning something
  /// that converts to R, such as `const R&`) of `owner`, whose member this
  /// output is. A mismatched getter is a compile error. Throws
  /// std::invalid_argument for a null owner or getter, otherwise nothing.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the connector.
  template <class Owner, class Getter>
  requires std::is_member_function_pointer_v<Getter> &&
      std::derived_from<Owner, typename detail::member_owner<Getter>::type>
      Output(Owner* owner, Getter getter)
      : owner_(owner),
        getter_(getter),
        invoke_(&invoke_getter<Owner, Getter>),
        in_process_(&run_in_process<Owner, Getter>) {
    detail::check_not_null(owner, "Output", getter);
    droppable_cache_ = !detail::CacheSlot<R>::lock_free;
    set_owner_type(detail::owner_type_of<Owner>());
    static_assert(std::is_invocable_v<Getter, Owner&>,
                  "connectors::Output: the getter must take no arguments: R getter() [const]");
    static_assert(std::is_convertible_v<std::invoke_result_t<Getter, Owner&>, R>,
                  "connectors::Output<R>: the getter's result must convert to R");
  }
  /// Leaves the network without running any user method: inputs waiting for
  /// this output's announced change are cancelled, connected inputs keep the
  /// last value they received (`docs/design.md#lifetime`). Waits for the
  /// network's lock if another thread's operation runs.
  /// Throws nothing.
  ~Output() {
    detach();
    leave_owner_network();
  }

  /// The result: cached if valid, otherwise computed with this output's
  /// executor (user methods run where their flags and the executor say).
  /// A valid cache of a small trivially copyable R returns without taking a
  /// lock.
  ///
  /// Throws: the exception of any getter or setter that fails on the way,
  /// unchanged (the output stays invalid, the next call retries); for a
  /// PROCESS getter also WorkerError and RemoteError; std::logic_error when
  /// called from inside a method of the network being computed, or when a
  /// method destroyed a connector of the running operation.
  ///
  /// Threads: an operation (see the class); any thread.
  R operator()() {
    if constexpr (detail::CacheSlot<R>::lock_free) {
      // A cache hit takes no lock: the value is published atomically.
      if (valid_.load(std::memory_order_acquire)) return cache_.load();
    }
    detail::OperationScope scope{*this};
    if (valid_.load(std::memory_order_relaxed)) return cache_.load();
    std::shared_ptr<Executor> executor = NodeBase::executor();
    detail::Operation operation{*executor, &scope};
    if (caching()) {
      // No coroutines, no event loop, except where a method runs elsewhere or
      // branches may run concurrently (docs/design.md#engine).
      // The value this request computed, taken before the deferred non-lazy
      // service may invalidate it again (detail::pull_inline).
      struct Taken {
        Output* output;
        std::optional<R> value;
      } taken{this, std::nullopt};
      detail::pull_inline(
          operation, *this,
          [](void* context) {
            auto& taken = *static_cast<Taken*>(context);
            if (taken.output->valid_.load(std::memory_order_relaxed)) taken.value.emplace(taken.output->cache_.load());
          },
          &taken);
      if (!taken.value) throw std::logic_error("connectors::Output: the request ended without a result");
      return std::move(*taken.value);
    }
    std::optional<R> result;
    detail::pull_inline(operation, *this, nullptr, nullptr, &result);
    if (!result) throw std::logic_error("connectors::Output: the request ended without a result");
    return std::move(*result);
  }

  /// Connects a sink: Input, MultiInput, `mi[id]`, MacroInput, any
  /// SingleSink; the same as `target.connect(*this)` and
  /// `connectors::connect(*this, target)`. Connecting announces the new
  /// connection downstream and serves the non-lazy inputs there. An R that
  /// does not convert to the sink's value type is a compile error.
  ///
  /// Throws: CycleError if the connection would close a dependency cycle,
  /// ConnectionError if a single input already has another source (nothing
  /// changed in both cases); an identical repeated connect does nothing. What
  /// a non-lazy input's method throws, after the connection is made.
  ///
  /// Threads: an operation on both networks (joined into one); any thread.
  template <class Target>
  requires Joinable<Output&, Target>
  void connect(Target&& target) { connectors::connect(*this, std::forward<Target>(target)); }
  /// Breaks the connection to `target`; the same as
  /// `target.disconnect(*this)`. A single input first pulls what is pending
  /// (it keeps the last value), a multi-input removes what the connection
  /// stored. Throws: ConnectionError if they are not connected; what a user
  /// method run by the disconnect throws (the connection is broken all the
  /// same, except after a std::logic_error for a destroyed connector).
  /// Threads: an operation; any thread.
  template <class Target>
  requires Joinable<Output&, Target>
  void disconnect(Target&& target) { connectors::disconnect(*this, std::forward<Target>(target)); }

  /// Where the getter may run: SEQUENTIAL (on the thread that coordinates
  /// the operation), THREAD (a pool thread; the default) or PROCESS (a copy
  /// of the owner in a worker process, `docs/processes.md`). The executor may
  /// run it less concurrently, never more.
  ///
  /// Throws: std::invalid_argument for PROCESS if the getter cannot run in a
  /// worker process (the owner default-constructible and cereal-serializable,
  /// R serializable); the message names the type at fault.
  ///
  /// Threads: takes the network lock; any thread.
  void set_parallelization(Parallelization parallelization) {
    if (parallelization == Parallelization::PROCESS) (void)in_process_(nullptr, owner_, getter_, nullptr);
    OutputNode::set_parallelization(parallelization);
  }

  /// The object this output belongs to (the `owner` given to the
  /// constructor). Throws nothing; any thread.
  const void* owner() const noexcept override { return owner_; }

  /// Off: every request runs the getter again (the result is still pushed to
  /// every connection). Switching off drops the cached value. On (the
  /// default): the result is kept until something upstream changes.
  /// Throws nothing of its own.
  /// Threads: takes the network lock; any thread.
  void set_caching(bool caching) {
    detail::ConfigurationLock lock{*this, "set_caching"};
    set_caching_flag(caching);
  }
  /// Whether results are cached (set_caching). Throws nothing.
  /// Threads: any thread; a value read while another thread changes it may
  /// be the old one.
  bool caching() const noexcept { return OutputNode::caching(); }
  /// The parallelization flag (set_parallelization). Throws nothing.
  /// Threads: any thread; a value read while another thread changes it may
  /// be the old one.
  Parallelization parallelization() const noexcept { return OutputNode::parallelization(); }

  /// The executor that runs this output's operations; null restores the
  /// default executor (`docs/executors.md`). Throws nothing of its own.
  /// Threads: takes the network lock; any thread.
  void set_executor(std::shared_ptr<Executor> executor) { NodeBase::set_executor(std::move(executor)); }
  /// The executor set with set_executor, or the default executor. Throws
  /// only std::bad_alloc (a connector's first use makes its lock). Threads:
  /// takes the network lock; any thread.
  std::shared_ptr<Executor> executor() const { return NodeBase::locked_executor(); }
  /// Names this output in pictures and timelines (`docs/observability.md`);
  /// "owner.connector" also names the owner.
  ///
  ///     block.get_double.set_name("d1.get_double");
  ///
  /// Throws only std::bad_alloc. Threads: takes the network lock; call it
  /// while building the network rather than from inside its methods.
  void set_name(std::string name) { NodeBase::set_name(std::move(name)); }
  /// The name given with set_name, if any. Throws only std::bad_alloc.
  /// Threads: takes the network lock; any thread.
  std::optional<std::string> name() const { return NodeBase::name(); }

  /// Whether any input is connected to this output. Throws nothing of its
  /// own. Threads: takes the network lock; any thread (the answer may be
  /// out of date once another thread connects or disconnects).
  bool is_connected() const { return connection_count() != 0; }
  /// How many inputs are connected to this output (a multi-input counts
  /// once per connection). Throws nothing of its own. Threads: as
  /// is_connected.
  std::size_t connection_count() const {
    detail::ConfigurationLock lock{*this, "connection_count"};
    return detail::NodeInspector::connection_count(*this);
  }
  /// Whether `input` (an Input or a MultiInput, also when connected through
  /// `mi[id]`) is connected to this output. Throws nothing of its own.
  /// Threads: as is_connected.
  template <class Target>
  requires detail::has_input_node<Target>
  bool is_connected_to(const Target& input) const {
    detail::ConfigurationLock lock{*this, "is_connected_to"};
    return OutputNode::is_connected_to(detail::NodeAccess::node(input));
  }
  /// Whether the cached value is valid, stale, or stale with a change
  /// announced from upstream (connectors::OutputState). Throws nothing of its
  /// own. Threads: takes the network lock; any thread (the state may change
  /// as soon as the lock is released).
  OutputState state() const {
    detail::ConfigurationLock lock{*this, "state"};
    return detail::NodeInspector::state(*this);
  }

 private:
  friend struct detail::NodeAccess;
  detail::OutputNode& protocol_node() noexcept { return *this; }
  const detail::OutputNode& protocol_node() const noexcept { return *this; }
  template <class Use>
  void with_source_node(Use&& use) {
    std::forward<Use>(use)(static_cast<detail::OutputNode&>(*this));
  }

  template <class Owner, class Getter>
  static R invoke_getter(void* owner, const detail::ErasedMember& getter) {
    // A member function pointer (the constructor requires one): called
    // directly, std::invoke's <functional> is not needed.
    return (static_cast<Owner*>(owner)->*getter.get<Getter>())();
  }

  // With an executor: the task that runs the getter on a copy of the owner in
  // a worker process and stores its result into `result`. Without one: only
  // checks that it could (or throws). PROCESS support is compiled in only for
  // owners with state to travel (detail/process_entry.hpp).
  template <class Owner, class Getter>
  static Task<void> run_in_process(Executor* executor, void* owner, const detail::ErasedMember& getter,
                                   std::optional<R>* result) {
    if constexpr (detail::declares_process_state<Owner> && !detail::complete_type<detail::ProcessEntry<Owner>>) {
      static_assert(detail::complete_type<detail::ProcessEntry<Owner>>, CONNECTORS_DETAIL_PROCESS_HEADER_MISSING);
      return Task<void>{};
    } else if constexpr (detail::declares_process_state<Owner>) {
      using Result = std::remove_cvref_t<std::invoke_result_t<Getter, Owner&>>;
      if (executor == nullptr) {
        detail::ProcessEntry<Owner>::template check<Result, Getter>("connectors::Output");
        return Task<void>{};
      }
      return detail::ProcessEntry<Owner>::template call_into<R>(*executor, *result, getter.get<Getter>(),
                                                                *static_cast<Owner*>(owner));
    } else {
      std::rethrow_exception(detail::no_process_state_error(
          "connectors::Output: this getter cannot run in a worker process: ", typeid(Owner), std::is_class_v<Owner>));
    }
  }

  Task<void> request(detail::Operation& operation) override { return detail::pull(operation, *this); }

  // The typed steps the request engine calls (docs/design.md#engine).
  void compute_inline(detail::Operation& operation, std::vector<detail::InputNode*>& pulling, void* caller) override {
    R result = [&]() -> R {
      detail::UserCallScope user{operation.scope};
      R computed = detail::probed(*this, detail::Phase::getter, [this]() -> R { return invoke_(owner_, getter_); });
      detail::OperationScope::check_not_poisoned(operation.scope);
      return computed;
    }();
    keep_and_push(std::move(result), pulling, caller, notifications());
  }
  Task<void> compute_elsewhere(detail::Operation& operation, std::vector<detail::InputNode*>& pulling,
                               void* caller) override {
    const std::uint64_t seen = notifications();
    R result = co_await detail::user_call<R>(
        operation, parallelization(),
        [this]() -> R {
          return detail::probed(*this, detail::Phase::getter, [this]() -> R { return invoke_(owner_, getter_); });
        },
        [this](Executor& executor, std::optional<R>& out) {
          return detail::probe_process(*this, detail::Phase::getter, in_process_(&executor, owner_, getter_, &out));
        });
    keep_and_push(std::move(result), pulling, caller, seen);
  }
  void push_cached_inline(std::vector<detail::InputNode*>& pulling, void* caller) override {
    // Only connections that have not received this value get it
    // (docs/design.md#output): the others hold it already, and an ON_NOTIFY input
    // among them must not run its setter again while its owner's getter
    // may be running on another thread. A reference for large values:
    // nothing changes the cache while the value is pushed.
    auto&& cached = cache_.load();
    if (caller != nullptr) static_cast<std::optional<R>*>(caller)->emplace(cached);
    push(cached, true, pulling);
  }

  // A computed value is cached (if caching, and no notification came after
  // `seen`, when the getter started) and pushed to every connection; a direct
  // caller takes it last.
  void keep_and_push(R&& result, std::vector<detail::InputNode*>& pulling, void* caller, std::uint64_t seen) {
    if (caching() && notifications() == seen) {
      cache_.store(result);
      mark_computed();
    }
    push(result, false, pulling);
    if (caller != nullptr) static_cast<std::optional<R>*>(caller)->emplace(std::move(result));
  }

  // Pushes `value` to the connections (each stores a converted copy); leaves
  // in `pulling` the ON_NOTIFY inputs, which the caller then requests.
  void push(const R& value, bool only_unreceived, std::vector<detail::InputNode*>& pulling) {
    push_value(*this, &value, only_unreceived, pulling);
  }

  void drop_cache() noexcept override { cache_.reset(); }

  void* owner_;
  detail::ErasedMember getter_;
  R (*invoke_)(void*, const detail::ErasedMember&);
  Task<void> (*in_process_)(Executor*, void*, const detail::ErasedMember&, std::optional<R>*);
  detail::CacheSlot<R> cache_;
};

namespace detail {
// What an Output is (connectors::SingleSource).
template <class R>
inline constexpr Kind connector_kind<Output<R>> = Kind::single_source;
}  // namespace detail

}  // namespace connectors
