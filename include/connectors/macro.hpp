#pragma once

#include <connectors/input.hpp>
#include <connectors/multi_input.hpp>
#include <connectors/multi_output.hpp>
#include <connectors/output.hpp>

#include <functional>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace connectors {

namespace detail {
template <class Range>
concept is_target_range = std::ranges::range<Range> && std::is_pointer_v<std::ranges::range_value_t<Range>>;
}  // namespace detail

/// Exports inputs of an owner's inner network as one input (docs/macros.md, `docs/design.md#macros`):
///
///     connectors::MacroInput<double> set_variable{power1.set_base, power2.set_base};
///
/// Calling it calls every exported input with the value, in order, each as an
/// operation of its own; connecting it connects every exported input to the
/// output, one after another. It keeps no protocol state: pure delegation.
/// It takes inputs that accept a V — Input, MultiInput, `mi[id]` — and other
/// MacroInput<V>s, whose inputs it takes over (nesting). The exported set is
/// fixed at construction (`docs/design.md#macros`). It connects to outputs of value type V
/// (Output<V>, `mo[key]` of a MultiOutput<V(Key)>, MacroOutput<V>).
///
///     class Polynomial {
///      public:
///       Power power1{1}, power2{2};
///       Sum sum;
///       connectors::MacroInput<double> set_variable{power1.set_base, power2.set_base};
///       connectors::MacroOutput<double> get_result{sum.get_result};
///       Polynomial() {
///         sum.add_summand.connect(power1.get_result);
///         sum.add_summand.connect(power2.get_result);
///       }
///     };
///
///     Polynomial p;
///     p.set_variable.connect(source.get_double);  // connects power1 and power2
///     double y = p.get_result();
///
/// **Threads.** Each member forwards to the exported connectors, so each is
/// one or several operations on their networks (one per exported input for a
/// call, connect or disconnect): any thread, serialised per network like the
/// connectors' own members; other threads may see the state between two of
/// them. Started from inside a user method, an operation on the network
/// being computed throws std::logic_error.
template <class V>
class MacroInput {
 public:
  /// The type of the values this macro input takes.
  using value_type = V;

  /// Exports `targets`: Input, MultiInput, `mi[id]` (each accepting a V) and
  /// MacroInput<V> (its inputs are taken over). Mismatched targets are a
  /// compile error. Throws only std::bad_alloc.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the macro.
  template <class... Targets>
  requires(sizeof...(Targets) > 0 && !(sizeof...(Targets) == 1 && (detail::is_target_range<Targets> &&
                                                                   ...))) explicit MacroInput(Targets&&... targets) {
    (add(std::forward<Targets>(targets)), ...);
  }
  /// Exports a number of inputs known only at run time: a range of pointers
  /// to input connectors (e.g. a std::vector<Input<V>*>).
  /// Throws only std::bad_alloc. Threads: runs as part of the owner's construction, before another thread
  /// can reach the macro.
  template <class Range>
  requires detail::is_target_range<Range>
  explicit MacroInput(Range&& targets) {
    for (auto* target : targets) add(*target);
  }
  /// A copy exports the same inputs: the same as nesting. Throws only
  /// std::bad_alloc.
  /// Any thread, as long as `other` is not being modified.
  MacroInput(const MacroInput&) = default;
  MacroInput& operator=(const MacroInput&) = delete;

  /// Calls every exported input with `value`, in order, each as an
  /// operation of its own with its own non-lazy service
  /// (`docs/macros.md`). Throws: the first exception of an exported input's
  /// call (as Input::operator() or MultiInput::operator()); the inputs after
  /// it are not called, those before keep their new value.
  /// Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  void operator()(const V& value) const {
    for (const Target& target : targets_) target.call(value);
  }

  /// Connects every exported input to `output`, one after another. A connect
  /// that one of them refuses undoes the ones this call made, so nothing
  /// changed; inputs that were connected to `output` before stay connected.
  /// An R other than V is a compile error.
  ///
  /// Throws: CycleError, ConnectionError (a second source), std::logic_error,
  /// or what a non-lazy input's method throws, as the exported inputs'
  /// connect.
  /// Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  template <class R>
  void connect(Output<R>& output) const {
    static_assert(std::is_same_v<R, V>, "connectors::MacroInput<V>: connect it to outputs of value type V");
    link(output, true);
  }
  /// Connects every exported input to one key of a multi-output; as
  /// connect(Output<R>&).
  /// Same errors. Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  template <class R, class Key>
  void connect(MultiOutputItem<R, Key> item) const {
    static_assert(std::is_same_v<R, V>, "connectors::MacroInput<V>: connect it to outputs of value type V");
    item.multi_output().with_item(item.key(), [&](detail::OutputNode& node) { link(node, true); });
  }
  /// Connects every exported input to the output a MacroOutput exports; as
  /// connect(Output<R>&), and std::logic_error if that output's value type
  /// is not V.
  /// Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  template <class R>
  void connect(const MacroOutput<R>& output) const;

  /// Disconnects every exported input from `output`, one after another.
  /// Throws: ConnectionError for the first exported input that is not
  /// connected to it (the ones before are disconnected already), or what a
  /// user method run by a disconnect throws.
  /// Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  template <class R>
  void disconnect(Output<R>& output) const {
    static_assert(std::is_same_v<R, V>, "connectors::MacroInput<V>: outputs of value type V");
    link(output, false);
  }
  /// Disconnects every exported input from one key of a multi-output; as
  /// disconnect(Output<R>&).
  /// Same errors. Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  template <class R, class Key>
  void disconnect(MultiOutputItem<R, Key> item) const {
    static_assert(std::is_same_v<R, V>, "connectors::MacroInput<V>: outputs of value type V");
    item.multi_output().with_item(item.key(), [&](detail::OutputNode& node) { link(node, false); });
  }
  /// Disconnects every exported input from the output a MacroOutput
  /// exports; as disconnect(Output<R>&).
  /// Same errors. Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  template <class R>
  void disconnect(const MacroOutput<R>& output) const;

  /// Sets the laziness of every exported input (for `mi[id]`: of its
  /// multi-input). Throws nothing of its own; takes each input's network lock.
  void set_laziness(Laziness laziness) const {
    for (const Target& target : targets_) target.node->set_laziness(laziness);
  }
  /// Sets the parallelization flag of every exported input. Throws
  /// std::invalid_argument for a value outside the enum; takes each input's
  /// network lock.
  void set_parallelization(Parallelization parallelization) const {
    for (const Target& target : targets_) target.node->set_parallelization(parallelization);
  }
  /// Sets the executor of every exported input (null: the default
  /// executor). Throws nothing of its own; takes each input's network lock.
  void set_executor(const std::shared_ptr<Executor>& executor) const {
    for (const Target& target : targets_) target.node->set_executor(executor);
  }
  /// Gives the exported inputs this name in pictures and timelines
  /// (docs/observability.md), as `set_name` does for one connector:
  ///
  ///     input.set_name("polynomial.x");
  ///
  /// Thread safety: takes the network lock, like connect.
  /// Throws only std::bad_alloc.
  void set_name(const std::string& name) const {
    for (const Target& target : targets_) target.node->set_name(name);
  }
  /// \cond INTERNAL
  // A connector of the network it belongs to (connectors::to_dot).
  const detail::NodeBase& network_node() const noexcept { return *targets_.front().node; }
  /// \endcond

 private:
  template <class>
  friend class MacroInput;
  template <class>
  friend class MacroOutput;

  // One exported input: how to call it and how to link a source whose values
  // are V (connect or disconnect).
  struct Target {
    detail::InputNode* node;
    std::function<void(const V&)> call;
    std::function<void(detail::OutputNode&, bool)> link;
  };

  template <class W>
  void add(Input<W>& input) {
    static_assert(std::is_convertible_v<const V&, W>, "connectors::MacroInput<V>: an exported input does not accept V");
    targets_.push_back(Target{&input, [&input](const V& value) { input(W(value)); },
                              [&input](detail::OutputNode& source, bool connect) {
                                if (connect) {
                                  detail::connect_nodes(source, input, &Input<W>::template receive<V>);
                                } else {
                                  detail::disconnect_nodes(source, input);
                                }
                              }});
  }
  template <class W, class Id>
  void add(MultiInput<W, Id>& input) {
    static_assert(std::is_convertible_v<const V&, W>, "connectors::MacroInput<V>: an exported input does not accept V");
    targets_.push_back(Target{&input, [&input](const V& value) { input(W(value)); },
                              [&input](detail::OutputNode& source, bool connect) {
                                using Multi = MultiInput<W, Id>;
                                if (connect) {
                                  input.connect_source(source, &Multi::template receive<V>, Multi::SourceKind::single,
                                                       std::nullopt);
                                } else {
                                  input.disconnect_source(source);
                                }
                              }});
  }
  template <class W, class Id>
  void add(MultiInputItem<W, Id> item) {
    static_assert(std::is_convertible_v<const V&, W>, "connectors::MacroInput<V>: an exported input does not accept V");
    MultiInput<W, Id>& input = item.multi_input();
    targets_.push_back(Target{&input, [item](const V& value) { item(W(value)); },
                              [&input, id = item.id()](detail::OutputNode& source, bool connect) {
                                using Multi = MultiInput<W, Id>;
                                if (connect) {
                                  input.connect_source(source, &Multi::template receive<V>, Multi::SourceKind::keyed,
                                                       id);
                                } else {
                                  input.disconnect_source(source);
                                }
                              }});
  }
  template <class W>
  void add(MacroInput<W>& inner) {
    static_assert(std::is_same_v<W, V>, "connectors::MacroInput<V>: a nested MacroInput must have the same V");
    targets_.insert(targets_.end(), inner.targets_.begin(), inner.targets_.end());
  }
  template <class W>
  void add(const MacroInput<W>& inner) {
    add(const_cast<MacroInput<W>&>(inner));
  }

  // Connects (or disconnects) every exported input, one after another. A
  // connect that fails for one of them (a cycle, a second source) undoes the
  // ones before, so that nothing changed (docs/design.md#macros).
  void link(detail::OutputNode& source, bool connect) const {
    std::vector<const Target*> connected_here;  // not those connected before (no-ops, docs/design.md#macros)
    try {
      for (const Target& target : targets_) {
        bool before = false;
        if (connect) {
          detail::NetworkLock lock{source};
          before = source.is_connected_to(*target.node);
        }
        target.link(source, connect);
        if (connect && !before) connected_here.push_back(&target);
      }
    } catch (...) {
      for (const Target* target : connected_here) {
        try {
          target->link(source, false);
        } catch (...) {
          // Already failing: the first error is the one reported.
        }
      }
      throw;
    }
  }

  std::vector<Target> targets_;
};

/// Exports one output of an owner's inner network (docs/macros.md, `docs/design.md#macros`):
///
///     connectors::MacroOutput<double> get_result{sum.get_result};
///
/// Calling it returns the exported output's value; connecting, caching,
/// parallelization and executor are forwarded to it. It takes an Output,
/// `mo[key]` or another MacroOutput whose value converts to R; it connects
/// only when that value type is R itself (std::logic_error otherwise).
/// See MacroInput for an example.
///
/// **Threads.** Each member forwards to the exported connectors, so each is
/// an operation on the exported output's network: any thread, serialised per network like the
/// connectors' own members; other threads may see the state between two of
/// them. Started from inside a user method, an operation on the network
/// being computed throws std::logic_error.
template <class R>
class MacroOutput {
 public:
  /// The type of the values this macro output produces.
  using value_type = R;

  /// Exports `output`, whose value must convert to R (a compile error
  /// otherwise). Throws only std::bad_alloc.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the macro.
  template <class S>
  explicit MacroOutput(Output<S>& output)
      : call_([&output] { return R(output()); }),
        with_source_([&output](const std::function<void(detail::OutputNode&)>& use) { use(output); }),
        node_(&output),
        connectable_(std::is_same_v<S, R>),
        set_caching_([&output](bool caching) { output.set_caching(caching); }),
        set_parallelization_([&output](Parallelization p) { output.set_parallelization(p); }) {
    static_assert(std::is_convertible_v<S, R>,
                  "connectors::MacroOutput<R>: the exported output's value must convert to R");
  }
  /// Exports one key of a multi-output (`mo[key]`). Throws only
  /// std::bad_alloc.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the macro.
  template <class S, class Key>
  explicit MacroOutput(MultiOutputItem<S, Key> item)
      : call_([item] { return R(item()); }),
        with_source_([item](const std::function<void(detail::OutputNode&)>& use) {
          item.multi_output().with_item(item.key(), use);
        }),
        node_(&item.multi_output()),
        connectable_(std::is_same_v<S, R>),
        set_caching_([item](bool caching) { item.multi_output().set_caching(caching); }),
        set_parallelization_([item](Parallelization p) { item.multi_output().set_parallelization(p); }) {
    static_assert(std::is_convertible_v<S, R>,
                  "connectors::MacroOutput<R>: the exported output's value must convert to R");
  }
  /// Exports the output another MacroOutput exports (nesting). Throws only
  /// std::bad_alloc.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the macro.
  template <class S>
  explicit MacroOutput(const MacroOutput<S>& inner)
      : call_([call = inner.call_] { return R(call()); }),
        with_source_(inner.with_source_),
        node_(inner.node_),
        connectable_(inner.connectable_ && std::is_same_v<S, R>),
        set_caching_(inner.set_caching_),
        set_parallelization_(inner.set_parallelization_) {
    static_assert(std::is_convertible_v<S, R>,
                  "connectors::MacroOutput<R>: the exported output's value must convert to R");
  }
  /// A copy exports the same output: the same as nesting. Throws only
  /// std::bad_alloc.
  /// Any thread.
  MacroOutput(const MacroOutput&) = default;
  MacroOutput& operator=(const MacroOutput&) = delete;

  /// The exported output's value, converted to R: the exported output's
  /// call, with its errors.
  /// Threads: an operation on the exported output's network; any thread.
  R operator()() const { return call_(); }

  /// Connects an input-like connector to the exported output; the same as
  /// `target.connect(*this)`. Throws std::logic_error if the exported
  /// output's value type is not R; otherwise the target's connect errors.
  /// Threads: an operation on both networks; any thread.
  template <class Target>
  void connect(Target&& target) const {
    std::forward<Target>(target).connect(*this);
  }
  /// Breaks a connection made with connect; the same as
  /// `target.disconnect(*this)`, with its errors.
  /// Threads: an operation on the exported output's network; any thread.
  template <class Target>
  void disconnect(Target&& target) const {
    std::forward<Target>(target).disconnect(*this);
  }

  /// Sets caching of the exported output (for `mo[key]`: of its whole
  /// multi-output). Throws nothing of its own; takes its network lock.
  void set_caching(bool caching) const { set_caching_(caching); }
  /// Sets the exported output's parallelization flag; the errors of its
  /// set_parallelization (std::invalid_argument for PROCESS when the getter
  /// cannot run in a worker process).
  /// Threads: takes the network lock; any thread.
  void set_parallelization(Parallelization parallelization) const { set_parallelization_(parallelization); }
  /// Sets the exported output's executor (null: the default executor).
  /// Throws nothing of its own; takes its network lock.
  void set_executor(std::shared_ptr<Executor> executor) const { node_->set_executor(std::move(executor)); }
  /// Gives the exported output this name in pictures and timelines
  /// (docs/observability.md), as `set_name` does for one connector:
  ///
  ///     output.set_name("polynomial.y");
  ///
  /// Thread safety: takes the network lock, like connect.
  /// Throws only std::bad_alloc.
  void set_name(std::string name) const { node_->set_name(std::move(name)); }
  /// \cond INTERNAL
  // A connector of the network it belongs to (connectors::to_dot).
  const detail::NodeBase& network_node() const noexcept { return *node_; }
  /// \endcond

 private:
  template <class>
  friend class MacroOutput;
  template <class>
  friend class MacroInput;
  template <class>
  friend class Input;
  template <class, class>
  friend class MultiInput;
  template <class, class>
  friend class MultiInputItem;

  // Runs `use` with the exported output node, whose values are R.
  void with_source(const std::function<void(detail::OutputNode&)>& use) const {
    if (!connectable_) {
      throw std::logic_error(
          "connectors::MacroOutput<R>: it exports an output of another value type; only a MacroOutput exporting an "
          "output of type R can be connected");
    }
    with_source_(use);
  }

  std::function<R()> call_;
  std::function<void(const std::function<void(detail::OutputNode&)>&)> with_source_;
  detail::NodeBase* node_;
  bool connectable_;
  std::function<void(bool)> set_caching_;
  std::function<void(Parallelization)> set_parallelization_;
};

// ---- the inputs' side of connections to macro outputs -----------------------------

template <class V>
template <class R>
void MacroInput<V>::connect(const MacroOutput<R>& output) const {
  static_assert(std::is_same_v<R, V>, "connectors::MacroInput<V>: connect it to outputs of value type V");
  output.with_source([&](detail::OutputNode& node) { link(node, true); });
}
template <class V>
template <class R>
void MacroInput<V>::disconnect(const MacroOutput<R>& output) const {
  output.with_source([&](detail::OutputNode& node) { link(node, false); });
}

template <class V>
template <class R>
void Input<V>::connect(const MacroOutput<R>& output) {
  static_assert(std::is_convertible_v<const R&, V>,
                "connectors: the output's value type does not convert to the input's");
  output.with_source([&](detail::OutputNode& node) { detail::connect_nodes(node, *this, &receive<R>); });
}
template <class V>
template <class R>
void Input<V>::disconnect(const MacroOutput<R>& output) {
  output.with_source([&](detail::OutputNode& node) { detail::disconnect_nodes(node, *this); });
}

template <class V, class Id>
template <class R>
void MultiInput<V, Id>::connect(const MacroOutput<R>& output) {
  static_assert(std::is_convertible_v<const R&, V>,
                "connectors: the output's value type does not convert to the multi-input's");
  output.with_source(
      [&](detail::OutputNode& node) { connect_source(node, &receive<R>, SourceKind::single, std::nullopt); });
}
template <class V, class Id>
template <class R>
void MultiInput<V, Id>::disconnect(const MacroOutput<R>& output) {
  output.with_source([&](detail::OutputNode& node) { disconnect_source(node); });
}

template <class V, class Id>
template <class R>
void MultiInputItem<V, Id>::connect(const MacroOutput<R>& output) const {
  static_assert(std::is_convertible_v<const R&, V>,
                "connectors: the output's value type does not convert to the multi-input's");
  output.with_source([&](detail::OutputNode& node) {
    input_->connect_source(node, &MultiInput<V, Id>::template receive<R>, MultiInput<V, Id>::SourceKind::keyed, id_);
  });
}
template <class V, class Id>
template <class R>
void MultiInputItem<V, Id>::disconnect(const MacroOutput<R>& output) const {
  output.with_source([&](detail::OutputNode& node) { input_->disconnect_source(node); });
}

}  // namespace connectors
