#pragma once

// The reference model: a sequential, single-threaded simulation of the same
// network, written from docs/design.md (the protocol, section 2, with the
// deliberate deviations of section 10) and the guides, sharing no code with the library.
//
// Values alone could be checked against an eager evaluation, but what a single
// input keeps when its source is destroyed is the last value *delivered* to it
// (docs/design.md#lifetime), and what is delivered depends on which outputs were requested
// lazily. So the model keeps the protocol's few flags (announced, pending value,
// valid cache) and replays requests in program order. The rules it encodes, in
// the words of the lead's expectations:
// - a request of an output pushes its value to its connections (all of them
//   when it computes, those without the value when it serves its valid cache);
// - a pushed value stays pending until the input applies it; an announcement
//   does not drop it, and it is applied later even if the source is destroyed;
// - a cancel reaches downstream only if the output is valid again (repair R,
//   docs/design.md#cancel),
//   and never clears a connection that has not received a value yet (same section);
// - a single-input disconnect first pulls the input (the flush); a multi-input
//   disconnect first stores what the other connections announced, then removes
//   what the connection stored; a destroyed source acts like that without
//   running any user method but `remove`;
// - non-lazy inputs: the most downstream inputs whose laziness is at least the
//   situation (ON_ANNOUNCE for direct calls, ON_CONNECT for connects and
//   multi-input disconnects) are requested after the announcement; ON_NOTIFY
//   inputs apply a pushed value at once.
// Where these rules leave an outcome open, the generator does not produce that
// situation (see generator.hpp).

#include "operations.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace connectors::random_test {

enum class Error { none, failure, cycle, connection, refused };

// An injected failure inside the model (a getter with its fail flag set, or a
// setter given the poison value), or an operation the library must refuse
// (a getter that calls into the network being computed).
struct ModelFailure {
  Error error = Error::failure;
};

inline const char* name(Error error) {
  switch (error) {
    case Error::none:
      return "no error";
    case Error::failure:
      return "an injected failure";
    case Error::cycle:
      return "CycleError";
    case Error::connection:
      return "ConnectionError";
    case Error::refused:
      return "std::logic_error (an operation from inside the network being computed)";
  }
  return "?";
}

struct Outcome {
  Error error = Error::none;
  std::optional<long> value;
};

class Model {
 public:
  // The blocks a unit consists of; a chain macro is (u1, u2, s).
  struct Unit {
    UnitKind kind;
    std::vector<int> blocks;
    bool alive = true;
    bool process = false;  // the output is flagged PROCESS
  };
  struct Endpoint {
    int block;
    int input;  // target input index; for sources unused
  };

  // An empty place, so that unit numbers survive a shrunk sequence.
  void add_placeholder() { units_.push_back(Unit{UnitKind::unary, {}, false}); }

  int create(const Op& op) {
    const int unit = static_cast<int>(units_.size());
    Unit created{op.unit_kind, {}, true, op.flag};
    switch (op.unit_kind) {
      case UnitKind::unary:
        created.blocks.push_back(add_unary(op.value, op.value2));
        break;
      case UnitKind::pass:
        created.blocks.push_back(add_block(BlockKind::pass, 1, Lazy::request, false));
        break;
      case UnitKind::sum:
        created.blocks.push_back(add_sum(op.flag2));
        break;
      case UnitKind::keyed: {
        const int block = add_block(BlockKind::keyed, 3, Lazy::request, true);
        blocks_[block].key0 = key_base(unit);
        created.blocks.push_back(block);
        break;
      }
      case UnitKind::chain: {
        // The macro's constructor connects its inner blocks: u1.out, u2.out -> s.in.
        const int u1 = add_unary(op.value, op.value2);
        const int u2 = add_unary((op.value * 3) % (modulus - 1) + 1, op.value2 + 1);
        const int s = add_sum(true);
        created.blocks = {u1, u2, s};
        connect_endpoint(u1, -1, false, Endpoint{s, 0}, std::nullopt, true);
        connect_endpoint(u2, -1, false, Endpoint{s, 0}, std::nullopt, true);
        break;
      }
    }
    for (std::size_t i = 0; i < created.blocks.size(); ++i)
      blocks_[created.blocks[i]].slot = unit * 3 + static_cast<int>(i);
    units_.push_back(created);
    return unit;
  }

  // --- queries for the generator and the runner ---------------------------

  int unit_count() const { return static_cast<int>(units_.size()); }
  const Unit& unit(int index) const { return units_[index]; }
  bool alive(int unit) const { return unit >= 0 && unit < unit_count() && units_[unit].alive; }

  // The block whose output a source port names (a chain exports s.out).
  int output_block(int unit) const { return units_[unit].blocks.back(); }
  // The inputs a target port names (a chain exports u1.in and u2.in).
  std::vector<Endpoint> targets(int unit, TargetPort port) const {
    const Unit& u = units_[unit];
    switch (port) {
      case TargetPort::in:
        if (u.kind == UnitKind::chain) return {{u.blocks[0], 0}, {u.blocks[1], 0}};
        return {{u.blocks[0], 0}};
      case TargetPort::item:
        return {{u.blocks[0], 0}};
      case TargetPort::base:
        return {{u.blocks[0], 0}};
      case TargetPort::count:
        return {{u.blocks[0], 1}};
    }
    return {};
  }
  bool is_multi(const Endpoint& target) const { return blocks_[target.block].kind == BlockKind::sum; }
  bool with_replace(int unit) const { return blocks_[units_[unit].blocks[0]].with_replace; }

  bool caching(int unit) const { return blocks_[output_block(unit)].caching; }
  // Does a single output hold a valid value now? After a get it may not: the
  // ON_NOTIFY service that the get's pushes triggered can re-apply a value
  // upstream of it (a cache-less source pushes to every connection).
  bool output_valid(int unit) const { return blocks_[output_block(unit)].valid; }
  // Is the block with this counter slot a multi-output?
  bool keyed_slot(int slot) const {
    for (const Block& block : blocks_)
      if (block.slot == slot) return block.kind == BlockKind::keyed;
    return false;
  }
  // The caching flag of the block with this counter slot (unit * 3 + place).
  bool caching_of_slot(int slot) const {
    for (const Block& block : blocks_)
      if (block.slot == slot) return block.caching;
    return true;
  }
  bool any_notify_input() const {
    for (const Block& block : blocks_) {
      if (!block.alive) continue;
      if (block.kind == BlockKind::sum ? block.multi.lazy == Lazy::notify
                                       : std::any_of(block.singles.begin(), block.singles.end(),
                                                     [](const SingleIn& in) { return in.lazy == Lazy::notify; }))
        return true;
    }
    return false;
  }
  // Is an input with laziness ON_ANNOUNCE or more downstream of the unit's output?
  bool non_lazy_below(int unit) const { return eligible_below(output_block(unit), Lazy::announce); }

  // The live units whose output depends on the unit's output (itself included).
  std::vector<int> downstream_units(int unit) const {
    std::vector<int> result;
    for (int other = 0; other < unit_count(); ++other)
      if (units_[other].alive && reaches(output_block(unit), output_block(other))) result.push_back(other);
    return result;
  }

  // Has the input any connection from upstream?
  bool is_connected(const Endpoint& target) const {
    return is_multi(target) ? !blocks_[target.block].multi.conns.empty() : has_source(target);
  }
  bool has_source(const Endpoint& target) const {
    return !is_multi(target) && blocks_[target.block].singles[target.input].conn >= 0;
  }
  // The connection from a source into a target, or -1.
  int find_connection(int unit, SourcePort port, int key, const Endpoint& target) const {
    const int block = output_block(unit);
    for (int index : connections_of(block, port, key)) {
      const Conn& conn = conns_[index];
      if (conn.alive && conn.dst_block == target.block && conn.dst_input == target.input) return index;
    }
    return -1;
  }
  // A connection made through mi[id] with this id into the multi-input.
  bool id_connected(const Endpoint& target, long id) const {
    for (const Conn& conn : conns_)
      if (conn.alive && conn.dst_block == target.block && conn.dst_input == target.input && conn.vid == id) return true;
    return false;
  }
  // Any connection from this output (whatever its port) into the multi-input.
  bool output_feeds(int unit, const Endpoint& target) const {
    const Block& source = blocks_[output_block(unit)];
    auto feeds = [&](const std::vector<int>& list) {
      for (int index : list)
        if (conns_[index].alive && conns_[index].dst_block == target.block) return true;
      return false;
    };
    if (feeds(source.conns)) return true;
    for (const auto& [key, list] : source.key_conns)
      if (feeds(list)) return true;
    return false;
  }
  std::optional<long> connection_id(int conn) const { return conns_[conn].vid; }
  // Would connecting the output of `unit` into `target` close a cycle?
  bool closes_cycle(int unit, const Endpoint& target) const { return reaches(target.block, output_block(unit)); }
  bool single_has_value_pending(const Endpoint& target) const {
    return !is_multi(target) && blocks_[target.block].singles[target.input].pending.has_value();
  }

  // Connections a disconnect may break: (source unit, port, key, target unit, port, id).
  struct Link {
    int unit;
    SourcePort port;
    int key;
    int unit2;
    TargetPort port2;
    long id;
  };
  std::vector<Link> links() const {
    std::vector<Link> result;
    for (int u = 0; u < unit_count(); ++u) {
      if (!units_[u].alive) continue;
      const Block& source = blocks_[output_block(u)];
      auto add = [&](const std::vector<int>& list, SourcePort port, int key) {
        for (int index : list) {
          const Conn& conn = conns_[index];
          if (!conn.alive || conn.fixed) continue;
          const auto [unit2, port2] = target_unit(conn);
          if (units_[unit2].kind == UnitKind::chain) {
            // A macro input is connected or disconnected as a whole: list it once, from u1.
            if (conn.dst_block != units_[unit2].blocks[0]) continue;
          }
          result.push_back({u, port, key, unit2, conn.vid ? TargetPort::item : port2, conn.vid.value_or(0)});
        }
      };
      if (source.kind == BlockKind::keyed) {
        add(source.conns, SourcePort::whole, 0);
        for (const auto& [key, list] : source.key_conns)
          add(list, SourcePort::item, static_cast<int>(key - source.key0));
      } else {
        add(source.conns, SourcePort::out, 0);
      }
    }
    return result;
  }
  // The inputs whose state changed since the last call (slot * 8 + input),
  // for the check that the library ran their setters too. PassThrough is the
  // library's own block and counts nothing.
  std::vector<int> take_changed_inputs() { return std::exchange(changed_inputs_, {}); }

  // Known defects whose situation the last operations created (see known_defects.hpp).
  std::set<int> take_hazards() { return std::exchange(hazards_, {}); }

  // Is a value pushed to a single input and not applied yet (one that would change it)?
  bool has_unapplied_single() const {
    for (const Block& block : blocks_) {
      if (!block.alive) continue;
      for (const SingleIn& in : block.singles)
        if (in.pending && *in.pending != in.applied) return true;
    }
    return false;
  }
  // Does a multi-input fed by this unit hold a value pushed by another source and not stored yet?
  bool multi_pending_beside(int unit) const {
    const int source = output_block(unit);
    for (const Block& block : blocks_) {
      if (!block.alive || block.kind != BlockKind::sum) continue;
      bool fed = false;
      bool pending = false;
      for (int index : block.multi.conns) {
        const Conn& conn = conns_[index];
        if (conn.src_block == source)
          fed = true;
        else if (conn.pending || conn.pending_map)
          pending = true;
      }
      if (fed && pending) return true;
    }
    return false;
  }
  bool has_direct(int unit, long handle) const {
    const Block& block = blocks_[units_[unit].blocks[0]];
    return block.multi.direct.count(handle) != 0;
  }
  std::vector<long> direct_handles(int unit) const {
    std::vector<long> result;
    for (const auto& [handle, value] : blocks_[units_[unit].blocks[0]].multi.direct) result.push_back(handle);
    return result;
  }

  // --- operations -----------------------------------------------------------

  Outcome set(int unit, TargetPort port, long id, long value) {
    return top_level([&] {
      if (port == TargetPort::item) {
        direct_change(units_[unit].blocks[0], [&](MultiIn& multi) { multi.direct[id] = value; });
        return;
      }
      // A macro input calls its inputs one by one; a failure stops it.
      for (const Endpoint& target : targets(unit, port)) set_single(target.block, target.input, value);
    });
  }
  Outcome set_fail(int unit, long value) {
    const int input = units_[unit].kind == UnitKind::keyed ? 2 : 1;
    return top_level([&] { set_single(units_[unit].blocks[0], input, value); });
  }
  Outcome mi_add(int unit, long handle, long value) {
    return top_level(
        [&] { direct_change(units_[unit].blocks[0], [&](MultiIn& multi) { multi.direct[handle] = value; }); });
  }
  Outcome mi_remove(int unit, long handle) {
    return top_level(
        [&] { direct_change(units_[unit].blocks[0], [&](MultiIn& multi) { multi.direct.erase(handle); }); });
  }
  Outcome mi_replace(int unit, long handle, long value) { return mi_add(unit, handle, value); }

  Outcome get(int unit, SourcePort port, int key) {
    const int block = output_block(unit);
    Outcome outcome;
    try {
      outcome.value = port == SourcePort::out ? get_output(block) : get_key(block, blocks_[block].key0 + key);
    } catch (const ModelFailure& failure) {
      outcome.error = failure.error;
    }
    return outcome;
  }

  Outcome connect(int unit, SourcePort port, int key, int unit2, TargetPort port2, long id) {
    const std::vector<Endpoint> list = targets(unit2, port2);
    // A repeated identical connect changes nothing.
    // Another id for the same output into a multi-input is a ConnectionError.
    bool all_present = true;
    for (const Endpoint& target : list) {
      const int present = find_connection(unit, port, key, target);
      if (present >= 0 && is_multi(target) &&
          conns_[present].vid != (port2 == TargetPort::item ? std::optional<long>{id} : std::nullopt))
        return {Error::connection, {}};
      all_present = all_present && present >= 0;
    }
    if (all_present) return {};
    for (const Endpoint& target : list) {
      if (is_multi(target)) {
        if (output_feeds(unit, target)) return {Error::connection, {}};
        // mi[id] takes one source, as a single input does.
        if (port2 == TargetPort::item && id_connected(target, id)) return {Error::connection, {}};
      } else if (has_source(target)) {
        return {Error::connection, {}};
      }
      if (closes_cycle(unit, target)) return {Error::cycle, {}};
    }
    const int block = output_block(unit);
    const int source_key = port == SourcePort::item ? static_cast<int>(blocks_[block].key0 + key) : -1;
    return top_level([&] {
      std::optional<long> vid;
      if (port2 == TargetPort::item) vid = id;
      // A macro input's exported inputs are all connected, also past one
      // whose non-lazy service fails; the first failure is reported
      // (docs/design.md#macros).
      std::optional<ModelFailure> failure;
      for (const Endpoint& target : list) {
        try {
          connect_endpoint(block, source_key, port == SourcePort::whole, target, vid, false);
        } catch (const ModelFailure& caught) {
          if (!failure) failure = caught;
        }
      }
      if (failure) throw *failure;
    });
  }

  Outcome disconnect(int unit, SourcePort port, int key, int unit2, TargetPort port2) {
    const std::vector<Endpoint> list = targets(unit2, port2);
    for (const Endpoint& target : list)
      if (find_connection(unit, port, key, target) < 0) return {Error::connection, {}};
    return top_level([&] {
      std::optional<ModelFailure> failure;
      for (const Endpoint& target : list) {
        try {
          disconnect_connection(find_connection(unit, port, key, target));
        } catch (const ModelFailure& caught) {
          if (!failure) failure = caught;
        }
      }
      if (failure) throw *failure;
    });
  }

  void destroy(int unit) {
    units_[unit].alive = false;
    // Members are destroyed in reverse order of declaration: a chain's s, then u2, then u1.
    std::vector<int> order = units_[unit].blocks;
    std::reverse(order.begin(), order.end());
    for (int block : order) destroy_block(block);
  }

  void set_laziness(int unit, TargetPort port, Lazy laziness) {
    for (const Endpoint& target : targets(unit, port)) {
      Block& block = blocks_[target.block];
      if (block.kind == BlockKind::sum)
        block.multi.lazy = laziness;
      else
        block.singles[target.input].lazy = laziness;
    }
  }

  void set_caching(int unit, bool caching) {
    Block& block = blocks_[output_block(unit)];
    block.caching = caching;
    if (!caching) {
      block.valid = false;
      block.changed = true;
      block.cache.reset();
      block.key_cache.clear();
      block.key_valid.clear();
    }
  }

 private:
  enum class BlockKind { unary, pass, sum, keyed };

  struct Conn {
    bool alive = true;
    bool fixed = false;  // inside a macro
    int src_block = -1;
    int src_key = -1;  // a key of a multi-output item, -1 for a plain or whole source
    bool whole = false;
    int dst_block = -1;
    int dst_input = 0;
    std::optional<long> vid;
    bool announced = true;  // waiting for a value from the source
    bool received = false;  // has received a value since it was made
    long received_epoch = 0;
    // Into a multi-input: the value (or key map) pushed and not stored yet, and what is stored.
    std::optional<long> pending;
    std::optional<std::map<long, long>> pending_map;
    bool stored = false;
    long stored_value = 0;
    std::map<long, long> stored_map;
  };
  struct SingleIn {
    long applied = 0;
    std::optional<long> pending;
    int conn = -1;
    Lazy lazy = Lazy::request;
    bool running = false;
  };
  struct MultiIn {
    std::vector<int> conns;
    std::map<long, long> direct;
    Lazy lazy = Lazy::request;
    bool running = false;
  };
  struct Block {
    BlockKind kind = BlockKind::unary;
    int slot = -1;  // the network's counter slot: unit * 3 + the block's place in the unit
    bool alive = true;
    long a = 1, c = 0, key0 = 0;
    bool with_replace = false;
    std::vector<SingleIn> singles;
    MultiIn multi;
    bool caching = true;
    bool valid = false;
    bool changed = true;
    std::optional<long> cache;
    std::map<long, long> key_cache;
    std::set<long> key_valid;
    std::set<long> stale_keys;  // cached before the last change, not computed since (defect 15)
    long epoch = 0;             // notifications so far (multi-outputs)
    std::set<int> announcements;
    std::vector<int> conns;  // plain output connections, or a multi-output's whole ones
    std::map<long, std::vector<int>> key_conns;
  };

  // The inputs one announcement reached, for the non-lazy collection.
  struct Region {
    Lazy situation;
    std::vector<Endpoint> reached;
    std::set<int> visited_blocks;
  };

  // Resets a running flag on every way out.
  struct Running {
    explicit Running(bool& flag) : flag_(flag) { flag_ = true; }
    ~Running() { flag_ = false; }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    bool& flag_;
  };

  int add_block(BlockKind kind, int singles, Lazy lazy, bool caching) {
    Block block;
    block.kind = kind;
    block.singles.resize(singles);
    for (SingleIn& in : block.singles) in.lazy = lazy;
    block.caching = caching;
    blocks_.push_back(block);
    return static_cast<int>(blocks_.size()) - 1;
  }
  int add_unary(long a, long c) {
    const int block = add_block(BlockKind::unary, 2, Lazy::request, true);
    blocks_[block].a = a;
    blocks_[block].c = c;
    return block;
  }
  int add_sum(bool with_replace) {
    // Input 0 is the multi-input; singles[1] is the fail input.
    const int block = add_block(BlockKind::sum, 2, Lazy::request, true);
    blocks_[block].with_replace = with_replace;
    return block;
  }

  std::pair<int, TargetPort> target_unit(const Conn& conn) const {
    for (int u = 0; u < unit_count(); ++u) {
      const Unit& unit = units_[u];
      for (std::size_t i = 0; i < unit.blocks.size(); ++i) {
        if (unit.blocks[i] != conn.dst_block) continue;
        if (unit.kind == UnitKind::keyed) return {u, conn.dst_input == 0 ? TargetPort::base : TargetPort::count};
        return {u, TargetPort::in};
      }
    }
    throw std::logic_error("model: a connection into no unit");
  }

  const std::vector<int>& connections_of(int block, SourcePort port, int key) const {
    static const std::vector<int> none;
    const Block& source = blocks_[block];
    if (port != SourcePort::item) return source.conns;
    auto found = source.key_conns.find(source.key0 + key);
    return found == source.key_conns.end() ? none : found->second;
  }

  // Is `to` downstream of (or equal to) `from`?
  bool reaches(int from, int to) const {
    std::vector<int> stack{from};
    std::set<int> seen;
    while (!stack.empty()) {
      const int block = stack.back();
      stack.pop_back();
      if (block == to) return true;
      if (!seen.insert(block).second) continue;
      for_each_output_connection(block, [&](int index) { stack.push_back(conns_[index].dst_block); });
    }
    return false;
  }

  template <class Visit>
  void for_each_output_connection(int block, Visit visit) const {
    const Block& source = blocks_[block];
    for (int index : source.conns)
      if (conns_[index].alive) visit(index);
    for (const auto& [key, list] : source.key_conns)
      for (int index : list)
        if (conns_[index].alive) visit(index);
  }

  bool lazy_at_least(const Endpoint& input, Lazy situation) const {
    const Block& block = blocks_[input.block];
    const Lazy lazy =
        block.kind == BlockKind::sum && input.input == 0 ? block.multi.lazy : block.singles[input.input].lazy;
    return static_cast<int>(lazy) >= static_cast<int>(situation);
  }

  // --- user methods -----------------------------------------------------------

  long compute(int block) const {
    const Block& b = blocks_[block];
    switch (b.kind) {
      case BlockKind::unary:
        if (b.singles[1].applied == 1) throw ModelFailure{};
        // fail 3: the getter calls its own fail input; 4: it connects its own output to it.
        if (b.singles[1].applied == 3 || b.singles[1].applied == 4) throw ModelFailure{Error::refused};
        return (b.a * b.singles[0].applied + b.c) % modulus;
      case BlockKind::pass:
        return b.singles[0].applied;
      case BlockKind::sum: {
        if (b.singles[1].applied == 1) throw ModelFailure{};
        long sum = 0;
        long count = 0;
        auto add = [&](long value) {
          sum = (sum + value) % modulus;
          ++count;
        };
        for (const auto& [handle, value] : b.multi.direct) add(value);
        for (int index : b.multi.conns) {
          const Conn& conn = conns_[index];
          if (!conn.stored) continue;
          if (conn.whole)
            for (const auto& [key, value] : conn.stored_map) add(value);
          else
            add(conn.stored_value);
        }
        return (sum + 7 * count) % modulus;
      }
      case BlockKind::keyed:
        break;
    }
    throw std::logic_error("model: compute of a multi-output without key");
  }
  long compute_key(int block, long key) const {
    const Block& b = blocks_[block];
    if (b.singles[2].applied == 1) throw ModelFailure{};
    return (b.singles[0].applied * (key % 1000 + 2) + key) % modulus;
  }
  std::vector<long> keys(int block) const {
    const Block& b = blocks_[block];
    std::vector<long> result;
    for (long k = 0; k < keys_delivered(b.singles[1].applied); ++k) result.push_back(b.key0 + k);
    return result;
  }
  void note_change(int block, int input) {
    if (blocks_[block].kind != BlockKind::pass) changed_inputs_.push_back(blocks_[block].slot * 8 + input);
  }

  void apply_single(int block, int input, long value) {
    // Only the unary block's setter throws on the poison; it and the keyed
    // block's base setter throw on a change while their fail input holds 2.
    const Block& b = blocks_[block];
    if (b.kind == BlockKind::unary && input == 0 &&
        (value == poison || (b.singles[1].applied == 2 && value != b.singles[0].applied)))
      throw ModelFailure{};
    if (b.kind == BlockKind::keyed && input == 0 && b.singles[2].applied == 2 && value != b.singles[0].applied)
      throw ModelFailure{};
    if (blocks_[block].singles[input].applied != value) note_change(block, input);
    blocks_[block].singles[input].applied = value;
  }

  // --- announce, notify, cancel ---------------------------------------------

  void announce_output(int block, int from, Region& region) {
    Block& b = blocks_[block];
    b.announcements.insert(from);
    b.valid = false;
    b.key_valid.clear();
    if (!region.visited_blocks.insert(block).second) return;
    std::vector<int> list;
    for_each_output_connection(block, [&](int index) { list.push_back(index); });
    for (int index : list) announce_connection(index, region);
  }
  void announce_connection(int index, Region& region) {
    Conn& conn = conns_[index];
    conn.announced = true;
    region.reached.push_back({conn.dst_block, conn.dst_input});
    announce_output(conn.dst_block, blocks_[conn.dst_block].kind == BlockKind::sum ? 0 : conn.dst_input, region);
  }

  // An input that still waits for a value keeps its announcement.
  bool input_has_news(int block, int input) const {
    const Block& b = blocks_[block];
    if (b.kind == BlockKind::sum && input == 0) return has_news(block);
    const SingleIn& in = b.singles[input];
    return in.pending.has_value() || (in.conn >= 0 && conns_[in.conn].announced);
  }

  void notify_output(int block, int from) {
    Block& b = blocks_[block];
    if (!input_has_news(block, from)) b.announcements.erase(from);
    b.valid = false;
    b.changed = true;
    b.cache.reset();
    for (const auto& [key, value] : b.key_cache) b.stale_keys.insert(key);
    b.key_cache.clear();
    b.key_valid.clear();
    ++b.epoch;
  }

  void cancel_output(int block, int from) {
    Block& b = blocks_[block];
    b.announcements.erase(from);
    if (!b.announcements.empty() || !b.caching) return;
    if (b.kind == BlockKind::keyed) {
      for (const auto& [key, value] : b.key_cache) b.key_valid.insert(key);
      // A key cached before the last change stays invalid: the library
      // re-validates it nonetheless (known defect 15).
      if (!b.stale_keys.empty()) hazards_.insert(15);
      // A whole connection that missed a change stays announced: the library
      // cancels it nonetheless (known defect 14).
      for (int index : b.conns)
        if (conns_[index].alive && conns_[index].announced && conns_[index].received &&
            conns_[index].received_epoch != b.epoch)
          hazards_.insert(14);
      std::vector<int> list;
      for (const auto& [key, conns] : b.key_conns)
        if (b.key_valid.count(key))
          for (int index : conns) list.push_back(index);
      for (int index : b.conns)
        if (conns_[index].received_epoch == b.epoch) list.push_back(index);
      for (int index : list)
        if (conns_[index].alive) cancel_connection(index);
      return;
    }
    if (!b.cache || b.changed) return;
    b.valid = true;
    const std::vector<int> list = b.conns;
    for (int index : list)
      if (conns_[index].alive) cancel_connection(index);
  }

  void cancel_connection(int index) {
    Conn& conn = conns_[index];
    if (!conn.received || !conn.announced) return;
    conn.announced = false;
    Block& target = blocks_[conn.dst_block];
    if (target.kind == BlockKind::sum) {
      if (!has_news(conn.dst_block) && target.announcements.count(0)) cancel_output(conn.dst_block, 0);
      return;
    }
    if (target.singles[conn.dst_input].pending) return;
    if (target.announcements.count(conn.dst_input)) cancel_output(conn.dst_block, conn.dst_input);
  }

  bool has_news(int block) const {
    for (int index : blocks_[block].multi.conns) {
      const Conn& conn = conns_[index];
      if (conn.announced || conn.pending || conn.pending_map) return true;
    }
    return false;
  }

  // A push over a connection: the value waits in the input until applied.
  // An ON_NOTIFY single input is requested once the output has pushed to all
  // its connections (docs/design.md#output, steps 4 and 5), in the order of
  // the connections: `notified` collects it (push_to). Requested inside the
  // push, as the model did until 2026-12-07, a failing setter there kept the
  // later connections from receiving the value, where the library's push has
  // reached them all (random seed 1983765623457533).
  void notify_connection(int index, long value, const std::map<long, long>* map, std::vector<Endpoint>& notified) {
    Conn& conn = conns_[index];
    conn.announced = false;
    conn.received = true;
    conn.received_epoch = blocks_[conn.src_block].epoch;
    Block& target = blocks_[conn.dst_block];
    if (target.kind == BlockKind::sum) {
      if (map)
        conn.pending_map = *map;
      else
        conn.pending = value;
      // A multi-input would wait for its other announced sources, which may
      // wait for the request that pushed: it is served once the request
      // under way has ended (deferred_, see run_phase).
      if (target.multi.lazy == Lazy::notify &&
          std::find(deferred_.begin(), deferred_.end(), conn.dst_block) == deferred_.end())
        deferred_.push_back(conn.dst_block);
      return;
    }
    target.singles[conn.dst_input].pending = value;
    if (target.singles[conn.dst_input].lazy == Lazy::notify) notified.push_back({conn.dst_block, conn.dst_input});
  }

  // Pushes to the connections `list` that `wanted` picks, then requests the
  // ON_NOTIFY single inputs among them, in order (a failure ends the rest).
  template <class Wanted>
  void push_to(const std::vector<int>& list, long value, const std::map<long, long>* map, Wanted wanted) {
    std::vector<Endpoint> notified;
    for (int index : list)
      if (wanted(index)) notify_connection(index, value, map, notified);
    for (const Endpoint& input : notified) request_single(input.block, input.input);
  }

  // --- requests -----------------------------------------------------------------

  void request_source(int index) {
    const Conn& conn = conns_[index];
    if (conn.whole)
      request_whole(conn.src_block);
    else if (conn.src_key >= 0)
      request_key(conn.src_block, conn.src_key);
    else
      request_output(conn.src_block);
  }

  void request_announcers(int block) {
    const std::set<int> announcers = blocks_[block].announcements;
    for (int input : announcers) {
      if (blocks_[block].kind == BlockKind::sum && input == 0)
        request_multi(block);
      else
        request_single(block, input);
    }
  }

  long request_output(int block) {
    Block& b = blocks_[block];
    if (b.valid) {
      const long value = *b.cache;
      push_to(b.conns, value, nullptr,
              [&](int index) { return conns_[index].alive && (conns_[index].announced || !conns_[index].received); });
      return value;
    }
    request_announcers(block);
    if (b.valid) {
      // Every announced change was cancelled: the cached value, no getter,
      // pushed only to connections that never received one
      // (docs/laziness-and-caching.md, random finding 20).
      const long value = *b.cache;
      push_to(b.conns, value, nullptr, [&](int index) { return conns_[index].alive && !conns_[index].received; });
      return value;
    }
    const long value = compute(block);
    if (b.caching) {
      b.cache = value;
      b.valid = true;
      b.changed = false;
    }
    push_to(b.conns, value, nullptr, [&](int index) { return conns_[index].alive; });
    return value;
  }

  long key_value(int block, long key) {
    Block& b = blocks_[block];
    const bool cached = b.key_valid.count(key) != 0;
    const long value = cached ? b.key_cache[key] : compute_key(block, key);
    if (!cached && b.caching) {
      b.key_cache[key] = value;
      b.key_valid.insert(key);
      b.stale_keys.erase(key);
    }
    auto found = b.key_conns.find(key);
    if (found != b.key_conns.end()) {
      const std::vector<int> list = found->second;
      push_to(list, value, nullptr, [&](int index) {
        return conns_[index].alive && (!cached || conns_[index].announced || !conns_[index].received);
      });
    }
    return value;
  }

  long request_key(int block, long key) {
    request_announcers(block);
    return key_value(block, key);
  }

  void request_whole(int block) {
    request_announcers(block);
    std::map<long, long> values;
    for (long key : keys(block)) values[key] = key_value(block, key);
    const std::vector<int> list = blocks_[block].conns;
    push_to(list, 0, &values, [&](int index) { return conns_[index].alive; });
  }

  void request_single(int block, int input) {
    SingleIn& in = blocks_[block].singles[input];
    if (in.running) return;
    Running running{in.running};
    if (in.conn >= 0 && conns_[in.conn].announced) request_source(in.conn);
    if (in.pending) {
      const long value = *in.pending;
      apply_single(block, input, value);
      blocks_[block].singles[input].pending.reset();
      notify_output(block, input);
    } else if (blocks_[block].announcements.count(input)) {
      cancel_output(block, input);
    }
  }

  // Requests the announcing sources (but `except`), then stores every pending value.
  bool retrieve(int block, int except) {
    const std::vector<int> list = blocks_[block].multi.conns;
    for (int index : list)
      if (index != except && conns_[index].alive && conns_[index].announced) request_source(index);
    bool applied = false;
    for (int index : blocks_[block].multi.conns) {
      if (index == except) continue;
      Conn& conn = conns_[index];
      // While the fail input holds 2, add and replace throw on a change; the value stays pending.
      const bool failing = blocks_[block].singles[1].applied == 2;
      if (conn.pending) {
        if (failing && (!conn.stored || conn.stored_value != *conn.pending)) throw ModelFailure{};
        if (!conn.stored || conn.stored_value != *conn.pending) note_change(block, 0);
        conn.stored = true;
        conn.stored_value = *conn.pending;
        conn.pending.reset();
        applied = true;
      }
      if (conn.pending_map) {
        // (Nothing stored yet is an empty map: no key, no call.)
        if (failing)
          for (const auto& [key, value] : *conn.pending_map) {
            // Only replace throws (a new key or a new value); dropped keys are only removed.
            auto stored = conn.stored_map.find(key);
            if (stored == conn.stored_map.end() || stored->second != value) throw ModelFailure{};
          }
        if (conn.stored_map != *conn.pending_map) note_change(block, 0);
        // An empty map over an empty one removes and stores nothing: no
        // method runs, nothing changed.
        if (!conn.stored_map.empty() || !conn.pending_map->empty()) applied = true;
        conn.stored = true;
        conn.stored_map = *conn.pending_map;
        conn.pending_map.reset();
      }
    }
    return applied;
  }

  void request_multi(int block) {
    MultiIn& multi = blocks_[block].multi;
    if (multi.running) return;
    Running running{multi.running};
    if (retrieve(block, -1))
      notify_output(block, 0);
    else if (!has_news(block) && blocks_[block].announcements.count(0))
      cancel_output(block, 0);
  }

  // --- top-level operations -----------------------------------------------------

  template <class Body>
  Outcome top_level(Body body) {
    try {
      body();
    } catch (const ModelFailure& failure) {
      return {failure.error, {}};
    }
    return {};
  }

  // Requests the most downstream inputs of the region whose laziness is at
  // least the situation, then rethrows the first failure.
  void serve(const Region& region) {
    std::vector<Endpoint> collected;
    for (const Endpoint& input : region.reached) {
      if (!lazy_at_least(input, region.situation)) continue;
      if (eligible_below(input.block, region.situation)) continue;
      bool duplicate = false;
      for (const Endpoint& other : collected)
        duplicate = duplicate || (other.block == input.block && other.input == input.input);
      if (!duplicate) collected.push_back(input);
    }
    if (collected.empty() && deferred_.empty()) return;
    run_phase([&] {
      std::optional<ModelFailure> failure;
      for (const Endpoint& input : collected) {
        try {
          if (blocks_[input.block].kind == BlockKind::sum && input.input == 0)
            request_multi(input.block);
          else
            request_single(input.block, input.input);
        } catch (const ModelFailure& caught) {
          if (!failure) failure = caught;
        }
      }
      if (failure) throw *failure;
    });
  }
  bool eligible_below(int block, Lazy situation) const {
    std::vector<int> stack{block};
    std::set<int> seen;
    while (!stack.empty()) {
      const int current = stack.back();
      stack.pop_back();
      if (!seen.insert(current).second) continue;
      bool found = false;
      for_each_output_connection(current, [&](int index) {
        const Conn& conn = conns_[index];
        if (lazy_at_least({conn.dst_block, conn.dst_input}, situation)) found = true;
        stack.push_back(conn.dst_block);
      });
      if (found) return true;
    }
    return false;
  }

  void set_single(int block, int input, long value) {
    Region region{Lazy::announce, {}, {}};
    announce_output(block, input, region);
    try {
      apply_single(block, input, value);
    } catch (const ModelFailure&) {
      // A setter that throws in a direct call cancels its observers.
      cancel_output(block, input);
      throw;
    }
    blocks_[block].singles[input].pending.reset();
    notify_output(block, input);
    serve(region);
  }

  template <class Change>
  void direct_change(int block, Change change) {
    Region region{Lazy::announce, {}, {}};
    announce_output(block, 0, region);
    {
      // What the pushes of this retrieval reach (ON_NOTIFY multi-inputs) is
      // served after the change, with its service (serve).
      Running running{blocks_[block].multi.running};
      try {
        retrieve(block, -1);
      } catch (const ModelFailure&) {
        deferred_.clear();
        throw;
      }
    }
    change(blocks_[block].multi);
    notify_output(block, 0);
    serve(region);
  }

  long get_output(int block) {
    if (blocks_[block].valid) return *blocks_[block].cache;
    return run_phase([&] { return request_output(block); });
  }
  long get_key(int block, long key) {
    if (blocks_[block].key_valid.count(key)) return blocks_[block].key_cache[key];
    return run_phase([&] { return request_key(block, key); });
  }

  // One request phase of an operation (a get, a service, a flush, what a
  // direct change applies first): then the ON_NOTIFY multi-inputs that pushes
  // reached, in the order of their first push, until none is left; on a
  // failure they are not served.
  template <class Body>
  std::invoke_result_t<Body&> run_phase(Body body) {
    struct Clear {
      std::vector<int>& deferred;
      ~Clear() { deferred.clear(); }
    } clear{deferred_};
    if constexpr (std::is_void_v<decltype(body())>) {
      body();
      drain_deferred();
    } else {
      auto result = body();
      drain_deferred();
      return result;
    }
  }
  void drain_deferred() {
    while (!deferred_.empty()) {
      const std::vector<int> list = std::exchange(deferred_, {});
      std::optional<ModelFailure> failure;
      for (int block : list) {
        try {
          if (blocks_[block].alive) request_multi(block);
        } catch (const ModelFailure& caught) {
          if (!failure) failure = caught;
        }
      }
      if (failure) throw *failure;
    }
  }

  void connect_endpoint(int block, int key, bool whole, const Endpoint& target, std::optional<long> vid, bool fixed) {
    Conn conn;
    conn.fixed = fixed;
    conn.src_block = block;
    conn.src_key = key;
    conn.whole = whole;
    conn.dst_block = target.block;
    conn.dst_input = target.input;
    conn.vid = vid;
    conns_.push_back(conn);
    const int index = static_cast<int>(conns_.size()) - 1;
    if (key >= 0)
      blocks_[block].key_conns[key].push_back(index);
    else
      blocks_[block].conns.push_back(index);
    if (blocks_[target.block].kind == BlockKind::sum)
      blocks_[target.block].multi.conns.push_back(index);
    else
      blocks_[target.block].singles[target.input].conn = index;
    Region region{Lazy::connect, {}, {}};
    announce_connection(index, region);
    serve(region);
  }

  void unlink(int index) {
    Conn& conn = conns_[index];
    conn.alive = false;
    Block& source = blocks_[conn.src_block];
    auto erase = [index](std::vector<int>& list) {
      list.erase(std::remove(list.begin(), list.end(), index), list.end());
    };
    if (conn.src_key >= 0)
      erase(source.key_conns[conn.src_key]);
    else
      erase(source.conns);
    Block& target = blocks_[conn.dst_block];
    if (target.kind == BlockKind::sum)
      erase(target.multi.conns);
    else if (target.singles[conn.dst_input].conn == index)
      target.singles[conn.dst_input].conn = -1;
  }

  // Whether removing the connection removes a stored value (a whole
  // connection that stored an empty map stored nothing).
  static bool stores_something(const Conn& conn) { return conn.stored && (!conn.whole || !conn.stored_map.empty()); }

  void disconnect_connection(int index) {
    const int block = conns_[index].dst_block;
    if (blocks_[block].kind != BlockKind::sum) {
      // The flush: the input applies what was announced over the connection.
      const int input = conns_[index].dst_input;
      std::optional<ModelFailure> failure;
      try {
        run_phase([&] { request_single(block, input); });
      } catch (const ModelFailure& caught) {
        failure = caught;
      }
      const bool waiting = conns_[index].announced;
      unlink(index);
      if (waiting && !blocks_[block].singles[input].pending && blocks_[block].announcements.count(input))
        cancel_output(block, input);
      if (failure) throw *failure;
      return;
    }
    Region region{Lazy::connect, {}, {}};
    bool changed;
    {
      Running running{blocks_[block].multi.running};
      try {
        changed = retrieve(block, index);  // deferred_ is served with the service below
      } catch (const ModelFailure&) {
        deferred_.clear();
        throw;
      }
    }
    announce_output(block, 0, region);
    region.reached.push_back({block, 0});
    changed = changed || stores_something(conns_[index]);
    unlink(index);
    if (changed)
      notify_output(block, 0);
    else if (!has_news(block))
      cancel_output(block, 0);
    serve(region);
  }

  void destroy_block(int block) {
    blocks_[block].alive = false;
    // Upstream forgets the block's inputs.
    for (SingleIn& in : blocks_[block].singles)
      if (in.conn >= 0) unlink(in.conn);
    const std::vector<int> inputs = blocks_[block].multi.conns;
    for (int index : inputs) unlink(index);
    // Downstream loses its source, without any user method but remove.
    std::vector<int> outputs;
    for_each_output_connection(block, [&](int index) { outputs.push_back(index); });
    for (int index : outputs) {
      const Conn conn = conns_[index];
      unlink(index);
      Block& target = blocks_[conn.dst_block];
      if (target.kind == BlockKind::sum) {
        if (stores_something(conn)) {
          Region region{Lazy::connect, {}, {}};
          announce_output(conn.dst_block, 0, region);
          notify_output(conn.dst_block, 0);
        } else if (!has_news(conn.dst_block) && target.announcements.count(0)) {
          cancel_output(conn.dst_block, 0);
        }
      } else if (conn.announced && !target.singles[conn.dst_input].pending &&
                 target.announcements.count(conn.dst_input)) {
        cancel_output(conn.dst_block, conn.dst_input);
      }
    }
  }

  std::vector<Unit> units_;
  std::vector<Block> blocks_;
  std::vector<Conn> conns_;
  std::vector<int> changed_inputs_;
  std::set<int> hazards_;
  std::vector<int> deferred_;  // ON_NOTIFY multi-inputs reached by pushes (run_phase)
};

}  // namespace connectors::random_test
