#pragma once

#include <connectors/connection.hpp>
#include <connectors/detail/node_access.hpp>
#include <connectors/input.hpp>
#include <connectors/multi_input.hpp>
#include <connectors/multi_output.hpp>
#include <connectors/output.hpp>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace connectors {

template <class V>
class MacroInput;
template <class R>
class MacroOutput;

namespace detail {
template <class Range>
concept is_target_range = std::ranges::range<Range> && std::is_pointer_v<std::ranges::range_value_t<Range>>;

template <class T>
inline constexpr bool is_macro_input = false;
template <class V>
inline constexpr bool is_macro_input<MacroInput<V>> = true;
// What a MacroOutput exports: any single source but the macro's own type,
// whose copies go to the copy constructor.
template <class Source, class Macro>
concept exported_source = SingleSource<Source> && !std::is_same_v<std::remove_cvref_t<Source>, Macro>;

template <class T>
inline constexpr bool is_macro_output = false;
template <class R>
inline constexpr bool is_macro_output<MacroOutput<R>> = true;

// The block a MacroOutput<R> puts between an exported output of another value
// type S and its own connections (docs/design.md#connector-kinds): it
// receives S values and hands out R values. A conversion is cheap, so it runs
// on the coordinating thread.
template <class S, class R>
class Converter {
 public:
  Converter() { output.set_parallelization(Parallelization::SEQUENTIAL); }
  Converter(const Converter&) = delete;
  Converter& operator=(const Converter&) = delete;
  ~Converter() = default;

 private:
  // Declared before the connectors, so destroyed after them: another
  // thread's operation may still run the setter until they have left the
  // network (docs/connectors.md, Threads and nested operations).
  std::optional<S> value_;

 public:
  Output<R> output{this, &Converter::get};
  Input<S> input{this, &Converter::set, output};

 private:
  R get() const {
    if (!value_) throw std::logic_error("connectors::MacroOutput: the exported output never delivered a value");
    return R(*value_);
  }
  void set(const S& value) { value_.emplace(value); }
};
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
  /// MacroInput<V> (its inputs are taken over). A connector given twice
  /// (directly or through nested macros) is exported once; an `mi[id]`
  /// handle is a value, exported as often as given. Mismatched
  /// targets are a compile error. Throws only std::bad_alloc.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the macro.
  template <class... Targets>
  requires(sizeof...(Targets) > 0 && !(sizeof...(Targets) == 1 && (detail::is_target_range<Targets> &&
                                                                   ...))) explicit MacroInput(Targets&&... targets) {
    (add(std::forward<Targets>(targets)), ...);
    drop_duplicates();
  }
  /// Exports a number of inputs known only at run time: a range of pointers
  /// to input connectors (e.g. a std::vector<Input<V>*>).
  /// Throws std::invalid_argument for an empty range or a null pointer in it
  /// (a macro input exports at least one input, as the variadic constructor
  /// requires at compile time); otherwise only std::bad_alloc.
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the macro.
  template <class Range>
  requires detail::is_target_range<Range>
  explicit MacroInput(Range&& targets) {
    for (auto* target : targets) {
      if (target == nullptr) throw std::invalid_argument("connectors::MacroInput: a null input in the range");
      add(*target);
    }
    if (targets_.empty()) {
      throw std::invalid_argument("connectors::MacroInput: an empty range (a macro input exports at least one input)");
    }
    drop_duplicates();
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
  /// it are not called, those before keep their new value. std::bad_alloc
  /// before any is called.
  /// Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  void operator()(const V& value) const {
    // Copied and watched, as in link: a setter may destroy the macro's owner
    // (in another network than its own, no error says so), and with it this
    // macro input and the inputs it exports; those are then left alone.
    std::vector<Target> targets = targets_;
    detail::DestructionWatch watch{&forget_target, &targets};
    for (const Target& target : targets) {
      if (target.node != nullptr) target.call(value);
    }
  }

  /// Connects every exported input to `source` (an Output, `mo[key]`, a
  /// MacroOutput: any SingleSource of value type V), one after another; the
  /// same as `source.connect(*this)`. A connect that one of them refuses
  /// undoes the ones this call made, so nothing changed; inputs that were
  /// connected to the source before stay connected. One whose connection
  /// is made but whose non-lazy method then throws stays connected, as an
  /// input's own connect does, and the others are still connected; that
  /// error is thrown at the end. A source of another value type than V is a
  /// compile error.
  ///
  /// Throws: CycleError, ConnectionError (a second source), std::logic_error,
  /// or what a non-lazy input's method throws, as the exported inputs'
  /// connect.
  /// Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  template <class Source>
  requires Joinable<Source, const MacroInput&>
  void connect(Source&& source) const { connectors::connect(std::forward<Source>(source), *this); }
  /// Disconnects every exported input that is connected to `source`, one
  /// after another; one whose user method throws (a multi-input's remove)
  /// is disconnected anyway, and the others still are.
  /// Throws: ConnectionError if none of them is connected to `source`;
  /// otherwise the first error a user method run by a disconnect threw,
  /// once all are disconnected.
  /// Threads: one operation per exported input (other threads may run theirs
  /// in between); any thread.
  template <class Source>
  requires Joinable<Source, const MacroInput&>
  void disconnect(Source&& source) const { connectors::disconnect(std::forward<Source>(source), *this); }

  /// Sets the laziness of every exported input (for `mi[id]`: of its
  /// multi-input), or of none: when one refuses (std::logic_error for an
  /// input whose network the calling method computes), those set before it
  /// get their laziness back. Throws std::invalid_argument for a value that
  /// is not a Laziness, the refusal, or std::bad_alloc; takes each input's
  /// network lock.
  void set_laziness(Laziness laziness) const {
    set_all_or_none(laziness, [](detail::InputNode& node, Laziness value) {
      const Laziness before = node.laziness();
      node.set_laziness(value);
      return before;
    });
  }
  /// Sets the parallelization flag of every exported input, or of none (as
  /// set_laziness). Throws std::invalid_argument for a value outside the
  /// enum, a refusal as set_laziness, or std::bad_alloc; takes each input's
  /// network lock.
  void set_parallelization(Parallelization parallelization) const {
    set_all_or_none(parallelization, [](detail::InputNode& node, Parallelization value) {
      const Parallelization before = node.parallelization();
      node.set_parallelization(value);
      return before;
    });
  }
  /// Sets the executor of every exported input (null: the default
  /// executor), or of none (as set_laziness). Throws a refusal as
  /// set_laziness, or std::bad_alloc; takes each input's network lock.
  void set_executor(const std::shared_ptr<Executor>& executor) const {
    set_all_or_none(executor, [](detail::InputNode& node, const std::shared_ptr<Executor>& value) {
      return node.exchange_executor(value);
    });
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

 private:
  friend struct detail::NodeAccess;
  template <class>
  friend class MacroInput;

  // A connector of the network it belongs to (connectors::to_dot).
  detail::NodeBase& protocol_node() const noexcept { return *targets_.front().node; }
  template <class R>
  void link_single(detail::OutputNode& source, bool connect) const {
    link(source, connect);
  }

  // One exported input: how to call it and how to link a source whose values
  // are V (connect or disconnect).
  // Applies `exchange` (set, returning the setting before) to every exported
  // input; when one throws, those changed before it get their setting back
  // (an input's own setting is all or nothing, and so is the macro's:
  // docs/macros.md). The undo takes locks that were just taken; only memory
  // exhaustion could fail it, and then the first error is the one thrown.
  template <class Value, class Exchange>
  void set_all_or_none(const Value& value, Exchange exchange) const {
    std::vector<Value> before;
    before.reserve(targets_.size());
    try {
      for (const Target& target : targets_) before.push_back(exchange(*target.node, value));
    } catch (...) {
      // Backwards: an input exported twice (two `mi[id]` of one
      // multi-input) gave the new value back the second time.
      for (std::size_t undone = before.size(); undone-- > 0;) {
        try {
          (void)exchange(*targets_[undone].node, before[undone]);
        } catch (...) {
        }
      }
      throw;
    }
  }

  struct Target {
    detail::InputNode* node;
    std::function<void(const V&)> call;
    std::function<void(detail::OutputNode&, bool)> link;
    bool by_reference;  // a connector, not an `mi[id]` handle
  };

  // A connector exported twice (directly or through nested macros that
  // overlap) is exported once, where it first appears: calling it twice
  // would set it twice, and its second connect is a no-op whose disconnect
  // then finds nothing. Sorted, so that a range of 10^5 inputs costs no
  // quadratic search.
  void drop_duplicates() {
    std::vector<std::pair<const detail::InputNode*, std::size_t>> connectors;
    for (std::size_t position = 0; position < targets_.size(); ++position) {
      if (targets_[position].by_reference) connectors.emplace_back(targets_[position].node, position);
    }
    std::sort(connectors.begin(), connectors.end());
    std::vector<bool> repeated(targets_.size(), false);
    for (std::size_t index = 1; index < connectors.size(); ++index) {
      if (connectors[index].first == connectors[index - 1].first) repeated[connectors[index].second] = true;
    }
    std::size_t kept = 0;
    for (std::size_t position = 0; position < targets_.size(); ++position) {
      if (!repeated[position]) targets_[kept++] = std::move(targets_[position]);
    }
    targets_.erase(targets_.begin() + static_cast<std::ptrdiff_t>(kept), targets_.end());
  }

  // Any sink kind (docs/design.md#connector-kinds); a nested MacroInput hands
  // over its inputs. A handle (`mi[id]`) is kept by value, a connector by
  // reference.
  template <class Sink>
  void add(Sink&& sink) {
    using SinkType = std::remove_cvref_t<Sink>;
    static_assert(SingleSink<SinkType>,
                  "connectors::MacroInput<V>: it exports inputs: Input, MultiInput, mi[id] or MacroInput");
    if constexpr (!SingleSink<SinkType>) {
      return;  // after the error above, nothing more
    } else if constexpr (detail::is_macro_input<SinkType>) {
      static_assert(std::is_same_v<typename SinkType::value_type, V>,
                    "connectors::MacroInput<V>: a nested MacroInput must have the same V");
      targets_.insert(targets_.end(), sink.targets_.begin(), sink.targets_.end());
    } else {
      static_assert(detail::sink_accepts<SinkType, V>,
                    "connectors::MacroInput<V>: an exported input does not accept V");
      using W = typename SinkType::value_type;
      detail::InputNode& node = detail::NodeAccess::node(sink);
      if constexpr (std::is_copy_constructible_v<SinkType>) {
        targets_.push_back(Target{&node, [sink](const V& value) { sink(W(value)); },
                                  [sink](detail::OutputNode& source, bool connect) {
                                    detail::NodeAccess::link_single<V>(sink, source, connect);
                                  },
                                  false});
      } else {
        SinkType* target = &sink;
        targets_.push_back(Target{&node, [target](const V& value) { (*target)(W(value)); },
                                  [target](detail::OutputNode& source, bool connect) {
                                    detail::NodeAccess::link_single<V>(*target, source, connect);
                                  },
                                  true});
      }
    }
  }

  // Connects (or disconnects) every exported input, one after another
  // (docs/design.md#macros).
  //
  // Connect: one that an exported input refuses (a cycle, a second source:
  // nothing changed there) undoes the ones this call made, so that nothing
  // changed. One whose connection was made but whose user method then
  // failed (an ON_CONNECT pull) stays made, as a connector's own connect
  // does, and the others are still connected; the first such error is
  // thrown at the end. One that met a destruction inside its computation is
  // not undone either, and the exported inputs after it are not tried: the
  // source may be gone (docs/design.md#destruction-inside).
  //
  // Disconnect: every exported input connected to the source is
  // disconnected, also when one of them fails in a user method (its
  // disconnect takes effect anyway, unless the method destroyed a block of
  // the network: then that input stays connected, as its own disconnect
  // leaves it; the first error is thrown at the end);
  // those not connected to it are skipped, and only a macro none of whose
  // inputs is connected to it throws ConnectionError, as an input does.
  //
  // The exported inputs are copied first and watched: a user method that
  // one link runs may destroy the macro's owner, and with it this macro
  // input and the inputs it exports; those are then left alone.
  void link(detail::OutputNode& source, bool connect) const {
    std::vector<Target> targets = targets_;
    detail::DestructionWatch watch{&forget_target, &targets};
    std::vector<const Target*> connected_here;  // not those connected before (no-ops, docs/design.md#macros)
    std::exception_ptr first_error;
    bool linked_any = false;
    // Asked of the exported input (watched), never of the source: a user
    // method may have destroyed the source's block and then thrown an error
    // of its own (not DestroyedInside), and a source destroyed so has left
    // every input's links. Refused from inside the computation of the
    // input's network, as the link itself would be.
    auto is_connected = [&](const Target& target) {
      detail::ConfigurationLock lock{*target.node, connect ? "MacroInput::connect" : "MacroInput::disconnect"};
      return links(*target.node, source);
    };
    for (const Target& target : targets) {
      if (target.node == nullptr) continue;
      const bool before = is_connected(target);
      if (!connect && !before) continue;
      linked_any = true;
      try {
        target.link(source, connect);
      } catch (const detail::DestroyedInside&) {
        // A connect tries nothing more (the source may be gone). A
        // disconnect goes on with the others: whether they are connected is
        // asked of them, by address, and a source destroyed so has left
        // every input's links.
        if (connect) throw;
        if (!first_error) first_error = std::current_exception();
        continue;
      } catch (...) {
        // (Connected before, it was refused: through another id, say.)
        const bool made = connect && !before && target.node != nullptr && is_connected(target);
        if (connect && !made) {
          undo(source, connected_here);
          throw;
        }
        // A connection made whose user method failed, or a disconnect (which
        // takes effect anyway): the others go on.
        if (made) connected_here.push_back(&target);
        if (!first_error) first_error = std::current_exception();
        continue;
      }
      if (connect && !before) connected_here.push_back(&target);
    }
    if (first_error) std::rethrow_exception(first_error);
    if (!connect && !linked_any) {
      // Nothing connected to it: the first live input's own error.
      for (const Target& target : targets) {
        if (target.node != nullptr) {
          target.link(source, false);
          break;
        }
      }
    }
  }

  // Whether `input` is connected to `source`, by address only: for a
  // multi-input a lookup, so that connecting n sources through a macro stays
  // linear (a walk over its sources made it quadratic).
  static bool links(const detail::InputNode& input, const detail::OutputNode& source) {
    return input.has_source(&source);
  }

  // A refused connect: the exported inputs this call connected, and that
  // still are (a source destroyed meanwhile left them all), are
  // disconnected again; a single input without the flush of a disconnect,
  // which would apply the refused source's value (nothing changed, as an
  // input's own refused connect leaves it).
  static void undo(detail::OutputNode& source, const std::vector<const Target*>& connected_here) {
    for (const Target* target : connected_here) {
      if (target->node == nullptr) continue;
      try {
        {
          detail::ConfigurationLock lock{*target->node, "MacroInput::connect"};
          if (!links(*target->node, source)) continue;
        }
        if (target->node->is_multi()) {
          target->link(source, false);
        } else {
          detail::withdraw_connection(source, *target->node);
        }
      } catch (...) {
        // Already failing: the first error is the one reported.
      }
    }
  }

  static void forget_target(void* context, const detail::InputNode& input) noexcept {
    for (Target& target : *static_cast<std::vector<Target>*>(context)) {
      if (target.node == &input) target.node = nullptr;
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
/// `mo[key]` or another MacroOutput (any SingleSource) whose value converts
/// to R. Its connections deliver values of type R: when the exported value
/// type is another one, a small converting block between the exported output
/// and the macro's connections converts each value (`docs/macros.md`).
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

  /// Exports `source`: an Output, `mo[key]` or another MacroOutput (any
  /// SingleSource) whose value must convert to R (a compile error
  /// otherwise). Throws only std::bad_alloc; for a value type other than R,
  /// what connecting the converting block throws (nothing for a source that
  /// is not computing).
  /// Threads: runs as part of the owner's construction, before another thread
  /// can reach the macro.
  template <class Source>
  requires detail::exported_source<Source, MacroOutput>
  explicit MacroOutput(Source&& source) {
    using SourceType = std::remove_cvref_t<Source>;
    using S = typename SourceType::value_type;
    static_assert(std::is_convertible_v<S, R>,
                  "connectors::MacroOutput<R>: the exported output's value must convert to R");
    auto get = hold(source);
    call_ = [get] { return R(get()()); };
    node_ = &detail::NodeAccess::node(get());
    if constexpr (detail::is_macro_output<SourceType>) {
      set_caching_ = get().set_caching_;
      set_parallelization_ = get().set_parallelization_;
    } else {
      set_caching_ = [get](bool caching) { home(get()).set_caching(caching); };
      set_parallelization_ = [get](Parallelization p) { home(get()).set_parallelization(p); };
    }
    if constexpr (std::is_same_v<S, R>) {
      with_source_ = [get](const std::function<void(detail::OutputNode&)>& use) {
        detail::NodeAccess::with_source_node(get(), use);
      };
    } else {
      // The values change type on their way: a converting block of the
      // macro's own stands between the exported output and its connections.
      auto converter = std::make_shared<detail::Converter<S, R>>();
      connectors::connect(get(), converter->input);
      with_source_ = [converter](const std::function<void(detail::OutputNode&)>& use) {
        use(detail::NodeAccess::node(converter->output));
      };
      converter_ = std::move(converter);
    }
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

  /// Connects a sink (Input, MultiInput, `mi[id]`, MacroInput: any
  /// SingleSink) to the exported output; the same as `target.connect(*this)`,
  /// with its errors. A sink that does not take R is a compile error.
  /// Threads: an operation on both networks; any thread.
  template <class Target>
  requires Joinable<const MacroOutput&, Target>
  void connect(Target&& target) const { connectors::connect(*this, std::forward<Target>(target)); }
  /// Breaks a connection made with connect; the same as
  /// `target.disconnect(*this)`, with its errors.
  /// Threads: an operation on the exported output's network; any thread.
  template <class Target>
  requires Joinable<const MacroOutput&, Target>
  void disconnect(Target&& target) const { connectors::disconnect(*this, std::forward<Target>(target)); }

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

 private:
  friend struct detail::NodeAccess;
  template <class>
  friend class MacroOutput;

  // A connector of the network it belongs to (connectors::to_dot).
  detail::NodeBase& protocol_node() const noexcept { return *node_; }
  template <class Use>
  void with_source_node(Use&& use) const {
    with_source_(std::function<void(detail::OutputNode&)>(std::forward<Use>(use)));
  }

  // How the macro reaches its source: a connector by reference, a handle or
  // another macro by value (they are small, and temporaries).
  template <class Source>
  static auto hold(Source& source) {
    if constexpr (std::is_copy_constructible_v<std::remove_const_t<Source>>) {
      return [copy = std::remove_const_t<Source>(std::as_const(source))]() -> const std::remove_const_t<Source>& {
        return copy;
      };
    } else {
      return [pointer = &source]() -> Source& { return *pointer; };
    }
  }
  // The connector that caching and parallelization belong to: a key's
  // multi-output, or the output itself.
  template <class Source>
  static auto& home(Source& source) {
    if constexpr (requires { source.multi_output(); }) {
      return source.multi_output();
    } else {
      return source;
    }
  }

  std::function<R()> call_;
  std::function<void(const std::function<void(detail::OutputNode&)>&)> with_source_;
  detail::NodeBase* node_ = nullptr;
  std::function<void(bool)> set_caching_;
  std::function<void(Parallelization)> set_parallelization_;
  std::shared_ptr<void> converter_;  // only for another value type than R
};

namespace detail {
// What the macros are (connectors::SingleSink, connectors::SingleSource); a
// MacroInput<V> forwards exactly V to its inputs.
template <class V>
inline constexpr Kind connector_kind<MacroInput<V>> = Kind::single_sink;
template <class V, class R>
inline constexpr bool sink_accepts<MacroInput<V>, R> = std::is_same_v<R, V>;
template <class R>
inline constexpr Kind connector_kind<MacroOutput<R>> = Kind::single_source;
}  // namespace detail

}  // namespace connectors
