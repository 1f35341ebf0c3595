#pragma once

#include <connectors/detail/method_probe.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace connectors::detail {

// One user method that ran, as the probes saw it (docs/observability.md).
struct MethodEvent {
  std::string owner;      // the owner's type, and its name if given
  std::string connector;  // the connector's name, or its type
  Phase phase = Phase::getter;
  int pid = 0;  // the worker's for a PROCESS method
  int tid = 0;  // the thread's (the worker's pid for a PROCESS method)
  bool process = false;
  bool failed = false;
  std::int64_t queued = 0;  // 0: not queued (ran where it was called)
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::size_t bytes_sent = 0;
  std::size_t bytes_received = 0;
  std::uint64_t operation = 0;  // the top-level operation it belongs to
};

// One top-level operation.
struct OperationEvent {
  std::string name;
  int pid = 0;
  int tid = 0;
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::uint64_t id = 0;
};

// What Trace and Progress implement. Every call is made with the observers'
// lock held, so an observer needs no lock of its own for what these calls
// touch, and sees methods and operations in one order.
class Observer {
 public:
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;
  virtual void operation_began(const OperationEvent& operation, const NodeBase& start) = 0;
  virtual void method_ended(const MethodEvent& method) = 0;
  virtual void operation_ended(const OperationEvent& operation) = 0;

 protected:
  Observer() = default;
  ~Observer() = default;
};

void add_observer(Observer& observer);
void remove_observer(Observer& observer);

// The observers' lock, for readers of an observer's state.
class ObserversLock {
 public:
  ObserversLock();
  ~ObserversLock();
  ObserversLock(const ObserversLock&) = delete;
  ObserversLock& operator=(const ObserversLock&) = delete;
};

// The labels of a connector in pictures and timelines: its owner's type and
// name ("Type name", or "Type" unnamed), the two apart, and its own.
std::string owner_label(const NodeBase& node);
std::string owner_type_label(const NodeBase& node);
std::string owner_name(const NodeBase& node);
std::string connector_label(const NodeBase& node);

}  // namespace connectors::detail
