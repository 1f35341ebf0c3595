// Catalog tests T14 (test_helper.py) and T3 (test_blocks.py, PassThrough).
#include "helpers/values_of.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
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
