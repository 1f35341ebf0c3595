#pragma once

// Random operations, drawn against the model's current network, and the rule
// that decides whether an operation may run at all (also for replays of a
// shrunk sequence, where earlier operations may be gone).
//
// Situations the generator avoids, because the rules (docs/design.md#protocol)
// leave their outcome open (docs/design.md#random-model):
// - a direct call of a single input that has a source: the direct value wins
//   until the source announces again, but a later redundant push of the old
//   value (a cache-less source recomputing) may or may not be applied;
// - connecting a macro input when only some of its inputs can take the
//   connection: the roll-back disconnects (and so flushes) what was connected;
// - a connect that is both a second source (or a second connection of one
//   output into a multi-input) and a cycle: which error comes first is open;
// - an output connected to one multi-input through two different ports
//   (mo[k] and mo[j], or mo[k] and the whole mo);
// - disconnecting mi[id] from a source connected under another id.
// Known open defects are excluded here too, each behind a switch named after
// it (known_defects.hpp), so the lead can remove the switch with the fix.

#include "known_defects.hpp"
#include "model.hpp"
#include "operations.hpp"

#include <random>
#include <vector>

namespace connectors::random_test {

using Rng = std::mt19937_64;

inline bool is_valid_source(const Model& model, int unit, SourcePort port) {
  if (!model.alive(unit)) return false;
  const UnitKind kind = model.unit(unit).kind;
  return kind == UnitKind::keyed ? port != SourcePort::out : port == SourcePort::out;
}

inline bool is_valid_target(const Model& model, int unit, TargetPort port) {
  if (!model.alive(unit)) return false;
  switch (model.unit(unit).kind) {
    case UnitKind::keyed:
      return port == TargetPort::base || port == TargetPort::count;
    case UnitKind::sum:
      return port == TargetPort::in || (port == TargetPort::item && model.with_replace(unit));
    default:
      return port == TargetPort::in;
  }
}

// Does `op` stay clear of the known open defects (known_defects.hpp)?
inline bool avoids_known_defects(const Op& op, const Model& model) {
  switch (op.kind) {
    case OpKind::fail_get:
      // A failure in the non-lazy service switches the service off (5).
      if (known_defect_5 && model.alive(op.unit) && model.non_lazy_below(op.unit)) return false;
      [[fallthrough]];
    case OpKind::set:
      // A setter that throws with a non-lazy input below switches the service off too (5).
      if (known_defect_5 && op.value == poison && model.alive(op.unit) && model.non_lazy_below(op.unit)) return false;
      [[fallthrough]];
    case OpKind::mi_add:
    case OpKind::mi_item:
    case OpKind::mi_remove:
    case OpKind::mi_replace:
    case OpKind::connect:
    case OpKind::disconnect:
      // An announcement reaching a pushed value drops it (1); a cancel or a
      // destroyed source then leaves it lost (1, 2).
      if (known_defect_1 && model.has_unapplied_single()) return false;
      // A cycle through a multi-output key is accepted (9).
      if (known_defect_9 && op.kind == OpKind::connect && op.source_port != SourcePort::out &&
          is_valid_target(model, op.unit2, op.target_port) && model.alive(op.unit))
        for (const auto& target : model.targets(op.unit2, op.target_port))
          if (model.closes_cycle(op.unit, target)) return false;
      break;
    case OpKind::destroy:
      if (known_defect_2 && model.has_unapplied_single()) return false;
      if (known_defect_3 && model.alive(op.unit) && model.multi_pending_beside(op.unit)) return false;
      // After a destroy invalidated a multi-input, a later change does not serve the non-lazy inputs below it (13).
      if (known_defect_13 && model.alive(op.unit) && model.non_lazy_below(op.unit)) return false;
      break;
    case OpKind::set_laziness:
      if (known_defect_4 && op.laziness == Lazy::connect && is_valid_target(model, op.unit, op.target_port))
        for (const auto& target : model.targets(op.unit, op.target_port))
          if (model.is_connected(target)) return false;
      if (known_defect_8 && op.laziness == Lazy::notify && is_valid_target(model, op.unit, op.target_port) &&
          model.is_multi(model.targets(op.unit, op.target_port)[0]))
        return false;
      break;
    default:
      break;
  }
  return true;
}

inline bool allowed_by_spec(const Op& op, const Model& model);

// May `op` run on the model's current network?
inline bool allowed(const Op& op, const Model& model) {
  return allowed_by_spec(op, model) && avoids_known_defects(op, model);
}

inline bool allowed_by_spec(const Op& op, const Model& model) {
  switch (op.kind) {
    case OpKind::create:
      return op.unit >= model.unit_count();
    case OpKind::set: {
      if (!is_valid_target(model, op.unit, op.target_port)) return false;
      if (model.unit(op.unit).kind == UnitKind::sum) return op.target_port == TargetPort::item && op.value != poison;
      for (const auto& target : model.targets(op.unit, op.target_port))
        if (model.has_source(target)) return false;
      return true;
    }
    case OpKind::fail_get:
      if (op.unit3 >= 0) {
        if (!model.alive(op.unit3)) return false;
        const UnitKind kind = model.unit(op.unit3).kind;
        if (kind == UnitKind::sum) return false;
        for (const auto& target : model.targets(op.unit3, kind == UnitKind::keyed ? TargetPort::base : TargetPort::in))
          if (model.has_source(target)) return false;
      }
      // 3 and 4 (calls into the own network) only in this process: in a worker the copy has no network.
      if ((op.value == 3 || op.value == 4) &&
          !(model.alive(op.unit) && model.unit(op.unit).kind == UnitKind::unary && !model.unit(op.unit).process))
        return false;
      // A sum without replace stores an unchanged value again by remove and add: whether
      // that happens is open, so its add does not fail (2) there.
      if (op.value == 2 && model.alive(op.unit) && model.unit(op.unit).kind == UnitKind::sum &&
          !model.with_replace(op.unit))
        return false;
      return op.value >= 1 && op.value <= 4 && model.alive(op.unit) && model.unit(op.unit).kind != UnitKind::pass &&
             model.unit(op.unit).kind != UnitKind::chain && is_valid_source(model, op.unit2, op.source_port) &&
             op.source_port != SourcePort::whole;
    case OpKind::mi_add:
      return model.alive(op.unit) && model.unit(op.unit).kind == UnitKind::sum;
    case OpKind::mi_item:
      return model.alive(op.unit) && model.unit(op.unit).kind == UnitKind::sum && model.with_replace(op.unit) &&
             !model.has_direct(op.unit, op.id);
    case OpKind::mi_remove:
    case OpKind::mi_replace:
      return model.alive(op.unit) && model.unit(op.unit).kind == UnitKind::sum && model.has_direct(op.unit, op.id);
    case OpKind::get:
      return is_valid_source(model, op.unit, op.source_port) && op.source_port != SourcePort::whole;
    case OpKind::connect:
    case OpKind::disconnect: {
      if (!is_valid_source(model, op.unit, op.source_port) || !is_valid_target(model, op.unit2, op.target_port))
        return false;
      if (op.source_port == SourcePort::whole && !(model.unit(op.unit2).kind == UnitKind::sum &&
                                                   op.target_port == TargetPort::in && model.with_replace(op.unit2)))
        return false;
      const auto targets = model.targets(op.unit2, op.target_port);
      int present = 0;
      for (const auto& target : targets) present += model.find_connection(op.unit, op.source_port, op.key, target) >= 0;
      if (op.kind == OpKind::disconnect) {
        if (present != 0 && present != static_cast<int>(targets.size())) return false;
        if (op.target_port == TargetPort::item && present != 0) {
          const int conn = model.find_connection(op.unit, op.source_port, op.key, targets[0]);
          if (model.connection_id(conn) != op.id) return false;
        }
        if (op.source_port != SourcePort::out && present == 0 && model.is_multi(targets[0]) &&
            model.output_feeds(op.unit, targets[0]))
          return false;
        return true;
      }
      if (present == static_cast<int>(targets.size())) {
        // A repeat: the same id again (another id is a ConnectionError, allowed below).
        return true;
      }
      if (targets.size() > 1) {
        // A macro input: every exported input must take the connection.
        if (present != 0) return false;
        for (const auto& target : targets)
          if (model.has_source(target) || model.closes_cycle(op.unit, target)) return false;
        return true;
      }
      const auto& target = targets[0];
      const bool occupied = model.is_multi(target) ? model.output_feeds(op.unit, target) : model.has_source(target);
      if (occupied && model.closes_cycle(op.unit, target)) return false;
      if (model.is_multi(target) && occupied && present == 0 && op.source_port != SourcePort::out) {
        // Only the same port under another id is a definite ConnectionError.
        return false;
      }
      return true;
    }
    case OpKind::destroy:
      return model.alive(op.unit);
    case OpKind::set_laziness:
      return is_valid_target(model, op.unit, op.target_port);
    case OpKind::set_caching:
      return model.alive(op.unit);
    case OpKind::pull_all:
      return true;
  }
  return false;
}

// Counters for fresh handles and ids within one sequence.
struct GeneratorState {
  long next_handle = 1;
  long next_id = virtual_id_base;
};

class Generator {
 public:
  explicit Generator(Rng& rng) : rng_(rng) {}

  Op next(const Model& model, GeneratorState& state) {
    for (int attempt = 0; attempt < 200; ++attempt) {
      Op op = draw(model, state);
      if (!allowed_by_spec(op, model)) continue;
      if (avoids_known_defects(op, model)) return op;
      // Pull everything first (the pushed values get applied), mostly.
      if (chance(70)) break;
    }
    Op op;
    op.kind = OpKind::pull_all;
    return op;
  }

  Op create(const Model& model) {
    Op op;
    op.kind = OpKind::create;
    op.unit = model.unit_count();
    const int pick = below(100);
    op.unit_kind = pick < 35   ? UnitKind::unary
                   : pick < 50 ? UnitKind::pass
                   : pick < 72 ? UnitKind::sum
                   : pick < 88 ? UnitKind::keyed
                               : UnitKind::chain;
    op.value = 1 + below(1000);
    op.value2 = below(1000);
    op.flag = op.unit_kind != UnitKind::pass && below(4) == 0;
    op.flag2 = below(3) != 0;
    return op;
  }

 private:
  int below(int n) { return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng_)); }
  bool chance(int percent) { return below(100) < percent; }

  int pick_unit(const Model& model) {
    std::vector<int> alive;
    for (int u = 0; u < model.unit_count(); ++u)
      if (model.alive(u)) alive.push_back(u);
    if (alive.empty()) return -1;
    return alive[below(static_cast<int>(alive.size()))];
  }

  void pick_source(const Model& model, Op& op) {
    op.unit = pick_unit(model);
    if (op.unit < 0) return;
    if (model.unit(op.unit).kind == UnitKind::keyed) {
      op.source_port = chance(30) ? SourcePort::whole : SourcePort::item;
      op.key = below(4);
    } else {
      op.source_port = SourcePort::out;
    }
  }
  // The id of a connection made through mi[id] into the unit; -1 if none.
  long id_in_use(const Model& model, int unit) {
    std::vector<long> ids;
    for (const auto& link : model.links())
      if (link.unit2 == unit && link.port2 == TargetPort::item) ids.push_back(link.id);
    return ids.empty() ? -1 : ids[below(static_cast<int>(ids.size()))];
  }
  void pick_target(const Model& model, Op& op) {
    op.unit2 = pick_unit(model);
    if (op.unit2 < 0) return;
    switch (model.unit(op.unit2).kind) {
      case UnitKind::keyed:
        op.target_port = chance(60) ? TargetPort::base : TargetPort::count;
        break;
      case UnitKind::sum:
        op.target_port = model.with_replace(op.unit2) && chance(30) ? TargetPort::item : TargetPort::in;
        break;
      default:
        op.target_port = TargetPort::in;
    }
  }
  long value() { return chance(50) ? below(10) : static_cast<long>(below(static_cast<int>(modulus))); }

  Op draw(const Model& model, GeneratorState& state) {
    int alive = 0;
    for (int u = 0; u < model.unit_count(); ++u) alive += model.alive(u);
    if (alive < 3 || (alive < 10 && chance(6))) return create(model);
    Op op;
    const int pick = below(100);
    if (pick < 20) {
      op.kind = OpKind::connect;
      pick_source(model, op);
      pick_target(model, op);
      if (op.target_port == TargetPort::item) {
        // Sometimes an id another connection holds (refused: one source per id).
        const long taken = chance(10) ? id_in_use(model, op.unit2) : -1;
        op.id = taken >= 0 ? taken : state.next_id++;
      }
      if (op.source_port == SourcePort::whole && model.alive(op.unit2) && model.unit(op.unit2).kind == UnitKind::sum)
        op.target_port = TargetPort::in;
      op.flag = chance(50);
      // Mostly connections that are made; some that fail (cycles, second sources).
      if (!chance(15) && predict_connect(model, op).error != Error::none) op.unit = -1;  // refused: draw again
    } else if (pick < 27) {
      const auto links = model.links();
      if (links.empty()) return create(model);
      const auto& link = links[below(static_cast<int>(links.size()))];
      op.kind = OpKind::disconnect;
      op.unit = link.unit;
      op.source_port = link.port;
      op.key = link.key;
      op.unit2 = link.unit2;
      op.target_port = link.port2;
      op.id = link.id;
      if (op.target_port == TargetPort::item && chance(50)) op.target_port = TargetPort::in;
      op.flag = chance(50);
    } else if (pick < 45) {
      op.kind = OpKind::set;
      op.unit = pick_unit(model);
      if (op.unit < 0) return op;
      op.value = chance(4) ? poison : value();
      switch (model.unit(op.unit).kind) {
        case UnitKind::keyed:
          op.target_port = chance(60) ? TargetPort::base : TargetPort::count;
          break;
        case UnitKind::sum:
          op.target_port = TargetPort::item;
          op.id = state.next_id++;
          break;
        default:
          op.target_port = TargetPort::in;
      }
      const UnitKind kind = model.unit(op.unit).kind;
      if (op.value == poison && kind != UnitKind::unary && kind != UnitKind::chain) op.value = 3;
    } else if (pick < 53) {
      op.unit = pick_unit(model);
      if (op.unit < 0 || model.unit(op.unit).kind != UnitKind::sum) {
        op.kind = OpKind::get;
        pick_source(model, op);
        return op;
      }
      const auto handles = model.direct_handles(op.unit);
      const int kind = below(4);
      op.value = value();
      if (handles.empty() || kind == 0) {
        op.kind = OpKind::mi_add;
        op.id = state.next_handle++;
      } else if (kind == 1 && model.with_replace(op.unit)) {
        op.kind = OpKind::mi_item;
        op.id = state.next_id++;
      } else {
        op.kind = kind == 2 ? OpKind::mi_remove : OpKind::mi_replace;
        op.id = handles[below(static_cast<int>(handles.size()))];
      }
    } else if (pick < 77) {
      op.kind = OpKind::get;
      pick_source(model, op);
    } else if (pick < 84) {
      op.kind = OpKind::destroy;
      op.unit = pick_unit(model);
    } else if (pick < 91) {
      op.kind = OpKind::set_laziness;
      op.unit = pick_unit(model);
      if (op.unit < 0) return op;
      pick_target(model, op);
      op.unit = op.unit2;
      op.laziness = static_cast<Lazy>(1 + below(4));
    } else if (pick < 94) {
      op.kind = OpKind::set_caching;
      op.unit = pick_unit(model);
      op.flag = chance(50);
    } else if (pick < 97) {
      op.kind = OpKind::fail_get;
      op.unit = pick_unit(model);
      op.value = 1 + below(4);
      if (chance(60)) {
        op.unit3 = pick_unit(model);
        op.value2 = value();
      }
      Op source;
      pick_source(model, source);
      if (op.unit >= 0 && chance(80)) {
        // Mostly a get that reaches the failing method.
        const auto below_unit = model.downstream_units(op.unit);
        source.unit = below_unit[this->below(static_cast<int>(below_unit.size()))];
        source.source_port = model.unit(source.unit).kind == UnitKind::keyed ? SourcePort::item : SourcePort::out;
        source.key = this->below(4);
      }
      op.unit2 = source.unit;
      op.source_port = source.source_port;
      op.key = source.key;
    } else {
      op.kind = OpKind::pull_all;
    }
    return op;
  }

  static Outcome predict_connect(const Model& model, const Op& op) {
    if (!is_valid_source(model, op.unit, op.source_port) || !is_valid_target(model, op.unit2, op.target_port))
      return {Error::connection, {}};
    for (const auto& target : model.targets(op.unit2, op.target_port)) {
      if (model.find_connection(op.unit, op.source_port, op.key, target) >= 0) continue;
      if (model.is_multi(target) ? model.output_feeds(op.unit, target) : model.has_source(target))
        return {Error::connection, {}};
      if (model.closes_cycle(op.unit, target)) return {Error::cycle, {}};
    }
    return {};
  }

  Rng& rng_;
};

}  // namespace connectors::random_test
