// Catalog tests T14 (test_helper.py) and T3 (test_blocks.py, PassThrough).
#include "helpers/values_of.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using connectors::testing::values_of;

TEST(MultiInputData, T14_Basics) {
  connectors::MultiInputData<double> data{1, 2, 3, 4};
  EXPECT_EQ(values_of(data), (std::vector<double>{1, 2, 3, 4}));
  const std::size_t id = data.add(5);
  EXPECT_EQ(id, 4U);
  EXPECT_EQ(values_of(data), (std::vector<double>{1, 2, 3, 4, 5}));
  data[id] = 5.1;
  EXPECT_EQ(values_of(data), (std::vector<double>{1, 2, 3, 4, 5.1}));
  data.erase(id);
  EXPECT_EQ(values_of(data), (std::vector<double>{1, 2, 3, 4}));
  data.clear();
  EXPECT_TRUE(data.empty());
}

TEST(MultiInputData, CounterReusesAnIdDeletedBeforeTheNextAdd) {
  connectors::MultiInputData<std::string> data;
  EXPECT_EQ(data.add("a"), 0U);
  EXPECT_EQ(data.add("b"), 1U);
  data.erase(1);
  EXPECT_EQ(data.add("c"), 1U);  // reused
  data.erase(0);
  EXPECT_EQ(data.add("d"), 2U);  // the counter does not go back
  EXPECT_EQ(values_of(data), (std::vector<std::string>{"c", "d"}));
}

TEST(MultiInputData, AssigningKeepsPositionAndNewKeysAppend) {
  connectors::MultiInputData<int> data{10, 20};
  data[7] = 70;
  data[0] = 11;
  EXPECT_EQ(values_of(data), (std::vector<int>{11, 20, 70}));
  EXPECT_THROW(data.erase(42), std::out_of_range);
  EXPECT_THROW((void)data.at(42), std::out_of_range);
  EXPECT_EQ(data.add(1), 2U);  // 0 and 1 are taken
}

// An id whose copy throws once `fuse` counts down to it (a std::string id
// out of memory).
struct FailingId {
  static inline int fuse = 0;
  int number = 0;
  FailingId() = default;
  explicit FailingId(int n) : number(n) {}
  FailingId(const FailingId& other) : number(other.number) {
    if (fuse > 0 && --fuse == 0) throw std::runtime_error("FailingId: copy failed");
  }
  FailingId(FailingId&&) noexcept = default;
  FailingId& operator=(const FailingId& other) = default;
  FailingId& operator=(FailingId&&) noexcept = default;
  ~FailingId() = default;
  friend bool operator==(const FailingId& a, const FailingId& b) { return a.number == b.number; }
};

}  // namespace

template <>
struct std::hash<FailingId> {
  std::size_t operator()(const FailingId& id) const noexcept { return std::hash<int>{}(id.number); }
};

namespace {

// Each entry iterated is found under its id, once.
void expect_consistent(const connectors::MultiInputData<double, FailingId>& data) {
  std::size_t iterated = 0;
  std::vector<int> seen;
  for (const auto& [id, value] : data) {
    ++iterated;
    EXPECT_TRUE(data.contains(id)) << id.number;
    EXPECT_EQ(std::count(seen.begin(), seen.end(), id.number), 0) << id.number;
    seen.push_back(id.number);
    EXPECT_EQ(data.at(id), value);
  }
  EXPECT_EQ(iterated, data.size());
}

// A failing copy of an id, at every position, while a new id is stored or
// the container is copied: it changes nothing. A copy failing as the new id
// entered the index left the entry iterated but never found (and a retry
// appended it a second time); a failing assignment left half of the copy.
// A small id type runs out: the add that finds every id in use says so (it
// looped forever).
TEST(MultiInputData, AnAddWithEveryIdInUseThrowsLengthError) {
  connectors::MultiInputData<int, std::uint8_t> data;
  for (int value = 0; value < 256; ++value) data.add(value);
  EXPECT_THROW(data.add(256), std::length_error);
  EXPECT_EQ(data.size(), 256U);
  data.erase(17);
  EXPECT_EQ(data.add(300), 17);
  EXPECT_EQ(data.at(17), 300);
}

TEST(MultiInputData, AFailingIdCopyChangesNothing) {
  int failures = 0;
  for (int position = 1; position <= 16; ++position) {
    connectors::MultiInputData<double, FailingId> data;
    data[FailingId{1}] = 1.0;
    data[FailingId{2}] = 2.0;
    FailingId::fuse = position;
    try {
      data[FailingId{3}] = 3.0;
    } catch (const std::runtime_error&) {
      ++failures;
      EXPECT_FALSE(data.contains(FailingId{3}));
    }
    FailingId::fuse = 0;
    expect_consistent(data);
    data[FailingId{3}] = 3.0;
    EXPECT_EQ(data.size(), 3U);
    expect_consistent(data);

    connectors::MultiInputData<double, FailingId> copy;
    copy[FailingId{7}] = 7.0;
    FailingId::fuse = position;
    try {
      copy = data;
    } catch (const std::runtime_error&) {
      ++failures;
      EXPECT_EQ(copy.size(), 1U);
      EXPECT_EQ(copy.at(FailingId{7}), 7.0);
    }
    FailingId::fuse = 0;
    expect_consistent(copy);
  }
  EXPECT_GE(failures, 4) << "the copies failed where the test means them to";
}

// The index holds iterators into the entries: a member-wise self-move
// emptied the entries and kept the index (ASan: use after free in at()).
TEST(MultiInputData, ASelfMoveKeepsTheEntries) {
  connectors::MultiInputData<std::string> data;
  data.add("a");
  data.add("b");
  auto& same = data;  // spelled so that the compiler does not warn of the self-move
  data = std::move(same);
  EXPECT_EQ(data.size(), 2U);
  EXPECT_EQ(data.at(1), "b");
  data.erase(0);
  EXPECT_EQ(values_of(data), std::vector<std::string>{"b"});
  connectors::MultiInputData<std::string> other;
  other = std::move(data);
  EXPECT_EQ(values_of(other), std::vector<std::string>{"b"});
  EXPECT_FALSE(data.contains(1));  // NOLINT(bugprone-use-after-move): left empty, as documented
  EXPECT_EQ(data.size(), 0U);      // NOLINT(bugprone-use-after-move)
}

// A value without a default constructor: copies and insert_or_assign need
// none (the copy went through operator[], which does).
struct Measured {
  explicit Measured(double value) : value(value) {}
  double value;
};

TEST(MultiInputData, CopiesAndAssignsValuesWithoutADefaultConstructor) {
  connectors::MultiInputData<Measured, std::string> data;
  EXPECT_TRUE(data.insert_or_assign("x", Measured{1.0}).second);
  EXPECT_TRUE(data.insert_or_assign("y", Measured{2.0}).second);
  const auto [where, appended] = data.insert_or_assign("x", Measured{3.0});
  EXPECT_FALSE(appended);
  EXPECT_EQ(where->first, "x");
  const connectors::MultiInputData<Measured, std::string> copy{data};
  std::vector<std::pair<std::string, double>> seen;
  for (const auto& [id, measured] : copy) seen.emplace_back(id, measured.value);
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, double>>{{"x", 3.0}, {"y", 2.0}}));  // x kept its place
}

TEST(PassThrough, T3_Basics) {
  connectors::blocks::PassThrough<std::optional<double>> empty;
  EXPECT_EQ(empty.output(), std::nullopt);
  connectors::blocks::PassThrough<std::optional<double>> full{7.2};
  EXPECT_EQ(full.output(), 7.2);
}

TEST(PassThrough, DistributesAndIsNotCached) {
  connectors::blocks::PassThrough<int> source{1};
  connectors::blocks::PassThrough<int> a, b;
  a.input.connect(source.output);
  b.input.connect(source.output);
  EXPECT_EQ(a.output(), 1);
  source.input(2);
  EXPECT_EQ(b.output(), 2);
  EXPECT_EQ(a.output(), 2);
  EXPECT_FALSE(source.output.caching());
}

}  // namespace
