// The probes' side of observability: what they record and where it goes
// (docs/observability.md).
#include <connectors/detail/method_probe.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/observer.hpp>
#include <connectors/detail/operation.hpp>
#include <connectors/detail/worker_pool.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace connectors::detail {

Task<void> traced_process_call(const NodeBase& node, Phase phase, Task<void> task) {
  const std::int64_t queued = probe_clock();
  last_process_call = ProcessCallNote{};
  try {
    co_await std::move(task);
  } catch (...) {
    probe_process_end(node, phase, queued, true);
    throw;
  }
  probe_process_end(node, phase, queued, false);
}

// The connector's names are taken when its method starts: a method may
// destroy its own connector (docs/connectors.md, Lifetime), and the record
// ends after it returns.
struct ProbeRecord {
  std::string owner;
  std::string connector;
  Phase phase;
  std::int64_t queued;
  std::int64_t start;
};

namespace {

// These three are never destroyed: a Trace or Progress with static storage
// is destroyed at exit, after statics made later than it (the first
// operation makes the table of operations), and removes itself then.
std::mutex& observers_mutex() {
  static auto* const mutex = new std::mutex;
  return *mutex;
}

// Guarded by observers_mutex(), like everything below.
std::vector<Observer*>& observers() {
  static auto* const list = new std::vector<Observer*>;
  return *list;
}

// The top-level operations under way: one per network at most, several at
// once on independent networks (docs/connectors.md, Threads). A method
// belongs to the top-level operation of the thread that runs it, which a
// pool thread knows too (current_operation, set around every user method).
std::unordered_map<const OperationScope*, OperationEvent>& operations() {
  static auto* const running = new std::unordered_map<const OperationScope*, OperationEvent>;
  return *running;
}
std::uint64_t last_operation_id = 0;

std::uint64_t operation_of_this_thread() {
  if (current_operation == nullptr) return 0;
  auto found = operations().find(current_operation->top_level());
  return found == operations().end() ? 0 : found->second.id;
}

int this_thread_id() noexcept {
  thread_local const int id = static_cast<int>(::syscall(SYS_gettid));
  return id;
}
int this_process_id() noexcept { return static_cast<int>(::getpid()); }

void deliver(MethodEvent& event) {
  std::lock_guard lock{observers_mutex()};
  event.operation = operation_of_this_thread();
  for (Observer* observer : observers()) observer->method_ended(event);
}

}  // namespace

ObserversLock::ObserversLock() { observers_mutex().lock(); }
ObserversLock::~ObserversLock() { observers_mutex().unlock(); }

void add_observer(Observer& observer) {
  std::lock_guard lock{observers_mutex()};
  observers().push_back(&observer);
  observing.store(true, std::memory_order_relaxed);
}

void remove_observer(Observer& observer) {
  std::lock_guard lock{observers_mutex()};
  auto& list = observers();
  list.erase(std::remove(list.begin(), list.end(), &observer), list.end());
  if (list.empty()) {
    observing.store(false, std::memory_order_relaxed);
    // Unobserved operations skip their end (operation_ends): their entries
    // would outlive them, and a later operation at the same address would
    // take over the old span. They end without one, as if never begun.
    operations().clear();
  }
}

std::int64_t probe_clock() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

ProbeRecord* probe_begin(const NodeBase& node, Phase phase) noexcept {
  // The queue time is this method's only: methods it runs where it is (a
  // nested operation's) were not queued. Given back when it ends, for the
  // next method of the same pool job.
  const std::int64_t queued = std::exchange(queued_at, 0);
  try {
    return new ProbeRecord{owner_label(node), connector_label(node), phase, queued, probe_clock()};
  } catch (...) {
    queued_at = queued;
    return nullptr;  // out of memory: this method goes unrecorded
  }
}

void probe_end(ProbeRecord* record, bool failed) noexcept {
  const std::int64_t end = probe_clock();
  try {
    MethodEvent event;
    event.owner = std::move(record->owner);
    event.connector = std::move(record->connector);
    event.phase = record->phase;
    event.pid = this_process_id();
    event.tid = this_thread_id();
    event.failed = failed;
    event.queued = record->queued;
    event.start = record->start;
    event.end = end;
    deliver(event);
  } catch (...) {
    // Out of memory: this method goes unrecorded.
  }
  queued_at = record->queued;
  delete record;
}

// Always noted: two clock reads are nothing beside a process call, and the
// supervisor thread need not know whether anyone observes.
void note_start(ProcessJob& job, int pid) noexcept {
  job.worker_pid = pid;
  job.sent_at = probe_clock();
}
void note_reply(ProcessJob& job) noexcept { job.replied_at = probe_clock(); }

void note_process_call(const ProcessJob& job) noexcept {
  if (!is_observing()) return;
  last_process_call =
      ProcessCallNote{job.worker_pid, job.sent_at, job.replied_at, job.request.size(), job.reply.size()};
}

void probe_process_end(const NodeBase& node, Phase phase, std::int64_t queued, bool failed) noexcept {
  const ProcessCallNote note = std::exchange(last_process_call, ProcessCallNote{});
  if (!is_observing()) return;
  try {
    MethodEvent event;
    event.owner = owner_label(node);
    event.connector = connector_label(node);
    event.phase = phase;
    event.process = true;
    event.failed = failed;
    event.queued = queued;
    if (note.worker_pid > 0) {
      event.pid = note.worker_pid;
      event.tid = note.worker_pid;
      event.start = note.sent;
      event.end = note.replied != 0 ? note.replied : probe_clock();  // 0: the worker failed
      event.bytes_sent = note.bytes_sent;
      event.bytes_received = note.bytes_received;
    } else {
      // The call never reached a worker (it failed before): it is shown
      // where it was awaited.
      event.pid = this_process_id();
      event.tid = this_thread_id();
      event.start = queued;
      event.end = probe_clock();
    }
    deliver(event);
  } catch (...) {
    // Out of memory: this method goes unrecorded.
  }
}

void probe_operation_begin(const OperationScope& scope, const NodeBase& start) noexcept {
  std::lock_guard lock{observers_mutex()};
  // The last observer went after operation_begins looked: unobserved, the
  // entry would outlive the operation (see remove_observer).
  if (observers().empty()) return;
  try {
    OperationEvent event;
    event.name = owner_label(start) + "." + connector_label(start);
    event.pid = this_process_id();
    event.tid = this_thread_id();
    event.id = ++last_operation_id;
    event.start = probe_clock();
    const OperationEvent& stored = operations().insert_or_assign(&scope, std::move(event)).first->second;
    for (Observer* observer : observers()) observer->operation_began(stored, start);
  } catch (...) {
    operations().erase(&scope);  // out of memory: this operation goes unrecorded
  }
}

void probe_operation_end(const OperationScope& scope) noexcept {
  std::lock_guard lock{observers_mutex()};
  auto found = operations().find(&scope);
  // An operation that began before anyone observed has no span.
  if (found == operations().end()) return;
  OperationEvent event = std::move(found->second);
  operations().erase(found);
  event.end = probe_clock();
  for (Observer* observer : observers()) {
    try {
      observer->operation_ended(event);
    } catch (...) {
      // Out of memory recording it (a Trace's list): that observer misses
      // this span; the others, a Progress waiting for the end, are told.
    }
  }
}

}  // namespace connectors::detail
