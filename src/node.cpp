#include <connectors/detail/multi_output_node.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/node_inspector.hpp>
#include <connectors/errors.hpp>
#include <connectors/executor.hpp>

#include "stack_lease.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <new>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace connectors::detail {

void run_to_end(Executor& executor, Task<void> task) { executor.run_coroutine(std::move(task)); }

struct OutputNode::ConnectionIndex : std::unordered_map<const InputNode*, std::uint32_t> {};
void OutputNode::DropConnectionIndex::operator()(ConnectionIndex* index) const noexcept { delete index; }

namespace {

// Unique in the process, never 0 (WaitList's "no operation"). Taken in blocks
// per thread: a counter that every operation of every thread wrote made
// independent networks on two threads share one written cache line
// (docs/design.md §6.1).
std::uint64_t new_operation_id() noexcept {
  constexpr std::uint64_t block = 1024;
  static std::atomic<std::uint64_t> reserved{0};
  thread_local std::uint64_t next = 0;
  thread_local std::uint64_t end = 0;
  if (next == end) {
    next = reserved.fetch_add(block, std::memory_order_relaxed) + 1;
    end = next + block;
  }
  return next++;
}

}  // namespace

Operation::Operation(Executor& executor, OperationScope* scope) noexcept
    : executor(executor),
      scope(scope),
      id(new_operation_id()),
      placements{executor.effective_parallelization(Parallelization::SEQUENTIAL),
                 executor.effective_parallelization(Parallelization::THREAD),
                 executor.effective_parallelization(Parallelization::PROCESS)} {}

// ---- NodeBase ---------------------------------------------------------------

// Configuration takes the network lock: another thread may be running an
// operation that reads it.
void NodeBase::set_executor(std::shared_ptr<Executor> executor) { (void)exchange_executor(std::move(executor)); }

std::shared_ptr<Executor> NodeBase::exchange_executor(std::shared_ptr<Executor> executor) {
  ConfigurationLock lock{*this, "set_executor"};
  return std::exchange(executor_, std::move(executor));
}

std::shared_ptr<Executor> NodeBase::executor() const { return executor_ ? executor_ : default_executor(); }

std::shared_ptr<Executor> NodeBase::locked_executor() const {
  // The lock made first if there is none yet: a set_executor on another
  // thread makes it, and writes under it.
  (void)network_group();
  std::shared_ptr<Executor> executor;
  {
    NetworkLock lock{*this, true};
    executor = executor_;
  }
  return executor ? executor : default_executor();
}

NetworkGroup& NodeBase::network_group() const {
  NetworkGroup* group = group_.load(std::memory_order_acquire);
  if (group != nullptr) return *group;
  // A connector with an owner joins the owner's network (its other
  // connectors may share the owner's state without an observer's link).
  const bool owned = owner() != nullptr;
  NetworkGroup* fresh = owned ? join_owner_network() : new NetworkGroup;
  if (group_.compare_exchange_strong(group, fresh, std::memory_order_acq_rel)) return *fresh;
  NetworkGroup::release(fresh);
  if (owned) leave_owner_network();  // (counted once, for the group it has)
  return *group;
}

NodeBase::~NodeBase() {
  if (names_in_use.load(std::memory_order_relaxed)) [[unlikely]]
    forget_name(*this);
  NetworkGroup::release(group_.load(std::memory_order_acquire));
}

std::string describe_parallelization(Parallelization parallelization) {
  switch (parallelization) {
    case Parallelization::SEQUENTIAL:
      return "SEQUENTIAL";
    case Parallelization::THREAD:
      return "THREAD";
    case Parallelization::PROCESS:
      return "PROCESS";
  }
  return "unknown";
}

namespace {
void check_laziness(Laziness laziness) {
  switch (laziness) {
    case Laziness::ON_REQUEST:
    case Laziness::ON_NOTIFY:
    case Laziness::ON_ANNOUNCE:
    case Laziness::ON_CONNECT:
      return;
  }
  throw std::invalid_argument("connectors: invalid Laziness value");
}

void check_parallelization(Parallelization parallelization) {
  switch (parallelization) {
    case Parallelization::SEQUENTIAL:
    case Parallelization::THREAD:
    case Parallelization::PROCESS:
      return;
  }
  throw std::invalid_argument("connectors: invalid Parallelization value");
}
}  // namespace

// ---- OutputNode -------------------------------------------------------------

void OutputNode::detach() noexcept {
  leave_network(*this, [this]() noexcept { detach_here(); });
}

namespace {
// What a leaving output holds while it unlinks. An operation of its own when
// possible: a multi-input losing this source calls the user's remove, which
// may start an operation on another network (nested, it then takes this
// scope's inner lock instead of deadlocking). Destroying a connector from
// inside its own network's computation cannot be an operation; the plain
// lock serves then.
class LeavingLock {
 public:
  LeavingLock(const NodeBase& node, bool inside) {
    if (inside) {
      lock_.lock(node);
      return;
    }
    // Known to no other thread: nothing to lock (NetworkLock).
    if (!node.has_network_group()) return;
    try {
      scope_.emplace(node);
    } catch (...) {
      lock_.lock(node);
    }
  }

 private:
  std::optional<OperationScope> scope_;
  NetworkLock lock_;
};
}  // namespace

void OutputNode::detach_here(bool noted) noexcept {
  const bool inside = noted || note_destruction(*this);
  LeavingLock lock{*this, inside};
  // This output's own request, waiting for its inputs, will not be resumed
  // by them any more: it ends with the operation's error.
  if (inside) computable_.abort_all(destroyed_inside_error(), 0);
  detach_connections();
}

void MultiOutputNode::detach_with_items(bool noted, void (*take_items)(void* context) noexcept,
                                        void* context) noexcept {
  // Inside a computation this runs on the thread holding its loop
  // (leave_network), the only one that touches the items then.
  if (noted) {
    for (MultiOutputKeyNode* item : items_) note_destruction(*item);
  }
  LeavingLock lock{*this, noted};
  take_items(context);
  for (MultiOutputKeyNode* item : std::exchange(items_, {})) {
    if (noted) item->computable_.abort_all(destroyed_inside_error(), 0);
    item->detach_connections();
    item->left_ = true;
  }
  if (noted) computable_.abort_all(destroyed_inside_error(), 0);
  detach_connections();
}

void MultiOutputNode::forget_items(std::vector<MultiOutputKeyNode*>& unused) noexcept {
  if (unused.empty()) return;
  std::sort(unused.begin(), unused.end());
  std::erase_if(items_,
                [&](MultiOutputKeyNode* item) { return std::binary_search(unused.begin(), unused.end(), item); });
  for (MultiOutputKeyNode* item : unused) item->left_ = true;
}

void MultiOutputNode::forget_item(MultiOutputKeyNode& unused) noexcept {
  std::erase(items_, &unused);
  unused.left_ = true;
}

void OutputNode::detach_connections() noexcept {
  // A multi-input's remove, called below, may destroy connectors (its own
  // block, another block fed by this output) or connect new ones: the walk
  // goes by position and looks at the length each time. An input not told
  // yet unconnects itself when destroyed, by moving the last connection into
  // its place, which is one not walked yet (the multi-input being told
  // included, destroyed by its own remove: the position is walked again); one
  // connected meanwhile is walked too. Told inputs stay listed until the end,
  // so that the network stays as connected as it was for the searches that
  // refuse re-entering it (a remove reading a block this output feeds). One
  // destroyed meanwhile no longer looks at this output (its source is null,
  // or the multi-input has forgotten it): the watch unlists it, keeping the
  // order, or it would stay listed freed for those searches to walk
  // (docs/design.md#lifetime).
  struct Walk {
    OutputNode& output;
    std::vector<InputNode*> cancelled;
    std::size_t at = 0;
  } walk{*this, {}};
  auto forget = [](void* context, const InputNode& gone) noexcept {
    Walk& state = *static_cast<Walk*>(context);
    std::erase(state.cancelled, &gone);
    auto& connections = state.output.connections_;
    for (std::size_t position = 0; position < state.at && position < connections.size(); ++position) {
      if (connections[position].input != &gone) continue;
      for (std::size_t next = position + 1; next < connections.size(); ++next) {
        connections[next - 1] = connections[next];
        state.output.note_moved_to(next - 1);
      }
      if (gone.multi_ && state.output.connection_index_) state.output.connection_index_->erase(&gone);
      connections.pop_back();
      --state.at;
      return;
    }
  };
  DestructionWatch watch{forget, &walk};
  for (; walk.at < connections_.size(); ++walk.at) {
    InputNode& input = *connections_[walk.at].input;
    if (input.multi_) {
      if (input.multi_lose_source(*this)) InputNode::queue_cancel(walk.cancelled, input);
      if (walk.at < connections_.size() && connections_[walk.at].input != &input) --walk.at;
      continue;
    }
    input.source_ = nullptr;
    if (input.announcement_ == this) {
      input.announcement_ = nullptr;
      input.computable_.wake_all();
      // A value received earlier and not applied stays to be applied.
      if (!input.holds_value()) InputNode::queue_cancel(walk.cancelled, input);
    }
  }
  connections_.clear();
  for (InputNode* input : observed_) {
    input->observers_.erase_if([this](const OutputNode* observer) { return observer == this; });
  }
  observed_.clear();
  InputNode::cascade_cancels(walk.cancelled);
}

void InputNode::queue_cancel(std::vector<InputNode*>& cancelled, InputNode& input) noexcept {
  try {
    cancelled.push_back(&input);
  } catch (const std::bad_alloc&) {
    // The checks cascade_cancels makes when it takes the input.
    if (!input.announcing_ || (input.multi_ && !input.multi_waits_for_nothing())) return;
    input.notify_observers();
  }
}

void InputNode::cascade_cancels(std::vector<InputNode*>& cancelled) noexcept {
  // Iteratively. A multi-input that had nothing announced left when it lost
  // an output may have been announced again since, by another multi-input's
  // loss of it (random finding 23): it then stays announced.
  while (!cancelled.empty()) {
    InputNode* input = cancelled.back();
    cancelled.pop_back();
    if (!input->announcing_) continue;
    if (input->multi_ && !input->multi_waits_for_nothing()) continue;
    input->announcing_ = false;
    input->announced_in_ = Laziness::ON_CONNECT;
    for (OutputNode* observer : input->observers_) observer->on_cancel(cancelled);
  }
}

void OutputNode::set_parallelization(Parallelization parallelization) {
  check_parallelization(parallelization);
  ConfigurationLock lock{*this, "set_parallelization"};
  parallelization_.store(parallelization, std::memory_order_relaxed);
}

void OutputNode::on_announce() noexcept {
  ++pending_announcements_;
  valid_.store(false, std::memory_order_release);  // the cached value stays, a full cancel may re-validate it
}

void OutputNode::on_notify() noexcept {
  ++notifications_;
  valid_.store(false, std::memory_order_release);
  observed_has_changed_ = true;
  if (droppable_cache_) drop_cache();
  if (kind_ == Kind::multi) forget_deliveries();
  if (pending_announcements_ > 0 && --pending_announcements_ == 0) computable_.wake_all();
}

void OutputNode::forget_deliveries() noexcept {
  for (Connection& connection : connections_) connection.received = false;
  for (MultiOutputKeyNode* item : static_cast<MultiOutputNode*>(this)->items()) {
    for (Connection& connection : item->connections_) connection.received = false;
  }
}

void OutputNode::on_cancel(std::vector<InputNode*>& cancelled_downstream) noexcept {
  if (pending_announcements_ == 0 || --pending_announcements_ != 0) return;
  computable_.wake_all();
  if (observed_has_changed_ || !caching()) return;  // stays invalid; downstream stays announced
  valid_.store(true, std::memory_order_release);
  cancel_connections(*this, cancelled_downstream);
  if (kind_ == Kind::multi) {
    for (MultiOutputKeyNode* item : static_cast<MultiOutputNode*>(this)->items()) {
      cancel_connections(*item, cancelled_downstream);
    }
  }
}

void OutputNode::cancel_connections(OutputNode& announcer, std::vector<InputNode*>& cancelled_downstream) noexcept {
  for (const Connection& connection : announcer.connections_) {
    // A connection that has not received a value yet stays announced: the
    // next pull brings it the (re-validated) value, instead of leaving the
    // input without one (docs/design.md#cancel).
    if (!connection.received) continue;
    if (connection.input->take_cancel(announcer)) InputNode::queue_cancel(cancelled_downstream, *connection.input);
  }
}

void OutputNode::set_caching_flag(bool caching) noexcept {
  caching_.store(caching, std::memory_order_relaxed);
  if (!caching) {
    // An uncached output is never valid (docs/design.md#output, Caching off), and a later cancel must not
    // re-validate an empty cache.
    valid_.store(false, std::memory_order_release);
    observed_has_changed_ = true;
    drop_cache();
  }
}

void OutputNode::mark_computed() noexcept {
  if (!caching()) return;
  valid_.store(true, std::memory_order_release);
  observed_has_changed_ = false;
}

void OutputNode::remove_observed_input(InputNode& input) noexcept {
  observed_.erase_if([&](const InputNode* observed) { return observed == &input; });
}

namespace {
// Up to this many connections a linear search costs less than an index.
constexpr std::size_t linear_connections = 16;
constexpr std::size_t push_prefetch_distance = 8;
}  // namespace

std::size_t OutputNode::connection_position(const InputNode& input) const noexcept {
  // A single input keeps its position in its source's connections itself: an
  // output with 10^5 observers finds any of them without a lookup in memory
  // that the observer's own cache lines do not already bring.
  if (!input.multi_) return input.source_ == this ? input.source_position_ : no_position;
  if (connection_index_) {
    auto found = connection_index_->find(&input);
    return found == connection_index_->end() ? no_position : found->second;
  }
  for (std::size_t position = 0; position < connections_.size(); ++position) {
    if (connections_[position].input == &input) return position;
  }
  return no_position;
}

void OutputNode::add_connection(InputNode& input, Push push) {
  // Connected connectors are one network from now on, also after a
  // disconnect (docs/connectors.md, Threads).
  join_networks(*this, input);
  connections_.push_back(Connection{&input, push, false});
  const auto position = static_cast<std::uint32_t>(connections_.size() - 1);
  if (!input.multi_) {
    input.source_position_ = position;
    return;
  }
  try {
    if (connection_index_) {
      connection_index_->emplace(&input, position);
    } else if (connections_.size() > linear_connections) {
      // The multi-inputs' positions: the single inputs keep their own.
      std::unique_ptr<ConnectionIndex, DropConnectionIndex> index{new ConnectionIndex};
      for (std::size_t at = 0; at < connections_.size(); ++at) {
        if (connections_[at].input->multi_) index->emplace(connections_[at].input, static_cast<std::uint32_t>(at));
      }
      connection_index_ = std::move(index);
    }
  } catch (...) {
    connection_index_.reset();  // a linear search still finds everything
    connections_.pop_back();
    throw;
  }
}

void OutputNode::note_moved_to(std::size_t position) noexcept {
  InputNode& moved = *connections_[position].input;
  if (!moved.multi_) {
    moved.source_position_ = static_cast<std::uint32_t>(position);
  } else if (connection_index_) {
    connection_index_->find(&moved)->second = static_cast<std::uint32_t>(position);
  }
}

void OutputNode::remove_connection(InputNode& input) noexcept {
  const std::size_t position = connection_position(input);
  if (position == no_position) return;
  const std::size_t last = connections_.size() - 1;
  if (position != last) {
    connections_[position] = connections_[last];
    note_moved_to(position);
  }
  if (input.multi_ && connection_index_) connection_index_->erase(&input);
  connections_.pop_back();
}

void OutputNode::for_each_downstream(Visit visit, void* context) const {
  for (const Connection& connection : connections_) visit(*connection.input, context);
}

void OutputNode::for_each_upstream(Visit visit, void* context) const {
  for (const InputNode* input : observed_) visit(*input, context);
}

bool OutputNode::has_downstream() const noexcept {
  if (!connections_.empty()) return true;
  if (kind_ != Kind::multi) return false;
  const auto& items = static_cast<const MultiOutputNode*>(this)->items();
  return std::any_of(items.begin(), items.end(),
                     [](const MultiOutputKeyNode* item) { return !item->connections().empty(); });
}

InputNode* OutputNode::sole_announcer_among_many() const noexcept {
  InputNode* found = nullptr;
  for (InputNode* input : observed_) {
    if (!input->announcing_) continue;
    if (found != nullptr) return nullptr;
    found = input;
  }
  return found;
}

Task<void> OutputNode::request_announcers(Operation& operation) {
  std::vector<InputNode*> announcers;
  for (InputNode* input : observed_) {
    if (input->announcing_) announcers.push_back(input);
  }
  co_await request_all(operation, std::move(announcers));
}

void OutputNode::abort_downstream(const std::exception_ptr& error, const Operation& operation) noexcept {
  for (const Connection& connection : connections_) connection.input->computable_.abort_all(error, operation.id);
  if (kind_ != Kind::multi) return;
  for (MultiOutputKeyNode* item : static_cast<MultiOutputNode*>(this)->items()) {
    for (const Connection& connection : item->connections_) {
      connection.input->computable_.abort_all(error, operation.id);
    }
  }
}

void OutputNode::push_value(OutputNode& announcer, const void* value, bool only_unreceived,
                            std::vector<InputNode*>& pulling) {
  pulling.clear();
  Connection* const connections = announcer.connections_.begin();
  const std::size_t count = announcer.connections_.size();
  std::size_t at = 0;
  try {
    for (; at < count; ++at) {
      // A wide output's observers are far apart in memory: the lines a push
      // writes (the received value, the announcement, the wait list) are
      // fetched a few connections ahead, so that their misses overlap.
      if (at + push_prefetch_distance < count) {
        const auto* ahead = reinterpret_cast<const char*>(connections[at + push_prefetch_distance].input);
        __builtin_prefetch(ahead + 64, 1);
        __builtin_prefetch(ahead + 128, 1);
      }
      Connection& connection = connections[at];
      if (only_unreceived && connection.received) continue;
      const bool pulls = connection.push(*connection.input, announcer, value);
      connection.received = true;
      if (pulls) pulling.push_back(connection.input);
    }
  } catch (...) {
    // A copy of the value threw (the value type's, in the input's push), or
    // memory ran out: this connection has not received the value, nor, in a
    // push of a new value, have the ones after it, which may still be marked
    // for the value before. The next request pushes the cached value to the
    // connections not marked (docs/design.md#output).
    connections[at].received = false;
    if (!only_unreceived) {
      for (std::size_t rest = at + 1; rest < count; ++rest) connections[rest].received = false;
    }
    throw;
  }
}

// ---- InputNode --------------------------------------------------------------

void InputNode::detach() noexcept {
  leave_network(*this, [this]() noexcept {
    const bool inside = note_destruction(*this);
    NetworkLock lock{*this};
    if (inside) abort_own_waits();
    detach_locked();
  });
}

void InputNode::abort_own_waits() noexcept {
  // This input's own request, waiting for its sources, will not be resumed by
  // them any more: it ends with the operation's error.
  computable_.abort_all(destroyed_inside_error(), 0);
}

namespace {
thread_local DestructionWatch* innermost_watch = nullptr;
}  // namespace

DestructionWatch::DestructionWatch(std::vector<InputNode*>& inputs) noexcept
    : inputs_(&inputs), outer_(innermost_watch) {
  innermost_watch = this;
}
DestructionWatch::DestructionWatch(InputNode*& one) noexcept : one_(&one), outer_(innermost_watch) {
  innermost_watch = this;
}
DestructionWatch::DestructionWatch(Forget forget, void* context) noexcept
    : forget_(forget), context_(context), outer_(innermost_watch) {
  innermost_watch = this;
}
DestructionWatch::~DestructionWatch() { innermost_watch = outer_; }
DestructionWatch* DestructionWatch::innermost() noexcept { return innermost_watch; }
DestructionWatch* DestructionWatch::exchange_innermost(DestructionWatch* chain) noexcept {
  return std::exchange(innermost_watch, chain);
}

void DestructionWatch::forget(const InputNode& input) noexcept {
  for (DestructionWatch* watch = innermost_watch; watch != nullptr; watch = watch->outer_) {
    if (watch->inputs_ != nullptr) std::erase(*watch->inputs_, &input);
    if (watch->one_ != nullptr && *watch->one_ == &input) *watch->one_ = nullptr;
    if (watch->forget_ != nullptr) watch->forget_(watch->context_, input);
  }
}

namespace {
thread_local bool failed_conditions_hold = false;
thread_local std::exception_ptr* failed_condition_slot = nullptr;
}  // namespace

FailedConditionsHold::FailedConditionsHold() noexcept
    : outer_(failed_conditions_hold), outer_first_error_(std::exchange(failed_condition_slot, nullptr)) {
  failed_conditions_hold = true;
}
FailedConditionsHold::FailedConditionsHold(std::exception_ptr& first_error) noexcept
    : outer_(failed_conditions_hold), outer_first_error_(std::exchange(failed_condition_slot, &first_error)) {
  failed_conditions_hold = true;
}
FailedConditionsHold::~FailedConditionsHold() {
  failed_conditions_hold = outer_;
  failed_condition_slot = outer_first_error_;
}
void FailedConditionsHold::keep_failure() noexcept {
  if (failed_condition_slot != nullptr && !*failed_condition_slot) *failed_condition_slot = std::current_exception();
}
bool FailedConditionsHold::active() noexcept { return failed_conditions_hold; }
bool FailedConditionsHold::exchange_active(bool held) noexcept { return std::exchange(failed_conditions_hold, held); }

void InputNode::detach_locked() noexcept {
  DestructionWatch::forget(*this);
  if (source_ != nullptr) source_->remove_connection(*this);
  source_ = nullptr;
  // The change this input announced will never be applied: for its observers
  // it is withdrawn (docs/design.md#cancel). An observer left with nothing
  // announced and nothing changed is valid again, and the connections it
  // delivered to stop waiting for it; otherwise they would wait for a value
  // it holds already and does not push again (random finding 25).
  std::vector<InputNode*> cancelled;
  for (OutputNode* observer : observers_) {
    if (announcing_) observer->on_cancel(cancelled);
    observer->remove_observed_input(*this);
  }
  observers_.clear();
  announcing_ = false;
  cascade_cancels(cancelled);
}

void InputNode::set_laziness(Laziness laziness) {
  check_laziness(laziness);
  ConfigurationLock lock{*this, "set_laziness"};
  laziness_.store(laziness, std::memory_order_relaxed);
  // A pending announcement upstream may have been settled while this input
  // was lazy: the next announcement must reach it again.
  unsettle_upstream(*this);
}

void InputNode::set_parallelization(Parallelization parallelization) {
  check_parallelization(parallelization);
  ConfigurationLock lock{*this, "set_parallelization"};
  parallelization_.store(parallelization, std::memory_order_relaxed);
}

bool InputNode::comes_from(const OutputNode* source, const OutputNode& output) noexcept {
  if (source == &output) return true;
  return source != nullptr && source->kind_ == OutputNode::Kind::multi_key &&
         &static_cast<const MultiOutputKeyNode*>(source)->parent() == &output;
}

void InputNode::link_observers(OutputNode* const* observers, std::size_t count) {
  std::size_t linked = 0;
  try {
    for (; linked < count; ++linked) {
      OutputNode& observer = *observers[linked];
      join_networks(observer, *this);  // one owner's connectors are one network
      observers_.push_back(&observer);
      observer.add_observed_input(*this);
    }
  } catch (...) {
    for (std::size_t i = 0; i <= linked && i < count; ++i) observers[i]->remove_observed_input(*this);
    observers_.clear();
    leave_owner_network();
    throw;
  }
}

bool InputNode::take_cancel(OutputNode& from) noexcept {
  if (multi_) return multi_take_cancel(from);
  if (announcement_ != &from) return false;
  announcement_ = nullptr;
  computable_.wake_all();
  // A received value not applied yet is still a change for the observers:
  // they stay announced until a request applies it.
  return !holds_value();
}

void InputNode::for_each_downstream(Visit visit, void* context) const {
  for (const OutputNode* observer : observers_) visit(*observer, context);
}

void InputNode::for_each_upstream(Visit visit, void* context) const {
  if (multi_) {
    multi_for_each_source(visit, context);
  } else if (source_ != nullptr) {
    visit(*source_, context);
  }
}

namespace {
// False for good once an unsettling walk ran out of memory: its marks may be
// missing, and every announcement then walks all its downstream
// (docs/design.md#settled).
std::atomic<bool> settled_marks_trusted{true};
}  // namespace

void InputNode::announce_downstream(NonLazyCollection& collection, bool may_collect_self) {
  // An explicit stack replaces the recursion input → observers → connections
  // → inputs → ...; a "finish" entry applies the forwarding rule once all of
  // an input's downstream has been visited.
  struct Step {
    InputNode* input;
    OutputNode* announcer;         // visit: announced by this output
    std::size_t collected_before;  // finish: size of the collection at the visit
    OutputNode* origin = nullptr;  // visit: the output the walk announced (the announcer, or its multi-output)
    InputNode* parent = nullptr;   // visit: the input whose observer `origin` is (the same block)
  };
  StackLease<Step> lease;
  std::vector<Step>& stack = *lease;
  InputNode* const never_collected = may_collect_self ? nullptr : this;
  auto expand = [&](InputNode & input) __attribute__((always_inline)) {
    // The finish step only decides whether the input joins the collection.
    if (&input != never_collected && input.laziness() >= collection.situation) {
      stack.push_back(Step{&input, nullptr, collection.inputs.size()});
    }
    if (!input.announcing_) {
      input.announcing_ = true;
      for (OutputNode* observer : input.observers_) observer->on_announce();
    } else {
      for (OutputNode* observer : input.observers_) observer->valid_.store(false, std::memory_order_release);
    }
    for (OutputNode* observer : input.observers_) {
      for (const OutputNode::Connection& connection : observer->connections_) {
        stack.push_back(Step{connection.input, observer, 0, observer, &input});
      }
      if (observer->kind_ == OutputNode::Kind::multi) {
        for (MultiOutputKeyNode* item : static_cast<MultiOutputNode*>(observer)->items()) {
          for (const OutputNode::Connection& connection : item->connections()) {
            stack.push_back(Step{connection.input, item, 0, observer, &input});
          }
        }
      }
    }
  };
  // A condition that throws counts as held until the walk is complete, and
  // its error is thrown then: cut short, the walk left the inputs it had
  // announced settled, and later walks stopped above inputs never served
  // again (docs/design.md#conditions).
  ConditionFailures failures;
  announced_in_ = std::min(announced_in_, collection.situation);
  expand(*this);
  // An announce condition is user code, and it may destroy blocks: its own,
  // one the walk has still to visit, one collected already
  // (docs/design.md#lifetime). Each destroyed input leaves the walk; the
  // input being asked is then not touched again. The walk goes on over what
  // is left, so that nothing alive below keeps a value computed before the
  // change; a destruction inside an operation then ends it with
  // std::logic_error, as any method's does (docs/design.md#destruction-inside).
  struct Walk {
    std::vector<Step>& stack;
    NonLazyCollection& collection;
    InputNode* asked;
  } walk{stack, collection, nullptr};
  DestructionWatch watch{[](void* context, const InputNode& destroyed) noexcept {
                           auto& walk = *static_cast<Walk*>(context);
                           // (A destroyed block takes its outputs along: the
                           // steps they announced go too.)
                           std::erase_if(walk.stack, [&](const Step& step) {
                             return step.input == &destroyed || step.parent == &destroyed;
                           });
                           std::erase(walk.collection.inputs, &destroyed);
                           if (walk.asked == &destroyed) walk.asked = nullptr;
                         },
                         &walk};
  while (!stack.empty()) {
    // Read field by field: the step was usually pushed a moment ago, and a
    // whole copy's 16-byte loads straddle the push's narrower stores, which
    // the store buffer then cannot forward (docs/benchmarks.md, "Steps read
    // as they were written").
    const Step& top = stack.back();
    InputNode& input = *top.input;
    OutputNode* const announcer = top.announcer;
    OutputNode* const origin = top.origin;
    const std::size_t collected_before = top.collected_before;
    stack.pop_back();
    // A single input no longer connected to its announcer (the announcer's
    // block was destroyed meanwhile): nothing to announce, and the
    // announcer must not be remembered. An announced output that is valid
    // again had its change withdrawn meanwhile (a destruction cancelled it
    // from upstream): announcing below it would leave inputs waiting for a
    // value that is not coming.
    if (announcer != nullptr && ((!input.multi_ && input.source_ != announcer) || origin->valid())) continue;
    if (announcer != nullptr) {
      // Already announced by the same output in a situation that collects at
      // least as much: its downstream is announced and holds nothing
      // collectable (a served input would have cleared it). Stopping here
      // keeps building a network in any order linear.
      const bool settled = input.announcing_ && input.is_announced_by(*announcer) &&
                           input.announced_in_ <= collection.situation &&
                           settled_marks_trusted.load(std::memory_order_relaxed);
      if (settled) {
        if (&input != never_collected && input.laziness() >= collection.situation) collection.inputs.push_back(&input);
        continue;
      }
      walk.asked = &input;
      bool accepted = input.take_announcement(*announcer);
      if (walk.asked == nullptr) continue;  // its condition destroyed its block
      walk.asked = nullptr;
      // Withdrawn while the condition ran (a destruction cancelled the change
      // from upstream, and the announcer is valid again): nothing to announce,
      // and a single input must not wait for it. (Accepted, the announcer is
      // still connected, so alive.)
      if (accepted && origin->valid()) {
        if (!input.multi_ && input.announcement_ == announcer) input.announcement_ = nullptr;
        accepted = false;
      }
      if (accepted) {
        input.announced_in_ = collection.situation;
        expand(input);
      } else {
        // Refused by its announce condition: the inputs upstream cannot count
        // as settled, or a later announcement would stop before this input.
        unsettle_upstream(input);
      }
    } else if (&input != never_collected && collection.inputs.size() == collected_before &&
               input.laziness() >= collection.situation) {
      collection.inputs.push_back(&input);
    }
  }
  failures.rethrow_first();
}

void InputNode::notify_observers() noexcept {
  if (!announcing_) {
    for (OutputNode* observer : observers_) {
      ++observer->pending_announcements_;  // balanced by on_notify
    }
  }
  announcing_ = false;
  announced_in_ = Laziness::ON_CONNECT;
  for (OutputNode* observer : observers_) observer->on_notify();
  // A newer change on its way to this input (announced while this one was
  // being applied or decided: a method destroyed a source upstream, whose
  // loss announced this input again) keeps the observers announced: their
  // next request pulls it instead of computing from what is here now
  // (docs/design.md#cancel).
  if (multi_ ? !multi_waits_for_nothing() : announcement_ != nullptr) {
    announcing_ = true;
    for (OutputNode* observer : observers_) observer->on_announce();
  }
}

void InputNode::cancel_observers() noexcept {
  // A newer change announced to this input meanwhile keeps the observers
  // announced, as it does when the cancel comes from upstream (take_cancel):
  // a method destroyed a source upstream, whose loss announced this input
  // again while its own change was being decided. Cancelling would
  // re-validate the observers' caches over it (docs/design.md#cancel). (A
  // value merely received and not applied does not: the request that applies
  // it tells the observers.)
  if (multi_ ? !multi_waits_for_nothing() : announcement_ != nullptr) return;
  if (!announcing_) return;
  announcing_ = false;
  announced_in_ = Laziness::ON_CONNECT;
  std::vector<InputNode*> cancelled;  // allocates only for a cancel that reaches further
  for (OutputNode* observer : observers_) observer->on_cancel(cancelled);
  cascade_cancels(cancelled);
}

void InputNode::abort_observers(const std::exception_ptr& error, const Operation& operation) noexcept {
  for (OutputNode* observer : observers_) observer->computable_.abort_all(error, operation.id);
}

void InputNode::link(OutputNode& output, InputNode& input, OutputNode::Push push) {
  output.add_connection(input, push);
  input.source_ = &output;
}

void InputNode::unlink(OutputNode& output, InputNode& input) noexcept {
  output.remove_connection(input);
  if (input.source_ == &output) input.source_ = nullptr;
  if (input.announcement_ == &output) {
    input.announcement_ = nullptr;
    input.computable_.wake_all();
  }
}

// ---- cycles -------------------------------------------------------------------

namespace {
bool has_upstream(const NodeBase& node) {
  bool found = false;
  node.for_each_upstream([](const NodeBase&, void* flag) { *static_cast<bool*>(flag) = true; }, &found);
  return found;
}
}  // namespace

void check_no_cycle(const OutputNode& output, const InputNode& input) {
  // Fast paths: a side with nothing beyond its first step cannot close a cycle.
  // A multi-output's key is downstream of its parent even before anything
  // is connected through it.
  const OutputNode* const output_owner =
      output.kind_ == OutputNode::Kind::multi_key ? &static_cast<const MultiOutputKeyNode&>(output).parent() : &output;
  const bool nothing_downstream =
      std::all_of(input.observers_.begin(), input.observers_.end(), [&](const OutputNode* observer) {
        return observer != &output && observer != output_owner && !observer->has_downstream();
      });
  const bool nothing_upstream =
      output.kind_ != OutputNode::Kind::multi_key &&
      std::all_of(output.observed_.begin(), output.observed_.end(),
                  [&](const InputNode* observed) { return observed != &input && !has_upstream(*observed); });
  if (nothing_downstream || nothing_upstream) return;

  // A cycle exists iff `output` is downstream of `input`. Search downstream
  // from the input and upstream from the output in alternation, one node per
  // turn; the side that runs out first proves there is no cycle.
  struct Search {
    std::vector<const NodeBase*> pending;
    std::unordered_set<const NodeBase*> seen;
  };
  Search down{{&input}, {&input}};
  Search up{{&output}, {&output}};
  const auto enqueue = [](const NodeBase& next, void* raw) {
    auto& search = *static_cast<Search*>(raw);
    if (search.seen.insert(&next).second) search.pending.push_back(&next);
  };
  const auto step = [&](Search& search, const NodeBase& goal, bool downward) -> bool {  // true: found the goal
    const NodeBase* node = search.pending.back();
    search.pending.pop_back();
    if (node == &goal) return true;
    if (downward) {
      node->for_each_downstream(enqueue, &search);
    } else {
      node->for_each_upstream(enqueue, &search);
    }
    return false;
  };
  while (!down.pending.empty() && !up.pending.empty()) {
    if (step(down, output, true) || step(up, input, false)) {
      throw CycleError("connectors: this connection would close a dependency cycle (the output depends on the input)");
    }
  }
}

// ---- non-lazy service ---------------------------------------------------------

Task<void> request_all(Operation& operation, std::vector<InputNode*> inputs) {
  if (inputs.size() == 1) {
    co_await inputs.front()->request(operation);
    co_return;
  }
  std::vector<Task<void>> requests;
  requests.reserve(inputs.size());
  for (InputNode* input : inputs) requests.push_back(input->request(operation));
  co_await request_concurrently(operation, std::move(requests));
}

Task<void> request_concurrently(Operation& operation, std::vector<Task<void>> requests) {
  // gather's start, counted: each request runs until its first suspension
  // before the next starts, and a THREAD method it meets meanwhile must not
  // take the coordinating thread from the siblings still to start.
  co_await detail::GroupAwaiter{requests.size(), [&](detail::TaskGroup& group) noexcept {
                                  operation.unstarted_requests += requests.size();
                                  for (Task<void>& request : requests) {
                                    --operation.unstarted_requests;
                                    detail::start_in_group(request, group);
                                  }
                                }};
  for (Task<void>& request : requests) request.handle().promise().result().take();  // the first error, in order
}

Task<void> request_notified(Operation& operation, std::vector<InputNode*> inputs) {
  std::erase_if(inputs, [&](InputNode* input) {
    if (!input->is_multi()) return false;
    operation.deferred_notified.push_back(input);
    return true;
  });
  if (inputs.empty()) co_return;
  co_await request_all(operation, std::move(inputs));
}

std::vector<InputNode*> take_deferred(Operation& operation) {
  std::vector<InputNode*> inputs = std::exchange(operation.deferred_notified, {});
  // Each once, in the order of their first push. Searched while few, hashed
  // beyond: 10^5 ON_NOTIFY multi-inputs on one output cost a second when
  // each was searched for among the others.
  constexpr std::size_t searched_up_to = 32;
  if (inputs.size() <= searched_up_to) {
    std::vector<InputNode*> unique;
    for (InputNode* input : inputs) {
      if (std::find(unique.begin(), unique.end(), input) == unique.end()) unique.push_back(input);
    }
    return unique;
  }
  std::unordered_set<InputNode*> seen;
  seen.reserve(inputs.size());
  std::erase_if(inputs, [&](InputNode* input) { return !seen.insert(input).second; });
  return inputs;
}

void run_operation(Operation& operation, Task<void> root) {
  operation.executor.run_coroutine(std::move(root));
  while (!operation.deferred_notified.empty()) {
    operation.executor.run_coroutine(request_all(operation, take_deferred(operation)));
  }
}

void unsettle_unserved(const NonLazyCollection& collection, const OperationScope* scope) noexcept {
  if (scope != nullptr && scope->poisoned()) return;
  for (InputNode* input : collection.inputs) unsettle_upstream(*input);
}

void serve_non_lazy(Executor& executor, OperationScope* scope, NonLazyCollection& collection,
                    std::vector<InputNode*> deferred) {
  if (collection.inputs.empty() && deferred.empty()) return;
  Operation operation{executor, scope};
  operation.deferred_notified = std::move(deferred);  // run_operation serves them after the collection
  try {
    run_operation(operation, request_all(operation, collection.inputs));
  } catch (...) {
    // The inputs left unserved are still announced, and the inputs upstream
    // of them look settled: without this the next announcement would stop
    // above them and never serve them again. (Not after a method destroyed
    // part of the network: some of them may be gone.)
    unsettle_unserved(collection, scope);
    throw;
  }
}

}  // namespace connectors::detail

namespace connectors::detail {

// ---- connect and disconnect -----------------------------------------------------

void connect_nodes(OutputNode& output, InputNode& input, OutputNode::Push push) {
  OperationScope scope{input, &output};
  if (output.is_connected_to(input)) return;  // a repeated connect is a no-op (docs/design.md#connect)
  if (input.source() != nullptr) {
    throw ConnectionError(
        "connectors: this input is already connected to another output; a single input has one source "
        "(disconnect it first)");
  }
  check_no_cycle(output, input);
  InputNode::link(output, input, push);
  NonLazyCollection collection{Laziness::ON_CONNECT, {}};
  // The announce conditions (the input's, then those below) may destroy
  // blocks: the connect then ends with std::logic_error, the connection made
  // and announced all the same (a condition that destroyed the input's or the
  // output's block refuses), so that the next get brings the value over it.
  // An announce condition that throws counts as held: the connection is
  // made and announced, then the error is reported, the collection unserved
  // (the next get brings the value over it).
  ConditionFailures failures;
  const bool accepted = input.accept_announcement(output);
  if (accepted) input.announce_downstream(collection, true);
  if (!scope.destroyed(&output)) unsettle_above(output, Laziness::ON_CONNECT);
  OperationScope::check_not_poisoned(&scope);
  if (std::exception_ptr failure = failures.take_first()) {
    unsettle_unserved(collection, &scope);
    std::rethrow_exception(failure);
  }
  serve_non_lazy(*input.executor(), &scope, collection);
}

void unsettle_above(const OutputNode& source, Laziness level) noexcept {
  // An input marked with `level` (or higher) is walked through by the
  // announcements that level covers, and so is everything upstream of it
  // (marked together): the walk stops there, which keeps building a network
  // linear.
  try {
    std::vector<const OutputNode*> sources{&source};
    auto add_sources = [&](const InputNode& from) {
      from.for_each_upstream(
          [](const NodeBase& upstream, void* raw) {
            static_cast<std::vector<const OutputNode*>*>(raw)->push_back(static_cast<const OutputNode*>(&upstream));
          },
          &sources);
    };
    while (!sources.empty()) {
      const OutputNode* next = sources.back();
      sources.pop_back();
      if (next->kind_ == OutputNode::Kind::multi_key) next = &static_cast<const MultiOutputKeyNode*>(next)->parent();
      for (InputNode* observed : next->observed_) {
        if (!observed->announcing_ || observed->announced_in_ >= level) continue;
        observed->announced_in_ = level;
        add_sources(*observed);
      }
    }
  } catch (const std::bad_alloc&) {
    // Part of the path may be left marked settled: from now on no walk
    // trusts a mark (docs/design.md#settled).
    settled_marks_trusted.store(false, std::memory_order_relaxed);
  }
}

void unsettle_upstream(InputNode& input, Laziness level) noexcept {
  struct Context {
    Laziness level;
  } context{level};
  input.for_each_upstream(
      [](const NodeBase& source, void* raw) {
        unsettle_above(static_cast<const OutputNode&>(source), static_cast<Context*>(raw)->level);
      },
      &context);
}

void disconnect_nodes(OutputNode& output, InputNode& input) {
  OperationScope scope{input};
  if (!output.is_connected_to(input)) {
    throw ConnectionError("connectors: cannot disconnect an input from an output it is not connected to");
  }
  // The flush: what was announced over this connection is applied first, so
  // the input keeps the last value that flowed over it.
  std::exception_ptr error;
  try {
    std::shared_ptr<Executor> executor = input.executor();
    Operation operation{*executor, &scope};
    run_operation(operation, input.request(operation));
  } catch (...) {
    if (scope.poisoned()) throw;  // a method destroyed part of the network: touch nothing more
    error = std::current_exception();
  }
  InputNode::unlink(output, input);
  if (error) std::rethrow_exception(error);
}

void withdraw_connection(OutputNode& output, InputNode& input) {
  OperationScope scope{input};
  if (!output.is_connected_to(input)) return;
  InputNode::unlink(output, input);
  // The change the connect announced is withdrawn, as a cancel from
  // upstream withdraws one: the observers' caches become valid again if
  // nothing else changed (docs/design.md#cancel). Not a change that was
  // waiting before the connect (a received value not applied yet, its setter
  // failed): the observers stay announced for it, as take_cancel keeps them.
  if (!NodeInspector::holds_value(input)) input.cancel_observers();
}

}  // namespace connectors::detail

namespace connectors::detail {

// ---- multi-output nodes -----------------------------------------------------------

void MultiOutputNode::for_each_downstream(Visit visit, void* context) const {
  OutputNode::for_each_downstream(visit, context);
  for (const MultiOutputKeyNode* item : items_) visit(*item, context);
}

MultiOutputKeyNode::MultiOutputKeyNode(MultiOutputNode& parent) : OutputNode(Kind::multi_key), parent_(parent) {
  join_networks(parent_, *this);
  parent_.items_.push_back(this);
}

void MultiOutputKeyNode::detach_key() noexcept {
  if (left_) return;
  leave_network(*this, [this]() noexcept {
    {
      NetworkLock lock{*this};
      std::erase(parent_.items_, this);
    }
    detach();
  });
}

}  // namespace connectors::detail
