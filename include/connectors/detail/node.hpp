#pragma once

#include <connectors/detail/compact_vector.hpp>
#include <connectors/detail/executor_factory.hpp>
#include <connectors/detail/operation.hpp>
#include <connectors/detail/owner_type.hpp>
#include <connectors/detail/wait_list.hpp>
#include <connectors/flags.hpp>
#include <connectors/task.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

namespace connectors::detail {

class InputNode;
class OutputNode;

// Values a connector keeps for the rest of one operation
// (Operation::kept_values). The operation owns them, so that they go when it
// ends, whether or not their connector outlives it; `owner` is the
// connector's instance number, never reused (an address could be, by a
// connector made inside the operation).
struct OperationValues {
  explicit OperationValues(std::uint64_t owner) noexcept : owner(owner) {}
  OperationValues(const OperationValues&) = delete;
  OperationValues& operator=(const OperationValues&) = delete;
  virtual ~OperationValues() = default;
  const std::uint64_t owner;
};

// A number for a connector that keeps OperationValues, unique in the process.
inline std::uint64_t new_instance_number() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

// The context every protocol step of one top-level operation carries: the
// executor that drives it (the one of the connector that started it) and the
// scope that user methods report to.
struct Operation {
  // Asks the executor for its placements (src/node.cpp).
  Operation(Executor& executor, OperationScope* scope) noexcept;
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  // Where the executor runs a method with `flag`; asked once per operation.
  Parallelization placement(Parallelization flag) const noexcept { return placements[static_cast<int>(flag)]; }
  // Every method of this operation runs on its coordinating thread, whatever
  // its flag: the request engine never starts branches concurrently.
  bool all_inline() const noexcept {
    return placements[1] == Parallelization::SEQUENTIAL && placements[2] == Parallelization::SEQUENTIAL;
  }
  // Whether a method with `flag` must leave the coordinating thread even when
  // it is the only runnable work: a PROCESS method that the executor sends to
  // a worker. A THREAD method alone runs on the thread that would otherwise
  // wait for it (docs/parallelization.md, Work-first).
  bool runs_elsewhere(Parallelization flag) const noexcept { return placement(flag) == Parallelization::PROCESS; }

  Executor& executor;
  OperationScope* scope;
  // Tells this operation's aborted waits from older ones (WaitList).
  std::uint64_t id;
  Parallelization placements[3];
  // Multi-inputs that a push asked to pull (ON_NOTIFY), served once the
  // top-level request has ended (see request_notified).
  std::vector<InputNode*> deferred_notified;
  // Concurrent requests (request_concurrently) not started yet: while there
  // are some, a THREAD method is not the only runnable work (UserCall).
  std::size_t unstarted_requests = 0;
  // Requests that met a THREAD method while siblings were unstarted and wait
  // on the loop to decide where it runs: a method must not take the
  // coordinating thread before they have (docs/design.md#work-first).
  std::size_t yielded_requests = 0;
  // What cache-less multi-outputs computed in this operation, so that a key
  // requested again within it (through a whole connection after its key
  // connection) is not computed twice (docs/design.md#multi-output,
  // compute_key). Freed with the operation.
  std::vector<std::unique_ptr<OperationValues>> kept_values;
};

// A mark above every situation (see InputNode::announced_in_).
inline constexpr Laziness never_settled = static_cast<Laziness>(static_cast<int>(Laziness::ON_CONNECT) + 1);

// Inputs that pull by themselves after an announcement (docs/design.md#laziness).
struct NonLazyCollection {
  Laziness situation;
  std::vector<InputNode*> inputs;
};

class NodeBase;
// How many owners the registry of owners' networks knows (tests: it forgets
// an owner with its last connector; src/owner_networks.cpp).
std::size_t registered_owners() noexcept;

// Whether any connector was ever named (docs/observability.md).
inline std::atomic<bool> names_in_use{false};
void forget_name(const NodeBase& node) noexcept;

// What all connectors share: their configuration and their graph role.
class NodeBase {
 public:
  NodeBase(const NodeBase&) = delete;
  NodeBase& operator=(const NodeBase&) = delete;

  using Visit = void (*)(const NodeBase&, void*);
  // The connectors this one feeds (an input: its observers; an output: the
  // inputs connected to it) and the ones it depends on. Used for the cycle
  // check and to tell networks apart.
  virtual void for_each_downstream(Visit visit, void* context) const = 0;
  virtual void for_each_upstream(Visit visit, void* context) const = 0;
  void for_each_neighbour(Visit visit, void* context) const {
    for_each_downstream(visit, context);
    for_each_upstream(visit, context);
  }

  void set_executor(std::shared_ptr<Executor> executor);
  // set_executor, returning the executor set before (null: the default), so
  // that a caller can put it back; the old one is released outside the lock.
  std::shared_ptr<Executor> exchange_executor(std::shared_ptr<Executor> executor);
  // This connector's executor, or the default one. Read where the network
  // lock is held (an operation's steps); other callers use locked_executor.
  std::shared_ptr<Executor> executor() const;
  // executor(), under the network lock (the public getters: set_executor
  // may be writing it on another thread). Nested in the calling method's
  // operation from inside one, or from a helper of its method.
  std::shared_ptr<Executor> locked_executor() const;

  // The group whose root is this connector's network lock; made at first
  // need (a connector never operated on or connected has none).
  NetworkGroup& network_group() const;
  // Whether it has one: without, no other connector or operation knows it.
  bool has_network_group() const noexcept { return group_.load(std::memory_order_acquire) != nullptr; }

  /// Names this connector in its network's picture (connectors::to_dot) and
  /// timeline (connectors::Trace); "owner.connector" also names the owner
  /// (docs/observability.md). Unnamed connectors are called by their type.
  ///
  ///     block.get_double.set_name("d1.get_double");
  ///
  /// Thread safety: takes the network lock, like connect; call it while
  /// building the network rather than from inside its methods.
  void set_name(std::string name);
  // The name given, if any.
  std::optional<std::string> name() const;
  // The owner this connector belongs to and its type (null for a
  // multi-output's key items, which belong to their parent).
  virtual const void* owner() const noexcept { return nullptr; }
  const std::type_info* owner_type() const noexcept { return owner_type_ != nullptr ? &owner_type_->type : nullptr; }
  const OwnerType* owner_record() const noexcept { return owner_type_; }
  // What the picture writes on a connection between this connector and
  // `peer`: a multi-input's data id, a multi-output key item's key.
  virtual std::string connection_label(const NodeBase& peer) const;
  // Whether a request of the operation holding this connector's network is
  // under way in it (see note_destruction).
  virtual bool request_running() const noexcept { return false; }

 protected:
  NodeBase() = default;
  // Names live in a table of their own, so that unnamed connectors pay
  // nothing for them (docs/benchmarks.md, memory per block).
  ~NodeBase();

  void set_owner_type(const OwnerType& type) noexcept { owner_type_ = &type; }
  // Called last by the destructor of every connector with an owner (and by
  // a constructor that throws after joining): the owner's network forgets
  // this connector (src/owner_networks.cpp).
  void leave_owner_network() const noexcept;

  std::shared_ptr<Executor> executor_;  // null: the default executor
  const OwnerType* owner_type_ = nullptr;

  friend struct NodeInspector;

 private:
  friend void join_networks(const NodeBase&, const NodeBase&);
  friend bool hand_off_unlink(const NodeBase&, void (*)(void*) noexcept, void*) noexcept;
  // A reference to the group of the owner's network, made and registered
  // if this is its first connector with one (src/owner_networks.cpp).
  NetworkGroup* join_owner_network() const;
  // Set once (at first need, or when joined before it had one), then
  // constant: other threads read it without a lock.
  mutable std::atomic<NetworkGroup*> group_{nullptr};
};

// The untyped part of an output: state and protocol bookkeeping
// (docs/design.md#output, #cancel).
class OutputNode : public NodeBase {
 public:
  // Announced by an observed input (docs/design.md#output, announce).
  void on_announce() noexcept;
  // The observed input applied its change (docs/design.md#output, notify).
  void on_notify() noexcept;
  // The observed input's change will not happen. Repair R
  // (docs/design.md#cancel): the cancel travels downstream only when this
  // output became valid again, i.e. nothing it depends on changed.
  void on_cancel(std::vector<InputNode*>& cancelled_downstream) noexcept;

  virtual Task<void> request(Operation& operation) = 0;

  // Something this output depends on changed without an announcement (a
  // multi-input lost a destroyed source): the cache is dropped.
  void mark_changed() noexcept {
    valid_.store(false, std::memory_order_release);
    observed_has_changed_ = true;
    drop_cache();
    if (kind_ == Kind::multi) forget_deliveries();
  }

  bool valid() const noexcept { return valid_.load(std::memory_order_acquire); }
  // An Output<R> (the request engine serves its requests itself).
  bool is_single() const noexcept { return kind_ == Kind::single; }
  bool request_running() const noexcept override { return running_; }
  bool caching() const noexcept { return caching_.load(std::memory_order_relaxed); }
  Parallelization parallelization() const noexcept { return parallelization_.load(std::memory_order_relaxed); }
  void set_parallelization(Parallelization parallelization);

  void for_each_downstream(Visit visit, void* context) const override;
  void for_each_upstream(Visit visit, void* context) const override;
  // Whether anything is connected downstream (also through a multi-output's keys).
  bool has_downstream() const noexcept;

  // Graph links, for inputs of the same owner and for connecting.
  void add_observed_input(InputNode& input) { observed_.push_back(&input); }
  const CompactVector<InputNode*>& observed_inputs() const noexcept { return observed_; }
  void remove_observed_input(InputNode& input) noexcept;
  // Hands a value of the output's type to a connected input, converting it to
  // the input's type; returns whether the input wants to pull at once (ON_NOTIFY).
  using Push = bool (*)(InputNode& input, OutputNode& from, const void* value);
  struct Connection {
    InputNode* input;
    Push push;
    bool received;  // got a value since it was connected (docs/design.md#cancel)
  };
  const CompactVector<Connection>& connections() const noexcept { return connections_; }
  bool is_connected_to(const InputNode& input) const noexcept { return connection_position(input) != no_position; }
  void add_connection(InputNode& input, Push push);
  void remove_connection(InputNode& input) noexcept;

 protected:
  OutputNode() = default;
  // What kind of source this is; the protocol's hot paths test it instead of
  // calling virtual functions.
  enum class Kind : std::uint8_t {
    single,     // Output<R>
    multi,      // a whole MultiOutput: its keys' items have connections too
    multi_key,  // the per-key item of a MultiOutput (its announcements are the parent's)
  };
  explicit OutputNode(Kind kind) noexcept : kind_(kind) {}

  static constexpr std::size_t no_position = static_cast<std::size_t>(-1);
  std::size_t connection_position(const InputNode& input) const noexcept;
  // Records, for connection_position, that the connection now at `position`
  // lives there (after connections moved).
  void note_moved_to(std::size_t position) noexcept;
  // Disconnects everything without running user methods; downstream inputs
  // still waiting for this output are cancelled (docs/design.md#lifetime). The most-derived
  // destructor calls it first, before any member of the typed part is gone
  // and before the object's dynamic type changes: until then another thread's
  // operation may still reach this node through the network (docs/connectors.md,
  // Threads). Idempotent.
  void detach() noexcept;
  // detach's work, on a thread that may unlink (leave_network); `noted`:
  // note_destruction already said it is destroyed inside a computation.
  void detach_here(bool noted = false) noexcept;
  // detach_here's unlinking, under the lock (or operation) its caller took.
  void detach_connections() noexcept;
  ~OutputNode() = default;

  // Drops the cached value of the typed part.
  virtual void drop_cache() noexcept = 0;

  // The typed steps of a single output's request, which the request engine
  // (src/pull.cpp) calls: run the getter on this thread (compute_inline) or
  // where the executor places it (compute_elsewhere), cache and push the
  // result to every connection; or push the valid cached value to the
  // connections that have not received it. ON_NOTIFY inputs to request next
  // go to `pulling`; `caller`, if not null, is the std::optional<R> of a
  // direct call, which receives the value too.
  virtual void compute_inline(Operation&, std::vector<InputNode*>& /*pulling*/, void* /*caller*/) {}
  virtual Task<void> compute_elsewhere(Operation&, std::vector<InputNode*>& pulling, void* caller);
  virtual void push_cached_inline(std::vector<InputNode*>& /*pulling*/, void* /*caller*/) {}

  // The one observed input with a pending announcement, or null if there are
  // several (or none). Inline for the chain's one observed input; the
  // request engine asks it on every block's way up.
  inline InputNode* sole_announcer() const noexcept;
  InputNode* sole_announcer_among_many() const noexcept;
  // Requests every observed input with a pending announcement, concurrently.
  Task<void> request_announcers(Operation& operation);
  // After a failure: no downstream wait may outlive the operation (also not
  // one of a multi-output key's connections).
  void abort_downstream(const std::exception_ptr& error, const Operation& operation) noexcept;
  // Hands `value` (of the announcer's type) to the connections of
  // `announcer` (all of them, or those that never received one); leaves in
  // `pulling` (an out-parameter: the request engine reuses one vector for
  // every block) the ON_NOTIFY inputs, which the caller then requests.
  static void push_value(OutputNode& announcer, const void* value, bool only_unreceived,
                         std::vector<InputNode*>& pulling);
  // The inputs announced by `announcer` are told its change will not happen.
  static void cancel_connections(OutputNode& announcer, std::vector<InputNode*>& cancelled_downstream) noexcept;
  void set_caching_flag(bool caching) noexcept;
  void mark_computed() noexcept;
  // How many notifications this output has had: read before a getter that
  // runs elsewhere, compared after it. A notification meanwhile (an ON_NOTIFY
  // input of the owner applied a new value while the getter ran) makes the
  // result old before it arrives: it is pushed, but neither kept nor marked
  // valid, so the next request computes again (docs/design.md#output).
  std::uint64_t notifications() const noexcept { return notifications_; }
  // A multi-output's values changed: no connection holds the current ones.
  // A multi-output becomes valid again by computing any one key, which
  // reaches only that key's connections; the others must stay announced
  // through a later cancel until they receive their values (as connections
  // that never received a value do, see cancel_connections). A single
  // output pushes to all its connections whenever it computes, so it needs
  // no such bookkeeping.
  void forget_deliveries() noexcept;

  // Unordered (pushes to several connections have no order): a removal
  // moves the last connection into the hole.
  CompactVector<Connection> connections_;
  // Where each input's connection is, once there are many of them: an output
  // with 10^5 observers must not search linearly per connect or disconnect.
  // (An unordered_map, in src/node.cpp: its header stays out of every file
  // that declares a connector.)
  struct ConnectionIndex;
  struct DropConnectionIndex {
    void operator()(ConnectionIndex* index) const noexcept;
  };
  CompactVector<InputNode*> observed_;
  std::uint32_t pending_announcements_ = 0;
  // The flags are written under the network lock and read by the
  // protocol under it; atomic because the public getters read them from any
  // thread without it (docs/connectors.md, Threads).
  std::atomic<Parallelization> parallelization_{Parallelization::THREAD};
  // Written under the network lock; read without it by the cache-hit path of
  // outputs whose value can be published atomically (see Output::operator()).
  std::atomic<bool> valid_{false};
  bool observed_has_changed_ = true;
  std::atomic<bool> caching_{true};  // atomic: as parallelization_
  bool running_ = false;
  Kind kind_ = Kind::single;
  // Whether drop_cache() has anything to drop (a cache in an atomic word
  // has not: its valid flag alone decides).
  bool droppable_cache_ = true;
  std::uint64_t notifications_ = 0;  // see notifications()
  // After the fields every request reads, as InputNode's.
  WaitList computable_;
  std::unique_ptr<ConnectionIndex, DropConnectionIndex> connection_index_;

  friend class InputNode;
  friend class MultiOutputNode;
  friend class PullEngine;
  friend struct NodeInspector;
  friend void check_no_cycle(const OutputNode&, const InputNode&);
  friend void unsettle_above(const OutputNode&, Laziness) noexcept;
};

// The untyped part of a single input: state and bookkeeping
// (docs/design.md#input).
class InputNode : public NodeBase {
 public:
  virtual Task<void> request(Operation& operation) = 0;

  // An announcement from a connected output (also the connect step).
  // Returns false when the announce condition refused it.
  // A value received and not applied yet stays: if the announced change is
  // cancelled, it is still the value to apply; if it happens, the new value
  // replaces it when pushed.
  virtual bool accept_announcement(OutputNode& from) {
    announcement_ = &from;
    return true;
  }
  // The same, asking the derived class only when it has something to ask:
  // the announce walk then reads no more of a plain input than its protocol
  // fields (docs/benchmarks.md).
  bool take_announcement(OutputNode& from) {
    if (!asks_before_accepting_) {
      announcement_ = &from;
      return true;
    }
    return accept_announcement(from);
  }
  // Whether `from` announced a change this input has not received yet.
  bool is_announced_by(const OutputNode& from) const noexcept {
    return multi_ ? multi_is_announced_by(from) : announcement_ == &from;
  }
  // `from` will not change after all; returns whether this input's observers
  // must be cancelled in turn.
  bool take_cancel(OutputNode& from) noexcept;

  Laziness laziness() const noexcept { return laziness_.load(std::memory_order_relaxed); }
  bool request_running() const noexcept override { return running_; }
  void set_laziness(Laziness laziness);
  Parallelization parallelization() const noexcept { return parallelization_.load(std::memory_order_relaxed); }
  void set_parallelization(Parallelization parallelization);

  OutputNode* source() const noexcept { return source_; }
  const CompactVector<OutputNode*>& observers() const noexcept { return observers_; }

  void for_each_downstream(Visit visit, void* context) const override;
  void for_each_upstream(Visit visit, void* context) const override;
  // Whether `output` is a source of this input, by address only (it may be
  // gone): for a multi-input a lookup, not a walk over its sources.
  bool has_source(const OutputNode* output) const noexcept {
    return multi_ ? multi_has_source(output) : source_ == output;
  }

  // Announces this input's coming change to its observers and everything
  // downstream of them, collecting non-lazy inputs (the forwarding rule,
  // docs/design.md#laziness).
  // Iterative: a chain of any length uses constant stack.
  // The input itself joins the collection only if `may_collect_self` (not for
  // a direct call, which sets it anyway).
  void announce_downstream(NonLazyCollection& collection, bool may_collect_self);
  // Tells the observers that the announced change happened.
  void notify_observers() noexcept;
  // Tells the observers the announced change will not happen; cascades.
  void cancel_observers() noexcept;
  void abort_observers(const std::exception_ptr& error, const Operation& operation) noexcept;
  bool is_multi() const noexcept { return multi_; }

  // The graph operations behind connect and disconnect.
  static void link(OutputNode& output, InputNode& input, OutputNode::Push push);
  static void unlink(OutputNode& output, InputNode& input) noexcept;

 protected:
  InputNode() = default;
  explicit InputNode(bool multi) noexcept : multi_(multi), asks_before_accepting_(multi) {}
  // Leaves the network (see OutputNode::detach): the most-derived destructor
  // calls it first. `detach_locked` is the same under a lock already held.
  void detach() noexcept;
  void detach_locked() noexcept;
  // A method of the operation computing this input destroys it (see
  // note_destruction): its pending waits end with that operation's error.
  void abort_own_waits() noexcept;
  ~InputNode() = default;

  // Whether `source`, a source of this input, is `output` or one of its
  // keys (mo[key]), as the multi-output's own is_connected_to counts it. Asks
  // nothing of `output`, which may be another network's, under another lock.
  static bool comes_from(const OutputNode* source, const OutputNode& output) noexcept;
  // Links the owner's outputs that depend on this input, as it is made: all
  // or none. No destructor runs for a connector whose constructor throws, so
  // on a failure the ones linked already forget it again (they would touch
  // it once gone) and it leaves its owner's network before the error goes on.
  void link_observers(OutputNode* const* observers, std::size_t count);
  // Whether a received value waits to be applied: such an input stays
  // announced towards its observers through a cancel of its source.
  virtual bool holds_value() const noexcept { return false; }
  // The typed step of a single input's request, which the request engine
  // (src/pull.cpp) calls when a value arrived (holds_value): apply it (the
  // setter on this thread, or where the executor places it), then notify or
  // cancel the observers.
  virtual void apply_inline(Operation&) {}
  virtual Task<void> apply_elsewhere(Operation&);

  // The multi-input side of the hooks above (a multi-input has many sources).
  // Ends the announcements of `cancelled` (inputs whose announcer withdrew
  // its change) and of what they announced in turn.
  static void cascade_cancels(std::vector<InputNode*>& cancelled) noexcept;
  // Adds `input` to such a list. Where the list cannot grow (out of memory),
  // the input's observers are told of a change instead: they compute again
  // what the cancel would have kept (docs/design.md#cancel).
  static void queue_cancel(std::vector<InputNode*>& cancelled, InputNode& input) noexcept;
  virtual bool multi_is_announced_by(const OutputNode&) const noexcept { return false; }
  virtual bool multi_take_cancel(OutputNode&) noexcept { return false; }
  // `from` is being destroyed: forget it (docs/design.md#lifetime); returns whether the
  // observers must be cancelled.
  virtual bool multi_lose_source(OutputNode&) noexcept { return false; }
  // Whether nothing announced is left and no received value waits to be
  // applied: only then may a cancel reach the observers.
  virtual bool multi_waits_for_nothing() const noexcept { return true; }
  virtual void multi_for_each_source(Visit, void*) const {}
  virtual bool multi_has_source(const OutputNode*) const noexcept { return false; }

  CompactVector<OutputNode*> observers_;
  OutputNode* source_ = nullptr;        // the one connected output (docs/design.md#input)
  OutputNode* announcement_ = nullptr;  // the output whose change is pending
  // Atomic: as OutputNode::parallelization_.
  std::atomic<Laziness> laziness_{Laziness::ON_REQUEST};
  std::atomic<Parallelization> parallelization_{Parallelization::SEQUENTIAL};
  // Where this input's connection is in source_->connections_ (a single
  // input only; see OutputNode::connection_position).
  std::uint32_t source_position_ = 0;
  bool announcing_ = false;  // counted in the observers' pending announcements
  // The broadest situation this input was announced in since it last
  // notified or cancelled (ON_CONNECT when not announcing), or
  // never_settled: something downstream changed (a connection, a laziness, a
  // failed service), so the next announcement must walk through it again.
  Laziness announced_in_ = Laziness::ON_CONNECT;
  bool running_ = false;
  const bool multi_ = false;
  // Whether accept_announcement must be asked (take_announcement): a
  // multi-input, or an input with an announce condition.
  bool asks_before_accepting_ = false;
  // After the fields every request reads: they share fewer cache lines
  // (docs/benchmarks.md).
  WaitList computable_;

  friend class OutputNode;
  friend class PullEngine;
  friend struct NodeInspector;
  friend void check_no_cycle(const OutputNode&, const InputNode&);
  friend void unsettle_above(const OutputNode&, Laziness) noexcept;
};

inline InputNode* OutputNode::sole_announcer() const noexcept {
  if (observed_.size() != 1) return sole_announcer_among_many();
  InputNode* const input = observed_[0];
  return input->announcing_ ? input : nullptr;
}

// Throws CycleError if connecting `output` to `input` would close a dependency
// cycle. Searches from both ends at once, so building a long chain in either
// direction costs near-constant time per connect.
void check_no_cycle(const OutputNode& output, const InputNode& input);

// The request engine (docs/design.md#engine, src/pull.cpp): one set of
// steps over an explicit stack serves the request of a single output or input
// and everything it pulls upstream, for every executor. Two drivers run it.
//
// `pull` is the request as a task, for a request inside a running operation
// (another connector's request, the non-lazy service, a disconnect): it
// suspends only where it must wait, for a method that runs elsewhere (a pool
// thread, a worker process), for a connector another branch is computing, or
// for branches it starts concurrently. `caller`: see compute_inline.
Task<void> pull(Operation& operation, OutputNode& root, void* caller = nullptr);
Task<void> pull(Operation& operation, InputNode& root);
// `pull_inline` is the top-level request of a direct call: no coroutine and
// no event loop; every method runs on the calling thread, THREAD ones
// included (nothing else could run meanwhile: docs/parallelization.md,
// Work-first), except where the engine must wait, which it hands to a nested
// run of the executor. `on_root_done(context)` runs once the root's own
// request has finished and before the ON_NOTIFY multi-inputs deferred by its
// pushes are served: their service may invalidate the root again (a
// cache-less source pushing to every connection), and the caller's result is
// the value this request computed.
using RootDone = void (*)(void* context);
void pull_inline(Operation& operation, OutputNode& root, RootDone on_root_done = nullptr, void* context = nullptr,
                 void* caller = nullptr);
// The request of `root` (a single output) inside a request already under way
// (a multi-input retrieving its sources in an operation whose methods all run
// inline): the ON_NOTIFY multi-inputs its pushes defer are left to the
// enclosing run, which serves them once its top-level request has ended.
void pull_inline_nested(Operation& operation, OutputNode& root);

// After a direct change failed before its non-lazy service: the inputs of
// `collection` were not served, and the path to them must not count as
// settled, or the next announcement would stop above them (unless a method
// destroyed part of the network: some of them may be gone).
void unsettle_unserved(const NonLazyCollection& collection, const OperationScope* scope) noexcept;

// Requests all inputs of `collection` concurrently with `operation`'s executor;
// waits for all, then rethrows the first error
// (docs/design.md#laziness, Service).
// `deferred`: ON_NOTIFY multi-inputs an earlier run of the same operation
// reached (MultiInput::apply_pending_now), served after the collection.
void serve_non_lazy(Executor& executor, OperationScope* scope, NonLazyCollection& collection,
                    std::vector<InputNode*> deferred = {});
// Executor::run_coroutine for a connector's own task, compiled in the
// library: the connector headers do not need the executor's class.
void run_to_end(Executor& executor, Task<void> task);
// Requests `inputs` concurrently within a running operation.
Task<void> request_all(Operation& operation, std::vector<InputNode*> inputs);
// Runs `requests` concurrently and waits for all, like gather, counting the
// ones not started yet in operation.unstarted_requests.
Task<void> request_concurrently(Operation& operation, std::vector<Task<void>> requests);
// Requests the ON_NOTIFY inputs a push reached. Single inputs are requested
// at once (the push delivered their one value: nothing to wait for). A
// multi-input would wait for its other announced sources, which may
// themselves be waiting, further up, for the very request that pushed (a
// diamond): it is deferred to operation.deferred_notified and served when the
// top-level request has ended (run_operation, pull_inline).
Task<void> request_notified(Operation& operation, std::vector<InputNode*> inputs);

// Takes the deferred ON_NOTIFY multi-inputs of `operation`, each once, in
// the order of their pushes.
std::vector<InputNode*> take_deferred(Operation& operation);

// Runs `root`, the top-level request of `operation`, then the deferred
// ON_NOTIFY multi-inputs (and those their service defers in turn).
void run_operation(Operation& operation, Task<void> root);

// After `input` was connected and announced: inputs upstream still waiting
// with an announcement may have been "settled" for direct calls (nothing
// collectable downstream), which the new connection may have made untrue.
// They are marked to be walked through again by the next announcement.
//
// `level` says for which announcements they stop counting as settled:
// never_settled for all (a raised laziness, a refused announcement, a failed
// or skipped service); ON_CONNECT after a connect, whose own walk served every
// ON_CONNECT input below it, so that only direct calls (which collect more)
// must walk through again — this keeps building a network in any order linear.
void unsettle_upstream(InputNode& input, Laziness level = never_settled) noexcept;
// The same for what is upstream of one source: after a connect, only the new
// source's side gained a path downstream (a multi-input's other sources did
// not), which keeps connecting n sources to one multi-input linear.
void unsettle_above(const OutputNode& source, Laziness level) noexcept;

// The top-level connect and disconnect (docs/design.md#connect, #input) for one output and one
// single input; `push` delivers the output's values to the input.
void connect_nodes(OutputNode& output, InputNode& input, OutputNode::Push push);
void disconnect_nodes(OutputNode& output, InputNode& input);
// Takes back a connection just made that a larger connect refused as a whole
// (a macro input's, docs/design.md#macros): unlinked without the flush of a
// disconnect, and what the connect announced is withdrawn, so the input keeps
// the value it had. (A value a non-lazy input pulled at the connect stays.)
void withdraw_connection(OutputNode& output, InputNode& input);

std::string describe_parallelization(Parallelization parallelization);

// Inputs that user code may destroy while the library holds pointers to
// them: a multi-input's remove, called when its source is destroyed
// (docs/design.md#lifetime), an announce condition asked by an announcement
// walk. While a watch lives, every input destroyed on this thread leaves it
// (from `inputs`, or `one` becomes null, or `forget` is told), so that the
// work under way does not touch freed memory afterwards; so does one that a
// pool thread destroys while it stands in for a loop this thread waits in
// (docs/design.md#destruction-inside). Watches nest: a remove may destroy a
// source of its own.
class DestructionWatch {
 public:
  using Forget = void (*)(void* context, const InputNode& input) noexcept;

  explicit DestructionWatch(std::vector<InputNode*>& inputs) noexcept;
  explicit DestructionWatch(InputNode*& one) noexcept;
  DestructionWatch(Forget forget, void* context) noexcept;
  DestructionWatch(const DestructionWatch&) = delete;
  DestructionWatch& operator=(const DestructionWatch&) = delete;
  ~DestructionWatch();

  // `input` is being destroyed (InputNode::detach_locked).
  static void forget(const InputNode& input) noexcept;

  // The calling thread's innermost watch; and the chain a pool thread
  // standing in for a loop takes over from the loop's thread, which waits
  // below its run with these watches live (EventLoop::reply_from_worker).
  static DestructionWatch* innermost() noexcept;
  static DestructionWatch* exchange_innermost(DestructionWatch* chain) noexcept;

 private:
  std::vector<InputNode*>* inputs_ = nullptr;
  InputNode** one_ = nullptr;
  Forget forget_ = nullptr;
  void* context_ = nullptr;
  DestructionWatch* outer_;
};

// While a destructor announces a change downstream (a multi-input that lost
// a source), an announce condition that throws counts as held: a destructor
// cannot report the error, and announcing is the side that leaves nothing
// below with a value computed from what is gone (docs/design.md#lifetime).
class FailedConditionsHold {
 public:
  // Their errors are dropped (a destructor announcing cannot report them).
  FailedConditionsHold() noexcept;
  // The first error is kept in `first_error`, for the caller to report once
  // its announcement walk is complete (announce_downstream, a connect): a
  // walk cut short left the inputs it had announced settled but waiting.
  explicit FailedConditionsHold(std::exception_ptr& first_error) noexcept;
  FailedConditionsHold(const FailedConditionsHold&) = delete;
  FailedConditionsHold& operator=(const FailedConditionsHold&) = delete;
  ~FailedConditionsHold();

  // Whether a failed announce condition on this thread counts as held now.
  static bool active() noexcept;
  // Sets whether it does, returning what it was: an operation started inside
  // a held announcement (by a condition) reports its own failed conditions,
  // so OperationScope clears the hold for its duration.
  static bool exchange_active(bool held) noexcept;

  // What the announce condition `ask()` says; one that throws while active()
  // holds, elsewhere its error reaches the caller.
  template <class Ask>
  static bool ask(Ask&& ask) {
    try {
      return ask();
    } catch (...) {
      if (!active()) throw;
      keep_failure();
      return true;
    }
  }

 private:
  static void keep_failure() noexcept;

  bool outer_;
  std::exception_ptr* outer_first_error_;
};

// Holds failed announce conditions for one announcement walk (or a connect's
// acceptance and walk) and keeps the first error, unless a hold is active
// already (a destructor's, which drops them; an enclosing walk's, which keeps
// them). Report it with rethrow_first() once the walk is complete.
class ConditionFailures {
 public:
  ConditionFailures() {
    if (!FailedConditionsHold::active()) hold_.emplace(first_error_);
  }
  ConditionFailures(const ConditionFailures&) = delete;
  ConditionFailures& operator=(const ConditionFailures&) = delete;

  // Ends the hold, then throws the first error kept, if any.
  void rethrow_first() {
    hold_.reset();
    if (first_error_) std::rethrow_exception(std::exchange(first_error_, nullptr));
  }
  std::exception_ptr take_first() noexcept {
    hold_.reset();
    return std::exchange(first_error_, nullptr);
  }

 private:
  std::exception_ptr first_error_;
  std::optional<FailedConditionsHold> hold_;
};

// Whether a user method of `operation` destroyed `node` (see
// OperationScope::poisoned): unwinding must not touch it.
inline bool destroyed_in(const Operation& operation, const NodeBase* node) noexcept {
  return operation.scope != nullptr && operation.scope->destroyed(node);
}

}  // namespace connectors::detail
