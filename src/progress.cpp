// connectors::Progress: counting an operation's methods against an estimate
// (docs/observability.md, "Progress").
#include <connectors/detail/node_inspector.hpp>
#include <connectors/detail/observer.hpp>
#include <connectors/progress.hpp>

#include <unordered_set>
#include <utility>
#include <vector>

namespace connectors {

namespace {

// The methods a request of `start` will run, as far as its state tells now:
// the getter of every stale output upstream, the setter of every input
// there with a change under way; a direct change runs its own setter. The
// network lock is held (the operation has begun).
std::size_t estimate(const detail::NodeBase& start) {
  using detail::NodeInspector;
  std::size_t expected = 0;
  std::unordered_set<const detail::NodeBase*> seen{&start};
  std::vector<const detail::NodeBase*> pending{&start};
  auto visit = [](const detail::NodeBase& node, void* raw) {
    auto& walk =
        *static_cast<std::pair<std::unordered_set<const detail::NodeBase*>*, std::vector<const detail::NodeBase*>*>*>(
            raw);
    if (walk.first->insert(&node).second) walk.second->push_back(&node);
  };
  std::pair walk{&seen, &pending};
  while (!pending.empty()) {
    const detail::NodeBase* node = pending.back();
    pending.pop_back();
    if (const auto* item = NodeInspector::as_key_item(*node)) {
      visit(item->parent(), &walk);
    } else if (const auto* output = dynamic_cast<const detail::OutputNode*>(node)) {
      if (output->valid()) continue;
      ++expected;
      output->for_each_upstream(visit, &walk);
    } else if (const auto* input = dynamic_cast<const detail::InputNode*>(node)) {
      if (node != &start && !NodeInspector::announcing(*input) && !NodeInspector::holds_value(*input)) continue;
      ++expected;
      input->for_each_upstream(visit, &walk);
    }
  }
  return expected;
}

}  // namespace

struct Progress::Counter final : detail::Observer {
  explicit Counter(Callback on_report) : callback(std::move(on_report)) {}

  // Guarded by the observers' lock (detail::ObserversLock).
  Callback callback;
  ProgressReport report;  // the count, ahead of the reports while they pause
  ProgressReport told;    // the last report made (latest())
  bool counting = false;  // an operation that began while this was alive

  void operation_began(const detail::OperationEvent& operation, const detail::NodeBase& start) override {
    // Operations on independent networks may overlap (a lock per network):
    // one is followed to its end before the next that begins.
    if (counting) return;
    // Out of memory while estimating: this operation is not followed, and
    // the next one is (counting is set only once nothing can throw).
    report = ProgressReport{operation.id, 0, estimate(start), false};
    counting = true;
    if (report.expected == 0) report.expected = 1;  // 0 of 0 would already be "done"
    tell();
  }
  void method_ended(const detail::MethodEvent& method) override {
    if (!counting || method.phase == detail::Phase::condition || method.operation != report.operation) return;
    ++report.finished;
    // The estimate is used up: nothing more can be promised, so reports
    // wait for the operation's end, which is the one report where finished
    // equals expected. More methods raise the estimate with them.
    if (report.finished >= report.expected) {
      report.expected = report.finished;
      return;
    }
    tell();
  }
  void operation_ended(const detail::OperationEvent& operation) override {
    if (!counting || operation.id != report.operation) return;
    counting = false;
    report.expected = report.finished;
    report.done = true;
    tell();
  }
  void tell() {
    told = report;
    if (!callback) return;
    try {
      callback(report);
    } catch (...) {
      // A failing display must not fail the computation it displays.
    }
  }
};

Progress::Progress() : Progress(Callback{}) {}

Progress::Progress(Callback callback) : counter_(std::make_unique<Counter>(std::move(callback))) {
  detail::add_observer(*counter_);
}

Progress::~Progress() { detail::remove_observer(*counter_); }

ProgressReport Progress::latest() const {
  detail::ObserversLock lock;
  return counter_->told;
}

}  // namespace connectors
