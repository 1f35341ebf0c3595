#pragma once

#include <connectors/input.hpp>
#include <connectors/output.hpp>

#include <memory>
#include <utility>

namespace connectors::blocks {

/// Accepts a value of any type and keeps nothing of it: the value type of an
/// input that only needs to know that something changed.
struct AnyValue {
  /// Nothing to hold.
  AnyValue() = default;
  /// Converts from any value, keeping nothing of it. Throws nothing.
  template <class T>
  AnyValue(const T&) noexcept {}  // NOLINT(google-explicit-constructor): converts from any result
};

/// Lets a large intermediate value be freed as soon as the next processing
/// step has used it — the C++ counterpart of the original's
/// WeakrefProxyGenerator (docs/blocks.md).
///
/// The block holds the only owning reference to the value; its output (not
/// cached) hands out a std::weak_ptr, which the next step locks while it
/// computes. Connect the *result* of that step back into `delete_reference`
/// (laziness ON_NOTIFY, no observers): once the step has computed, the block
/// lets go and the value is freed. It accepts a result of any type and copies
/// nothing of it (Trigger = AnyValue). Feeding a result back into an input without
/// observers is not a cycle. Use it with caching off upstream and on at the
/// end, as in the memory-saving polynomial tutorial.
///
///     blocks::WeakrefProxyGenerator<std::vector<double>> proxy;
///     proxy.input.connect(source.output);            // the large value
///     step.set_data.connect(proxy.output);           // step locks the weak_ptr
///     proxy.delete_reference.connect(step.get_result);
///
/// **Threads.** Its connectors are those of any block: every call, connect
/// and disconnect is an operation on the block's network, from any thread,
/// serialised with the others on that network (`docs/connectors.md`,
/// "Threads and nested operations").
template <class T, class Trigger = AnyValue>
class WeakrefProxyGenerator {
 public:
  /// Holds no value yet (the output hands out an empty weak_ptr).
  /// Throws only std::bad_alloc (or what constructing the value throws).
  /// Threads: as any block's construction: before another thread can reach it.
  WeakrefProxyGenerator() { configure(); }
  /// Holds `data` until the first `delete_reference`. Throws only
  /// std::bad_alloc or what moving a T throws.
  /// Throws only std::bad_alloc (or what constructing the value throws).
  /// Threads: as any block's construction: before another thread can reach it.
  explicit WeakrefProxyGenerator(T data) : data_(std::make_shared<const T>(std::move(data))) { configure(); }
  WeakrefProxyGenerator(const WeakrefProxyGenerator&) = delete;
  WeakrefProxyGenerator& operator=(const WeakrefProxyGenerator&) = delete;

 private:
  // Declared before the connectors, so destroyed after them: another thread's
  // operation may read it until they have left the network (docs/connectors.md,
  // Threads and nested operations).
  std::shared_ptr<const T> data_;

 public:
  /// A weak reference to the value held now (not cached).
  Output<std::weak_ptr<const T>> output{this, &WeakrefProxyGenerator::reference};
  /// Takes a new value to hold.
  Input<T> input{this, &WeakrefProxyGenerator::hold, output};
  /// Any value arriving here drops the held value (laziness ON_NOTIFY).
  Input<Trigger> delete_reference{this, &WeakrefProxyGenerator::release};

 private:
  void configure() {
    output.set_caching(false);
    delete_reference.set_laziness(Laziness::ON_NOTIFY);
  }

  std::weak_ptr<const T> reference() const { return data_; }
  void hold(T data) { data_ = std::make_shared<const T>(std::move(data)); }
  void release(const Trigger&) { data_.reset(); }
};

}  // namespace connectors::blocks
