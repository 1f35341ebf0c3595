#pragma once

// How a rank waits for MPI messages without spinning a core (issue 14, item
// 4): Open MPI's blocking receives poll in a loop, so a rank that waits for
// its next call would use a whole core. Right after a message it polls
// hot (answers within microseconds while a run is busy); once quiet it sleeps
// between polls, longer and longer up to a bound, so an idle rank costs
// almost nothing and the first call after a pause waits at most that bound
// (docs/distributed.md, "Idle ranks").

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace connectors::detail::mpi {

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;

  // How long a rank polls hot after a message, and the longest sleep.
  static constexpr std::chrono::microseconds hot_period{2000};
  static constexpr std::chrono::microseconds longest_sleep{2000};

  // Something happened: poll hot again.
  void reset() noexcept {
    hot_until_ = Clock::now() + hot_period;
    sleep_ = std::chrono::microseconds{20};
  }

  // The next wait, before polling again.
  std::chrono::microseconds next() noexcept {
    if (Clock::now() < hot_until_) return std::chrono::microseconds{0};
    const auto wait = sleep_;
    sleep_ = std::min(sleep_ * 2, longest_sleep);
    return wait;
  }

  // Waits as next() says.
  void pause() noexcept {
    const auto wait = next();
    if (wait.count() == 0) {
      ::sched_yield();
    } else {
      std::this_thread::sleep_for(wait);
    }
  }

 private:
  Clock::time_point hot_until_ = Clock::now() + hot_period;
  std::chrono::microseconds sleep_{20};
};

}  // namespace connectors::detail::mpi
