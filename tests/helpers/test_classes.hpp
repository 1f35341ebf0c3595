#pragma once

// The processing classes of the original tests (docs/design.md#test-helpers),
// single-input part.
// Setters store their value, log (name, [value], self) and return *this;
// getters log (name, [], result).

#include "call_logger.hpp"
#include "value.hpp"

#include <connectors/connectors.hpp>

#include <atomic>

namespace connectors::testing {

// Counts live test objects, so lifetime tests can check that all were freed.
inline std::atomic<int> live_objects{0};

class Logged {
 public:
  explicit Logged(CallLogger* logger) : logger_(logger) { ++live_objects; }
  Logged(const Logged&) = delete;
  Logged& operator=(const Logged&) = delete;
  ~Logged() { --live_objects; }

 protected:
  template <class Self>
  void log(const Self& self, const char* name, std::vector<Value> arguments, Value result) const {
    if (logger_ != nullptr) logger_->log(self, name, std::move(arguments), std::move(result));
  }
  template <class Self>
  Self& logged_setter(Self& self, const char* name, const Value& value) const {
    log(self, name, {value}, Value::object(self));
    return self;
  }

 private:
  CallLogger* logger_;
};

class Simple : public Logged {
 public:
  explicit Simple(CallLogger* logger = nullptr) : Logged(logger) {}

  // The state a worker process needs (PROCESS getters run on a copy).
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value_);
  }

  Output<Value> get_value{this, &Simple::read};
  Input<Value> set_value{this, &Simple::write, get_value};

 protected:
  Value read() const {
    log(*this, "get_value", {}, value_);
    return value_;
  }
  Simple& write(const Value& value) {
    value_ = value;
    return logged_setter(*this, "set_value", value);
  }

  Value value_;
};

class MultipleInputs : public Logged {
 public:
  explicit MultipleInputs(CallLogger* logger = nullptr) : Logged(logger) {}

  Output<Value> get_values{this, &MultipleInputs::read};
  Input<Value> set_value1{this, &MultipleInputs::write1, get_values};
  Input<Value> set_value2{this, &MultipleInputs::write2, get_values};

 private:
  Value read() const {
    Value result{Value::List{value1_, value2_}};
    log(*this, "get_values", {}, result);
    return result;
  }
  MultipleInputs& write1(const Value& value) {
    value1_ = value;
    return logged_setter(*this, "set_value1", value);
  }
  MultipleInputs& write2(const Value& value) {
    value2_ = value;
    return logged_setter(*this, "set_value2", value);
  }

  Value value1_;
  Value value2_;
};

class MultipleOutputs : public Logged {
 public:
  explicit MultipleOutputs(CallLogger* logger = nullptr) : Logged(logger) {}

  Output<Value> get_value{this, &MultipleOutputs::read};
  Output<Value> get_bool{this, &MultipleOutputs::truth};
  Input<Value> set_value{this, &MultipleOutputs::write, get_value, get_bool};

 private:
  Value read() const {
    log(*this, "get_value", {}, value_);
    return value_;
  }
  Value truth() const {
    Value result{static_cast<bool>(value_)};
    log(*this, "get_bool", {}, result);
    return result;
  }
  MultipleOutputs& write(const Value& value) {
    value_ = value;
    return logged_setter(*this, "set_value", value);
  }

  Value value_;
};

// A sink: its input has no observers and pulls on announcements.
class NonLazyInputs : public Logged {
 public:
  explicit NonLazyInputs(CallLogger* logger = nullptr) : Logged(logger) {
    set_value.set_laziness(Laziness::ON_ANNOUNCE);
  }

  Input<Value> set_value{this, &NonLazyInputs::write};

 private:
  NonLazyInputs& write(const Value& value) { return logged_setter(*this, "set_value", value); }
};

class ConditionalInputAnnouncement : public Simple {
 public:
  explicit ConditionalInputAnnouncement(CallLogger* logger = nullptr) : Simple(logger) {
    set_value.set_announce_condition(&ConditionalInputAnnouncement::check);
  }
  bool condition = true;

 private:
  bool check() const { return condition; }
};

class ConditionalInputNotification : public Simple {
 public:
  explicit ConditionalInputNotification(CallLogger* logger = nullptr) : Simple(logger) {
    set_value.set_notify_condition(&ConditionalInputNotification::check);
  }
  bool condition = true;

 private:
  bool check(const Value&) const { return condition; }
};

}  // namespace connectors::testing

namespace connectors::testing {

// Constructors that configure their connectors (T7-T10).
class ConstructorLazinessChange : public Simple {
 public:
  explicit ConstructorLazinessChange(CallLogger* logger = nullptr) : Simple(logger) {
    set_value.set_laziness(Laziness::ON_NOTIFY);
  }
};
class ConstructorCachingChange : public Simple {
 public:
  explicit ConstructorCachingChange(CallLogger* logger = nullptr) : Simple(logger) { get_value.set_caching(false); }
};
class ConstructorParallelizationChange : public Simple {
 public:
  explicit ConstructorParallelizationChange(CallLogger* logger = nullptr) : Simple(logger) {
    get_value.set_parallelization(Parallelization::PROCESS);
  }
};
class ConstructorExecutorChange : public Simple {
 public:
  explicit ConstructorExecutorChange(CallLogger* logger = nullptr) : Simple(logger) {
    get_value.set_executor(connectors::executor(std::nullopt, std::nullopt));  // threads and processes
  }
};

}  // namespace connectors::testing
