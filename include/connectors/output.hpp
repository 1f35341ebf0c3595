#pragma once

#include <connectors/detail/cache_slot.hpp>
#include <connectors/detail/member.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/user_call.hpp>
#include <connectors/process_traits.hpp>

#include <concepts>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace connectors {

template <class V>
class Input;

/// An output connector: wraps a getter `R() [const]` (or one returning
/// `const R&`) of its owner. Calling it returns the cached result when valid,
/// otherwise computes what is stale upstream and then the getter, with this
/// output's executor (docs/design.md#output). Declared as a member:
///
///     connectors::Output<double> get_double{this, &TimesTwo::compute};
///
/// Defaults: caching on, Parallelization::THREAD, the default executor.
template <class R>
class Output final : public detail::OutputNode {
  static_assert(std::is_object_v<R> && !std::is_const_v<R>, "connectors::Output<R>: R must be a non-const value type");
  static_assert(std::is_copy_constructible_v<R>,
                "connectors::Output<R>: R must be copyable (results are cached and pushed to every connection)");

 public:
  using value_type = R;

  template <class Owner, class Getter>
  requires std::is_member_function_pointer_v<Getter> &&
      std::derived_from<Owner, typename detail::member_owner<Getter>::type>
      Output(Owner* owner, Getter getter)
      : owner_(owner),
        getter_(getter),
        invoke_(&invoke_getter<Owner, Getter>),
        in_process_(&run_in_process<Owner, Getter>) {
    droppable_cache_ = !detail::CacheSlot<R>::lock_free;
    set_owner_type(typeid(Owner));
    static_assert(std::is_invocable_v<Getter, Owner&>,
                  "connectors::Output: the getter must take no arguments: R getter() [const]");
    static_assert(std::is_convertible_v<std::invoke_result_t<Getter, Owner&>, R>,
                  "connectors::Output<R>: the getter's result must convert to R");
  }
  ~Output() { detach(); }

  /// The result: cached if valid, otherwise computed with this output's
  /// executor (user methods run where their flags and the executor say).
  R operator()() {
    if constexpr (detail::CacheSlot<R>::lock_free) {
      // A cache hit takes no lock: the value is published atomically.
      if (valid_.load(std::memory_order_acquire)) return cache_.load();
    }
    detail::OperationScope scope{*this};
    if (valid_.load(std::memory_order_relaxed)) return cache_.load();
    std::shared_ptr<Executor> executor = this->executor();
    detail::Operation operation{*executor, &scope};
    if (caching_) {
      // No coroutines, no event loop, except where a method runs elsewhere or
      // branches may run concurrently (pull_inline hands those over).
      detail::pull_inline(operation, *this);
      if (!valid_.load(std::memory_order_relaxed)) {
        throw std::logic_error("connectors::Output: the request ended without a result");
      }
      return cache_.load();
    }
    std::optional<R> result;
    detail::run_operation(operation, request_for(operation, &result));
    if (!result) throw std::logic_error("connectors::Output: the request ended without a result");
    return std::move(*result);
  }

  /// Connects an input-like connector: Input, MultiInput, `mi[id]`, MacroInput.
  template <class Target>
  void connect(Target&& target) {
    std::forward<Target>(target).connect(*this);
  }
  template <class Target>
  void disconnect(Target&& target) {
    std::forward<Target>(target).disconnect(*this);
  }

  /// PROCESS is accepted only if the getter can run in a worker process (the
  /// owner default-constructible and cereal-serializable, R serializable);
  /// otherwise std::invalid_argument names the type at fault.
  void set_parallelization(Parallelization parallelization) {
    if (parallelization == Parallelization::PROCESS) (void)in_process_(nullptr, owner_, getter_);
    OutputNode::set_parallelization(parallelization);
  }

  const void* owner() const noexcept override { return owner_; }

  /// Off: every request runs the getter again (the result is still pushed to
  /// every connection). Switching off drops the cached value.
  void set_caching(bool caching) {
    detail::NetworkLock lock{*this};
    set_caching_flag(caching);
  }

 private:
  template <class Owner, class Getter>
  static R invoke_getter(void* owner, const detail::ErasedMember& getter) {
    return std::invoke(getter.get<Getter>(), *static_cast<Owner*>(owner));
  }

  // With an executor: the task that runs the getter on a copy of the owner in
  // a worker process. Without one: only checks that it could (or throws).
  template <class Owner, class Getter>
  static Task<R> run_in_process(Executor* executor, void* owner, const detail::ErasedMember& getter) {
    using Result = std::remove_cvref_t<std::invoke_result_t<Getter, Owner&>>;
    if constexpr (can_run_in_process_v<Owner, Result>) {
      if (executor == nullptr) return Task<R>{};
      auto task = executor->run_method(Parallelization::PROCESS, getter.get<Getter>(), *static_cast<Owner*>(owner));
      if constexpr (std::is_same_v<Result, R>) {
        return task;
      } else {
        return convert<Result>(std::move(task));
      }
    } else {
      throw std::invalid_argument("connectors::Output: this getter cannot run in a worker process: " +
                                  process_incompatibility<Owner, Result>());
    }
  }
  template <class Result>
  static Task<R> convert(Task<Result> task) {
    co_return co_await std::move(task);
  }

  Task<void> request(detail::Operation& operation) override { return request_for(operation, nullptr); }

  Task<void> request_for(detail::Operation& operation, std::optional<R>* caller) {
    detail::OperationScope::check_not_poisoned(operation.scope);  // this connector may be gone
    if (running_) co_return;
    detail::RunningFlag running{running_, *this, operation.scope};
    try {
      if (!valid_.load(std::memory_order_relaxed) && pending_announcements_ > 0) {
        // Pull every observed input with a pending change, then wait until
        // all of them notified or cancelled.
        if (detail::InputNode* sole = sole_announcer()) {
          co_await sole->request(operation);
        } else {
          co_await request_announcers(operation);
        }
        co_await computable_.wait(pending_announcements_ == 0, operation.id);
        // Valid now if every announced change was cancelled (docs/design.md#cancel).
      }
      if (valid_.load(std::memory_order_relaxed)) {
        // Only connections that have not received this value get it
        // (docs/design.md#output): the others hold it already, and an ON_NOTIFY input
        // among them must not run its setter again while its owner's getter
        // may be running on another thread. A reference for large values:
        // nothing changes the cache while the value is pushed.
        auto&& cached = cache_.load();
        if (caller != nullptr) caller->emplace(cached);
        std::vector<detail::InputNode*> pulling = push(cached, true);
        if (!pulling.empty()) co_await detail::request_notified(operation, std::move(pulling));
        co_return;
      }
      R result = co_await detail::user_call<R>(
          operation, parallelization_,
          [this]() -> R {
            return detail::probed(*this, detail::Phase::getter, [this]() -> R { return invoke_(owner_, getter_); });
          },
          [this](Executor& executor) {
            return detail::probe_process(*this, detail::Phase::getter, in_process_(&executor, owner_, getter_));
          });
      if (caching_) {
        cache_.store(result);
        mark_computed();
      }
      std::vector<detail::InputNode*> pulling = push(result, false);
      if (caller != nullptr) caller->emplace(std::move(result));
      if (!pulling.empty()) co_await detail::request_notified(operation, std::move(pulling));
    } catch (...) {
      if (!detail::destroyed_in(operation, this)) abort_downstream(std::current_exception(), operation);
      throw;
    }
  }

  // Pushes `value` to the connections (each stores a converted copy); returns
  // the ON_NOTIFY inputs, which the caller then requests concurrently.
  std::vector<detail::InputNode*> push(const R& value, bool only_unreceived) {
    return push_value(*this, &value, only_unreceived);
  }

  void drop_cache() noexcept override { cache_.reset(); }

  void compute_inline(detail::Operation& operation, std::vector<detail::InputNode*>& pulling) override {
    R result = [&]() -> R {
      detail::UserCallScope user{operation.scope};
      R computed = detail::probed(*this, detail::Phase::getter, [this]() -> R { return invoke_(owner_, getter_); });
      detail::OperationScope::check_not_poisoned(operation.scope);
      return computed;
    }();
    if (caching_) {
      cache_.store(result);
      mark_computed();
    }
    pulling = push(result, false);
  }
  void push_cached_inline(std::vector<detail::InputNode*>& pulling) override {
    auto&& cached = cache_.load();
    pulling = push(cached, true);
  }

  void* owner_;
  detail::ErasedMember getter_;
  R (*invoke_)(void*, const detail::ErasedMember&);
  Task<R> (*in_process_)(Executor*, void*, const detail::ErasedMember&);
  detail::CacheSlot<R> cache_;
};

}  // namespace connectors

// Output<R>::connect needs Input<V>; either header may be included first.
#include <connectors/input.hpp>
