#pragma once

#include <connectors/input.hpp>
#include <connectors/output.hpp>

#include <memory>
#include <utility>

namespace connectors::blocks {

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
/// Accepts a value of any type and keeps nothing of it: the value type of an
/// input that only needs to know that something changed.
struct AnyValue {
  AnyValue() = default;
  template <class T>
  AnyValue(const T&) noexcept {}  // NOLINT(google-explicit-constructor): converts from any result
};

template <class T, class Trigger = AnyValue>
class WeakrefProxyGenerator {
 public:
  WeakrefProxyGenerator() { configure(); }
  explicit WeakrefProxyGenerator(T data) : data_(std::make_shared<const T>(std::move(data))) { configure(); }
  WeakrefProxyGenerator(const WeakrefProxyGenerator&) = delete;
  WeakrefProxyGenerator& operator=(const WeakrefProxyGenerator&) = delete;

  Output<std::weak_ptr<const T>> output{this, &WeakrefProxyGenerator::reference};
  Input<T> input{this, &WeakrefProxyGenerator::hold, output};
  Input<Trigger> delete_reference{this, &WeakrefProxyGenerator::release};

 private:
  void configure() {
    output.set_caching(false);
    delete_reference.set_laziness(Laziness::ON_NOTIFY);
  }

  std::weak_ptr<const T> reference() const { return data_; }
  void hold(T data) { data_ = std::make_shared<const T>(std::move(data)); }
  void release(const Trigger&) { data_.reset(); }

  std::shared_ptr<const T> data_;
};

}  // namespace connectors::blocks
