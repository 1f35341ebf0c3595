#pragma once

#include <connectors/detail/construction_checks.hpp>
#include <connectors/detail/label.hpp>
#include <connectors/detail/member.hpp>
#include <connectors/detail/multi_output_node.hpp>
#include <connectors/detail/node_access.hpp>
#include <connectors/detail/node_inspector.hpp>
#include <connectors/detail/process_entry.hpp>
#include <connectors/detail/type_name.hpp>
#include <connectors/detail/user_call.hpp>
#include <connectors/detail/wait_list.hpp>
#include <connectors/gather.hpp>
#include <connectors/input.hpp>
#include <connectors/multi_input.hpp>
#include <connectors/state.hpp>

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace connectors {

template <class R, class Key>
class MultiOutputItem;

namespace detail {
// What set_keys accepts. A concept, so that a non-range stops at the first
// clause and reaches set_keys' static_assert instead of a hard error inside
// std::ranges::range_reference_t.
template <class Range, class Key>
concept key_range =
    std::ranges::input_range<Range> && std::is_convertible_v<std::ranges::range_reference_t<Range>, Key>;
}  // namespace detail

/// A multi-output connector: wraps a getter `R(Key) [const]` (or taking
/// `const Key&`, or returning `const R&`) and caches one result per key
/// (docs/multi-outputs.md; `docs/design.md#multi-output`):
///
///     connectors::MultiOutput<double(int)> get_value{this, &Table::value_at};
///
/// `mo(key)` returns the value for a key; `mo[key]` is a virtual single output
/// for one key that connects to any input. The whole multi-output connects to
/// a MultiInput only: then the owner's `keys()` method (`set_keys`) decides
/// which keys are computed (none without it), and each key's value is stored
/// in the multi-input under the key as data id.
/// Different keys compute in parallel; one key is computed once however many
/// consumers pull it at the same time. Keys are delivered in the order
/// `keys()` returns them; no other order is promised (`docs/design.md#multi-output`).
/// Defaults: caching on, Parallelization::THREAD, the default executor.
template <class Signature>
class MultiOutput {
  static_assert(sizeof(Signature) == 0, "connectors::MultiOutput: write MultiOutput<R(Key)>");
};

/// The multi-output for a getter `R(Key)`: the one usable form of
/// MultiOutput, which explains it.
///
///     class Table {
///      public:
///       connectors::MultiOutput<double(int)> get_value{this, &Table::value_at};
///       connectors::Input<double> set_factor{this, &Table::store, get_value};
///       Table() { get_value.set_keys(&Table::keys); }
///
///      private:
///       double value_at(int key) const { return factor_ * key; }
///       std::vector<int> keys() const { return {1, 2, 3}; }
///       void store(double factor) { factor_ = factor; }
///       double factor_ = 1;
///     };
///
///     Table table;
///     double two = table.get_value(2);          // computes key 2 only
///     other.set_value.connect(table.get_value[3]);  // one key into any input
///     sum.add_summand.connect(table.get_value);     // all keys into a multi-input
///
/// Looking at it (`docs/connectors.md`, "Looking at a network"):
/// `is_connected()`, `connection_count()`, `is_connected_to(input)` and
/// `state()`.
///
/// **Threads.** Every member that calls, connects, disconnects or configures is
/// an operation on this multi-output's network: it may be called from any
/// thread, operations on one network are serialised, operations on independent
/// networks run in parallel (`docs/connectors.md`, "Threads and nested
/// operations"). Within one operation the getter may run for several keys at
/// once (with THREAD or PROCESS), so it must be safe to call concurrently with
/// itself for different keys. Started from inside a user method, an operation
/// on the network being computed throws std::logic_error. So do the
/// configuration and the queries (set_caching, state(), ...) of a connector of
/// that network, called from inside its computation.
template <class R, class Key>
class MultiOutput<R(Key)> final : private detail::MultiOutputNode {
  static_assert(std::is_object_v<R> && !std::is_const_v<R>,
                "connectors::MultiOutput<R(Key)>: R must be a non-const value type");
  static_assert(std::is_copy_constructible_v<R>, "connectors::MultiOutput<R(Key)>: R must be copyable");
  static_assert(std::is_object_v<Key> && !std::is_const_v<Key>,
                "connectors::MultiOutput<R(Key)>: Key must be a non-const value type");
  static_assert(std::equality_comparable<Key>, "connectors::MultiOutput<R(Key)>: Key needs ==");
  // (Its tables of keys are hashed: asked here, where they would need it
  // anyway, the answer is one line instead of the hash table's errors.)
  static_assert(std::is_default_constructible_v<std::hash<Key>>,
                "connectors::MultiOutput<R(Key)>: Key needs std::hash<Key> (specialise it for your type)");

 public:
  /// The type of the values this multi-output produces.
  using value_type = R;
  /// The type of its keys.
  using key_type = Key;

  /// Wraps `getter`, a member function `R(Key)` or `R(const Key&)` (const or
  /// not; returning something that converts to R) of `owner`, whose member
  /// this multi-output is. A mismatched getter is a compile error. Throws
  /// std::invalid_argument for a null owner or getter, otherwise nothing.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the connector.
  template <class Owner, class Getter>
  requires std::is_member_function_pointer_v<Getter> &&
      std::derived_from<Owner, typename detail::member_owner<Getter>::type>
      MultiOutput(Owner* owner, Getter getter)
      : owner_(owner),
        getter_(getter),
        invoke_(&invoke_getter<Owner, Getter>),
        in_process_(&run_in_process<Owner, Getter>) {
    detail::check_not_null(owner, "MultiOutput", getter);
    set_owner_type(detail::owner_type_of<Owner>());
    static_assert(std::is_invocable_v<Getter, Owner&, const Key&>,
                  "connectors::MultiOutput<R(Key)>: the getter must take one Key: R getter(Key) [const]");
    static_assert(std::is_convertible_v<std::invoke_result_t<Getter, Owner&, const Key&>, R>,
                  "connectors::MultiOutput<R(Key)>: the getter's result must convert to R");
  }

  /// Leaves the network without running any user method, as ~Output: every
  /// `mo[key]` connection and whole connection is dropped, inputs waiting
  /// for it are cancelled (`docs/design.md#lifetime`). Waits for the
  /// network's lock if another thread's operation runs.
  /// Throws nothing.
  ~MultiOutput() {
    detail::leave_network(*this, [this]() noexcept {
      // Noted while the items still link it to the network: a request of one
      // of its keys may be under way in it.
      const bool inside = detail::note_destruction(*this);
      // The items are output nodes of their own: they leave with this one,
      // and are freed after.
      std::unordered_map<Key, std::unique_ptr<Item>> items;
      struct Leaving {
        MultiOutput* self;
        std::unordered_map<Key, std::unique_ptr<Item>>* items;
      } leaving{this, &items};
      detach_with_items(
          inside,
          [](void* context) noexcept {
            auto& [self, items] = *static_cast<Leaving*>(context);
            items->swap(self->items_by_key_);
            // (`next` is read first: once told, a use may end at once.)
            for (ItemUse* use = std::exchange(self->item_uses_, nullptr); use != nullptr;) {
              ItemUse* next = use->next;
              use->alive.store(false, std::memory_order_release);
              use = next;
            }
          },
          &leaving);
    });
    leave_owner_network();
  }

  /// The value for `key`: cached if valid, otherwise computed with this
  /// multi-output's executor, and pushed to the inputs connected to
  /// `mo[key]`. Only that key is computed. A call without a key does not
  /// compile.
  ///
  /// Throws: what the getter (or a method upstream) throws, unchanged; for a
  /// PROCESS getter also WorkerError and RemoteError; std::logic_error from
  /// inside a method of the network being computed; std::invalid_argument
  /// for a key not equal to itself (a NaN), which no table could find again.
  ///
  /// Threads: an operation (see the class); any thread.
  R operator()(const Key& key) {
    check_key(key);
    detail::OperationScope scope{*this};
    if (valid_.load(std::memory_order_relaxed)) {
      auto cached = results_.find(key);
      if (cached != results_.end()) return cached->second;
    }
    std::shared_ptr<Executor> executor = NodeBase::executor();
    detail::Operation operation{*executor, &scope};
    std::optional<R> result;
    detail::run_operation(operation, request_key(operation, key, &result));
    if (!result) throw std::logic_error("connectors::MultiOutput: the request ended without a result");
    return std::move(*result);
  }

  /// The virtual single output for `key`: connect it to any input, or call
  /// it. Only makes a small handle: throws nothing but what copying and
  /// comparing the Key throw, and std::invalid_argument for a key not equal
  /// to itself (a NaN); any thread.
  MultiOutputItem<R, Key> operator[](Key key) {
    check_key(key);
    return MultiOutputItem<R, Key>{*this, std::move(key)};
  }

  /// Connects the whole multi-output to a multi-input (a KeyedSink): every
  /// key of `keys()` delivers its value, stored under the key. The same as
  /// `input.connect(*this)`; connecting to anything but a MultiInput does not
  /// compile (connect one key with `mo[key]`).
  ///
  ///     sum.add_summand.connect(table.get_value);
  ///
  /// Throws: std::logic_error if the multi-input has no replace method;
  /// ConnectionError, CycleError as MultiInput::connect (nothing changed);
  /// what a non-lazy input's method throws, after the connection is made.
  ///
  /// Threads: an operation on both networks, which it joins; any thread.
  template <class Target>
  requires Joinable<MultiOutput&, Target>
  void connect(Target&& input) { connectors::connect(*this, std::forward<Target>(input)); }
  /// Breaks a whole connection; the multi-input removes every key it stored.
  /// The same as `input.disconnect(*this)`. Throws: ConnectionError if not
  /// connected; what the multi-input's remove throws. Threads: an operation;
  /// any thread.
  template <class Target>
  requires Joinable<MultiOutput&, Target>
  void disconnect(Target&& input) { connectors::disconnect(*this, std::forward<Target>(input)); }

  /// The owner's method listing the keys a whole connection delivers: any
  /// range of values convertible to Key (a container or a one-shot view).
  /// It runs with the operation's bookkeeping (the coordinating thread, or a
  /// pool thread continuing a branch; never two at once), once per delivery. Without it a
  /// whole connection delivers no keys. A mismatched method is a compile
  /// error; throws std::invalid_argument for a null method or one of a
  /// class unrelated to the owner's.
  /// Threads: takes the network lock; any thread.
  template <class Owner, class Keys>
  requires std::is_member_function_pointer_v<Keys> &&
      std::derived_from<Owner, typename detail::member_owner<Keys>::type>
  void set_keys(Keys keys) {
    using Range = std::invoke_result_t<Keys, Owner&>;
    static_assert(detail::key_range<std::remove_reference_t<Range>, Key>,
                  "connectors::MultiOutput<R(Key)>::set_keys: keys() must return a range of values convertible to Key");
    void* target = detail::owner_as<Owner>(owner_type_, owner_, keys, "MultiOutput::set_keys");
    detail::ConfigurationLock lock{*this, "set_keys"};
    keys_target_ = target;
    keys_member_ = detail::ErasedMember{keys};
    keys_ = [](void* owner, const detail::ErasedMember& member) {
      std::vector<Key> result;
      auto&& range = (static_cast<Owner*>(owner)->*member.get<Keys>())();
      for (auto&& key : range) result.emplace_back(std::forward<decltype(key)>(key));
      return result;
    };
  }
  /// \overload
  /// The owner type deduced from the member pointer.
  /// Throws std::invalid_argument for a null method or one of a
  /// class unrelated to the owner's. Threads: takes the network lock; any thread.
  template <class Keys>
  requires std::is_member_function_pointer_v<Keys>
  void set_keys(Keys keys) { set_keys<typename detail::member_owner<Keys>::type>(keys); }

  /// Off: every request runs the getter again. Switching off drops the cached values.
  /// Throws nothing of its own. Threads: takes the network lock; any thread.
  void set_caching(bool caching) {
    detail::ConfigurationLock lock{*this, "set_caching"};
    set_caching_flag(caching);
  }

  /// PROCESS is accepted only if the getter can run in a worker process with
  /// its key (owner, key and R serializable); otherwise std::invalid_argument.
  /// SEQUENTIAL: on the coordinating thread; THREAD (default): keys on pool
  /// threads. Threads: takes the network lock; any thread.
  /// Throws std::invalid_argument as said, or for a value outside the enum.
  void set_parallelization(Parallelization parallelization) {
    if (parallelization == Parallelization::PROCESS) (void)in_process_(nullptr, owner_, getter_, nullptr, nullptr);
    OutputNode::set_parallelization(parallelization);
  }

  /// The object this multi-output belongs to. Throws nothing; any thread.
  const void* owner() const noexcept override { return owner_; }

  /// Whether results are cached (set_caching). Throws nothing.
  /// Threads: any thread; a value read while another thread changes it may
  /// be the old one.
  bool caching() const noexcept { return OutputNode::caching(); }
  /// The parallelization flag (set_parallelization). Throws nothing.
  /// Threads: any thread; a value read while another thread changes it may
  /// be the old one.
  Parallelization parallelization() const noexcept { return OutputNode::parallelization(); }
  /// The executor that runs this multi-output's operations; null restores
  /// the default executor (`docs/executors.md`). Throws nothing of its own.
  /// Threads: takes the network lock; any thread.
  void set_executor(std::shared_ptr<Executor> executor) { NodeBase::set_executor(std::move(executor)); }
  /// The executor set with set_executor, or the default executor. Throws
  /// only std::bad_alloc (a connector's first use makes its lock). Threads:
  /// takes the network lock; any thread.
  std::shared_ptr<Executor> executor() const { return NodeBase::locked_executor(); }
  /// Names this multi-output in pictures and timelines
  /// (`docs/observability.md`); "owner.connector" also names the owner.
  ///
  ///     table.get_value.set_name("table.get_value");
  ///
  /// Throws only std::bad_alloc. Threads: takes the network lock; call it
  /// while building the network rather than from inside its methods.
  void set_name(std::string name) { NodeBase::set_name(std::move(name)); }
  /// The name given with set_name, if any. Throws only std::bad_alloc.
  /// Threads: takes the network lock; any thread.
  std::optional<std::string> name() const { return NodeBase::name(); }

  /// Whether any input is connected, whole or through `mo[key]`. Throws
  /// nothing of its own. Threads: takes the network lock; any thread (the
  /// answer may be out of date once another thread connects or disconnects).
  bool is_connected() const { return connection_count() != 0; }
  /// How many connections there are: whole ones and those of every key.
  /// Throws nothing of its own. Threads: as is_connected.
  std::size_t connection_count() const {
    detail::ConfigurationLock lock{*this, "connection_count"};
    return detail::NodeInspector::connection_count(*this);
  }
  /// Whether `input` (an Input or a MultiInput) is connected to the whole
  /// multi-output or to any of its keys. Throws nothing of its own.
  /// Threads: as is_connected.
  template <class Target>
  requires detail::has_input_node<Target>
  bool is_connected_to(const Target& input) const {
    detail::ConfigurationLock lock{*this, "is_connected_to"};
    const detail::InputNode& node = detail::NodeAccess::node(input);
    if (OutputNode::is_connected_to(node)) return true;
    for (const auto& [key, item] : items_by_key_) {
      if (item->is_connected_to(node)) return true;
    }
    return false;
  }
  /// Whether the cached values are valid, stale, or stale with a change
  /// announced from upstream (connectors::OutputState; valid means that the
  /// keys computed since the last change are cached). Throws nothing of its
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

  template <class, class>
  friend class MultiOutputItem;

  // An item's key, a base constructed before the node: a key whose copy or
  // move throws fails before the node has joined its parent's items (the
  // node's destructor, which leaves them, would not run).
  struct ItemKey {
    Key key_;
  };

  // The announcer of one key towards its single connections.
  class Item final : private ItemKey, public detail::MultiOutputKeyNode {
   public:
    Item(MultiOutput& parent, Key key) : ItemKey{std::move(key)}, MultiOutputKeyNode(parent), parent_(parent) {}
    Item(const Item&) = delete;
    Item& operator=(const Item&) = delete;
    ~Item() { detach_key(); }
    Task<void> request(detail::Operation& operation) override { return parent_.request_key(operation, key_, nullptr); }
    // The key of this item's connections, for the picture (docs/observability.md).
    std::string connection_label(const detail::NodeBase&) const override { return "key " + detail::to_label(key_); }

    // Connects and disconnects under way through this item (guarded by the
    // network lock): it is not forgotten while one is.
    std::size_t leases = 0;

   private:
    using ItemKey::key_;
    MultiOutput& parent_;
  };

  // A key being computed: later pulls of the same key wait for its value (docs/design.md#multi-output, compute_key).
  struct Run {
    detail::WaitList done;
    std::optional<R> value;
    // Ended, but its record could not be removed (the key's hash or == threw
    // on the way out): a later request of the key replaces it.
    bool finished = false;
  };

  template <class Owner, class Getter>
  static R invoke_getter(void* owner, const detail::ErasedMember& getter, const Key& key) {
    return (static_cast<Owner*>(owner)->*getter.get<Getter>())(key);
  }

  template <class Owner, class Getter>
  static Task<void> run_in_process(Executor* executor, void* owner, const detail::ErasedMember& getter, const Key* key,
                                   std::optional<R>* result) {
    if constexpr (detail::declares_process_state<Owner> && !detail::complete_type<detail::ProcessEntry<Owner>>) {
      static_assert(detail::complete_type<detail::ProcessEntry<Owner>>, CONNECTORS_DETAIL_PROCESS_HEADER_MISSING);
      return Task<void>{};
    } else if constexpr (detail::declares_process_state<Owner>) {
      using Result = std::remove_cvref_t<std::invoke_result_t<Getter, Owner&, const Key&>>;
      if (executor == nullptr) {
        detail::ProcessEntry<Owner>::template check<Result, Getter, Key>("connectors::MultiOutput");
        return Task<void>{};
      }
      return detail::ProcessEntry<Owner>::template call_into<R>(*executor, *result, getter.get<Getter>(),
                                                                *static_cast<Owner*>(owner), *key);
    } else {
      std::rethrow_exception(detail::no_process_state_error(
          "connectors::MultiOutput: this getter cannot run in a worker process: ", typeid(Owner),
          std::is_class_v<Owner>));
    }
  }

  // A connect or disconnect through `mo[key]` under way (with_item): told
  // when a user method it runs destroys this multi-output, after which it
  // must not touch it again. Guarded by the network lock.
  struct ItemUse {
    ItemUse* next = nullptr;
    std::atomic<bool> alive{true};
  };

  // The item for `key`, created on first use (under the network lock); `use`
  // is registered with it.
  detail::OutputNode& item(const Key& key, ItemUse& use) {
    // Declared before the lock: an item that could not be kept (copying the
    // key into the map threw) is destroyed after the lock is released, since
    // its destructor takes the lock.
    std::unique_ptr<Item> unkept;
    std::vector<std::unique_ptr<Item>> unused;  // as `unkept`
    // Refused from inside the computation of this network, before the maps
    // change: its coordinating thread reads them without a lock.
    detail::ConfigurationLock lock{*this, "connect or disconnect through mo[key]"};
    auto found = items_by_key_.find(key);
    if (found == items_by_key_.end()) {
      if (items_by_key_.size() >= forget_items_at_) forget_unused_items(unused);
      auto made = std::make_unique<Item>(*this, key);
      try {
        found = items_by_key_.emplace(key, nullptr).first;
      } catch (...) {
        forget_item(*made);  // its destructor then takes no lock
        unkept = std::move(made);
        throw;
      }
      found->second = std::move(made);
    }
    ++found->second->leases;
    use.next = item_uses_;
    item_uses_ = &use;
    return *found->second;
  }
  // Forgets the items nothing is connected through any more and no connect
  // or disconnect uses: an input connected to a key and then destroyed
  // (not disconnected) leaves its item behind, which every notification of
  // this multi-output would still walk. Done when the items have doubled
  // since the last time, so each new key pays a constant share; under the
  // network lock taken from outside any computation of it (item()), so no
  // operation can be using them. Strong guarantee.
  void forget_unused_items(std::vector<std::unique_ptr<Item>>& unused) {
    std::vector<detail::MultiOutputKeyNode*> nodes;
    nodes.reserve(items_by_key_.size());
    unused.reserve(items_by_key_.size());
    for (auto entry = items_by_key_.begin(); entry != items_by_key_.end();) {
      if (entry->second->leases == 0 && entry->second->connections().empty()) {
        nodes.push_back(entry->second.get());
        unused.push_back(std::move(entry->second));
        entry = items_by_key_.erase(entry);
      } else {
        ++entry;
      }
    }
    forget_items(nodes);
    const std::size_t kept = items_by_key_.size();
    forget_items_at_ = kept * 2 > first_forget_items_at ? kept * 2 : first_forget_items_at;
  }

  // Ends a use of the item of `key`; forgets the item once nothing is
  // connected through it and no other connect or disconnect is using it.
  void release_item(const Key& key, ItemUse& use) noexcept {
    std::unique_ptr<Item> unused;
    {
      detail::NetworkLock lock{*this, true};  // the end of a connect a helper made
      for (ItemUse** link = &item_uses_; *link != nullptr; link = &(*link)->next) {
        if (*link == &use) {
          *link = use.next;
          break;
        }
      }
      // A key whose hash or == throws here leaves its item leased, kept
      // until the multi-output goes, as docs/multi-outputs.md says: this end
      // of a connect or disconnect has done its work and cannot report.
      typename decltype(items_by_key_)::iterator found;
      try {
        found = items_by_key_.find(key);
      } catch (...) {
        return;
      }
      if (found == items_by_key_.end()) return;
      if (--found->second->leases != 0 || !found->second->connections().empty()) return;
      unused = std::move(found->second);
      items_by_key_.erase(found);
      forget_item(*unused);  // its destructor then takes no lock
    }
  }
  // Runs `use` with the item of `key`, then forgets the item if unused.
  // A user method that `use` ran may have destroyed this multi-output: then
  // nothing of it is touched again, not even through a member call (the
  // operation completed before `use` returned, so the destructor's store is
  // seen here).
  template <class Use>
  void with_item(const Key& key, Use use) {
    ItemUse watch;
    detail::OutputNode& node = item(key, watch);
    try {
      use(node);
    } catch (...) {
      if (watch.alive.load(std::memory_order_acquire)) release_item(key, watch);
      throw;
    }
    if (watch.alive.load(std::memory_order_acquire)) release_item(key, watch);
  }

  bool key_valid(const Key& key) const { return valid_.load(std::memory_order_relaxed) && results_.contains(key); }

  Task<void> pull_announcers(detail::Operation& operation) {
    if (pending_announcements_ == 0) co_return;
    co_await request_announcers(operation);
    co_await computable_.wait(pending_announcements_ == 0, operation.id);
    // A wait ended by the destruction of an input it waited for may resume
    // after this multi-output went too (the destructor of its owner
    // destroyed that input first; docs/design.md#destruction-inside).
    detail::OperationScope::check_not_poisoned(operation.scope);
  }

  // request_key, with repair A10 (docs/design.md#multi-output): a valid key still reaches the
  // key's single connections.
  Task<void> request_key(detail::Operation& operation, Key key, std::optional<R>* caller) {
    detail::OperationScope::check_not_poisoned(operation.scope);  // this connector may be gone
    try {
      co_await pull_announcers(operation);
      // Two inputs connected to this key may both have asked while the
      // announcers were pulled; the first computation pushed to both. A
      // cache-less key must not run again for the second (docs/multi-outputs.md,
      // In parallel, and once).
      if (caller == nullptr && !awaits_push(key)) co_return;
      co_await compute_key(operation, key, caller);
    } catch (...) {
      if (!detail::destroyed_in(operation, this)) abort_downstream(std::current_exception(), operation);
      throw;
    }
  }

  // Whether a connection of `key` still waits for a value from it.
  bool awaits_push(const Key& key) const {
    auto found = items_by_key_.find(key);
    if (found == items_by_key_.end()) return false;
    const detail::OutputNode& item = *found->second;
    for (const auto& connection : item.connections()) {
      if (connection.input->is_announced_by(item)) return true;
    }
    return false;
  }

  // Computes one key (or takes its valid cached value) and pushes it to the
  // key's single connections. A key already running is not computed again: a
  // caller that needs the value waits for it, a connection receives it by push.
  Task<void> compute_key(detail::Operation& operation, const Key& key, std::optional<R>* caller) {
    detail::OperationScope::check_not_poisoned(operation.scope);  // this connector may be gone
    auto run = std::make_shared<Run>();
    if (auto running = running_keys_.find(key); running != running_keys_.end()) {
      if (!running->second->finished) {
        if (caller == nullptr) co_return;
        std::shared_ptr<Run> other = running->second;
        co_await other->done.wait(false, operation.id);
        caller->emplace(*other->value);
        co_return;
      }
      running->second = run;
    } else {
      running_keys_.emplace(key, run);
    }
    ++live_runs_;
    std::optional<R> value;
    const R* computed_before = nullptr;
    bool from_cache = false;
    const std::uint64_t seen = notifications();
    try {
      // (Inside: both look the key up, and a hash or == may throw.)
      computed_before = caching() ? nullptr : value_of_operation(operation, key);
      from_cache = computed_before != nullptr || key_valid(key);
      if (computed_before != nullptr) {
        value.emplace(*computed_before);
      } else if (from_cache) {
        value.emplace(results_.at(key));
      } else {
        value.emplace(co_await detail::user_call<R>(
            operation, parallelization(),
            [this, &key]() -> R {
              return detail::probed(*this, detail::Phase::getter,
                                    [this, &key]() -> R { return invoke_(owner_, getter_, key); });
            },
            [this, &key](Executor& executor, std::optional<R>& out) {
              return detail::probe_process(*this, detail::Phase::getter,
                                           in_process_(&executor, owner_, getter_, &key, &out));
            }));
        // Not kept if a notification came while the getter ran: the value
        // is already old (OutputNode::notifications).
        if (notifications() == seen) {
          if (caching()) {
            results_.insert_or_assign(key, *value);
            mark_computed();
          } else {
            keep_for_operation(operation, key, *value);
          }
        }
      }
    } catch (...) {
      run->done.abort_all(std::current_exception(), operation.id);
      if (!detail::destroyed_in(operation, this)) end_run(key, *run);
      throw;
    }
    end_run(key, *run);
    if (!run->done.empty()) {
      try {
        run->value = *value;
      } catch (...) {
        // The value's copy threw: the requests waiting for this key end with
        // that error instead of waiting for ever.
        run->done.abort_all(std::current_exception(), operation.id);
        throw;
      }
      run->done.wake_all();
    }
    std::vector<detail::InputNode*> pulling;
    if (auto found = items_by_key_.find(key); found != items_by_key_.end()) {
      // A cached value goes only to connections that have not received it
      // (as Output's valid path); a computed one to all.
      push_value(*found->second, &*value, from_cache, pulling);
    }
    if (caller != nullptr) caller->emplace(std::move(*value));
    if (!pulling.empty()) co_await detail::request_notified(operation, std::move(pulling));
  }

  // A whole connection pulls (docs/design.md#multi-output, Whole request): every key of keys(),
  // concurrently, then the key -> value map to every whole connection. A pull
  // arriving while one runs returns at once; the running one delivers to all.
  Task<void> request(detail::Operation& operation) override {
    detail::OperationScope::check_not_poisoned(operation.scope);  // this connector may be gone
    if (running_) co_return;
    detail::RunningFlag running{running_, *this, operation.scope};
    try {
      co_await pull_announcers(operation);
      std::vector<Key> keys;
      if (keys_ != nullptr) {
        detail::UserCallScope user{operation.scope};
        detail::MethodProbe probe{*this, detail::Phase::getter};
        keys = keys_(keys_target_, keys_member_);
        detail::OperationScope::check_not_poisoned(operation.scope);
      }
      std::vector<std::optional<R>> values(keys.size());
      if (keys.size() == 1) {
        co_await compute_key(operation, keys.front(), &values.front());
      } else if (!keys.empty()) {
        std::vector<Task<void>> computations;
        computations.reserve(keys.size());
        for (std::size_t index = 0; index < keys.size(); ++index) {
          computations.push_back(compute_key(operation, keys[index], &values[index]));
        }
        co_await detail::request_concurrently(operation, std::move(computations));
      }
      std::vector<std::pair<Key, R>> delivery;
      delivery.reserve(keys.size());
      for (std::size_t index = 0; index < keys.size(); ++index) {
        delivery.emplace_back(std::move(keys[index]), std::move(*values[index]));
      }
      std::vector<detail::InputNode*> pulling;
      push_value(*this, &delivery, false, pulling);
      if (!pulling.empty()) co_await detail::request_notified(operation, std::move(pulling));
    } catch (...) {
      if (!detail::destroyed_in(operation, this)) abort_downstream(std::current_exception(), operation);
      throw;
    }
  }

  // Without a cache, a key requested twice in one operation (by its key
  // connection, then by a whole connection, which computes every key) must
  // run once, as a cache-less Output does (docs/multi-outputs.md, In
  // parallel, and once): its value is kept in the operation until it ends.
  struct KeptValues final : detail::OperationValues {
    using OperationValues::OperationValues;
    std::unordered_map<Key, R> values;
    std::uint64_t generation = 0;  // the multi-output's values_generation_ they belong to
  };
  KeptValues* kept_values(detail::Operation& operation) const noexcept {
    for (const auto& kept : operation.kept_values) {
      if (kept->owner == instance_) return static_cast<KeptValues*>(kept.get());
    }
    return nullptr;
  }
  const R* value_of_operation(detail::Operation& operation, const Key& key) const {
    const KeptValues* kept = kept_values(operation);
    if (kept == nullptr || kept->generation != values_generation_) return nullptr;
    auto found = kept->values.find(key);
    return found == kept->values.end() ? nullptr : &found->second;
  }
  void keep_for_operation(detail::Operation& operation, const Key& key, const R& value) {
    KeptValues* kept = kept_values(operation);
    if (kept == nullptr) {
      operation.kept_values.push_back(std::make_unique<KeptValues>(instance_));
      kept = static_cast<KeptValues*>(operation.kept_values.back().get());
    } else if (kept->generation != values_generation_) {
      kept->values.clear();
    }
    kept->generation = values_generation_;
    kept->values.insert_or_assign(key, value);
  }

  // A notification within the operation (an ON_NOTIFY input applied a value
  // again) makes the values kept in the operation old too.
  void drop_cache() noexcept override {
    results_.clear();
    ++values_generation_;
  }
  // A key may be computing without a whole request (running_).
  bool request_running() const noexcept override { return running_ || live_runs_ != 0; }

  // Keys are found again by hash and ==: one not equal to itself would add
  // a new record, item and cache entry per use, none of them found again.
  static void check_key(const Key& key) {
    const Key& same = key;
    if (!(key == same)) {
      throw std::invalid_argument("connectors::MultiOutput: a key that is not equal to itself (a NaN) cannot be used");
    }
  }

  // Removes the record of a key's run. The lookup hashes and compares the
  // key, which may throw (docs/multi-outputs.md): the record then stays,
  // marked finished, and the key's next request replaces it; the run's
  // error, if any, is the one that counts.
  void end_run(const Key& key, Run& run) noexcept {
    run.finished = true;
    --live_runs_;
    try {
      running_keys_.erase(key);
    } catch (...) {
    }
  }

  void* owner_;
  detail::ErasedMember getter_;
  R (*invoke_)(void*, const detail::ErasedMember&, const Key&);
  Task<void> (*in_process_)(Executor*, void*, const detail::ErasedMember&, const Key*, std::optional<R>*);
  detail::ErasedMember keys_member_;
  void* keys_target_ = nullptr;  // the owner as keys' class (detail::owner_as)
  std::vector<Key> (*keys_)(void*, const detail::ErasedMember&) = nullptr;
  std::unordered_map<Key, R> results_;
  // Caching off: what tells this multi-output's values kept in an operation
  // (KeptValues) from the values of other connectors, and from the values it
  // computed before a notification.
  const std::uint64_t instance_ = detail::new_instance_number();
  std::uint64_t values_generation_ = 0;
  std::unordered_map<Key, std::shared_ptr<Run>> running_keys_;
  std::size_t live_runs_ = 0;  // runs of running_keys_ not finished
  std::unordered_map<Key, std::unique_ptr<Item>> items_by_key_;
  ItemUse* item_uses_ = nullptr;  // connects and disconnects through mo[key] under way
  static constexpr std::size_t first_forget_items_at = 64;
  std::size_t forget_items_at_ = first_forget_items_at;  // forget_unused_items
};

/// `mo[key]`: a virtual single output of a MultiOutput for one key (`docs/design.md#multi-output`).
/// A value: it may be used as a temporary; its connections belong to the
/// multi-output and can be broken through another `mo[key]` of the same key.
///
///     input.connect(table.get_value[3]);   // or table.get_value[3].connect(input)
///     double three = table.get_value[3]();
///
/// Threads: as the multi-output's members; the handle itself is a plain
/// value, to be used while its multi-output lives.
template <class R, class Key>
class MultiOutputItem {
 public:
  /// The type of the values this output produces.
  using value_type = R;

  /// The handle for `key` of `output`; usually made by `output[key]`. Throws
  /// only what copying the Key throws.
  /// Any thread.
  MultiOutputItem(MultiOutput<R(Key)>& output, Key key) : output_(&output), key_(std::move(key)) {}

  /// The value for the key (as `mo(key)`; same errors and threads).
  R operator()() const { return (*output_)(key_); }

  /// Connects a sink (Input, MultiInput, `mi[id]`, MacroInput: any
  /// SingleSink) to this key; the same as `target.connect(*this)`, with its
  /// errors. Threads: an operation on both networks; any thread.
  template <class Target>
  requires Joinable<const MultiOutputItem&, Target>
  void connect(Target&& target) const { connectors::connect(*this, std::forward<Target>(target)); }
  /// Breaks a connection of this key; the same as `target.disconnect(*this)`,
  /// with its errors. Threads: an operation; any thread.
  template <class Target>
  requires Joinable<const MultiOutputItem&, Target>
  void disconnect(Target&& target) const { connectors::disconnect(*this, std::forward<Target>(target)); }

  /// The multi-output this handle belongs to. Throws nothing; any thread.
  MultiOutput<R(Key)>& multi_output() const noexcept { return *output_; }
  /// The key of this handle. Throws nothing; any thread.
  const Key& key() const noexcept { return key_; }

 private:
  friend struct detail::NodeAccess;
  // The node of its multi-output (for configuration and the picture); the
  // key's own item node is reached by with_source_node.
  detail::OutputNode& protocol_node() const noexcept { return detail::NodeAccess::node(*output_); }
  // The key's item node exists while something uses it (MultiOutput::with_item).
  template <class Use>
  void with_source_node(Use&& use) const {
    output_->with_item(key_, std::forward<Use>(use));
  }

  MultiOutput<R(Key)>* output_;
  Key key_;
};

namespace detail {
// What a whole MultiOutput and `mo[key]` are (connectors::KeyedSource,
// connectors::SingleSource).
template <class R, class Key>
inline constexpr Kind connector_kind<MultiOutput<R(Key)>> = Kind::keyed_source;
template <class R, class Key>
inline constexpr Kind connector_kind<MultiOutputItem<R, Key>> = Kind::single_source;
}  // namespace detail

}  // namespace connectors
