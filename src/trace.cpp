// connectors::Trace: recording and the Chrome trace event format
// (docs/observability.md, "The timeline").
#include <connectors/detail/observer.hpp>
#include <connectors/trace.hpp>

#include <unistd.h>

#include <cstdio>
#include <iterator>
#include <map>
#include <set>
#include <utility>

namespace connectors {

namespace {

const char* phase_name(detail::Phase phase) {
  switch (phase) {
    case detail::Phase::setter:
      return "setter";
    case detail::Phase::getter:
      return "getter";
    case detail::Phase::condition:
      return "condition";
  }
  return "?";
}

// The length of the well-formed UTF-8 sequence at `at` (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
std::size_t utf8_sequence_length(const std::string& text, std::size_t at) {
  const auto byte = [&](std::size_t offset) { return static_cast<unsigned char>(text[at + offset]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (at + length > text.size() || byte(1) < low || byte(1) > high) return 0;
  for (std::size_t offset = 2; offset < length; ++offset) {
    if (byte(offset) < 0x80 || byte(offset) > 0xBF) return 0;
  }
  return length;
}

// A JSON string: JSON text is UTF-8 (RFC 8259), and a name given to a
// connector need not be; a byte that is not part of a well-formed sequence
// is written as U+FFFD.
void write_string(std::ostream& out, const std::string& text) {
  out << '"';
  for (std::size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, at);
      if (length == 0) {
        out << "\\ufffd";
      } else {
        out.write(text.data() + at, static_cast<std::streamsize>(length));
        at += length - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out << "\\\"";
        break;
      case '\\':
        out << "\\\\";
        break;
      case '\n':
        out << "\\n";
        break;
      case '\t':
        out << "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out << escaped;
        } else {
          out << c;
        }
    }
  }
  out << '"';
}

// Nanoseconds as microseconds with three decimals: exact, so that events
// nested in nanoseconds stay nested in the file.
void write_micros(std::ostream& out, std::int64_t nanoseconds) {
  if (nanoseconds < 0) {
    out << '-';
    nanoseconds = -nanoseconds;
  }
  char digits[8];
  std::snprintf(digits, sizeof digits, "%03d", static_cast<int>(nanoseconds % 1000));
  out << nanoseconds / 1000 << '.' << digits;
}

}  // namespace

struct Trace::Recorder final : detail::Observer {
  // Guarded by the observers' lock (detail::ObserversLock).
  std::int64_t origin = detail::probe_clock();
  std::vector<Method> methods;
  std::vector<Operation> operations;
  // The first operation that began while this was alive: ids grow, and are
  // given under the lock that adds this recorder, so every later one began
  // in its lifetime and every earlier one before it. 0: none yet.
  std::uint64_t first_operation = 0;

  bool began_here(std::uint64_t operation) const noexcept {
    return first_operation != 0 && operation >= first_operation;
  }

  void operation_began(const detail::OperationEvent& operation, const detail::NodeBase&) override {
    if (first_operation == 0) first_operation = operation.id;
  }
  void method_ended(const detail::MethodEvent& event) override {
    // Begun before this trace: not what ran in its lifetime, whether or not
    // another observer had it recorded (docs/observability.md).
    if (event.start < origin) return;
    Method method{event.owner,
                  event.connector,
                  phase_name(event.phase),
                  event.pid,
                  event.tid,
                  event.process,
                  event.failed,
                  event.queued,
                  event.start,
                  event.end,
                  event.bytes_sent,
                  event.bytes_received,
                  began_here(event.operation) ? event.operation : 0};
    // In the order they ended: a PROCESS method ended when its reply came,
    // and is told when the coordinating thread takes the reply, which may be
    // after methods that ended later.
    auto at = methods.end();
    while (at != methods.begin() && std::prev(at)->end > method.end) --at;
    methods.insert(at, std::move(method));
  }
  void operation_ended(const detail::OperationEvent& event) override {
    if (!began_here(event.id)) return;
    operations.push_back(Operation{event.name, event.pid, event.tid, event.start, event.end, event.id});
  }
};

Trace::Trace() : recorder_(std::make_unique<Recorder>()) { detail::add_observer(*recorder_); }

Trace::~Trace() { detail::remove_observer(*recorder_); }

std::vector<Trace::Method> Trace::methods() const {
  detail::ObserversLock lock;
  return recorder_->methods;
}

std::vector<Trace::Operation> Trace::operations() const {
  detail::ObserversLock lock;
  return recorder_->operations;
}

void Trace::write_json(std::ostream& out) const {
  std::vector<Method> methods;
  std::vector<Operation> operations;
  std::int64_t origin = 0;
  {
    detail::ObserversLock lock;
    methods = recorder_->methods;
    operations = recorder_->operations;
    origin = recorder_->origin;
  }
  const int own_pid = static_cast<int>(::getpid());
  std::set<int> workers;
  std::set<std::pair<int, int>> threads;
  for (const Method& method : methods) {
    // A PROCESS method that reached no worker (it failed before, or went to
    // another MPI rank) is shown where it was awaited, in this process.
    if (method.process && method.pid != own_pid) {
      workers.insert(method.pid);
    } else {
      threads.insert({method.pid, method.tid});
    }
  }
  for (const Operation& operation : operations) threads.insert({operation.pid, operation.tid});

  bool first = true;
  auto next = [&] {
    out << (first ? "\n  " : ",\n  ");
    first = false;
  };
  out << "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [";
  // Names of the tracks: this process, its threads, each worker process.
  next();
  out << "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": " << own_pid
      << ", \"tid\": 0, \"args\": {\"name\": \"connectors (pid " << own_pid << ")\"}}";
  for (const auto& [pid, tid] : threads) {
    next();
    out << "{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": " << pid << ", \"tid\": " << tid
        << ", \"args\": {\"name\": \"thread " << tid << (tid == pid ? " (main)" : "") << "\"}}";
  }
  for (const int pid : workers) {
    next();
    out << "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": " << pid
        << ", \"tid\": 0, \"args\": {\"name\": \"worker process " << pid << "\"}}";
    next();
    out << "{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": " << pid << ", \"tid\": " << pid
        << ", \"args\": {\"name\": \"calls (times seen from the parent)\"}}";
  }
  for (const Operation& operation : operations) {
    next();
    out << "{\"name\": ";
    write_string(out, "operation " + operation.name);
    out << ", \"cat\": \"operation\", \"ph\": \"X\", \"ts\": ";
    write_micros(out, operation.start - origin);
    out << ", \"dur\": ";
    write_micros(out, operation.end - operation.start);
    out << ", \"pid\": " << operation.pid << ", \"tid\": " << operation.tid
        << ", \"args\": {\"operation\": " << operation.id << "}}";
  }
  for (const Method& method : methods) {
    next();
    out << "{\"name\": ";
    write_string(out, method.owner + "." + method.connector);
    out << ", \"cat\": ";
    write_string(out, method.phase);
    out << ", \"ph\": \"X\", \"ts\": ";
    write_micros(out, method.start - origin);
    out << ", \"dur\": ";
    write_micros(out, method.end - method.start);
    out << ", \"pid\": " << method.pid << ", \"tid\": " << method.tid << ", \"args\": {\"owner\": ";
    write_string(out, method.owner);
    out << ", \"connector\": ";
    write_string(out, method.connector);
    out << ", \"phase\": ";
    write_string(out, method.phase);
    out << ", \"where\": " << (method.process ? "\"process\"" : "\"thread\"");
    if (method.queued != 0) {
      out << ", \"queued_us\": ";
      write_micros(out, method.queued - origin);
      out << ", \"waited_us\": ";
      write_micros(out, method.start - method.queued);
    }
    if (method.process)
      out << ", \"bytes_sent\": " << method.bytes_sent << ", \"bytes_received\": " << method.bytes_received;
    out << ", \"failed\": " << (method.failed ? "true" : "false") << ", \"operation\": " << method.operation << "}}";
  }
  out << "\n]}\n";
}

}  // namespace connectors
