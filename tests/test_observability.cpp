// Issue 12: the picture of a network (to_dot), the timeline (Trace) and
// progress reports, checked against what actually ran.
#include "helpers/json.hpp"
#include "sanitizers.hpp"
#include "support.hpp"

#include <connectors/connectors.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// Not an anonymous namespace: the types travel to worker processes.
namespace observability_test {

using connectors::Parallelization;
using connectors::testing::Json;
using connectors::testing::JsonParser;
using connectors::testing::TimedLatch;

// ---- a call log: what the methods themselves say ran ------------------------

std::mutex log_mutex;
std::vector<std::string> call_log;
void log_call(const std::string& name) {
  std::lock_guard lock{log_mutex};
  call_log.push_back(name);
}
std::vector<std::string> take_log() {
  std::lock_guard lock{log_mutex};
  return std::exchange(call_log, {});
}

class TimesTwo {
 public:
  connectors::Output<double> get_double{this, &TimesTwo::compute};
  connectors::Input<double> set_value{this, &TimesTwo::store, get_double};

 private:
  double compute() const {
    log_call("TimesTwo.get_double");
    return 2.0 * value_;
  }
  void store(double value) {
    log_call("TimesTwo.set_value");
    value_ = value;
  }
  double value_ = 0.0;
};

// ---- reading the DOT text back ------------------------------------------------

struct Picture {
  struct Node {
    std::string owner;
    std::string label;  // lines joined with '|'
  };
  struct Edge {
    std::string from, to, attributes;
  };
  std::map<std::string, Node> nodes;
  std::vector<Edge> edges;
  std::vector<std::string> clusters;

  std::string text;

  explicit Picture(const std::string& dot) : text(dot) {
    std::istringstream lines{dot};
    std::string line;
    std::string owner;
    const std::regex cluster{R"re(^\s+label="(.*)";$)re"};
    const std::regex node{R"re(^\s+(c\d+) \[label="((?:[^"\\]|\\.)*)".*\];$)re"};
    const std::regex edge{R"re(^\s+(c\d+) -> (c\d+)(?: \[(.*)\])?;$)re"};
    std::smatch match;
    while (std::getline(lines, line)) {
      if (std::regex_match(line, match, cluster)) {
        owner = match[1];
        clusters.push_back(owner);
      } else if (std::regex_match(line, match, node)) {
        // Graphviz line breaks ("\\n") become '|'.
        const std::string text = match[2];
        std::string label;
        for (std::size_t at = 0; at < text.size(); ++at) {
          if (text[at] == '\\' && at + 1 < text.size() && text[at + 1] == 'n') {
            label += '|';
            ++at;
          } else {
            label += text[at];
          }
        }
        nodes[match[1]] = Node{owner, label};
      } else if (std::regex_match(line, match, edge)) {
        edges.push_back(Edge{match[1], match[2], match[3]});
      }
    }
  }
  // The node whose label starts with `name` in the cluster `owner`.
  std::string id(const std::string& owner, const std::string& name) const {
    for (const auto& [id, node] : nodes) {
      if (node.owner == owner && node.label.rfind(name + "|", 0) == 0) return id;
    }
    return {};
  }
  const std::string& label(const std::string& owner, const std::string& name) const {
    return nodes.at(id(owner, name)).label;
  }
  std::vector<Edge> solid_edges() const {
    std::vector<Edge> solid;
    for (const Edge& edge : edges) {
      if (edge.attributes.find("dotted") == std::string::npos) solid.push_back(edge);
    }
    return solid;
  }
};

TEST(Picture, NodesEdgesAndStatesBeforeAndAfterASet) {
  TimesTwo d1, d2;
  d1.get_double.set_name("d1.get_double");
  d1.set_value.set_name("d1.set_value");
  d2.get_double.set_name("d2.get_double");
  d2.set_value.set_name("d2.set_value");
  d2.set_value.connect(d1.get_double);
  d2.get_double();

  const Picture computed{connectors::to_dot(d1.set_value)};
  SCOPED_TRACE(computed.text);
  EXPECT_EQ(computed.nodes.size(), 4u);
  ASSERT_EQ(computed.clusters.size(), 2u);
  EXPECT_NE(std::find(computed.clusters.begin(), computed.clusters.end(), "observability_test::TimesTwo d1"),
            computed.clusters.end());
  EXPECT_NE(std::find(computed.clusters.begin(), computed.clusters.end(), "observability_test::TimesTwo d2"),
            computed.clusters.end());
  EXPECT_EQ(computed.label("observability_test::TimesTwo d1", "get_double"), "get_double|valid|THREAD");
  EXPECT_EQ(computed.label("observability_test::TimesTwo d2", "get_double"), "get_double|valid|THREAD");
  EXPECT_EQ(computed.label("observability_test::TimesTwo d2", "set_value"), "set_value|settled|ON_REQUEST, SEQUENTIAL");
  const auto solid = computed.solid_edges();
  ASSERT_EQ(solid.size(), 1u);
  EXPECT_EQ(solid[0].from, computed.id("observability_test::TimesTwo d1", "get_double"));
  EXPECT_EQ(solid[0].to, computed.id("observability_test::TimesTwo d2", "set_value"));
  EXPECT_EQ(computed.edges.size(), 3u);  // and each input to its observer

  d1.set_value(3.0);
  d2.set_value.set_laziness(connectors::Laziness::ON_NOTIFY);
  d2.get_double.set_executor(connectors::executor(0, 0));
  const Picture changed{connectors::to_dot(d2.get_double)};
  SCOPED_TRACE(changed.text);
  EXPECT_EQ(changed.label("observability_test::TimesTwo d1", "get_double"), "get_double|stale|THREAD");
  EXPECT_EQ(changed.label("observability_test::TimesTwo d2", "get_double"),
            "get_double|stale, announced|THREAD|SequentialExecutor");
  EXPECT_EQ(changed.label("observability_test::TimesTwo d2", "set_value"), "set_value|announced|ON_NOTIFY, SEQUENTIAL");
  EXPECT_EQ(changed.solid_edges().size(), 1u);
  EXPECT_EQ(d2.get_double(), 12.0);
  take_log();
}

TEST(Picture, UnnamedConnectorsAreCalledByTheirType) {
  TimesTwo block;
  const Picture picture{connectors::to_dot(block.get_double)};
  SCOPED_TRACE(picture.text);
  ASSERT_EQ(picture.clusters, std::vector<std::string>{"observability_test::TimesTwo"});
  EXPECT_FALSE(picture.id(picture.clusters[0], "Output<double>").empty());
  EXPECT_FALSE(picture.id(picture.clusters[0], "Input<double>").empty());
}

TEST(Picture, ANameLeavesWithItsConnector) {
  // A new connector at the address of a destroyed named one is unnamed.
  alignas(TimesTwo) unsigned char storage[sizeof(TimesTwo)];
  auto* first = new (storage) TimesTwo;
  first->get_double.set_name("first.get_double");
  EXPECT_EQ(first->get_double.name(), "first.get_double");
  first->~TimesTwo();
  auto* second = new (storage) TimesTwo;
  EXPECT_FALSE(second->get_double.name().has_value());
  second->~TimesTwo();
}

class Keyed {
 public:
  connectors::MultiOutput<double(int)> value{this, &Keyed::get};

 private:
  double get(int key) const { return 10.0 * key; }
};

class Collector {
 public:
  connectors::Output<double> total{this, &Collector::sum};
  connectors::MultiInput<double> items{this, &Collector::add, &Collector::remove, total};
  Collector() { items.set_replace(&Collector::replace); }

 private:
  std::size_t add(double value) { return data_.add(value); }
  void remove(std::size_t id) { data_.erase(id); }
  std::size_t replace(std::size_t id, double value) {
    data_[id] = value;
    return id;
  }
  double sum() const {
    double total = 0.0;
    for (const auto& [id, value] : data_) total += value;
    return total;
  }
  connectors::MultiInputData<double> data_;
};

TEST(Picture, MultiInputIdsAndMultiOutputKeysOnEdges) {
  Keyed keyed;
  Collector collector;
  TimesTwo single;
  keyed.value.set_name("keys.value");
  collector.items.set_name("sum.items");
  collector.total.set_name("sum.total");
  single.set_value.set_name("single.set_value");
  single.get_double.set_name("single.get_double");
  collector.items.connect(single.get_double);
  collector.items[7].connect(keyed.value[3]);
  single.set_value.connect(keyed.value[2]);
  EXPECT_EQ(collector.total(), 30.0 + 40.0);

  const Picture picture{connectors::to_dot(collector.items[7])};
  SCOPED_TRACE(picture.text);
  const std::string keys = picture.id("observability_test::Keyed keys", "value");
  std::map<std::pair<std::string, std::string>, std::string> labels;
  for (const auto& edge : picture.solid_edges()) labels[{edge.from, edge.to}] = edge.attributes;
  EXPECT_EQ(labels.size(), 3u);
  EXPECT_EQ((labels[{keys, picture.id("observability_test::TimesTwo single", "set_value")}]), "label=\"key 2\"");
  EXPECT_EQ((labels[{keys, picture.id("observability_test::Collector sum", "items")}]), "label=\"key 3 → id 7\"");
  EXPECT_EQ((labels[{picture.id("observability_test::TimesTwo single", "get_double"),
                     picture.id("observability_test::Collector sum", "items")}]),
            "label=\"id 0\"");
  take_log();
}

TEST(Picture, WriteSvgRendersWithGraphviz) {
  TimesTwo d1, d2;
  d2.set_value.connect(d1.get_double);
  char path[] = "/tmp/connectors-test-XXXXXX.svg";
  const int fd = ::mkstemps(path, 4);
  ASSERT_GE(fd, 0);
  ::close(fd);
  connectors::write_svg(path, d2.get_double);
  std::ifstream file{path};
  const std::string svg{std::istreambuf_iterator<char>{file}, {}};
  ::unlink(path);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("TimesTwo"), std::string::npos);
}

// ---- the timeline -------------------------------------------------------------

struct Tagged {
  double value = 0.0;
  int pid = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value, pid);
  }
};

class Source {
 public:
  connectors::Output<double> out{this, &Source::read};
  connectors::Input<double> set{this, &Source::write, out};

 private:
  double read() const {
    log_call("Source.out");
    return value_;
  }
  void write(double value) {
    log_call("Source.set");
    value_ = value;
  }
  double value_ = 0.0;
};

class Remote {
 public:
  connectors::Output<Tagged> out{this, &Remote::compute};
  connectors::Input<double> in{this, &Remote::write, out};
  Remote() { out.set_parallelization(Parallelization::PROCESS); }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value_);
  }

 private:
  Tagged compute() const { return Tagged{value_ * value_, static_cast<int>(::getpid())}; }
  void write(double value) {
    log_call("Remote.in");
    value_ = value;
  }
  double value_ = 0.0;
};

class Local {
 public:
  connectors::Output<double> out{this, &Local::compute};
  connectors::Input<double> in{this, &Local::write, out};

 private:
  double compute() const {
    log_call("Local.out");
    return value_ + 1.0;
  }
  void write(double value) {
    log_call("Local.in");
    value_ = value;
  }
  double value_ = 0.0;
};

class Sum {
 public:
  connectors::Output<double> total{this, &Sum::compute};
  connectors::Input<Tagged> a{this, &Sum::write_a, total};
  connectors::Input<double> b{this, &Sum::write_b, total};
  int worker = 0;

 private:
  double compute() const {
    log_call("Sum.total");
    return a_ + b_;
  }
  void write_a(const Tagged& value) {
    log_call("Sum.a");
    a_ = value.value;
    worker = value.pid;
  }
  void write_b(double value) {
    log_call("Sum.b");
    b_ = value;
  }
  double a_ = 0.0;
  double b_ = 0.0;
};

struct Network {
  Source source;
  Remote remote;
  Local local;
  Sum sum;
  Network() {
    source.out.set_name("source.out");
    source.set.set_name("source.set");
    remote.out.set_name("remote.out");
    remote.in.set_name("remote.in");
    local.out.set_name("local.out");
    local.in.set_name("local.in");
    sum.total.set_name("sum.total");
    sum.a.set_name("sum.a");
    sum.b.set_name("sum.b");
    remote.in.connect(source.out);
    local.in.connect(source.out);
    sum.a.connect(remote.out);
    sum.b.connect(local.out);
  }
};

std::int64_t nanoseconds(const Json& micros) { return std::llround(micros.number() * 1000.0); }

// A result past 80 MiB streams from the worker into the caller's result
// (docs/processes.md, "Design"); its size is known once it has been read.
// Before, such a method was traced with bytes_received 0.
class Bulky {
 public:
  connectors::Output<std::vector<std::uint64_t>> out{this, &Bulky::compute};
  connectors::Input<std::size_t> count{this, &Bulky::write, out};
  Bulky() { out.set_parallelization(Parallelization::PROCESS); }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(count_);
  }

 private:
  std::vector<std::uint64_t> compute() const { return std::vector<std::uint64_t>(count_, 7); }
  void write(std::size_t count) { count_ = count; }
  std::size_t count_ = 0;
};

TEST(Trace, AStreamedResultIsTracedWithItsSize) {
  CONNECTORS_SKIP_VOLUME_TEST_UNDER_THREAD_SANITIZER();
  Bulky bulky;
  bulky.out.set_executor(connectors::executor(1, 1));
  const std::size_t count = (std::size_t{96} << 20) / sizeof(std::uint64_t);
  bulky.count(count);
  std::vector<connectors::Trace::Method> methods;
  {
    connectors::Trace trace;
    EXPECT_EQ(bulky.out().size(), count);
    methods = trace.methods();
  }
  ASSERT_EQ(methods.size(), 1U);
  EXPECT_TRUE(methods[0].process);
  const std::size_t bytes = count * sizeof(std::uint64_t);
  EXPECT_GE(methods[0].bytes_received, bytes);
  EXPECT_LT(methods[0].bytes_received, bytes + 4096);
}

TEST(Trace, ChromeEventsWellFormedNestedAndExactlyWhatRan) {
  auto executor = connectors::executor(2, 1);
  Network network;
  network.source.set.set_executor(executor);
  network.sum.total.set_executor(executor);
  take_log();

  std::ostringstream json;
  {
    connectors::Trace trace;
    network.source.set(3.0);
    EXPECT_EQ(network.sum.total(), 9.0 + 4.0);
    trace.write_json(json);
  }
  const std::vector<std::string> logged = take_log();
  const Json root = JsonParser{json.str()}.parse();
  ASSERT_TRUE(root.is_object());
  ASSERT_TRUE(root["traceEvents"].is_array());

  std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::pair<std::int64_t, std::int64_t>>> tracks;
  std::multiset<std::string> traced;
  std::set<double> operations;
  std::vector<double> operations_of_methods;
  int process_methods = 0;
  for (const Json& event : root["traceEvents"].array()) {
    ASSERT_TRUE(event.is_object());
    ASSERT_TRUE(event["name"].is_string());
    ASSERT_TRUE(event["ph"].is_string());
    ASSERT_TRUE(event["pid"].is_number());
    ASSERT_TRUE(event["tid"].is_number());
    const std::string phase = event["ph"].string();
    if (phase == "M") {
      ASSERT_TRUE(event["args"]["name"].is_string());
      continue;
    }
    ASSERT_EQ(phase, "X");
    ASSERT_TRUE(event["ts"].is_number());
    ASSERT_TRUE(event["dur"].is_number());
    const std::int64_t begin = nanoseconds(event["ts"]);
    const std::int64_t duration = nanoseconds(event["dur"]);
    EXPECT_GE(duration, 0);
    tracks[{static_cast<std::int64_t>(event["pid"].number()), static_cast<std::int64_t>(event["tid"].number())}]
        .push_back({begin, begin + duration});
    if (event["cat"].string() == "operation") {
      operations.insert(event["args"]["operation"].number());
      continue;
    }
    const Json& args = event["args"];
    operations_of_methods.push_back(args["operation"].number());
    EXPECT_EQ(event["name"].string(), args["owner"].string() + "." + args["connector"].string());
    if (args["where"].string() == "process") {
      ++process_methods;
      EXPECT_EQ(event["name"].string(), "observability_test::Remote remote.out");
      EXPECT_EQ(event["cat"].string(), "getter");
      EXPECT_EQ(static_cast<int>(event["pid"].number()), network.sum.worker);
      EXPECT_NE(static_cast<int>(event["pid"].number()), static_cast<int>(::getpid()));
      EXPECT_GT(args["bytes_sent"].number(), 0.0);
      EXPECT_GT(args["bytes_received"].number(), 0.0);
      EXPECT_LE(nanoseconds(args["queued_us"]), begin);
    } else {
      EXPECT_EQ(static_cast<int>(event["pid"].number()), static_cast<int>(::getpid()));
      // "Owner name.connector" -> "Owner.connector", as the log says it.
      const std::string& owner = args["owner"].string();
      traced.insert(
          owner.substr(std::strlen("observability_test::"), owner.find(' ') - std::strlen("observability_test::")) +
          "." + args["connector"].string());
    }
  }
  EXPECT_EQ(process_methods, 1);
  EXPECT_EQ(operations.size(), 2u);  // the set and the request
  for (double operation : operations_of_methods) EXPECT_EQ(operations.count(operation), 1u);
  EXPECT_EQ(traced, std::multiset<std::string>(logged.begin(), logged.end()));

  // Events of one thread nest: each begins after the enclosing one begins
  // and ends before it ends.
  for (auto& [track, spans] : tracks) {
    std::sort(spans.begin(), spans.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first < y.first : x.second > y.second;
    });
    std::vector<std::pair<std::int64_t, std::int64_t>> open;
    for (const auto& span : spans) {
      while (!open.empty() && open.back().second <= span.first) open.pop_back();
      if (!open.empty()) {
        EXPECT_LE(span.second, open.back().second) << "overlap on thread " << track.second;
      }
      open.push_back(span);
    }
  }
}

TEST(Trace, RecordsNothingWhenNoneIsAlive) {
  TimesTwo block;
  block.set_value(1.0);
  connectors::Trace trace;
  EXPECT_TRUE(trace.methods().empty());
  block.get_double();
  EXPECT_EQ(trace.methods().size(), 1u);
  EXPECT_EQ(trace.operations().size(), 1u);
  take_log();
}

// A getter that destroys its own block while a trace watches: the method's
// record was finished from the connector after it was freed.
class SelfDestroying {
 public:
  connectors::Output<double> out{this, &SelfDestroying::compute};
  connectors::Input<double> in{this, &SelfDestroying::store, out};
  std::unique_ptr<SelfDestroying>* holder = nullptr;

 private:
  double compute() const {
    const double value = value_;
    holder->reset();
    return value;
  }
  void store(double value) { value_ = value; }
  double value_ = 0.0;
};

TEST(Trace, AGetterThatDestroysItsOwnBlockIsRecordedUnderItsNames) {
  auto block = std::make_unique<SelfDestroying>();
  block->holder = &block;
  block->out.set_name("doomed.out");
  block->in(1.0);
  connectors::Trace trace;
  connectors::Output<double>& out = block->out;
  EXPECT_THROW(out(), std::logic_error);
  EXPECT_EQ(block, nullptr);
  ASSERT_EQ(trace.methods().size(), 1u);
  EXPECT_EQ(trace.methods()[0].connector, "out");
  EXPECT_NE(trace.methods()[0].owner.find("doomed"), std::string::npos) << trace.methods()[0].owner;
}

// ---- progress -------------------------------------------------------------------

class Block {
 public:
  connectors::Output<long> output{this, &Block::read};
  connectors::Input<long> input{this, &Block::write, output};

 private:
  long read() const {
    log_call("Block.output");
    return value_ + 1;
  }
  void write(long value) {
    log_call("Block.input");
    value_ = value;
  }
  long value_ = 0;
};

TEST(Progress, ReachesTotalExactlyOnceAndNeverGoesBackwards) {
  auto executor = connectors::executor(2, 0);
  std::vector<Block> chain(12);
  for (std::size_t i = 1; i < chain.size(); ++i) chain[i].input.connect(chain[i - 1].output);
  chain.front().input.set_executor(executor);
  chain.back().output.set_executor(executor);
  chain.back().output();
  take_log();

  std::mutex mutex;
  std::vector<connectors::ProgressReport> reports;
  std::map<std::uint64_t, std::size_t> ran;  // methods per operation, from the log
  {
    connectors::Progress progress{[&](const connectors::ProgressReport& report) {
      std::lock_guard lock{mutex};
      reports.push_back(report);
    }};
    for (long round = 1; round <= 3; ++round) {
      chain.front().input(round);
      ran[progress.latest().operation] = take_log().size();
      EXPECT_EQ(chain.back().output(), round + 12);
      ran[progress.latest().operation] = take_log().size();
      EXPECT_TRUE(progress.latest().done);
    }
  }
  std::lock_guard lock{mutex};
  ASSERT_FALSE(reports.empty());
  std::map<std::uint64_t, std::vector<connectors::ProgressReport>> by_operation;
  for (const auto& report : reports) by_operation[report.operation].push_back(report);
  EXPECT_EQ(by_operation.size(), 6u);
  for (const auto& [operation, list] : by_operation) {
    int done = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i > 0) {
        EXPECT_GE(list[i].finished, list[i - 1].finished);
        EXPECT_GE(list[i].expected, list[i - 1].expected);
      }
      if (list[i].done) {
        ++done;
        EXPECT_EQ(i, list.size() - 1) << "a report after the last";
        EXPECT_EQ(list[i].finished, list[i].expected);
        EXPECT_EQ(list[i].finished, ran[operation]);
      } else {
        EXPECT_LT(list[i].finished, list[i].expected);
      }
    }
    EXPECT_EQ(done, 1) << "operation " << operation;
  }
  // The request of a 12-block chain after a set at its head: every getter
  // and every setter but the head's, all known from the start.
  const auto& request = by_operation.rbegin()->second;
  EXPECT_EQ(request.front().finished, 0u);
  EXPECT_EQ(request.front().expected, 12u + 11u);
}

}  // namespace observability_test

// ---- independent networks at once ------------------------------------------------

namespace observability_test {

// Operations on independent networks run at the same time (a lock per
// network): each method must be told to the operation of its own network.
TEST(Trace, MethodsOfOverlappingOperationsOnIndependentNetworksBelongToTheirOwn) {
  constexpr int rounds = 50;
  std::vector<Block> left(4), right(4);
  for (std::size_t i = 1; i < left.size(); ++i) {
    left[i].input.connect(left[i - 1].output);
    right[i].input.connect(right[i - 1].output);
  }
  left.back().output.set_name("left_tail");
  right.back().output.set_name("right_tail");
  connectors::Trace trace;
  auto use = [&](std::vector<Block>& chain) {
    for (int round = 0; round < rounds; ++round) {
      chain.front().input(round);
      chain.back().output();
    }
  };
  std::thread left_user{use, std::ref(left)};
  std::thread right_user{use, std::ref(right)};
  left_user.join();
  right_user.join();
  take_log();
  std::map<std::uint64_t, std::string> started_by;
  for (const auto& operation : trace.operations()) started_by[operation.id] = operation.name;
  int gets = 0;
  for (const auto& method : trace.methods()) {
    if (method.connector != "left_tail" && method.connector != "right_tail") continue;
    ++gets;
    ASSERT_TRUE(started_by.count(method.operation)) << method.connector;
    EXPECT_NE(started_by[method.operation].find(method.connector), std::string::npos)
        << method.connector << " recorded in " << started_by[method.operation];
  }
  EXPECT_EQ(gets, 2 * rounds);
}

}  // namespace observability_test

// ---- defects found by reading, each with its test ----------------------------------

namespace observability_test {

// A block whose first member is a block: both have one address, and were
// drawn as one cluster under whichever title was longer.
struct Outer {
  TimesTwo inner;  // first: at the Outer's own address
  connectors::Output<double> out{this, &Outer::read};
  connectors::Input<double> in{this, &Outer::write, out};

 private:
  double read() const { return value_; }
  void write(double value) { value_ = value; }
  double value_ = 0.0;
};

TEST(Picture, ABlockAndItsFirstMemberBlockAreTwoClusters) {
  Outer outer;
  ASSERT_EQ(static_cast<const void*>(&outer.inner), static_cast<const void*>(&outer));
  outer.in.connect(outer.inner.get_double);
  const Picture picture{connectors::to_dot(outer.out)};
  ASSERT_EQ(picture.clusters.size(), 2u) << picture.text;
  // Unnamed, each called by its type: once per owner, not numbered across the two.
  for (const std::string owner : {"observability_test::Outer", "observability_test::TimesTwo"}) {
    EXPECT_FALSE(picture.id(owner, "Output<double>").empty()) << owner << "\n" << picture.text;
    EXPECT_FALSE(picture.id(owner, "Input<double>").empty()) << owner << "\n" << picture.text;
  }
  EXPECT_EQ(picture.text.find("#2"), std::string::npos) << picture.text;
}

// A block built on another: the connectors of both are one object's, one
// cluster, named by the most derived type.
struct Built : Outer {
  connectors::Output<double> extra{this, &Built::read_extra};
  connectors::Input<double> feed{this, &Built::write_extra, extra};

 private:
  double read_extra() const { return extra_; }
  void write_extra(double value) { extra_ = value; }
  double extra_ = 0.0;
};

TEST(Picture, ABlockAndItsBaseClassAreOneCluster) {
  Built built;
  built.in.connect(built.inner.get_double);
  built.feed.connect(built.out);
  const Picture picture{connectors::to_dot(built.extra)};
  // The member block is a cluster of its own; Outer's connectors and
  // Built's, one object's, the other.
  EXPECT_EQ(picture.clusters, (std::vector<std::string>{"observability_test::TimesTwo", "observability_test::Built"}))
      << picture.text;
}

// The name a connector declared in the base class gives its owner names the
// one cluster too. Before, only the most derived type's connectors were
// asked, and the cluster was called by its type alone.
TEST(Picture, ANameGivenByAConnectorOfTheBaseClassNamesTheCluster) {
  Built built;
  built.out.set_name("mixer.out");
  built.feed.connect(built.out);
  const Picture picture{connectors::to_dot(built.extra)};
  EXPECT_EQ(picture.clusters, std::vector<std::string>{"observability_test::Built mixer"}) << picture.text;
}

// A program that ignores SIGCHLD has its children reaped by the kernel:
// waiting for `dot` then fails although the picture was written.
TEST(Picture, WriteSvgInAProgramThatIgnoresSigchld) {
  TimesTwo block;
  char path[] = "/tmp/connectors-test-XXXXXX.svg";
  const int fd = ::mkstemps(path, 4);
  ASSERT_GE(fd, 0);
  ::close(fd);
  struct sigaction ignore {};
  struct sigaction saved {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGCHLD, &ignore, &saved), 0);
  EXPECT_NO_THROW(connectors::write_svg(path, block.get_double));
  ::sigaction(SIGCHLD, &saved, nullptr);
  std::ifstream file{path};
  const std::string svg{std::istreambuf_iterator<char>{file}, {}};
  ::unlink(path);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
}

// The getters meet, so that one runs on the pool while the other runs on
// the calling thread; each reads a network of its own from inside.
class Inner {
 public:
  connectors::Output<double> out{this, &Inner::read};
  Inner() {
    out.set_parallelization(Parallelization::SEQUENTIAL);
    out.set_name("inner.out");
  }

 private:
  double read() const { return 1.0; }
};

class Meeting {
 public:
  Meeting(TimedLatch& both, Inner& inner) : both_(both), inner_(inner) {
    out.set_parallelization(Parallelization::THREAD);
  }
  connectors::Output<double> out{this, &Meeting::read};

 private:
  double read() const {
    both_.arrive_and_wait();
    return inner_.out();
  }
  TimedLatch& both_;
  Inner& inner_;
};

class Pair {
 public:
  connectors::Output<double> total{this, &Pair::read};
  connectors::Input<double> a{this, &Pair::write_a, total};
  connectors::Input<double> b{this, &Pair::write_b, total};

 private:
  double read() const { return a_ + b_; }
  void write_a(double value) { a_ = value; }
  void write_b(double value) { b_ = value; }
  double a_ = 0.0;
  double b_ = 0.0;
};

// A method queued for the pool sets its queue time for the pool thread; the
// methods of an operation it starts there ran where they were called, and
// were recorded with its queue time.
TEST(Trace, MethodsANestedOperationRunsOnAPoolThreadWereNotQueued) {
  auto executor = connectors::executor(2, 0);
  bool queued_outer = false;
  for (int round = 0; round < 20 && !queued_outer; ++round) {
    TimedLatch both{2};
    Inner left_inner, right_inner;
    Meeting left{both, left_inner}, right{both, right_inner};
    Pair pair;
    pair.total.set_executor(executor);
    pair.a.connect(left.out);
    pair.b.connect(right.out);
    connectors::Trace trace;
    EXPECT_EQ(pair.total(), 2.0);
    int inner_methods = 0;
    for (const auto& method : trace.methods()) {
      if (method.connector == "out" && method.owner.find("inner") != std::string::npos) {
        ++inner_methods;
        EXPECT_EQ(method.queued, 0) << "a nested operation's method took its caller's queue time";
      } else if (method.owner.find("Meeting") != std::string::npos && method.queued != 0) {
        queued_outer = true;
      }
    }
    EXPECT_EQ(inner_methods, 2);
  }
  EXPECT_TRUE(queued_outer) << "no getter was queued for the pool";
}

// An owner whose state cannot be saved: its PROCESS call fails before any
// worker sees it.
class Unsaveable {
 public:
  connectors::Output<double> out{this, &Unsaveable::read};
  Unsaveable() { out.set_parallelization(Parallelization::PROCESS); }
  template <class Archive>
  void serialize(Archive&) {
    throw std::runtime_error("this state cannot be saved");
  }

 private:
  double read() const { return 1.0; }
};

TEST(Trace, AProcessCallThatReachedNoWorkerIsShownOnTheCallingProcess) {
  Unsaveable block;
  block.out.set_executor(connectors::executor(1, 1));
  connectors::Trace trace;
  EXPECT_ANY_THROW(block.out());
  std::ostringstream json;
  trace.write_json(json);
  const Json root = JsonParser{json.str()}.parse();
  const int own_pid = static_cast<int>(::getpid());
  std::vector<std::string> own_process_names;
  std::map<std::pair<int, int>, std::string> thread_names;
  std::vector<std::pair<int, int>> process_methods;
  for (const Json& event : root["traceEvents"].array()) {
    const std::pair<int, int> track{static_cast<int>(event["pid"].number()), static_cast<int>(event["tid"].number())};
    if (event["name"].string() == "process_name" && track.first == own_pid) {
      own_process_names.push_back(event["args"]["name"].string());
    } else if (event["name"].string() == "thread_name") {
      thread_names[track] = event["args"]["name"].string();
    } else if (event["ph"].string() == "X" && event["cat"].string() == "getter") {
      EXPECT_EQ(event["args"]["where"].string(), "process");
      process_methods.push_back(track);
    }
  }
  EXPECT_EQ(own_process_names, std::vector<std::string>{"connectors (pid " + std::to_string(own_pid) + ")"});
  ASSERT_EQ(process_methods.size(), 1u);
  EXPECT_EQ(process_methods[0].first, own_pid);
  ASSERT_EQ(thread_names.count(process_methods[0]), 1u);
  EXPECT_EQ(thread_names[process_methods[0]].rfind("thread ", 0), 0u) << thread_names[process_methods[0]];
}

// The last observer going in the middle of an operation: the operation's
// entry stayed, and a later operation at the same stack address, begun
// unobserved, ended with the old one's span once a new trace watched.
class Hooked {
 public:
  connectors::Output<double> out{this, &Hooked::read};
  connectors::Input<double> in{this, &Hooked::write, out};
  std::function<void()> hook;

 private:
  double read() const {
    if (hook) hook();
    return value_;
  }
  void write(double value) { value_ = value; }
  double value_ = 0.0;
};

[[gnu::noinline]] double get_through(Hooked& block) { return block.out(); }

TEST(Trace, AnOperationUnderWayWhenTheLastObserverWentHasNoSpanLater) {
  Hooked block;
  auto trace = std::make_unique<connectors::Trace>();
  block.hook = [&] { trace.reset(); };
  get_through(block);
  block.in(2.0);
  block.hook = [&] { trace = std::make_unique<connectors::Trace>(); };
  EXPECT_EQ(get_through(block), 2.0);
  ASSERT_NE(trace, nullptr);
  // Begun before the trace: no span, no method (docs/observability.md).
  EXPECT_TRUE(trace->operations().empty());
  EXPECT_TRUE(trace->methods().empty());
}

// A name need not be UTF-8; the trace file must be (JSON is).
TEST(Trace, BytesOfANameThatAreNotUtf8AreWrittenAsReplacementCharacters) {
  TimesTwo block;
  block.get_double.set_name("caf\xc3\xa9.out\xff\xfe\xe2\x82");
  connectors::Trace trace;
  block.get_double();
  std::ostringstream json;
  trace.write_json(json);
  const std::string text = json.str();
  EXPECT_NO_THROW(JsonParser{text}.parse());
  EXPECT_EQ(text.find('\xff'), std::string::npos);
  EXPECT_EQ(text.find('\xfe'), std::string::npos);
  EXPECT_NE(text.find("caf\xc3\xa9"), std::string::npos);                      // well-formed: as it is
  EXPECT_NE(text.find("out\\ufffd\\ufffd\\ufffd\\ufffd"), std::string::npos);  // a cut-off sequence too
  take_log();
}

// A Trace and a Progress with static storage (following a whole run) are
// destroyed at exit, after the library's table of operations under way, which
// the first operation made after them. They then cleared that destroyed table
// (AddressSanitizer: a use after free in ~Trace and ~Progress). The child
// process runs this test alone, so that its first operation comes after them.
TEST(TraceDeathTest, ATraceAndAProgressWithStaticStorageEndCleanlyAtExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        static connectors::Trace whole_run;
        static connectors::Progress progress;
        TimesTwo block;
        block.set_value(1.0);
        std::exit(block.get_double() == 2.0 && !whole_run.operations().empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// The last trace going while another thread's operation has looked whether
// anyone observes and not yet begun its span: that span was recorded with no
// observer and never ended, and a later operation at the same address,
// begun unobserved and ended under a new trace, was recorded with the old
// one's id and start (before the trace existed). Repeated for a while, as
// the window is narrow; before, a few rounds sufficed.
class Slow {
 public:
  connectors::Output<int> out{this, &Slow::read};
  Slow() {
    out.set_caching(false);
    out.set_parallelization(Parallelization::SEQUENTIAL);
  }
  std::atomic<bool> slow{false};
  mutable std::atomic<bool> inside{false};

 private:
  int read() const {
    if (slow) {
      inside = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return 1;
  }
};

[[gnu::noinline]] void read_slow(Slow& block) { (void)block.out(); }  // one call site: one scope address

TEST(Trace, AnOperationBegunWhileTheLastTraceWentIsNotRecordedByALaterOne) {
  Slow block;
  enum Command { idle, run, run_slow_once, quit };
  std::atomic<int> command{idle};
  std::atomic<bool> resting{false};
  std::atomic<bool> slow_done{false};
  std::thread reader{[&] {
    for (;;) {
      const int next = command.load();
      if (next == quit) return;
      if (next == idle) {
        resting = true;
        std::this_thread::yield();
        continue;
      }
      resting = false;
      read_slow(block);
      if (next == run_slow_once) {
        command = idle;
        slow_done = true;
      }
    }
  }};
  const auto stop = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int rounds = 0;
  bool stale = false;
  while (!stale && std::chrono::steady_clock::now() < stop) {
    ++rounds;
    command = run;
    for (int i = 0; i < 200; ++i) {
      connectors::Trace brief;
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    resting = false;
    command = idle;
    while (!resting) std::this_thread::yield();  // nothing runs, nothing observes
    block.slow = true;
    slow_done = false;
    command = run_slow_once;
    while (!block.inside) std::this_thread::yield();  // begun, unobserved
    block.inside = false;
    connectors::Trace trace;
    while (!slow_done) std::this_thread::yield();
    block.slow = false;
    stale = !trace.operations().empty();
  }
  command = quit;
  reader.join();
  EXPECT_FALSE(stale) << "after " << rounds << " rounds";
  take_log();
}

// Picture names and paths that `dot` misread: a NUL byte in a name ended
// the string early (the rest was read as DOT source, or the file was
// refused), and a path that begins with '-' was taken for an option.
TEST(Picture, ANulInANameAndAPathBeginningWithADashAreRendered) {
  TimesTwo block;
  block.get_double.set_name(std::string{"nul\0byte", 8});
  const std::string dot = connectors::to_dot(block.get_double);
  EXPECT_EQ(dot.find('\0'), std::string::npos);
  EXPECT_NE(dot.find("nul\\\\0byte"), std::string::npos) << dot;
  char directory[] = "/tmp/connectors-test-XXXXXX";
  ASSERT_NE(::mkdtemp(directory), nullptr);
  char previous[4096];
  ASSERT_NE(::getcwd(previous, sizeof previous), nullptr);
  ASSERT_EQ(::chdir(directory), 0);
  for (const std::string path : {"-network.svg", "-v"}) {
    SCOPED_TRACE(path);
    EXPECT_NO_THROW(connectors::write_svg(path, block.get_double));
    std::ifstream file{path};
    const std::string svg{std::istreambuf_iterator<char>{file}, {}};
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_NE(svg.find("nul\\0byte"), std::string::npos);
    ::unlink(path.c_str());
  }
  ASSERT_EQ(::chdir(previous), 0);
  ::rmdir(directory);
  // An empty path: `dot` given a bare -o complains and exits 0, writing
  // nothing; refused before it runs.
  EXPECT_THROW(connectors::write_svg("", block.get_double), std::invalid_argument);
}

// A control byte in a name: `dot` copied it into the SVG, which XML forbids
// (the file did not open in a browser, and XML parsers refused it).
TEST(Picture, AControlCharacterInANameIsWrittenSoThatTheSvgOpens) {
  TimesTwo block;
  block.get_double.set_name("gain\x01stage\x1f.out\tok");
  const std::string dot = connectors::to_dot(block.get_double);
  EXPECT_EQ(dot.find('\x01'), std::string::npos) << dot;
  EXPECT_NE(dot.find("gain\\\\x01stage\\\\x1f\""), std::string::npos) << dot;  // the owner's name
  EXPECT_NE(dot.find("\"out\tok\\n"), std::string::npos) << dot;               // a tab is kept
  char path[] = "/tmp/connectors-test-XXXXXX.svg";
  const int fd = ::mkstemps(path, 4);
  ASSERT_GE(fd, 0);
  ::close(fd);
  connectors::write_svg(path, block.get_double);
  std::ifstream file{path};
  const std::string svg{std::istreambuf_iterator<char>{file}, {}};
  ::unlink(path);
  for (const char c : svg) {
    const auto byte = static_cast<unsigned char>(c);
    EXPECT_TRUE(byte >= 0x20 || c == '\t' || c == '\n' || c == '\r') << "control byte " << int{byte};
  }
  EXPECT_NE(svg.find("gain\\x01stage\\x1f"), std::string::npos);
}

// A write_svg that fails (here: no `dot` on PATH) deleted the picture that
// was at its path before it ran `dot`; now that file stays as it was, and
// nothing of the failed attempt is left beside it.
TEST(Picture, AWriteSvgThatFailsLeavesTheFileThereAsItWas) {
  TimesTwo block;
  char directory[] = "/tmp/connectors-test-XXXXXX";
  ASSERT_NE(::mkdtemp(directory), nullptr);
  const std::string path = std::string{directory} + "/network.svg";
  {
    std::ofstream previous{path};
    previous << "the picture before";
  }
  const char* const saved = std::getenv("PATH");
  const std::string saved_path = saved != nullptr ? saved : "";
  ASSERT_EQ(::setenv("PATH", "/nonexistent", 1), 0);
  EXPECT_THROW(connectors::write_svg(path, block.get_double), connectors::Error);
  ASSERT_EQ(::setenv("PATH", saved_path.c_str(), 1), 0);
  std::ifstream file{path};
  const std::string kept{std::istreambuf_iterator<char>{file}, {}};
  EXPECT_EQ(kept, "the picture before");
  ::unlink(path.c_str());
  EXPECT_EQ(::rmdir(directory), 0) << "something was left beside the picture";
}

class Gate {
 public:
  connectors::Output<double> output{this, &Gate::read};
  connectors::Input<double> input{this, &Gate::write, output};
  bool fail = false;
  Gate() { input.set_announce_condition(&Gate::is_open); }

 private:
  double read() const { return value_; }
  void write(double value) { value_ = value; }
  bool is_open() const {
    if (fail) throw std::runtime_error("the gate's condition failed");
    return true;
  }
  double value_ = 0.0;
};

// An announce condition that throws during a change's announcement: its
// error is held until the walk is complete, and the trace recorded the
// condition as not failed.
TEST(Trace, AnAnnounceConditionThatThrowsIsRecordedAsFailed) {
  TimesTwo source;
  Gate gate;
  gate.input.connect(source.get_double);
  EXPECT_EQ(gate.output(), 0.0);
  gate.fail = true;
  connectors::Trace trace;
  EXPECT_THROW(source.set_value(1.0), std::runtime_error);
  int conditions = 0;
  for (const connectors::Trace::Method& method : trace.methods()) {
    if (method.phase != "condition") continue;
    ++conditions;
    EXPECT_TRUE(method.failed);
  }
  EXPECT_EQ(conditions, 1);
  take_log();
}

// A trace created inside an operation under way records neither the
// operation nor the method then running, also when another observer (a
// Progress) had them followed from their start: the trace then listed both,
// with times before its own beginning.
TEST(Trace, AnOperationUnderWayWhenTheTraceBeginsIsNotRecordedWhileAProgressObserves) {
  connectors::Progress progress;
  Hooked block;
  block.in(1.0);
  std::unique_ptr<connectors::Trace> trace;
  block.hook = [&] { trace = std::make_unique<connectors::Trace>(); };
  EXPECT_EQ(get_through(block), 1.0);
  ASSERT_NE(trace, nullptr);
  EXPECT_TRUE(trace->operations().empty());
  EXPECT_TRUE(trace->methods().empty());
  // What begins afterwards is recorded, with its operation.
  block.hook = nullptr;
  block.in(2.0);
  EXPECT_EQ(get_through(block), 2.0);
  ASSERT_EQ(trace->operations().size(), 2u);
  const std::vector<connectors::Trace::Method> methods = trace->methods();
  ASSERT_EQ(methods.size(), 2u);
  EXPECT_EQ(methods[0].operation, trace->operations()[0].id);
  EXPECT_EQ(methods[1].operation, trace->operations()[1].id);
}

// A setter that polls Progress::latest() while the operation runs more
// methods than estimated: latest() returned the count raised past the
// estimate (finished == expected, not done), a report never made.
class Polling {
 public:
  connectors::Output<long> output{this, &Polling::read};
  connectors::Input<long> input{this, &Polling::write, output};
  const connectors::Progress* progress = nullptr;
  std::vector<connectors::ProgressReport> polled;

 private:
  long read() const { return value_; }
  void write(long value) {
    value_ = value;
    if (progress != nullptr) polled.push_back(progress->latest());
  }
  long value_ = 0;
};

TEST(Progress, LatestIsAlwaysAReportMade) {
  Polling head, middle, tail;
  middle.input.connect(head.output);
  tail.input.connect(middle.output);
  middle.input.set_laziness(connectors::Laziness::ON_ANNOUNCE);
  tail.input.set_laziness(connectors::Laziness::ON_ANNOUNCE);
  head.input(1);
  EXPECT_EQ(tail.output(), 1);
  std::vector<connectors::ProgressReport> told;
  {
    connectors::Progress progress{[&](const connectors::ProgressReport& report) { told.push_back(report); }};
    for (Polling* block : {&head, &middle, &tail}) block->progress = &progress;
    head.input(2);  // estimated: its own setter; run: five methods
    tail.polled.push_back(progress.latest());
    for (Polling* block : {&head, &middle, &tail}) block->progress = nullptr;
  }
  ASSERT_FALSE(told.empty());
  EXPECT_TRUE(told.back().done);
  for (const Polling* block : {&head, &middle, &tail}) {
    for (const connectors::ProgressReport& report : block->polled) {
      const bool made = std::any_of(told.begin(), told.end(), [&](const connectors::ProgressReport& one) {
        return one.operation == report.operation && one.finished == report.finished &&
               one.expected == report.expected && one.done == report.done;
      });
      EXPECT_TRUE(made) << "finished " << report.finished << " expected " << report.expected << " done " << report.done;
      EXPECT_TRUE(report.done || report.finished < report.expected);
    }
  }
}

// A PROCESS method and an inline one of one operation: the PROCESS method's
// reply came while the coordinating thread ran the inline method, and was
// told (and listed) after it, though it ended first.
class Marker {
 public:
  connectors::Output<double> out{this, &Marker::compute};
  connectors::Input<std::string> in{this, &Marker::write, out};
  Marker() { out.set_parallelization(Parallelization::PROCESS); }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(path_);
  }

 private:
  double compute() const {
    std::ofstream{path_} << "ran";
    return 1.0;
  }
  void write(std::string path) { path_ = std::move(path); }
  std::string path_;
};

class WaitsForAFile {
 public:
  connectors::Output<double> out{this, &WaitsForAFile::compute};
  connectors::Input<std::string> in{this, &WaitsForAFile::write, out};
  // On the coordinating thread, which takes the PROCESS reply afterwards.
  WaitsForAFile() { out.set_parallelization(Parallelization::SEQUENTIAL); }

 private:
  double compute() const {
    // Until the PROCESS method has run (the file it writes), and then long
    // enough for its reply to reach this process: the order asserted below
    // holds either way, this only makes the late telling happen.
    while (::access(path_.c_str(), F_OK) != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return 2.0;
  }
  void write(std::string path) { path_ = std::move(path); }
  std::string path_;
};

class SumOfTwo {
 public:
  connectors::Output<double> total{this, &SumOfTwo::compute};
  connectors::Input<double> a{this, &SumOfTwo::set_a, total};
  connectors::Input<double> b{this, &SumOfTwo::set_b, total};

 private:
  double compute() const { return a_ + b_; }
  void set_a(double value) { a_ = value; }
  void set_b(double value) { b_ = value; }
  double a_ = 0.0;
  double b_ = 0.0;
};

TEST(Trace, MethodsAreListedInTheOrderTheyEndedAlsoAPROCESSMethod) {
  auto executor = connectors::executor(2, 1);
  char directory[] = "/tmp/connectors-test-XXXXXX";
  ASSERT_NE(::mkdtemp(directory), nullptr);
  const std::string path = std::string{directory} + "/ran";
  Marker remote;
  WaitsForAFile local;
  SumOfTwo sum;
  sum.a.connect(remote.out);
  sum.b.connect(local.out);
  sum.total.set_executor(executor);
  remote.in(path);
  local.in(path);
  std::vector<connectors::Trace::Method> methods;
  {
    connectors::Trace trace;
    EXPECT_EQ(sum.total(), 3.0);
    methods = trace.methods();
  }
  ::unlink(path.c_str());
  ::rmdir(directory);
  ASSERT_EQ(methods.size(), 5u);
  EXPECT_EQ(std::count_if(methods.begin(), methods.end(), [](const auto& method) { return method.process; }), 1);
  for (std::size_t i = 1; i < methods.size(); ++i) {
    EXPECT_LE(methods[i - 1].end, methods[i].end)
        << methods[i - 1].owner << "." << methods[i - 1].connector << " listed before " << methods[i].owner << "."
        << methods[i].connector;
  }
}
}  // namespace observability_test
