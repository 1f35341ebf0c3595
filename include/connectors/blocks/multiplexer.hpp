#pragma once

#include <connectors/input.hpp>
#include <connectors/multi_input.hpp>
#include <connectors/multi_input_data.hpp>
#include <connectors/output.hpp>

#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace connectors::blocks {

/// Routes one of many inputs to its output, chosen by a selector (docs/blocks.md):
///
///     blocks::Multiplexer<std::string, std::string> mux{"b"};
///     mux.input["a"].connect(source_a.output);
///     mux.input["b"].connect(source_b.output);
///     mux.output();  // source_b's value
///
/// Values are stored by key (`input[key]`); `output()` is the value under the
/// current selector, or std::nullopt when there is none (`docs/design.md#blocks`). A change of
/// an unselected input cancels instead of notifying, so nothing downstream is
/// recomputed for it. A plain `input(value)` stores under a new key, for an
/// integral Key only (std::logic_error otherwise).
///
/// **Threads.** Its connectors are those of any block: every call, connect
/// and disconnect is an operation on the block's network, from any thread,
/// serialised with the others on that network (`docs/connectors.md`,
/// "Threads and nested operations"). Its connectors may be flagged THREAD:
/// the selector is locked, as `select`'s setter may run while `input`'s
/// notify condition reads it (`docs/parallelization.md`).
template <class T, class Key = std::size_t>
class Multiplexer {
 public:
  /// No selector yet: output() is std::nullopt until `select` is called.
  /// Throws only std::bad_alloc (or what constructing the value throws).
  /// Threads: as any block's construction: before another thread can reach it.
  Multiplexer() { configure(); }
  /// Starts with `selector` selected. Throws what moving a Key throws.
  /// Throws only std::bad_alloc (or what constructing the value throws).
  /// Threads: as any block's construction: before another thread can reach it.
  explicit Multiplexer(Key selector) : selector_(std::move(selector)) { configure(); }
  Multiplexer(const Multiplexer&) = delete;
  Multiplexer& operator=(const Multiplexer&) = delete;

 private:
  // Declared before the connectors, so destroyed after them: another thread's
  // operation may read it until they have left the network (docs/connectors.md,
  // Threads and nested operations).
  std::optional<Key> selector_;
  // Within one operation `select`'s setter and `input`'s notify condition
  // may run at the same time on two threads, when flagged THREAD.
  mutable std::mutex selector_mutex_;
  MultiInputData<T, Key> data_;

 public:
  /// The value under the current selector, or std::nullopt.
  Output<std::optional<T>> output{this, &Multiplexer::selected_value};
  /// Chooses the key whose value `output` returns.
  Input<Key> select{this, &Multiplexer::set_selector, output};
  /// The values, by key: `input[key]` is the virtual input for one key.
  MultiInput<T, Key> input{this, &Multiplexer::add, &Multiplexer::remove, output};

 private:
  void configure() {
    input.set_replace(&Multiplexer::replace);
    input.set_notify_condition(&Multiplexer::is_selected);
  }

  std::optional<T> selected_value() const {
    std::lock_guard lock{selector_mutex_};
    if (!selector_ || !data_.contains(*selector_)) return std::nullopt;
    return data_.at(*selector_);
  }
  void set_selector(Key selector) {
    std::lock_guard lock{selector_mutex_};
    selector_ = std::move(selector);
  }
  Key add(T value) {
    if constexpr (std::is_integral_v<Key>) {
      return data_.add(std::move(value));
    } else {
      throw std::logic_error(
          "connectors::blocks::Multiplexer: storing without a key needs an integral Key; use input[key]");
    }
  }
  void remove(const Key& key) { data_.erase(key); }
  void replace(const Key& key, T value) { data_.insert_or_assign(key, std::move(value)); }
  bool is_selected(const Key& key, const std::optional<T>&) const {
    std::lock_guard lock{selector_mutex_};
    return selector_ && key == *selector_;
  }
};

}  // namespace connectors::blocks
