#pragma once

// The same operations against the library: blocks of blocks.hpp, every
// connector driven by one executor, outcomes in the model's terms.

#include "blocks.hpp"
#include "model.hpp"
#include "operations.hpp"

#include <connectors/connectors.hpp>

#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace connectors::random_test {

// What the library did; `unexpected` names an exception no rule predicts.
struct Observed {
  Outcome outcome;
  std::string unexpected;
};

class NetworkUnderTest {
 public:
  NetworkUnderTest(std::shared_ptr<Executor> executor, Stats* stats) : executor_(std::move(executor)), stats_(stats) {}
  NetworkUnderTest(const NetworkUnderTest&) = delete;
  NetworkUnderTest& operator=(const NetworkUnderTest&) = delete;
  ~NetworkUnderTest() {
    // Destroyed in creation order, as a user would drop them; pending
    // announcements or not, everything must be freed.
    for (auto& unit : units_) unit = Holder{};
  }

  void create(const Op& op) {
    const int unit = static_cast<int>(units_.size());
    const int slot = unit * 3;
    const Parallelization flag = op.flag ? Parallelization::PROCESS : Parallelization::THREAD;
    switch (op.unit_kind) {
      case UnitKind::unary: {
        auto block = std::make_unique<Unary>();
        block->configure(op.value, op.value2);
        block->attach(stats_, slot);
        set_executor(block->out, block->in, block->fail);
        block->out.set_parallelization(flag);
        units_.emplace_back(std::move(block));
        break;
      }
      case UnitKind::pass: {
        auto block = std::make_unique<blocks::PassThrough<long>>();
        set_executor(block->output, block->input);
        units_.emplace_back(std::move(block));
        break;
      }
      case UnitKind::sum: {
        auto block = std::make_unique<Sum>();
        block->configure(op.flag2);
        block->attach(stats_, slot);
        set_executor(block->out, block->in, block->fail);
        block->out.set_parallelization(flag);
        units_.emplace_back(std::move(block));
        break;
      }
      case UnitKind::keyed: {
        auto block = std::make_unique<Keyed>();
        block->configure(key_base(unit));
        block->attach(stats_, slot);
        set_executor(block->out, block->base, block->count, block->fail);
        block->out.set_parallelization(flag);
        units_.emplace_back(std::move(block));
        break;
      }
      case UnitKind::chain: {
        auto block = std::make_unique<Chain>();
        block->configure(op.value, op.value2);
        block->u1.attach(stats_, slot);
        block->u2.attach(stats_, slot + 1);
        block->s.attach(stats_, slot + 2);
        set_executor(block->u1.out, block->u1.in, block->u1.fail, block->u2.out, block->u2.in, block->u2.fail,
                     block->s.out, block->s.in, block->s.fail);
        block->u1.out.set_parallelization(flag);
        block->wire();
        units_.emplace_back(std::move(block));
        break;
      }
    }
  }

  Observed set(int unit, TargetPort port, long id, long value) {
    return observe([&] { with_target(unit, port, id, [&](auto&& target) { (void)target(value); }); });
  }
  Observed set_fail(int unit, long value) {
    return observe([&] {
      if (auto* keyed = std::get_if<std::unique_ptr<Keyed>>(&units_[unit]))
        (*keyed)->fail(value);
      else if (auto* sum = std::get_if<std::unique_ptr<Sum>>(&units_[unit]))
        (*sum)->fail(value);
      else
        std::get<std::unique_ptr<Unary>>(units_[unit])->fail(value);
    });
  }
  Observed mi_add(int unit, long handle, long value) {
    return observe([&] { handles_[unit][handle] = sum(unit).in(value); });
  }
  Observed mi_item(int unit, long id, long value) {
    return observe([&] {
      sum(unit).in[id](value);
      handles_[unit][id] = id;
    });
  }
  Observed mi_remove(int unit, long handle) {
    const long id = handles_[unit].at(handle);
    handles_[unit].erase(handle);
    return observe([&] { sum(unit).in.remove(id); });
  }
  Observed mi_replace(int unit, long handle, long value) {
    return observe([&] { handles_[unit][handle] = sum(unit).in.replace(handles_[unit].at(handle), value); });
  }

  // Safe from several threads at once (the shared-network test).
  Observed get(int unit, SourcePort port, int key) {
    long value = 0;
    Observed observed = observe([&] {
      with_source(unit, port, key, [&](auto&& source) {
        if constexpr (requires { source(); }) value = source();
      });
    });
    if (observed.outcome.error == Error::none && observed.unexpected.empty()) observed.outcome.value = value;
    return observed;
  }

  // An empty place, so that unit numbers survive a shrunk sequence.
  void add_placeholder() { units_.emplace_back(); }

  Observed connect(const Op& op) { return link(op, true); }
  Observed disconnect(const Op& op) { return link(op, false); }

  void destroy(int unit) { units_[unit] = Holder{}; }

  void set_laziness(int unit, TargetPort port, Lazy laziness) {
    const auto value = static_cast<Laziness>(static_cast<int>(laziness));
    with_target(unit, port, 0, [&](auto&& target) { target.set_laziness(value); });
  }
  void set_caching(int unit, bool caching) {
    with_source(unit, SourcePort::out, 0, [&](auto&& source) {
      if constexpr (requires { source.set_caching(caching); }) source.set_caching(caching);
    });
    if (auto* keyed = std::get_if<std::unique_ptr<Keyed>>(&units_[unit])) (*keyed)->out.set_caching(caching);
  }

 private:
  using Holder = std::variant<std::monostate, std::unique_ptr<Unary>, std::unique_ptr<blocks::PassThrough<long>>,
                              std::unique_ptr<Sum>, std::unique_ptr<Keyed>, std::unique_ptr<Chain>>;

  template <class... Connectors>
  void set_executor(Connectors&... connectors) {
    (connectors.set_executor(executor_), ...);
  }

  Sum& sum(int unit) { return *std::get<std::unique_ptr<Sum>>(units_[unit]); }

  template <class Visit>
  void with_source(int unit, SourcePort port, int key, Visit visit) {
    Holder& holder = units_[unit];
    if (auto* block = std::get_if<std::unique_ptr<Unary>>(&holder)) return visit((*block)->out);
    if (auto* block = std::get_if<std::unique_ptr<blocks::PassThrough<long>>>(&holder)) return visit((*block)->output);
    if (auto* block = std::get_if<std::unique_ptr<Sum>>(&holder)) return visit((*block)->out);
    if (auto* block = std::get_if<std::unique_ptr<Chain>>(&holder)) return visit((*block)->out);
    if (auto* block = std::get_if<std::unique_ptr<Keyed>>(&holder)) {
      if (port == SourcePort::whole) return visit((*block)->out);
      return visit((*block)->out[key_base(unit) + key]);
    }
    throw std::logic_error("random test: no such source");
  }

  template <class Visit>
  void with_target(int unit, TargetPort port, long id, Visit visit) {
    Holder& holder = units_[unit];
    if (auto* block = std::get_if<std::unique_ptr<Unary>>(&holder)) return visit((*block)->in);
    if (auto* block = std::get_if<std::unique_ptr<blocks::PassThrough<long>>>(&holder)) return visit((*block)->input);
    if (auto* block = std::get_if<std::unique_ptr<Chain>>(&holder)) return visit((*block)->in);
    if (auto* block = std::get_if<std::unique_ptr<Sum>>(&holder)) {
      if (port == TargetPort::item) return visit((*block)->in[id]);
      return visit((*block)->in);
    }
    if (auto* block = std::get_if<std::unique_ptr<Keyed>>(&holder)) {
      if (port == TargetPort::count) return visit((*block)->count);
      return visit((*block)->base);
    }
    throw std::logic_error("random test: no such target");
  }

  Observed link(const Op& op, bool connect) {
    return observe([&] {
      with_source(op.unit, op.source_port, op.key, [&](auto&& source) {
        with_target(op.unit2, op.target_port, op.id, [&](auto&& target) {
          if constexpr (requires { target.connect(source); }) {
            if (connect) {
              if (op.flag)
                source.connect(target);
              else
                target.connect(source);
            } else {
              if (op.flag)
                source.disconnect(target);
              else
                target.disconnect(source);
            }
          } else {
            throw std::logic_error("random test: a source and a target that do not connect");
          }
        });
      });
    });
  }

  template <class Body>
  Observed observe(Body body) {
    Observed observed;
    try {
      body();
    } catch (const CycleError&) {
      observed.outcome.error = Error::cycle;
    } catch (const ConnectionError&) {
      observed.outcome.error = Error::connection;
    } catch (const RemoteError& error) {
      // An injected failure inside a worker process.
      if (error.message().find("injected") != std::string::npos)
        observed.outcome.error = Error::failure;
      else
        observed.unexpected = std::string{"RemoteError: "} + error.type_name() + ": " + error.message();
    } catch (const InjectedFailure&) {
      observed.outcome.error = Error::failure;
    } catch (const std::logic_error&) {
      observed.outcome.error = Error::refused;
    } catch (const std::exception& error) {
      observed.unexpected = std::string{"unexpected exception: "} + error.what();
    }
    return observed;
  }

  std::shared_ptr<Executor> executor_;
  Stats* stats_;
  std::vector<Holder> units_;
  std::map<int, std::map<long, long>> handles_;  // per sum unit: handle -> the id the library returned
};

}  // namespace connectors::random_test
