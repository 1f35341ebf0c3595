#pragma once

// The operations of a random sequence, as plain data: the model and the
// network under test both execute them, the generator makes them, the
// shrinker removes them. Blocks are named by the order of their creation
// ("units"; a macro is one unit), so a sequence replays on fresh networks.

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

namespace connectors::random_test {

// Values live in [0, modulus); a unary block computes a*x+c with a invertible,
// so different inputs give different outputs and a stale value shows.
inline constexpr long modulus = 1000003;
// A value no computation produces: a setter given it throws (only direct
// sets use it, so it never travels through a connection).
inline constexpr long poison = -1;
// Whole multi-outputs store their values under their keys, mi[id] under
// chosen ids and add under a counter from 0: three ranges that never meet.
inline constexpr long virtual_id_base = 10'000'000;
inline long key_base(int unit) { return 1000L * (unit + 1); }
// How many keys a keyed block's whole connections deliver for its `count`
// input: 0 to 2, or 20 — more than the few a multi-input keeps unindexed
// (detail::OwnedKeys), so that many keys come and go at once too.
inline long keys_delivered(long count) {
  const long remainder = count % 4;
  return remainder == 3 ? 20 : remainder;
}

enum class UnitKind { unary, pass, sum, keyed, chain };

// The connectors a unit offers. Sources: its output, one key of a
// multi-output (mo[k]) or a whole multi-output. Targets: the main input (of
// a macro: both exported inputs), mi[id], the keyed block's two inputs.
enum class SourcePort { out, item, whole };
enum class TargetPort { in, item, base, count };

// The model's own names for Laziness (it shares no code with the library).
enum class Lazy { request = 1, notify = 2, announce = 3, connect = 4 };

enum class OpKind {
  create,        // unit kind, params; flag: output PROCESS; with_replace for sums
  set,           // direct call of a target input (unit, target port) with value
  fail_get,      // a method that throws: set_fail(value) on unit, perhaps set unit3's free input to
                 // value2, get(unit2), set_fail(0), pull everything
  mi_add,        // sum.in(value) -> handle
  mi_item,       // sum.in[id](value), id = handle
  mi_remove,     // sum.in.remove(handle)
  mi_replace,    // sum.in.replace(handle, value)
  get,           // get a source (unit, source port, key); again at once if cached
  connect,       // source (unit, port, key) -> target (unit2, port2, id)
  disconnect,    // the same, broken
  destroy,       // unit
  set_laziness,  // target (unit, port) laziness
  set_caching,   // unit output caching flag
  pull_all,      // get every output of every live unit (a quiescent check)
};

struct Op {
  OpKind kind = OpKind::get;
  UnitKind unit_kind = UnitKind::unary;  // create
  int unit = -1;
  SourcePort source_port = SourcePort::out;
  int key = 0;  // key index 0..3 of a keyed unit
  int unit2 = -1;
  TargetPort target_port = TargetPort::in;
  long id = 0;      // mi[id] / handles
  long value = 0;   // set values; create: a (unary factor)
  long value2 = 0;  // create: c (unary offset)
  Lazy laziness = Lazy::request;
  bool flag = false;   // create: output PROCESS; set_caching: the flag; connect: output side calls
  bool flag2 = false;  // create: sum with replace
  int unit3 = -1;      // fail_get: a free input set while the method fails (value2), or none
};

inline const char* name(UnitKind kind) {
  switch (kind) {
    case UnitKind::unary:
      return "Unary";
    case UnitKind::pass:
      return "PassThrough";
    case UnitKind::sum:
      return "Sum";
    case UnitKind::keyed:
      return "Keyed";
    case UnitKind::chain:
      return "Chain";
  }
  return "?";
}

inline const char* name(Lazy laziness) {
  switch (laziness) {
    case Lazy::request:
      return "ON_REQUEST";
    case Lazy::notify:
      return "ON_NOTIFY";
    case Lazy::announce:
      return "ON_ANNOUNCE";
    case Lazy::connect:
      return "ON_CONNECT";
  }
  return "?";
}

inline std::string unit_name(int unit) {
  std::ostringstream out;  // (not "b" + std::to_string: g++ 12 -O3 warns falsely about it)
  out << 'b' << unit;
  return out.str();
}

inline std::string source_text(int unit, SourcePort port, int key) {
  std::string text = unit_name(unit);
  switch (port) {
    case SourcePort::out:
      return text + ".out";
    case SourcePort::item:
      return text + ".out[" + std::to_string(key_base(unit) + key) + "]";
    case SourcePort::whole:
      return text + ".out";
  }
  return text;
}

inline std::string target_text(int unit, TargetPort port, long id) {
  std::string text = unit_name(unit);
  switch (port) {
    case TargetPort::in:
      return text + ".in";
    case TargetPort::item:
      return text + ".in[" + std::to_string(id) + "]";
    case TargetPort::base:
      return text + ".base";
    case TargetPort::count:
      return text + ".count";
  }
  return text;
}

// C++-like text of one operation, for logs and reproductions.
inline std::string describe(const Op& op) {
  std::ostringstream out;
  switch (op.kind) {
    case OpKind::create:
      out << name(op.unit_kind) << " " << unit_name(op.unit) << "(a=" << op.value << ", c=" << op.value2
          << (op.flag ? ", out PROCESS" : "") << (op.unit_kind == UnitKind::sum && op.flag2 ? ", with replace" : "")
          << ");";
      break;
    case OpKind::set:
      out << target_text(op.unit, op.target_port, op.id) << "(" << op.value << ");";
      break;
    case OpKind::fail_get:
      out << unit_name(op.unit) << ".fail(" << op.value << "); ";
      if (op.unit3 >= 0) out << unit_name(op.unit3) << ".<input>(" << op.value2 << "); ";
      out << source_text(op.unit2, op.source_port, op.key) << "(); " << unit_name(op.unit)
          << ".fail(0); /* then get every output */";
      break;
    case OpKind::mi_add:
      out << "h" << op.id << " = " << unit_name(op.unit) << ".in(" << op.value << ");";
      break;
    case OpKind::mi_item:
      out << unit_name(op.unit) << ".in[" << op.id << "](" << op.value << ");";
      break;
    case OpKind::mi_remove:
      out << unit_name(op.unit) << ".in.remove(h" << op.id << ");";
      break;
    case OpKind::mi_replace:
      out << unit_name(op.unit) << ".in.replace(h" << op.id << ", " << op.value << ");";
      break;
    case OpKind::get:
      out << source_text(op.unit, op.source_port, op.key) << "();";
      break;
    case OpKind::connect:
    case OpKind::disconnect: {
      const char* verb = op.kind == OpKind::connect ? "connect" : "disconnect";
      if (op.flag)
        out << source_text(op.unit, op.source_port, op.key) << "." << verb << "("
            << target_text(op.unit2, op.target_port, op.id) << ");";
      else
        out << target_text(op.unit2, op.target_port, op.id) << "." << verb << "("
            << source_text(op.unit, op.source_port, op.key) << ");";
      break;
    }
    case OpKind::destroy:
      out << "destroy " << unit_name(op.unit) << ";";
      break;
    case OpKind::set_laziness:
      out << target_text(op.unit, op.target_port, op.id) << ".set_laziness(" << name(op.laziness) << ");";
      break;
    case OpKind::set_caching:
      out << unit_name(op.unit) << ".out.set_caching(" << (op.flag ? "true" : "false") << ");";
      break;
    case OpKind::pull_all:
      out << "/* get every output */";
      break;
  }
  return out.str();
}

// A line of numbers for an operation, so that a sequence that hangs or
// crashes can be replayed from a file and shrunk from outside the process
// (scripts/shrink-random).
inline std::string encode(const Op& op) {
  std::ostringstream out;
  out << static_cast<int>(op.kind) << ' ' << static_cast<int>(op.unit_kind) << ' ' << op.unit << ' '
      << static_cast<int>(op.source_port) << ' ' << op.key << ' ' << op.unit2 << ' ' << static_cast<int>(op.target_port)
      << ' ' << op.id << ' ' << op.value << ' ' << op.value2 << ' ' << static_cast<int>(op.laziness) << ' ' << op.flag
      << ' ' << op.flag2 << ' ' << op.unit3;
  return out.str();
}

inline std::optional<Op> decode(const std::string& line) {
  std::istringstream in{line};
  Op op;
  int kind, unit_kind, source_port, target_port, laziness;
  if (!(in >> kind >> unit_kind >> op.unit >> source_port >> op.key >> op.unit2 >> target_port >> op.id >> op.value >>
        op.value2 >> laziness >> op.flag >> op.flag2))
    return std::nullopt;
  if (!(in >> op.unit3)) op.unit3 = -1;
  op.kind = static_cast<OpKind>(kind);
  op.unit_kind = static_cast<UnitKind>(unit_kind);
  op.source_port = static_cast<SourcePort>(source_port);
  op.target_port = static_cast<TargetPort>(target_port);
  op.laziness = static_cast<Lazy>(laziness);
  return op;
}

// The journal's line for an operation: readable, then replayable after '|'.
inline std::string journal_line(const Op& op) { return describe(op) + "  |" + encode(op); }

}  // namespace connectors::random_test
