// docs/parallelization.md — two getters of one request run at the same time.
#include <connectors/connectors.hpp>

#include "check.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

namespace {

// Both getters wait until the other one is running too (or give up).
struct Rendezvous {
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0;
  bool meet() {
    std::unique_lock lock{mutex};
    ++arrived;
    cv.notify_all();
    return cv.wait_for(lock, std::chrono::seconds{5}, [&] { return arrived == 2; });
  }
};

// --- fan-in
class Branch {
 public:
  explicit Branch(Rendezvous& rendezvous) : rendezvous_(rendezvous) {}
  connectors::Output<bool> output{this, &Branch::read};

 private:
  bool read() const { return rendezvous_.meet(); }
  Rendezvous& rendezvous_;
};

class Join {
 public:
  connectors::Output<int> both{this, &Join::count};
  connectors::Input<bool> left{this, &Join::set_left, both};
  connectors::Input<bool> right{this, &Join::set_right, both};

 private:
  int count() const { return int{left_} + int{right_}; }
  void set_left(bool value) { left_ = value; }
  void set_right(bool value) { right_ = value; }
  bool left_ = false;
  bool right_ = false;
};
// ---
}  // namespace

int main() {
  // --- fan-in in use
  connectors::set_default_executor(connectors::executor(2, 0));
  Rendezvous rendezvous;
  Branch a{rendezvous}, b{rendezvous};  // each getter waits until the other one runs too
  Join join;
  join.left.connect(a.output);
  join.right.connect(b.output);
  CHECK(join.both() == 2);  // both getters met: they ran at the same moment
  // ---
  connectors::set_default_executor(nullptr);
  return failures == 0 ? 0 : 1;
}
