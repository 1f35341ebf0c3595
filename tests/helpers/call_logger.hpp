#pragma once

// The call logger of the original tests (docs/design.md#test-helpers): test classes record their
// calls; compare() checks the whole log against a pattern in which groups of
// sub-sequences may interleave in any order.

#include "value.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace connectors::testing {

struct Call {
  const void* object = nullptr;
  std::string name;
  std::optional<std::vector<Value>> arguments;  // empty: matches any
  std::optional<Value> result;                  // empty: matches any

  bool matches(const Call& logged) const {
    return object == logged.object && name == logged.name && (!arguments || *arguments == *logged.arguments) &&
           (!result || *result == *logged.result);
  }
};

struct Group;
using Element = std::variant<Call, Group>;
using Sequence = std::vector<Element>;
// Its sequences each keep their order but may interleave with one another.
struct Group {
  std::vector<Sequence> sequences;
};

template <class Object>
Call call(const Object& object, std::string name) {
  return Call{&object, std::move(name), std::nullopt, std::nullopt};
}
// The arguments as an initializer list, not a std::vector: `{List{1.0}}` must
// mean one argument that is a list on every compiler (for a vector, g++ and
// clang++ read a single same-type element differently).
template <class Object>
Call call(const Object& object, std::string name, std::initializer_list<Value> arguments) {
  return Call{&object, std::move(name), std::vector<Value>(arguments), std::nullopt};
}
template <class Object>
Call call(const Object& object, std::string name, std::initializer_list<Value> arguments, Value result) {
  return Call{&object, std::move(name), std::vector<Value>(arguments), std::move(result)};
}
inline Group any_order(std::vector<Sequence> sequences) { return Group{std::move(sequences)}; }

class CallLogger {
 public:
  template <class Object>
  void log(const Object& object, std::string name, std::vector<Value> arguments, Value result) {
    std::lock_guard lock{mutex_};
    calls_.push_back(Call{&object, std::move(name), std::move(arguments), std::move(result)});
  }

  void clear() {
    std::lock_guard lock{mutex_};
    calls_.clear();
  }
  std::size_t size() const {
    std::lock_guard lock{mutex_};
    return calls_.size();
  }
  std::vector<Call> calls() const {
    std::lock_guard lock{mutex_};
    return calls_;
  }

  // Whether the whole log matches `expected`; explains the mismatch otherwise.
  ::testing::AssertionResult compare(const Sequence& expected) const {
    std::vector<Call> log = calls();
    for (const std::vector<Call>& order : linearize(expected)) {
      if (order.size() == log.size() &&
          std::equal(order.begin(), order.end(), log.begin(),
                     [](const Call& want, const Call& got) { return want.matches(got); })) {
        return ::testing::AssertionSuccess();
      }
    }
    std::ostringstream message;
    message << "the log does not match the expected pattern; the log is:\n";
    for (const Call& logged : log) message << "  " << describe(logged) << '\n';
    return ::testing::AssertionFailure() << message.str();
  }

 private:
  static std::string describe(const Call& logged) {
    std::ostringstream text;
    text << logged.object << '.' << logged.name << '(';
    if (logged.arguments) {
      for (std::size_t i = 0; i < logged.arguments->size(); ++i) text << (i ? ", " : "") << (*logged.arguments)[i];
    }
    text << ')';
    if (logged.result) text << " -> " << *logged.result;
    return text.str();
  }

  // Every order in which the pattern may appear (patterns are small).
  static std::vector<std::vector<Call>> linearize(const Sequence& sequence) {
    std::vector<std::vector<Call>> orders{{}};
    for (const Element& element : sequence) {
      std::vector<std::vector<Call>> tails;
      if (const Call* single = std::get_if<Call>(&element)) {
        tails = {{*single}};
      } else {
        tails = interleavings(std::get<Group>(element));
      }
      std::vector<std::vector<Call>> next;
      for (const auto& head : orders) {
        for (const auto& tail : tails) {
          auto joined = head;
          joined.insert(joined.end(), tail.begin(), tail.end());
          next.push_back(std::move(joined));
        }
      }
      orders = std::move(next);
    }
    return orders;
  }

  static std::vector<std::vector<Call>> interleavings(const Group& group) {
    std::vector<std::vector<Call>> result{{}};
    for (const Sequence& sequence : group.sequences) {
      std::vector<std::vector<Call>> next;
      for (const auto& branch : linearize(sequence)) {
        for (const auto& merged : result) merge_all(merged, branch, {}, 0, 0, next);
      }
      result = std::move(next);
    }
    return result;
  }

  static void merge_all(const std::vector<Call>& a, const std::vector<Call>& b, std::vector<Call> prefix, std::size_t i,
                        std::size_t j, std::vector<std::vector<Call>>& out) {
    if (i == a.size() && j == b.size()) {
      out.push_back(std::move(prefix));
      return;
    }
    if (i < a.size()) {
      auto with_a = prefix;
      with_a.push_back(a[i]);
      merge_all(a, b, std::move(with_a), i + 1, j, out);
    }
    if (j < b.size()) {
      prefix.push_back(b[j]);
      merge_all(a, b, std::move(prefix), i, j + 1, out);
    }
  }

  mutable std::mutex mutex_;
  std::vector<Call> calls_;
};

}  // namespace connectors::testing
