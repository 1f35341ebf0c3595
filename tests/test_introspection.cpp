// What a sealed connector shows of itself (docs/connectors.md, "Looking at a
// network"): is_connected, connection_count, is_connected_to and state, for
// every connector kind and through the virtual connectors.
#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace {

using connectors::InputState;
using connectors::OutputState;

class Block {
 public:
  connectors::Output<double> output{this, &Block::read};
  connectors::Input<double> input{this, &Block::write, output};

 private:
  double read() const { return value_; }
  void write(double value) { value_ = value; }
  double value_ = 0.0;
};

class Sum {
 public:
  connectors::Output<double> output{this, &Sum::read};
  connectors::MultiInput<double> input{this, &Sum::add, &Sum::remove, output};
  Sum() { input.set_replace(&Sum::replace); }

 private:
  std::size_t add(double value) { return values_.add(value); }
  void remove(std::size_t id) { values_.erase(id); }
  void replace(std::size_t id, double value) { values_[id] = value; }
  double read() const {
    double sum = 0.0;
    for (const auto& [id, value] : values_) sum += value;
    return sum;
  }
  connectors::MultiInputData<double> values_;
};

class Table {
 public:
  connectors::MultiOutput<double(std::size_t)> output{this, &Table::at};
  connectors::Input<double> input{this, &Table::write, output};
  Table() { output.set_keys(&Table::keys); }

 private:
  double at(std::size_t key) const { return factor_ * static_cast<double>(key); }
  std::vector<std::size_t> keys() const { return {1, 2}; }
  void write(double factor) { factor_ = factor; }
  double factor_ = 1.0;
};

TEST(Introspection, OutputAndInput) {
  Block a, b, c;
  EXPECT_FALSE(a.output.is_connected());
  EXPECT_FALSE(b.input.is_connected());
  EXPECT_EQ(a.output.connection_count(), 0U);
  EXPECT_EQ(a.output.state(), OutputState::stale);
  EXPECT_EQ(b.input.state(), InputState::settled);

  b.input.connect(a.output);
  c.input.connect(a.output);
  EXPECT_TRUE(a.output.is_connected());
  EXPECT_EQ(a.output.connection_count(), 2U);
  EXPECT_TRUE(a.output.is_connected_to(b.input));
  EXPECT_TRUE(b.input.is_connected_to(a.output));
  EXPECT_FALSE(b.input.is_connected_to(c.output));
  // A new connection is a change on its way to the inputs.
  EXPECT_EQ(b.input.state(), InputState::announced);
  EXPECT_EQ(b.output.state(), OutputState::announced);

  EXPECT_EQ(b.output(), 0.0);
  EXPECT_EQ(a.output.state(), OutputState::valid);
  EXPECT_EQ(b.output.state(), OutputState::valid);
  EXPECT_EQ(b.input.state(), InputState::settled);
  // a computed for b and pushed to c too: c holds a value it has not applied.
  EXPECT_EQ(c.input.state(), InputState::value_waiting);
  EXPECT_EQ(c.output(), 0.0);
  EXPECT_EQ(c.input.state(), InputState::settled);

  a.input(2.0);
  EXPECT_EQ(a.output.state(), OutputState::stale);
  EXPECT_EQ(b.output.state(), OutputState::announced);

  b.input.disconnect(a.output);
  EXPECT_FALSE(b.input.is_connected());
  EXPECT_EQ(a.output.connection_count(), 1U);
}

TEST(Introspection, MultiInputCountsItsSources) {
  Block a, b;
  Sum sum;
  sum.input.connect(a.output);
  sum.input[7].connect(b.output);  // through mi[id]: a connection of the multi-input
  EXPECT_EQ(sum.input.connection_count(), 2U);
  EXPECT_TRUE(sum.input.is_connected_to(b.output));
  EXPECT_TRUE(b.output.is_connected_to(sum.input));
  EXPECT_EQ(sum.input.state(), InputState::announced);
  a.input(1.0);
  b.input(2.0);
  EXPECT_EQ(sum.output(), 3.0);
  EXPECT_EQ(sum.input.state(), InputState::settled);
  b.output.disconnect(sum.input);
  EXPECT_FALSE(sum.input.is_connected_to(b.output));
  EXPECT_EQ(sum.input.connection_count(), 1U);
}

TEST(Introspection, MultiOutputCountsWholeAndKeyedConnections) {
  Table table;
  Block one;
  Sum sum;
  EXPECT_FALSE(table.output.is_connected());
  one.input.connect(table.output[2]);
  sum.input.connect(table.output);
  EXPECT_EQ(table.output.connection_count(), 2U);
  EXPECT_TRUE(table.output.is_connected_to(one.input));  // through its key
  EXPECT_TRUE(table.output.is_connected_to(sum.input));
  EXPECT_EQ(sum.output(), 3.0);
  EXPECT_EQ(one.output(), 2.0);
  EXPECT_EQ(table.output.state(), OutputState::valid);
  table.input(2.0);
  EXPECT_EQ(table.output.state(), OutputState::stale);
  one.input.disconnect(table.output[2]);
  EXPECT_FALSE(table.output.is_connected_to(one.input));
  EXPECT_EQ(table.output.connection_count(), 1U);
}

// Asked from either end, a connection through a key is a connection: the
// inputs compared their source with the whole multi-output only, and
// answered false where the multi-output answered true.
TEST(Introspection, AConnectionThroughAKeyIsSeenFromBothEnds) {
  Table table;
  Block one;
  Sum sum;
  one.input.connect(table.output[2]);
  sum.input.connect(table.output[1]);
  EXPECT_TRUE(table.output.is_connected_to(one.input));
  EXPECT_TRUE(one.input.is_connected_to(table.output));
  EXPECT_TRUE(table.output.is_connected_to(sum.input));
  EXPECT_TRUE(sum.input.is_connected_to(table.output));
  one.input.disconnect(table.output[2]);
  sum.input.disconnect(table.output[1]);
  EXPECT_FALSE(one.input.is_connected_to(table.output));
  EXPECT_FALSE(sum.input.is_connected_to(table.output));
}

TEST(Introspection, ConfigurationReadsBack) {
  Block a;
  a.input.set_laziness(connectors::Laziness::ON_NOTIFY);
  a.input.set_parallelization(connectors::Parallelization::THREAD);
  a.output.set_caching(false);
  a.output.set_name("a.output");
  EXPECT_EQ(a.input.laziness(), connectors::Laziness::ON_NOTIFY);
  EXPECT_EQ(a.input.parallelization(), connectors::Parallelization::THREAD);
  EXPECT_FALSE(a.output.caching());
  EXPECT_EQ(a.output.name(), "a.output");
  auto executor = connectors::executor(0, 0);
  a.output.set_executor(executor);
  EXPECT_EQ(a.output.executor(), executor);
}

}  // namespace
