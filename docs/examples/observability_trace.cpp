// docs/observability.md — the timeline of a computation, and its progress.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

// Not in an anonymous namespace: the type travels to a worker process.
namespace docs_trace {

class Square {
 public:
  connectors::Output<double> result{this, &Square::compute};
  connectors::Input<double> input{this, &Square::store, result};
  Square() { result.set_parallelization(connectors::Parallelization::PROCESS); }
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value_);
  }

 private:
  double compute() const { return value_ * value_; }
  void store(double value) { value_ = value; }
  double value_ = 0.0;
};

class Sum {
 public:
  connectors::Output<double> total{this, &Sum::compute};
  connectors::Input<double> a{this, &Sum::store_a, total};
  connectors::Input<double> b{this, &Sum::store_b, total};

 private:
  double compute() const { return a_ + b_; }
  void store_a(double value) { a_ = value; }
  void store_b(double value) { b_ = value; }
  double a_ = 0.0, b_ = 0.0;
};

}  // namespace docs_trace

int main(int argc, char** argv) {
  connectors::init(argc, argv);  // worker processes below
  using docs_trace::Square;
  using docs_trace::Sum;

  // --- trace
  Square x, y;
  Sum sum;
  sum.a.connect(x.result);
  sum.b.connect(y.result);
  sum.total.set_executor(connectors::executor(2, 2));  // ThreadingMultiprocessingExecutor
  x.input(3.0);
  y.input(4.0);

  connectors::Trace trace;  // records from here...
  CHECK(sum.total() == 25.0);
  std::ofstream out{"/tmp/connectors-docs-trace.json"};
  trace.write_json(out);  // ...to here; open it in ui.perfetto.dev
  // ---

  // --- methods
  int in_workers = 0;
  for (const connectors::Trace::Method& method : trace.methods()) {
    if (method.process) {
      ++in_workers;
      CHECK(method.pid != static_cast<int>(::getpid()));  // the worker's pid
      CHECK(method.bytes_sent > 0 && method.bytes_received > 0);
    }
  }
  CHECK(in_workers == 2);               // the two squares
  CHECK(trace.methods().size() == 5u);  // and two setters and the sum
  CHECK(trace.operations().size() == 1u);
  // ---

  // --- progress
  std::vector<connectors::ProgressReport> reports;
  {
    connectors::Progress progress{[&](const connectors::ProgressReport& report) { reports.push_back(report); }};
    x.input(5.0);
    CHECK(sum.total() == 41.0);
    CHECK(progress.latest().done);
    CHECK(progress.latest().finished == 3u);  // x's getter, sum's setter and getter
  }
  // ---
  CHECK(!reports.empty() && reports.back().done);
  return failures == 0 ? 0 : 1;
}
