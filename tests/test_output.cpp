// Catalog test of test_output.py (docs/design.md#catalog-tests): T44, with its multi-input part.
#include "helpers/call_logger.hpp"
#include "helpers/multi_test_classes.hpp"
#include "helpers/plain_blocks.hpp"
#include "helpers/test_classes.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace connectors::testing;

TEST(Output, T44_Caching) {
  CallLogger log;
  Simple t1{&log};
  t1.get_value.set_caching(false);
  Simple t2{&log}, t3{&log};
  t2.set_value.connect(t1.get_value);
  t3.set_value.connect(t1.get_value);
  t1.set_value(1.0);
  EXPECT_EQ(t2.get_value(), 1.0);
  EXPECT_EQ(t3.get_value(), 1.0);
  // t1.get_value runs once: its push fed t3 too.
  EXPECT_TRUE(log.compare({call(t1, "set_value", {1.0}, Value::object(t1)), call(t1, "get_value", {}, 1.0),
                           call(t2, "set_value", {1.0}, Value::object(t2)), call(t2, "get_value", {}, 1.0),
                           call(t3, "set_value", {1.0}, Value::object(t3)), call(t3, "get_value", {}, 1.0)}));
  log.clear();
  EXPECT_EQ(t2.get_value(), 1.0);
  EXPECT_TRUE(log.compare({}));
  EXPECT_EQ(t1.get_value(), 1.0);
  EXPECT_TRUE(log.compare({call(t1, "get_value", {}, 1.0)}));  // uncached: runs again, no setter
  ReplacingMultiInput t4{&log};
  NonReplacingMultiInput t5{&log};
  t4.add_value.connect(t1.get_value);
  t5.add_value.connect(t1.get_value);
  t1.set_value(2.0);
  EXPECT_EQ(t4.get_values(), Value::List{2.0});
  EXPECT_EQ(t5.get_values(), Value::List{2.0});
}

TEST(Output, CacheHitRunsNothing) {
  CallLogger log;
  Simple t1{&log};
  t1.set_value(5.0);
  EXPECT_EQ(t1.get_value(), 5.0);
  log.clear();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(t1.get_value(), 5.0);
  EXPECT_TRUE(log.compare({}));
}

TEST(Output, SwitchingCachingOffNeverReturnsAnEmptyCache) {
  // A later cancellation must not re-validate an empty cache
  // (docs/design.md#output, Caching off).
  CallLogger log;
  ConditionalInputNotification t1{&log};
  Simple t2{&log};
  t2.set_value.connect(t1.get_value);
  t1.set_value(1.0);
  EXPECT_EQ(t2.get_value(), 1.0);
  t2.get_value.set_caching(false);
  t1.condition = false;
  t1.set_value(2.0);  // cancelled by the notify condition
  EXPECT_EQ(t2.get_value(), 1.0);
  EXPECT_EQ(t2.get_value(), 1.0);
}

// Misuse the compiler cannot see is refused where it happens, not at the
// first call: a null owner or method, a laziness that is none.
struct Plain {
  double get() const { return 1.0; }
  void set(double) {}
  std::size_t add(double) { return 0; }
  void remove(std::size_t) {}
  double keyed(int) const { return 1.0; }
};

TEST(Construction, ANullOwnerOrMethodIsRefused) {
  Plain plain;
  Plain* none = nullptr;
  EXPECT_THROW((connectors::Output<double>{none, &Plain::get}), std::invalid_argument);
  EXPECT_THROW((connectors::Output<double>{&plain, static_cast<double (Plain::*)() const>(nullptr)}),
               std::invalid_argument);
  EXPECT_THROW((connectors::Input<double>{none, &Plain::set}), std::invalid_argument);
  EXPECT_THROW((connectors::Input<double>{&plain, static_cast<void (Plain::*)(double)>(nullptr)}),
               std::invalid_argument);
  EXPECT_THROW(
      (connectors::MultiInput<double>{&plain, &Plain::add, static_cast<void (Plain::*)(std::size_t)>(nullptr)}),
      std::invalid_argument);
  EXPECT_THROW((connectors::MultiOutput<double(int)>{none, &Plain::keyed}), std::invalid_argument);
  connectors::Output<double> out{&plain, &Plain::get};
  EXPECT_EQ(out(), 1.0);
}

TEST(Construction, ALazinessThatIsNoneIsRefused) {
  Simple block;
  block.set_value.set_laziness(connectors::Laziness::ON_NOTIFY);
  EXPECT_THROW(block.set_value.set_laziness(static_cast<connectors::Laziness>(99)), std::invalid_argument);
  EXPECT_EQ(block.set_value.laziness(), connectors::Laziness::ON_NOTIFY);
}

// Conditions and replace of a base that is not the owner's first sit at
// another address than the owner: they were called on the owner's address
// cast as if it were theirs.
struct Padding {
  virtual ~Padding() = default;
  double pad = 0.0;
};

struct Rules {
  const Rules* announced_on = nullptr;
  const Rules* notified_on = nullptr;
  const Rules* replaced_on = nullptr;
  bool worth_announcing() {
    announced_on = this;
    return true;
  }
  bool worth_telling(const double&) {
    notified_on = this;
    return true;
  }
  void replace(std::size_t, double) { replaced_on = this; }
};

class Based : public Padding, public Rules {
 public:
  connectors::Output<double> out{this, &Based::read};
  connectors::Input<double> in{this, &Based::write, out};
  connectors::MultiInput<double> many{this, &Based::add, &Based::remove, out};

 private:
  double read() const { return value_; }
  void write(double value) { value_ = value; }
  std::size_t add(double value) {
    value_ = value;
    return 0;
  }
  void remove(std::size_t) {}
  double value_ = 0.0;
};

TEST(Construction, MethodsOfASecondBaseRunOnThatBase) {
  Based based;
  const Rules* rules = &based;
  ASSERT_NE(static_cast<const void*>(rules), static_cast<const void*>(&based));
  based.in.set_announce_condition(&Rules::worth_announcing);
  based.in.set_notify_condition(&Rules::worth_telling);
  based.many.set_replace(&Rules::replace);
  Copy knob;  // the source both inputs follow
  based.in.connect(knob.out);
  based.many.connect(knob.out);
  knob.in(1.0);
  EXPECT_EQ(based.out(), 1.0);
  knob.in(2.0);
  EXPECT_EQ(based.out(), 2.0);
  EXPECT_EQ(based.announced_on, rules);
  EXPECT_EQ(based.notified_on, rules);
  EXPECT_EQ(based.replaced_on, rules);
}

// Connectors declared in a base class, conditions added by the block built
// on it (as the catalog's test classes do): the block starts where the
// owner does, its first base (docs/connectors.md).
struct Extended : Based {
  const Extended* checked_on = nullptr;
  Extended() { in.set_notify_condition(&Extended::check); }
  bool check(const double&) {
    checked_on = this;
    return true;
  }
};

TEST(Construction, MethodsOfAClassBuiltOnTheOwnersRunOnThatClass) {
  Extended extended;
  ASSERT_EQ(static_cast<const void*>(static_cast<Based*>(&extended)), static_cast<const void*>(&extended));
  extended.in(3.0);
  EXPECT_EQ(extended.out(), 3.0);
  EXPECT_EQ(extended.checked_on, &extended);
}

// The same with the rules a private base, and the block built on a second
// base: neither is reached by the language's conversions outside the class,
// and both were called on the owner's address cast as if it were theirs.
class PrivatelyRuled : public Padding, private Rules {
 public:
  PrivatelyRuled() {
    in.set_notify_condition(&Rules::worth_telling);
    many.set_replace(&Rules::replace);
  }
  connectors::Output<double> out{this, &PrivatelyRuled::read};
  connectors::Input<double> in{this, &PrivatelyRuled::write, out};
  connectors::MultiInput<double> many{this, &PrivatelyRuled::add, &PrivatelyRuled::remove, out};
  const Rules* rules() const { return this; }
  const Rules* notified() const { return notified_on; }
  const Rules* replaced() const { return replaced_on; }

 private:
  double read() const { return value_; }
  void write(double value) { value_ = value; }
  std::size_t add(double value) {
    value_ = value;
    return 0;
  }
  void remove(std::size_t) {}
  double value_ = 0.0;
};

struct Filler {
  virtual ~Filler() = default;
  double fill = 0.0;
};

struct BuiltOnASecondBase : Filler, Based {
  const BuiltOnASecondBase* checked_on = nullptr;
  BuiltOnASecondBase() { in.set_notify_condition(&BuiltOnASecondBase::check); }
  bool check(const double&) {
    checked_on = this;
    return true;
  }
};

TEST(Construction, MethodsOfAPrivateBaseOrOfAClassBuiltOnASecondBaseRunOnTheirObjects) {
  PrivatelyRuled ruled;
  ASSERT_NE(static_cast<const void*>(ruled.rules()), static_cast<const void*>(&ruled));
  Copy knob;  // the source both inputs follow
  ruled.in.connect(knob.out);
  ruled.many.connect(knob.out);
  knob.in(1.0);
  EXPECT_EQ(ruled.out(), 1.0);
  knob.in(2.0);
  EXPECT_EQ(ruled.out(), 2.0);
  EXPECT_EQ(ruled.notified(), ruled.rules());
  EXPECT_EQ(ruled.replaced(), ruled.rules());

  BuiltOnASecondBase built;
  ASSERT_NE(static_cast<const void*>(static_cast<Based*>(&built)), static_cast<const void*>(&built));
  built.in(4.0);
  EXPECT_EQ(built.out(), 4.0);
  EXPECT_EQ(built.checked_on, &built);
}

// A method given after construction is checked as the constructor checks
// its own: a null one, or one of a class that is neither the owner's, one of
// its bases nor one built on it, would be called on an object it does not
// belong to (before: a crash at the first use, or undefined behaviour).
struct Unrelated {
  bool worth_announcing() { return true; }
  bool worth_telling(const double&) const { return true; }
  void replace(std::size_t, double) {}
  std::vector<int> keys() const { return {1}; }
};

// Conditions added by a class built on the owner's through a virtual base:
// the owner's place in that class only the object could tell (the class's
// own conversion does not reach it from the owner); the method was called
// on the owner's address as if it were the class's.
struct BuiltVirtually : virtual Based {
  BuiltVirtually() { in.set_notify_condition(&BuiltVirtually::check); }
  bool check(const double&) { return true; }
};

TEST(Construction, ANullOrForeignMethodGivenLaterIsRefused) {
  EXPECT_THROW(BuiltVirtually{}, std::invalid_argument);

  Based based;
  using Announce = bool (Rules::*)();
  using Notify = bool (Rules::*)(const double&);
  using Replace = void (Rules::*)(std::size_t, double);
  EXPECT_THROW(based.in.set_announce_condition(static_cast<Announce>(nullptr)), std::invalid_argument);
  EXPECT_THROW(based.in.set_notify_condition(static_cast<Notify>(nullptr)), std::invalid_argument);
  EXPECT_THROW(based.many.set_replace(static_cast<Replace>(nullptr)), std::invalid_argument);
  EXPECT_THROW(based.many.set_notify_condition(
                   static_cast<bool (Rules::*)(const std::size_t&, const std::optional<double>&)>(nullptr)),
               std::invalid_argument);
  EXPECT_THROW(based.in.set_announce_condition(&Unrelated::worth_announcing), std::invalid_argument);
  EXPECT_THROW(based.in.set_notify_condition(&Unrelated::worth_telling), std::invalid_argument);
  EXPECT_THROW(based.many.set_replace(&Unrelated::replace), std::invalid_argument);

  Plain plain;
  connectors::MultiOutput<double(int)> keyed{&plain, &Plain::keyed};
  EXPECT_THROW(keyed.set_keys(static_cast<std::vector<int> (Plain::*)() const>(nullptr)), std::invalid_argument);
  EXPECT_THROW(keyed.set_keys(&Unrelated::keys), std::invalid_argument);

  // Refused without a trace: the network works as before.
  based.in(5.0);
  EXPECT_EQ(based.out(), 5.0);
  EXPECT_EQ(based.announced_on, nullptr);
}

// Conditions given as before the &-qualified ones were accepted: an
// overloaded name (the signature picks one) and an owner named explicitly
// (a base's method taken as the owner's).
class OverloadedCheck {
 public:
  OverloadedCheck() { in.set_notify_condition(&OverloadedCheck::check); }
  connectors::Output<int> out{this, &OverloadedCheck::read};
  connectors::Input<int> in{this, &OverloadedCheck::write, out};
  int checks = 0;

 private:
  bool check(const int&) {
    ++checks;
    return true;
  }
  bool check(const std::string&) { return false; }
  int read() const { return value_; }
  void write(int value) { value_ = value; }
  int value_ = 0;
};

TEST(Construction, ConditionsMayBeOverloadedOrNameTheirOwner) {
  OverloadedCheck overloaded;
  overloaded.in(3);
  EXPECT_EQ(overloaded.out(), 3);
  EXPECT_EQ(overloaded.checks, 1);

  Based based;
  based.in.set_announce_condition<Based>(&Rules::worth_announcing);
  Copy knob;
  based.in.connect(knob.out);
  knob.in(1.0);
  EXPECT_EQ(based.out(), 1.0);
  knob.in(2.0);
  EXPECT_EQ(based.out(), 2.0);
  EXPECT_EQ(based.announced_on, static_cast<const Rules*>(&based));
}

// API.md: const and non-const members are both accepted; so are members
// qualified `&` (a method qualified `&&` is a compile error with its reason,
// detail/member.hpp). Before, an `&` one failed to compile with an error
// about converting the constructor's arguments.
class LvalueMethods {
 public:
  LvalueMethods() { in.set_notify_condition(&LvalueMethods::changed); }
  connectors::Output<int> out{this, &LvalueMethods::doubled};
  connectors::Output<int> plain{this, &LvalueMethods::same};
  connectors::Input<int> in{this, &LvalueMethods::store, out, plain};
  int checks = 0;

 private:
  bool changed(const int&) & {
    ++checks;
    return true;
  }
  int doubled() const& { return 2 * value_; }
  int same() & noexcept { return value_; }
  void store(int value) & { value_ = value; }
  int value_ = 0;
};

TEST(Construction, MethodsQualifiedForLvaluesAreAccepted) {
  LvalueMethods block;
  block.in(21);
  EXPECT_EQ(block.out(), 42);
  EXPECT_EQ(block.plain(), 21);
  EXPECT_EQ(block.checks, 1);
}

}  // namespace
