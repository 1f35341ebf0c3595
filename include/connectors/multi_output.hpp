#pragma once

#include <connectors/detail/label.hpp>
#include <connectors/detail/member.hpp>
#include <connectors/detail/multi_output_node.hpp>
#include <connectors/detail/user_call.hpp>
#include <connectors/detail/wait_list.hpp>
#include <connectors/gather.hpp>
#include <connectors/input.hpp>
#include <connectors/multi_input.hpp>
#include <connectors/process_traits.hpp>

#include <concepts>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace connectors {

namespace detail {
// What set_keys accepts. A concept, so that a non-range stops at the first
// clause and reaches set_keys' static_assert instead of a hard error inside
// std::ranges::range_reference_t.
template <class Range, class Key>
concept key_range =
    std::ranges::input_range<Range> && std::is_convertible_v<std::ranges::range_reference_t<Range>, Key>;
}  // namespace detail

/// A multi-output connector: wraps a getter `R(Key) [const]` (or taking
/// `const Key&`, or returning `const R&`) and caches one result per key (SPEC
/// 1.5, 2.10):
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
/// `keys()` returns them; no other order is promised (SPEC A33).
/// Defaults: caching on, Parallelization::THREAD, the default executor.
template <class Signature>
class MultiOutput {
  static_assert(sizeof(Signature) == 0, "connectors::MultiOutput: write MultiOutput<R(Key)>");
};

template <class R, class Key>
class MultiOutput<R(Key)> final : public detail::MultiOutputNode {
  static_assert(std::is_object_v<R> && !std::is_const_v<R>,
                "connectors::MultiOutput<R(Key)>: R must be a non-const value type");
  static_assert(std::is_copy_constructible_v<R>, "connectors::MultiOutput<R(Key)>: R must be copyable");
  static_assert(std::is_object_v<Key> && !std::is_const_v<Key>,
                "connectors::MultiOutput<R(Key)>: Key must be a non-const value type");
  static_assert(std::equality_comparable<Key>, "connectors::MultiOutput<R(Key)>: Key needs ==");

 public:
  using value_type = R;
  using key_type = Key;

  template <class Owner, class Getter>
  requires std::is_member_function_pointer_v<Getter> &&
      std::derived_from<Owner, typename detail::member_owner<Getter>::type>
      MultiOutput(Owner* owner, Getter getter)
      : owner_(owner),
        getter_(getter),
        invoke_(&invoke_getter<Owner, Getter>),
        in_process_(&run_in_process<Owner, Getter>) {
    set_owner_type(typeid(Owner));
    static_assert(std::is_invocable_v<Getter, Owner&, const Key&>,
                  "connectors::MultiOutput<R(Key)>: the getter must take one Key: R getter(Key) [const]");
    static_assert(std::is_convertible_v<std::invoke_result_t<Getter, Owner&, const Key&>, R>,
                  "connectors::MultiOutput<R(Key)>: the getter's result must convert to R");
  }

  ~MultiOutput() {
    // The items are output nodes of their own; they disconnect as they go.
    std::unordered_map<Key, std::unique_ptr<Item>> items;
    {
      detail::NetworkLock lock{*this};
      items.swap(items_by_key_);
    }
    items.clear();
    detach();
  }

  /// The value for `key`: cached if valid, otherwise computed with this
  /// multi-output's executor.
  R operator()(const Key& key) {
    detail::OperationScope scope{*this};
    if (valid_.load(std::memory_order_relaxed)) {
      auto cached = results_.find(key);
      if (cached != results_.end()) return cached->second;
    }
    std::shared_ptr<Executor> executor = this->executor();
    detail::Operation operation{*executor, &scope};
    std::optional<R> result;
    detail::run_operation(operation, request_key(operation, key, &result));
    if (!result) throw std::logic_error("connectors::MultiOutput: the request ended without a result");
    return std::move(*result);
  }

  /// The virtual single output for `key`.
  MultiOutputItem<R, Key> operator[](Key key) { return MultiOutputItem<R, Key>{*this, std::move(key)}; }

  /// Connects the whole multi-output to a multi-input: every key of `keys()`
  /// delivers its value, stored under the key.
  template <class V, class Id>
  void connect(MultiInput<V, Id>& input) {
    input.connect(*this);
  }
  template <class V, class Id>
  void disconnect(MultiInput<V, Id>& input) {
    input.disconnect(*this);
  }

  /// The owner's method listing the keys a whole connection delivers: any
  /// range of values convertible to Key (a container or a one-shot view).
  /// It runs on the coordinating thread, once per delivery.
  template <class Owner, class Keys>
  requires std::is_member_function_pointer_v<Keys> &&
      std::derived_from<Owner, typename detail::member_owner<Keys>::type>
  void set_keys(Keys keys) {
    using Range = std::invoke_result_t<Keys, Owner&>;
    static_assert(detail::key_range<std::remove_reference_t<Range>, Key>,
                  "connectors::MultiOutput<R(Key)>::set_keys: keys() must return a range of values convertible to Key");
    detail::NetworkLock lock{*this};
    keys_member_ = detail::ErasedMember{keys};
    keys_ = [](void* owner, const detail::ErasedMember& member) {
      std::vector<Key> result;
      auto&& range = std::invoke(member.get<Keys>(), *static_cast<Owner*>(owner));
      for (auto&& key : range) result.emplace_back(std::forward<decltype(key)>(key));
      return result;
    };
  }
  template <class Keys>
  requires std::is_member_function_pointer_v<Keys>
  void set_keys(Keys keys) { set_keys<typename detail::member_owner<Keys>::type>(keys); }

  /// Off: every request runs the getter again. Switching off drops the cached values.
  void set_caching(bool caching) {
    detail::NetworkLock lock{*this};
    set_caching_flag(caching);
  }

  /// PROCESS is accepted only if the getter can run in a worker process with
  /// its key (owner, key and R serializable); otherwise std::invalid_argument.
  void set_parallelization(Parallelization parallelization) {
    if (parallelization == Parallelization::PROCESS) (void)in_process_(nullptr, owner_, getter_, nullptr);
    OutputNode::set_parallelization(parallelization);
  }

  const void* owner() const noexcept override { return owner_; }

 private:
  template <class V, class Id>
  friend class MultiInput;
  template <class, class>
  friend class MultiOutputItem;
  template <class V, class Id>
  friend class MultiInputItem;
  template <class V>
  friend class Input;
  template <class>
  friend class MacroInput;
  template <class>
  friend class MacroOutput;

  // The announcer of one key towards its single connections.
  class Item final : public detail::MultiOutputKeyNode {
   public:
    Item(MultiOutput& parent, Key key) : MultiOutputKeyNode(parent), parent_(parent), key_(std::move(key)) {}
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
    MultiOutput& parent_;
    Key key_;
  };

  // A key being computed: later pulls of the same key wait for its value (SPEC A20).
  struct Run {
    detail::WaitList done;
    std::optional<R> value;
  };

  template <class Owner, class Getter>
  static R invoke_getter(void* owner, const detail::ErasedMember& getter, const Key& key) {
    return std::invoke(getter.get<Getter>(), *static_cast<Owner*>(owner), key);
  }

  template <class Owner, class Getter>
  static Task<R> run_in_process(Executor* executor, void* owner, const detail::ErasedMember& getter, const Key* key) {
    using Result = std::remove_cvref_t<std::invoke_result_t<Getter, Owner&, const Key&>>;
    if constexpr (can_run_in_process_v<Owner, Result, Key>) {
      if (executor == nullptr) return Task<R>{};
      return convert<Result>(
          executor->run_method(Parallelization::PROCESS, getter.get<Getter>(), *static_cast<Owner*>(owner), *key));
    } else {
      throw std::invalid_argument("connectors::MultiOutput: this getter cannot run in a worker process: " +
                                  process_incompatibility<Owner, Result, Key>());
    }
  }
  template <class Result>
  static Task<R> convert(Task<Result> task) {
    co_return co_await std::move(task);
  }

  // The item for `key`, created on first use (under the network lock).
  detail::OutputNode& item(const Key& key) {
    detail::NetworkLock lock{*this};
    auto found = items_by_key_.find(key);
    if (found == items_by_key_.end()) found = items_by_key_.emplace(key, std::make_unique<Item>(*this, key)).first;
    ++found->second->leases;
    return *found->second;
  }
  // Ends a use of the item of `key`; forgets the item once nothing is
  // connected through it and no other connect or disconnect is using it.
  void release_item(const Key& key) noexcept {
    std::unique_ptr<Item> unused;
    {
      detail::NetworkLock lock{*this};
      auto found = items_by_key_.find(key);
      if (found == items_by_key_.end()) return;
      if (--found->second->leases != 0 || !found->second->connections().empty()) return;
      unused = std::move(found->second);
      items_by_key_.erase(found);
    }
  }
  // Runs `use` with the item of `key`, then forgets the item if unused.
  template <class Use>
  void with_item(const Key& key, Use use) {
    detail::OutputNode& node = item(key);
    try {
      use(node);
    } catch (...) {
      release_item(key);
      throw;
    }
    release_item(key);
  }

  bool key_valid(const Key& key) const { return valid_.load(std::memory_order_relaxed) && results_.contains(key); }

  Task<void> pull_announcers(detail::Operation& operation) {
    if (pending_announcements_ == 0) co_return;
    co_await request_announcers(operation);
    co_await computable_.wait(pending_announcements_ == 0, operation.id);
  }

  // SPEC 2.10 request_key, with repair A10: a valid key still reaches the
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
    if (auto running = running_keys_.find(key); running != running_keys_.end()) {
      if (caller == nullptr) co_return;
      std::shared_ptr<Run> run = running->second;
      co_await run->done.wait(false, operation.id);
      caller->emplace(*run->value);
      co_return;
    }
    auto run = std::make_shared<Run>();
    running_keys_.emplace(key, run);
    std::optional<R> value;
    const bool from_cache = key_valid(key);
    try {
      if (from_cache) {
        value.emplace(results_.at(key));
      } else {
        value.emplace(co_await detail::user_call<R>(
            operation, parallelization_,
            [this, &key]() -> R {
              return detail::probed(*this, detail::Phase::getter,
                                    [this, &key]() -> R { return invoke_(owner_, getter_, key); });
            },
            [this, &key](Executor& executor) {
              return detail::probe_process(*this, detail::Phase::getter, in_process_(&executor, owner_, getter_, &key));
            }));
        if (caching_) {
          results_.insert_or_assign(key, *value);
          mark_computed();
        }
      }
    } catch (...) {
      if (!detail::destroyed_in(operation, this)) running_keys_.erase(key);
      run->done.abort_all(std::current_exception(), operation.id);
      throw;
    }
    running_keys_.erase(key);
    if (!run->done.empty()) {
      run->value = *value;
      run->done.wake_all();
    }
    std::vector<detail::InputNode*> pulling;
    if (auto found = items_by_key_.find(key); found != items_by_key_.end()) {
      // A cached value goes only to connections that have not received it
      // (as Output's valid path); a computed one to all.
      pulling = push_value(*found->second, &*value, from_cache);
    }
    if (caller != nullptr) caller->emplace(std::move(*value));
    if (!pulling.empty()) co_await detail::request_notified(operation, std::move(pulling));
  }

  // A whole connection pulls (SPEC 2.10 request): every key of keys(),
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
        keys = keys_(owner_, keys_member_);
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
      std::vector<detail::InputNode*> pulling = push_value(*this, &delivery, false);
      if (!pulling.empty()) co_await detail::request_notified(operation, std::move(pulling));
    } catch (...) {
      if (!detail::destroyed_in(operation, this)) abort_downstream(std::current_exception(), operation);
      throw;
    }
  }

  void drop_cache() noexcept override { results_.clear(); }

  void* owner_;
  detail::ErasedMember getter_;
  R (*invoke_)(void*, const detail::ErasedMember&, const Key&);
  Task<R> (*in_process_)(Executor*, void*, const detail::ErasedMember&, const Key*);
  detail::ErasedMember keys_member_;
  std::vector<Key> (*keys_)(void*, const detail::ErasedMember&) = nullptr;
  std::unordered_map<Key, R> results_;
  std::unordered_map<Key, std::shared_ptr<Run>> running_keys_;
  std::unordered_map<Key, std::unique_ptr<Item>> items_by_key_;
};

/// `mo[key]`: a virtual single output of a MultiOutput for one key (SPEC 2.10).
/// A value: it may be used as a temporary; its connections belong to the
/// multi-output and can be broken through another `mo[key]` of the same key.
template <class R, class Key>
class MultiOutputItem {
 public:
  using value_type = R;

  MultiOutputItem(MultiOutput<R(Key)>& output, Key key) : output_(&output), key_(std::move(key)) {}

  /// The value for the key (as `mo(key)`).
  R operator()() const { return (*output_)(key_); }

  template <class Target>
  void connect(Target&& target) const {
    std::forward<Target>(target).connect(*this);
  }
  template <class Target>
  void disconnect(Target&& target) const {
    std::forward<Target>(target).disconnect(*this);
  }

  MultiOutput<R(Key)>& multi_output() const noexcept { return *output_; }
  const Key& key() const noexcept { return key_; }

 private:
  MultiOutput<R(Key)>* output_;
  Key key_;
};

// ---- the inputs' side of connections to multi-outputs ---------------------------

template <class V>
template <class R, class Key>
void Input<V>::connect(MultiOutputItem<R, Key> item) {
  static_assert(std::is_convertible_v<const R&, V>,
                "connectors: the output's value type does not convert to the input's");
  item.multi_output().with_item(item.key(),
                                [&](detail::OutputNode& node) { detail::connect_nodes(node, *this, &receive<R>); });
}

template <class V>
template <class R, class Key>
void Input<V>::disconnect(MultiOutputItem<R, Key> item) {
  item.multi_output().with_item(item.key(), [&](detail::OutputNode& node) { detail::disconnect_nodes(node, *this); });
}

template <class V, class Id>
template <class R, class Key>
void MultiInput<V, Id>::connect(MultiOutputItem<R, Key> item) {
  static_assert(std::is_convertible_v<const R&, V>,
                "connectors: the output's value type does not convert to the multi-input's");
  item.multi_output().with_item(item.key(), [&](detail::OutputNode& node) {
    connect_source(node, &receive<R>, SourceKind::single, std::nullopt);
  });
}

template <class V, class Id>
template <class R, class Key>
void MultiInput<V, Id>::disconnect(MultiOutputItem<R, Key> item) {
  item.multi_output().with_item(item.key(), [&](detail::OutputNode& node) { disconnect_source(node); });
}

template <class V, class Id>
template <class R, class Key>
void MultiInput<V, Id>::connect(MultiOutput<R(Key)>& output) {
  static_assert(std::is_convertible_v<const R&, V>,
                "connectors: the multi-output's value type does not convert to the multi-input's");
  static_assert(std::is_convertible_v<const Key&, Id>,
                "connectors: the multi-output's key type does not convert to the multi-input's id type");
  connect_source(output, &receive_map<Key, R>, SourceKind::whole, std::nullopt);
}

template <class V, class Id>
template <class R, class Key>
void MultiInput<V, Id>::disconnect(MultiOutput<R(Key)>& output) {
  disconnect_source(output);
}

template <class V, class Id>
template <class R, class Key>
void MultiInputItem<V, Id>::connect(MultiOutputItem<R, Key> item) const {
  static_assert(std::is_convertible_v<const R&, V>,
                "connectors: the output's value type does not convert to the multi-input's");
  item.multi_output().with_item(item.key(), [&](detail::OutputNode& node) {
    input_->connect_source(node, &MultiInput<V, Id>::template receive<R>, MultiInput<V, Id>::SourceKind::keyed, id_);
  });
}

template <class V, class Id>
template <class R, class Key>
void MultiInputItem<V, Id>::disconnect(MultiOutputItem<R, Key> item) const {
  item.multi_output().with_item(item.key(), [&](detail::OutputNode& node) { input_->disconnect_source(node); });
}

}  // namespace connectors
