// Crossing networks: several user threads connect, disconnect, set, get,
// reconfigure and destroy blocks at random, so that networks join (their
// locks with them) and split while other threads use them; and getters use
// networks of their own (a lookup layer that is never connected to theirs),
// directly or from a helper thread (connectors::as_helper), on whatever thread
// the executor runs them. What must hold (docs/connectors.md, Threads and
// nested operations): no crash, no data race (the TSan build runs this too),
// no hang, no error but those the operations document (a cycle, a second
// source, a disconnect of what is not connected), and once the threads are
// done, every output computes what a fresh evaluation of the final
// connections gives.
//
// The getters only read the lookup layer, and nothing of the lookup layer
// reads the other: operations nest one way, so the programs cannot deadlock
// by the user's fault (two methods that each wait for the other's network,
// docs/connectors.md).
//
// Environment: CROSSING_ROUNDS=n runs rounds 1..n per executor (8 by
// default), CROSSING_FIRST_ROUND=k starts at k, CROSSING_OPS=m operations per
// user thread and round (300 by default); CROSSING_VERBOSE=1 prints each
// round's number as it starts, CROSSING_THREADS=t runs t user threads (3).

#include "helpers/without_hanging.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <typeinfo>
#include <vector>

namespace {

using connectors::testing::without_hanging;

unsigned number_from_environment(const char* name, unsigned otherwise) {
  const char* text = std::getenv(name);
  return text != nullptr ? static_cast<unsigned>(std::strtoul(text, nullptr, 10)) : otherwise;
}

// What the getters read of the lookup layer goes here, so that no read is
// optimised away; its value is never checked (the library cannot know that
// a getter depends on another network, so its caches do not follow it).
std::atomic<long> lookup_sink{0};

class Unit;

// Reads one output of a lookup unit from inside a getter.
struct LookupRead {
  Unit* target = nullptr;  // a lookup unit: alive for the whole round
  int output = 0;
  bool from_helper = false;  // on a helper thread carrying the getter's operation
  void operator()() const;
};

// A block of either layer. Outputs are numbered: a Cell and a Total have
// one (0), a Keyed has two (keys 1 and 2 of its multi-output).
class Unit {
 public:
  enum class Kind { cell, total, keyed };
  Unit(Kind kind, long constant, LookupRead lookup) : kind_(kind), constant_(constant), lookup_(lookup) {}
  Unit(const Unit&) = delete;
  Unit& operator=(const Unit&) = delete;
  virtual ~Unit() = default;

  Kind kind() const noexcept { return kind_; }
  long constant() const noexcept { return constant_; }
  int output_count() const noexcept { return kind_ == Kind::keyed ? 2 : 1; }

  virtual long call(int output) = 0;
  virtual void set_caching(int output, bool caching) = 0;
  virtual connectors::Input<long>* single() noexcept { return nullptr; }
  virtual connectors::MultiInput<long>* multi() noexcept { return nullptr; }
  // Destroys a single input before the rest of the block, as a destructor
  // does first (members go in reverse order); only with one user thread,
  // the owner of every unit then.
  virtual void drop_input() {}
  // What a unit without its input computes from.
  virtual long state() const noexcept { return 0; }

  // Connects (or disconnects) output `output` of `source` to this unit's
  // input; whether the input is connected to it.
  void connect(Unit& source, int output, bool disconnecting);

 protected:
  long lookup_and(long value) const {
    lookup_();
    return value + constant_;
  }

 private:
  template <class Body>
  void with_source(Unit& source, int output, Body body);

  Kind kind_;
  long constant_;
  LookupRead lookup_;
};

class Cell : public Unit {
 public:
  Cell(long constant, LookupRead lookup) : Unit(Kind::cell, constant, lookup) {}

 private:
  long value_ = 0;  // before the connectors: destroyed after they left the network

 public:
  connectors::Output<long> out{this, &Cell::read};
  std::optional<connectors::Input<long>> in{std::in_place, this, &Cell::write, out};

  long call(int) override { return out(); }
  void set_caching(int, bool caching) override { out.set_caching(caching); }
  connectors::Input<long>* single() noexcept override { return in ? &*in : nullptr; }
  void drop_input() override { in.reset(); }
  long state() const noexcept override { return value_; }

 private:
  long read() const { return lookup_and(value_); }
  void write(long value) { value_ = value; }
};

class Total : public Unit {
 public:
  Total(long constant, LookupRead lookup) : Unit(Kind::total, constant, lookup) {}

 private:
  std::map<int, long> values_;  // before the connectors: destroyed after they left the network
  int next_id_ = 0;

 public:
  connectors::Output<long> out{this, &Total::read};
  connectors::MultiInput<long> add{this, &Total::add_value, &Total::remove_value, out};

  long call(int) override { return out(); }
  void set_caching(int, bool caching) override { out.set_caching(caching); }
  connectors::MultiInput<long>* multi() noexcept override { return &add; }

 private:
  long read() const {
    long sum = 0;
    for (const auto& [id, value] : values_) sum += value;
    return lookup_and(sum);
  }
  int add_value(long value) {
    values_.emplace(next_id_, value);
    return next_id_++;
  }
  void remove_value(int id) { values_.erase(id); }
};

class Keyed : public Unit {
 public:
  Keyed(long constant, LookupRead lookup) : Unit(Kind::keyed, constant, lookup) {}

 private:
  long base_ = 0;  // before the connectors: destroyed after they left the network

 public:
  connectors::MultiOutput<long(int)> get{this, &Keyed::value_for};
  std::optional<connectors::Input<long>> in{std::in_place, this, &Keyed::write, get};

  long call(int output) override { return get(output + 1); }
  void set_caching(int, bool caching) override { get.set_caching(caching); }
  connectors::Input<long>* single() noexcept override { return in ? &*in : nullptr; }
  void drop_input() override { in.reset(); }
  long state() const noexcept override { return base_; }

 private:
  long value_for(int key) const { return lookup_and(base_ + key); }
  void write(long value) { base_ = value; }
};

void LookupRead::operator()() const {
  if (target == nullptr) return;
  Unit& unit = *target;
  const int index = output;
  if (from_helper) {
    auto part = std::async(std::launch::async, connectors::as_helper([&unit, index] { return unit.call(index); }));
    lookup_sink.fetch_add(part.get(), std::memory_order_relaxed);
  } else {
    lookup_sink.fetch_add(unit.call(index), std::memory_order_relaxed);
  }
}

template <class Body>
void Unit::with_source(Unit& source, int output, Body body) {
  switch (source.kind()) {
    case Kind::cell:
      body(static_cast<Cell&>(source).out);
      break;
    case Kind::total:
      body(static_cast<Total&>(source).out);
      break;
    case Kind::keyed:
      body(static_cast<Keyed&>(source).get[output + 1]);
      break;
  }
}

void Unit::connect(Unit& source, int output, bool disconnecting) {
  with_source(source, output, [&](auto&& connector) {
    if (connectors::Input<long>* input = single()) {
      disconnecting ? input->disconnect(connector) : input->connect(connector);
    } else if (multi() == nullptr) {
      if (disconnecting) throw connectors::ConnectionError("the input was dropped");
    } else {
      disconnecting ? multi()->disconnect(connector) : multi()->connect(connector);
    }
  });
}

// ---- one round ----------------------------------------------------------------

constexpr std::size_t lookup_units = 5;
constexpr std::size_t work_units = 10;
int user_threads() {
  static const int threads = static_cast<int>(number_from_environment("CROSSING_THREADS", 3));
  return threads;
}

bool tracing() {
  static const bool on = std::getenv("CROSSING_TRACE") != nullptr;
  return on;
}

const char* kind_name(Unit::Kind kind) {
  switch (kind) {
    case Unit::Kind::cell:
      return "Cell";
    case Unit::Kind::total:
      return "Total";
    case Unit::Kind::keyed:
      return "Keyed";
  }
  return "?";
}

std::shared_ptr<Unit> make_unit(std::mt19937_64& random, LookupRead lookup) {
  const long constant = static_cast<long>(random() % 100) + 1;
  switch (random() % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
    case 4:
      return std::make_shared<Cell>(constant, lookup);
    case 5:
    case 6:
    case 7:
      return std::make_shared<Total>(constant, lookup);
    default:
      return std::make_shared<Keyed>(constant, lookup);
  }
}

// The units of one layer. The mutex guards the slots, not the units: a unit
// is used by whoever holds it, and destroyed by the last holder, outside any
// user method (the test's own threads only hold units between operations).
class Layer {
 public:
  std::shared_ptr<Unit> at(std::size_t index) {
    std::lock_guard lock{mutex_};
    return slots_[index];
  }
  void put(std::size_t index, std::shared_ptr<Unit> unit) {
    std::shared_ptr<Unit> old;
    {
      std::lock_guard lock{mutex_};
      if (slots_.size() <= index) slots_.resize(index + 1);
      old = std::exchange(slots_[index], std::move(unit));
    }
    // `old` goes here, outside the test's lock: its destructor takes its
    // network's lock, which another thread's operation may hold.
  }
  std::size_t size() {
    std::lock_guard lock{mutex_};
    return slots_.size();
  }

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<Unit>> slots_;
};

struct Source {
  std::size_t unit;
  int output;
};

class Round {
 public:
  Round(std::uint64_t seed, unsigned operations) : seed_(seed), operations_(operations) {
    std::mt19937_64 random{seed};
    for (std::size_t i = 0; i < lookup_units; ++i) lookup_.put(i, make_unit(random, {}));
    for (std::size_t i = 0; i < work_units; ++i) work_.put(i, make_unit(random, lookup_read(random)));
  }

  // The user threads' part; what went wrong, one line each.
  std::vector<std::string> run_users() {
    std::vector<std::thread> users;
    for (int user = 0; user < user_threads(); ++user) {
      users.emplace_back([this, user] { run_user(user); });
    }
    for (std::thread& user : users) user.join();
    return problems_;
  }

  // Refreshes every input and compares every output with a fresh evaluation
  // of the final connections.
  std::vector<std::string> check_final_values() {
    std::mt19937_64 random{seed_ ^ 0x5eedU};
    check_layer(lookup_, random, "lookup");
    check_layer(work_, random, "work");
    return problems_;
  }

 private:
  LookupRead lookup_read(std::mt19937_64& random) {
    if (random() % 3 == 0) return {};
    Unit* target = lookup_.at(random() % lookup_units).get();
    return {target, static_cast<int>(random() % static_cast<unsigned>(target->output_count())), random() % 4 == 0};
  }

  void problem(std::string text) {
    std::lock_guard lock{problems_mutex_};
    problems_.push_back(std::move(text));
  }

  void run_user(int user) {
    std::mt19937_64 random{seed_ * 31 + static_cast<std::uint64_t>(user) + 1};
    for (unsigned step = 0; step < operations_; ++step) {
      const bool in_lookup = random() % 4 == 0;
      Layer& layer = in_lookup ? lookup_ : work_;
      const std::size_t count = in_lookup ? lookup_units : work_units;
      const unsigned choice = static_cast<unsigned>(random() % 100);
      const std::size_t target_index = random() % count;
      std::shared_ptr<Unit> target = layer.at(target_index);
      std::string what;
      auto trace = [&](const std::string& text) {
        if (!tracing()) return;
        std::fprintf(stderr, "  user %d step %u %s %zu (%s): %s\n", user, step, in_lookup ? "lookup" : "work",
                     target_index, kind_name(target->kind()), text.c_str());
      };
      try {
        if (choice < 22 && target->single() != nullptr) {
          const long value = static_cast<long>(random() % 1000);
          what = "set";
          trace("set " + std::to_string(value));
          (*target->single())(value);
        } else if (choice < 45) {
          const int output = static_cast<int>(random() % static_cast<unsigned>(target->output_count()));
          what = "get";
          trace("get output " + std::to_string(output));
          const long value = target->call(output);
          trace("  = " + std::to_string(value));
        } else if (choice < 84) {
          const std::size_t source_index = random() % count;
          std::shared_ptr<Unit> source = layer.at(source_index);
          const int output = static_cast<int>(random() % static_cast<unsigned>(source->output_count()));
          const bool disconnecting = choice >= 67;
          what = disconnecting ? "disconnect" : "connect";
          trace(what + " from " + std::to_string(source_index) + " (" + kind_name(source->kind()) + ") output " +
                std::to_string(output));
          try {
            target->connect(*source, output, disconnecting);
          } catch (const connectors::CycleError&) {
            if (disconnecting) throw;
            trace("  cycle");
          } catch (const connectors::ConnectionError&) {
            // a second source, or a disconnect of what is not connected
            trace("  refused");
          }
        } else if (choice < 86 && user_threads() == 1) {
          what = "drop_input";
          trace(what);
          target->drop_input();
        } else if (choice < 92 && !in_lookup) {
          what = "replace";
          const std::size_t slot = random() % count;
          std::shared_ptr<Unit> unit = make_unit(random, lookup_read(random));
          trace("replace " + std::to_string(slot) + " by a " + kind_name(unit->kind()) + " + " +
                std::to_string(unit->constant()));
          target.reset();
          layer.put(slot, std::move(unit));
        } else {
          what = "set_caching";
          const bool caching = random() % 2 == 0;
          trace(std::string{"set_caching "} + (caching ? "on" : "off"));
          target->set_caching(0, caching);
        }
      } catch (const std::exception& error) {
        problem("user " + std::to_string(user) + ", step " + std::to_string(step) + ", " + what + ": " +
                typeid(error).name() + ": " + error.what());
      }
    }
  }

  // Whether output `output` of `source` is connected to `target`'s input:
  // a disconnect tells (it throws when not), and connecting again makes the
  // input take the source's value at the next pull, whatever a direct call
  // set meanwhile.
  static bool probe_and_refresh(Unit& target, Unit& source, int output) {
    try {
      target.connect(source, output, true);
    } catch (const connectors::ConnectionError&) {
      return false;
    }
    target.connect(source, output, false);
    return true;
  }

  void check_layer(Layer& layer, std::mt19937_64& random, const char* name) {
    const std::size_t count = layer.size();
    std::vector<std::shared_ptr<Unit>> units;
    for (std::size_t i = 0; i < count; ++i) units.push_back(layer.at(i));
    std::vector<std::vector<Source>> sources(count);
    std::vector<long> free_values(count, 0);
    for (std::size_t t = 0; t < count; ++t) {
      if (units[t]->single() == nullptr && units[t]->multi() == nullptr) {
        free_values[t] = units[t]->state();
        continue;
      }
      for (std::size_t s = 0; s < count; ++s) {
        for (int output = 0; output < units[s]->output_count(); ++output) {
          if (probe_and_refresh(*units[t], *units[s], output)) sources[t].push_back({s, output});
        }
      }
      if (units[t]->single() != nullptr) {
        if (sources[t].size() > 1) problem(std::string{name} + " unit " + std::to_string(t) + ": two sources");
        if (sources[t].empty()) {
          free_values[t] = static_cast<long>(random() % 1000);
          (*units[t]->single())(free_values[t]);
        }
      }
    }
    std::map<std::pair<std::size_t, int>, long> memo;
    std::function<long(std::size_t, int)> expected = [&](std::size_t index, int output) -> long {
      if (auto found = memo.find({index, output}); found != memo.end()) return found->second;
      const Unit& unit = *units[index];
      long input = 0;
      if (unit.kind() == Unit::Kind::total) {
        for (const Source& source : sources[index]) input += expected(source.unit, source.output);
      } else {
        input = sources[index].empty() ? free_values[index]
                                       : expected(sources[index].front().unit, sources[index].front().output);
      }
      const long value = input + unit.constant() + (unit.kind() == Unit::Kind::keyed ? output + 1 : 0);
      memo.emplace(std::make_pair(index, output), value);
      return value;
    };
    for (std::size_t i = 0; i < count; ++i) {
      for (int output = 0; output < units[i]->output_count(); ++output) {
        const long want = expected(i, output);
        const long got = units[i]->call(output);
        if (got != want) {
          problem(std::string{name} + " unit " + std::to_string(i) + " output " + std::to_string(output) + ": " +
                  std::to_string(got) + ", expected " + std::to_string(want));
        }
      }
    }
  }

  std::uint64_t seed_;
  unsigned operations_;
  Layer lookup_;  // declared first: destroyed after the work layer, whose getters read it
  Layer work_;
  std::mutex problems_mutex_;
  std::vector<std::string> problems_;
};

class CrossingNetworks : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { connectors::set_default_executor(connectors::executor(GetParam(), 0)); }
  void TearDown() override { connectors::set_default_executor(nullptr); }
};

TEST_P(CrossingNetworks, RandomProgramsOfSeveralUserThreadsStayConsistent) {
  const unsigned rounds = number_from_environment("CROSSING_ROUNDS", 8);
  const unsigned first = number_from_environment("CROSSING_FIRST_ROUND", 1);
  const unsigned operations = number_from_environment("CROSSING_OPS", 300);
  const bool verbose = std::getenv("CROSSING_VERBOSE") != nullptr;
  for (unsigned seed = first; seed < first + rounds; ++seed) {
    if (verbose) std::fprintf(stderr, "round %u\n", seed);
    without_hanging([&] {
      Round round{seed, operations};
      const std::vector<std::string> during = round.run_users();
      for (const std::string& text : during) ADD_FAILURE() << "round " << seed << ": " << text;
      if (!during.empty()) return;
      for (const std::string& text : round.check_final_values()) ADD_FAILURE() << "round " << seed << ": " << text;
    });
    if (HasFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Executors, CrossingNetworks, ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string{"Sequential"} : std::string{"Threads"};
                         });

}  // namespace
