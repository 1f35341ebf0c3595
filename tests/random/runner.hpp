#pragma once

// One random sequence: each operation runs on the model and on the library,
// and the outcomes are compared. Also the laziness promises of
// docs/laziness-and-caching.md: a second get of a caching output with nothing changed runs no
// user method, and within one get each getter (each key) runs at most once.

#include "generator.hpp"
#include "known_defects.hpp"
#include "model.hpp"
#include "network_under_test.hpp"
#include "operations.hpp"
#include "watchdog.hpp"

#include <connectors/connectors.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace connectors::random_test {

enum class ExecutorKind { sequential, threads, processes, threads_and_processes };

inline const char* name(ExecutorKind kind) {
  switch (kind) {
    case ExecutorKind::sequential:
      return "sequential";
    case ExecutorKind::threads:
      return "threads";
    case ExecutorKind::processes:
      return "processes";
    case ExecutorKind::threads_and_processes:
      return "threads_and_processes";
  }
  return "?";
}

inline std::shared_ptr<Executor> make_executor(ExecutorKind kind) {
  switch (kind) {
    case ExecutorKind::sequential:
      return executor(0, 0);
    case ExecutorKind::threads:
      return executor(2, 0);
    case ExecutorKind::processes:
      return executor(0, 2);
    case ExecutorKind::threads_and_processes:
      return executor(2, 2);
  }
  return nullptr;
}

class Sequence {
 public:
  Sequence(std::shared_ptr<Executor> executor, Journal& journal)
      : journal_(journal), network_(std::move(executor), &stats_) {}

  const Model& model() const { return model_; }
  Model& model() { return model_; }
  NetworkUnderTest& network() { return network_; }
  const std::vector<Op>& done() const { return done_; }
  long operations() const { return operations_; }
  long values_checked() const { return values_checked_; }
  long failures_checked() const { return failures_checked_; }

  // Runs a call of the library under the watchdog.
 private:
  template <class Body>
  auto timed(const std::string& what, Body body) {
    journal_.begin(what);
    struct End {
      Journal& journal;
      ~End() { journal.end(); }
    } end{journal_};
    return body();
  }

 public:
  // Runs `op` if it may run now; a description of the first disagreement, if any.
  std::optional<std::string> run(const Op& op) {
    if (stopped_ || !allowed(op, model_)) return std::nullopt;
    stats_.reset_setters();
    (void)model_.take_changed_inputs();
    auto mismatch = run_checked(op);
    // Every input the model changed in a request, the service or a flush
    // must have run its setter in the library too (an input left unserved
    // changes no value until its source is destroyed). Not after a failure,
    // where what the siblings delivered is open.
    const auto changed = model_.take_changed_inputs();
    if (!mismatch && !failed_ && op.kind != OpKind::fail_get) {
      for (int slot : changed) {
        if (stats_.setter_runs[slot] > 0) continue;
        mismatch = readable(journal_line(op)) + ": the model applied a new value to input " + std::to_string(slot % 8) +
                   " of " + unit_name(slot / 8 / 3) + " (block " + std::to_string(slot / 8 % 3) +
                   "), but the library did not run its setter";
        break;
      }
    }
    failed_ = false;
    // A known defect that only shows later: the sequence ends here.
    for (int hazard : model_.take_hazards())
      if ((hazard == 14 && known_defect_14) || (hazard == 15 && known_defect_15)) stopped_ = true;
    return mismatch;
  }
  bool stopped() const { return stopped_; }

 private:
  std::optional<std::string> run_checked(const Op& op) {
    done_.push_back(op);
    ++operations_;
    const std::string what = journal_line(op);
    switch (op.kind) {
      case OpKind::create:
        while (model_.unit_count() < op.unit) {
          model_.add_placeholder();
          network_.add_placeholder();
        }
        model_.create(op);
        timed(what, [&] { network_.create(op); });
        return std::nullopt;
      case OpKind::set:
        return compare(what, model_.set(op.unit, op.target_port, op.id, op.value), timed(what, [&] {
                         if (op.target_port == TargetPort::item) return network_.mi_item(op.unit, op.id, op.value);
                         return network_.set(op.unit, op.target_port, op.id, op.value);
                       }));
      case OpKind::fail_get:
        timed(what, [] {});
        return fail_get(op);
      case OpKind::mi_add:
        return compare(what, model_.mi_add(op.unit, op.id, op.value),
                       timed(what, [&] { return network_.mi_add(op.unit, op.id, op.value); }));
      case OpKind::mi_item:
        return compare(what, model_.set(op.unit, TargetPort::item, op.id, op.value),
                       timed(what, [&] { return network_.mi_item(op.unit, op.id, op.value); }));
      case OpKind::mi_remove:
        return compare(what, model_.mi_remove(op.unit, op.id),
                       timed(what, [&] { return network_.mi_remove(op.unit, op.id); }));
      case OpKind::mi_replace:
        return compare(what, model_.mi_replace(op.unit, op.id, op.value),
                       timed(what, [&] { return network_.mi_replace(op.unit, op.id, op.value); }));
      case OpKind::get:
        return get(what, op.unit, op.source_port, op.key, true);
      case OpKind::connect:
        return compare(what, model_.connect(op.unit, op.source_port, op.key, op.unit2, op.target_port, op.id),
                       timed(what, [&] { return network_.connect(op); }));
      case OpKind::disconnect:
        return compare(what, model_.disconnect(op.unit, op.source_port, op.key, op.unit2, op.target_port),
                       timed(what, [&] { return network_.disconnect(op); }));
      case OpKind::destroy:
        model_.destroy(op.unit);
        timed(what, [&] { network_.destroy(op.unit); });
        return std::nullopt;
      case OpKind::set_laziness:
        model_.set_laziness(op.unit, op.target_port, op.laziness);
        timed(what, [&] { network_.set_laziness(op.unit, op.target_port, op.laziness); });
        return std::nullopt;
      case OpKind::set_caching:
        model_.set_caching(op.unit, op.flag);
        timed(what, [&] { network_.set_caching(op.unit, op.flag); });
        return std::nullopt;
      case OpKind::pull_all:
        return pull_all();
    }
    return std::nullopt;
  }

  // Gets every output of every live unit (every key of a multi-output).
 public:
  std::optional<std::string> pull_all() {
    if (stopped_) return std::nullopt;
    for (int unit = 0; unit < model_.unit_count(); ++unit) {
      if (!model_.alive(unit)) continue;
      if (model_.unit(unit).kind == UnitKind::keyed) {
        for (int key = 0; key < 4; ++key)
          if (auto mismatch =
                  get("  pull " + source_text(unit, SourcePort::item, key) + "();", unit, SourcePort::item, key, false))
            return mismatch;
      } else if (auto mismatch =
                     get("  pull " + source_text(unit, SourcePort::out, 0) + "();", unit, SourcePort::out, 0, false)) {
        return mismatch;
      }
    }
    return std::nullopt;
  }

 private:
  // A journal line without its replayable part.
  static std::string readable(const std::string& what) { return what.substr(0, what.find("  |")); }

  static std::string text(const Outcome& outcome) {
    if (outcome.error != Error::none) return name(outcome.error);
    if (outcome.value) return std::to_string(*outcome.value);
    return "done";
  }

  std::optional<std::string> compare(const std::string& what, const Outcome& expected, const Observed& observed) {
    if (!observed.unexpected.empty())
      return readable(what) + " threw " + observed.unexpected + "; expected " + text(expected);
    if (expected.error != observed.outcome.error || expected.value != observed.outcome.value)
      return readable(what) + " gave " + text(observed.outcome) + ", expected " + text(expected);
    values_checked_ += expected.value.has_value();
    failures_checked_ += expected.error != Error::none;
    failed_ = failed_ || expected.error == Error::failure || expected.error == Error::refused;
    return std::nullopt;
  }

  std::optional<std::string> get(const std::string& what, int unit, SourcePort port, int key, bool twice) {
    // With an ON_NOTIFY input anywhere, a redundant push may re-apply a value
    // and invalidate an output already computed in this get: no count then.
    const bool count_runs = !model_.any_notify_input();
    stats_.reset_getters();
    const Outcome expected = model_.get(unit, port, key);
    if (auto mismatch = compare(what, expected, timed(what, [&] { return network_.get(unit, port, key); })))
      return mismatch;
    if (count_runs) {
      for (int slot = 0; slot < Stats::slots; ++slot) {
        const int runs = stats_.getter_runs[slot];
        if (known_defect_12 && !model_.caching_of_slot(slot / 8)) continue;
        if (known_defect_16 && !model_.caching_of_slot(slot / 8) && model_.keyed_slot(slot / 8)) continue;
        if (runs > 1)
          return readable(what) + " ran the getter of " + unit_name(slot / 8 / 3) + " (block " +
                 std::to_string(slot / 8 % 3) + ", key index " + std::to_string(slot % 8) + ") " +
                 std::to_string(runs) + " times in one get";
      }
    }
    if (!twice || expected.error != Error::none || !model_.caching(unit)) return std::nullopt;
    // A second get runs nothing when the first left the value valid; where the
    // model says the get's own non-lazy service invalidated it again (random
    // finding 19), the second get computes, and its value is still checked.
    if (port == SourcePort::out && !model_.output_valid(unit)) {
      return compare(readable(what) + " /* again, recomputed */", model_.get(unit, port, key),
                     timed(what, [&] { return network_.get(unit, port, key); }));
    }
    const long before = stats_.calls;
    const std::string again = readable(what) + " /* again, nothing changed */";
    if (auto mismatch =
            compare(again, model_.get(unit, port, key), timed(again, [&] { return network_.get(unit, port, key); })))
      return mismatch;
    if (stats_.calls != before)
      return again + " ran " + std::to_string(stats_.calls - before) + " user methods; a cached get must run none";
    return std::nullopt;
  }

  // A getter (fail 1) or a setter inside a request (fail 2) that throws: the
  // failure reaches the caller, and once the cause
  // is gone everything computes again. Between the failure and the pull of
  // every output, what was delivered is open (siblings may or may not have
  // finished), so nothing else happens in between.
  std::optional<std::string> fail_get(const Op& op) {
    const std::string set_text = "  " + unit_name(op.unit) + ".fail(" + std::to_string(op.value) + ");";
    if (auto mismatch = compare(set_text, model_.set_fail(op.unit, op.value),
                                timed(set_text, [&] { return network_.set_fail(op.unit, op.value); })))
      return mismatch;
    if (op.unit3 >= 0) {
      // A change upstream while the method fails: the failure comes in a
      // request or in the non-lazy service.
      const TargetPort port = model_.unit(op.unit3).kind == UnitKind::keyed ? TargetPort::base : TargetPort::in;
      const std::string text = "  " + target_text(op.unit3, port, 0) + "(" + std::to_string(op.value2) + ");";
      if (auto mismatch = compare(text, model_.set(op.unit3, port, 0, op.value2),
                                  timed(text, [&] { return network_.set(op.unit3, port, 0, op.value2); })))
        return mismatch;
    }
    const std::string get_text = "  " + source_text(op.unit2, op.source_port, op.key) + "();";
    if (auto mismatch = compare(get_text, model_.get(op.unit2, op.source_port, op.key),
                                timed(get_text, [&] { return network_.get(op.unit2, op.source_port, op.key); })))
      return mismatch;
    const std::string clear_text = "  " + unit_name(op.unit) + ".fail(0);";
    if (auto mismatch = compare(clear_text, model_.set_fail(op.unit, 0),
                                timed(clear_text, [&] { return network_.set_fail(op.unit, 0); })))
      return mismatch;
    return pull_all();
  }

  Journal& journal_;
  Model model_;
  Stats stats_;  // outlives the network: removes in destructors count
  NetworkUnderTest network_;
  std::vector<Op> done_;
  long operations_ = 0;
  long values_checked_ = 0;
  long failures_checked_ = 0;
  bool failed_ = false;   // an injected failure in the current operation
  bool stopped_ = false;  // a known defect's situation came up: nothing more runs
};

struct Failure {
  std::uint64_t seed = 0;
  ExecutorKind executor = ExecutorKind::sequential;
  std::string message;
  std::vector<Op> ops;
};

// Counts for the report of a run.
struct Totals {
  long sequences = 0;
  long operations = 0;
  long values_checked = 0;    // results of gets compared with the model
  long failures_checked = 0;  // expected exceptions that came (injected failures, cycles, connection errors)
};

// The operations of one seed: the same for every executor, since they are
// drawn against the model only.
inline std::optional<Failure> run_seed(std::uint64_t seed, ExecutorKind kind, const std::shared_ptr<Executor>& executor,
                                       Journal& journal, Totals& totals) {
  journal.start("seed " + std::to_string(seed) + ", executor " + name(kind));
  Rng rng{seed};
  Generator generator{rng};
  GeneratorState state;
  const int length = 30 + static_cast<int>(rng() % 120);
  std::optional<Failure> failure;
  {
    Sequence sequence{executor, journal};
    for (int i = 0; i < length && !failure && !sequence.stopped(); ++i) {
      const Op op = generator.next(sequence.model(), state);
      if (auto mismatch = sequence.run(op)) failure = Failure{seed, kind, *mismatch, sequence.done()};
    }
    if (!failure)
      if (auto mismatch = sequence.pull_all())
        failure = Failure{seed, kind, "final pull: " + *mismatch, sequence.done()};
    totals.operations += sequence.operations();
    totals.values_checked += sequence.values_checked();
    totals.failures_checked += sequence.failures_checked();
  }
  ++totals.sequences;
  return failure;
}

// Replays `ops` on a fresh network: the first disagreement, if any.
inline std::optional<std::string> replay(const std::vector<Op>& ops, const std::shared_ptr<Executor>& executor,
                                         Journal& journal) {
  Sequence sequence{executor, journal};
  for (const Op& op : ops)
    if (auto mismatch = sequence.run(op)) return mismatch;
  if (auto mismatch = sequence.pull_all()) return "final pull: " + *mismatch;
  return std::nullopt;
}

// Removes operations while the replay still fails (any disagreement counts).
inline std::vector<Op> shrink(std::vector<Op> ops, const std::shared_ptr<Executor>& executor, Journal& journal,
                              std::chrono::steady_clock::time_point deadline) {
  for (std::size_t chunk = ops.size() / 2; chunk >= 1; chunk /= 2) {
    bool removed = true;
    while (removed) {
      removed = false;
      for (std::size_t start = 0; start < ops.size() && std::chrono::steady_clock::now() < deadline;) {
        std::vector<Op> candidate;
        for (std::size_t i = 0; i < ops.size(); ++i)
          if (i < start || i >= start + chunk) candidate.push_back(ops[i]);
        journal.start("shrinking");
        if (replay(candidate, executor, journal)) {
          ops = candidate;
          removed = true;
        } else {
          start += chunk;
        }
      }
    }
    if (chunk == 1) break;
  }
  return ops;
}

inline std::string report(const Failure& failure, const std::vector<Op>& shrunk, const std::string& shrunk_message) {
  std::ostringstream out;
  out << "RANDOM NETWORK FAILURE (seed " << failure.seed << ", executor " << name(failure.executor) << ")\n"
      << "  " << failure.message << "\n"
      << "replay: CONNECTORS_RANDOM_SEED=" << failure.seed << " CONNECTORS_RANDOM_EXECUTOR=" << name(failure.executor)
      << " test_random_networks --gtest_filter='RandomNetworks.OneThread'\n"
      << "operations (" << failure.ops.size() << "):\n";
  for (const Op& op : failure.ops) out << "  " << describe(op) << "\n";
  out << "shrunk to " << shrunk.size() << " operations (" << shrunk_message << "):\n";
  for (const Op& op : shrunk) out << "  " << describe(op) << "\n";
  out << "shrunk, replayable (a file for CONNECTORS_RANDOM_OPS_FILE):\n";
  for (const Op& op : shrunk) out << "  |" << encode(op) << "\n";
  return out.str();
}

}  // namespace connectors::random_test
