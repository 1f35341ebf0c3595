#pragma once

// How a rank waits for MPI messages without spinning a core: Open MPI's
// blocking receives poll in a loop, so a rank that waits for its next call
// would use a whole core. Right after a message it polls
// hot (answers within microseconds while a run is busy); once quiet it sleeps
// between polls, longer and longer up to a bound, so an idle rank costs
// almost nothing and the first call after a pause waits at most that bound
// (docs/distributed.md, "Idle ranks").

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace connectors::detail::mpi {

using namespace std::chrono_literals;

// The settings (docs/distributed.md, "Idle ranks"): a serving rank waiting
// for its next call polls hot for 1 ms and then at most every 2 ms (an idle
// rank costs about 2 % of a core, a call after a pause waits up to 2 ms more);
// waiting for its own worker it polls hot for 300 us (a trivial call's reply
// arrives within that) and then sleeps on its channel, which wakes it at
// once. Rank 0 waiting for replies polls hot for 500 us and then at most every
// 250 us, as a reply delays its call by up to that; with nothing in flight it
// sleeps until a call is submitted.
inline constexpr std::chrono::microseconds idle_rank_hot = 1000us;
inline constexpr std::chrono::microseconds idle_rank_sleep = 2000us;
inline constexpr std::chrono::microseconds local_call_hot = 300us;
inline constexpr std::chrono::microseconds rank_zero_hot = 500us;
inline constexpr std::chrono::microseconds rank_zero_sleep = 250us;
// A rank sending a large payload waits while the receiver copies it (64 MiB:
// about 12 ms here); a late look at the end only delays the sender's next
// poll, not the data.
inline constexpr std::chrono::microseconds send_hot = 50us;
inline constexpr std::chrono::microseconds send_sleep = 500us;

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;

  // `hot_period`: how long to poll hot after a message; `longest_sleep`:
  // the bound of the sleeps after it.
  Backoff(std::chrono::microseconds hot_period, std::chrono::microseconds longest_sleep) noexcept
      : hot_period_(hot_period), longest_sleep_(longest_sleep) {
    reset();
  }

  // Something happened: poll hot again.
  void reset() noexcept {
    hot_until_ = Clock::now() + hot_period_;
    sleep_ = std::min(std::chrono::microseconds{20}, longest_sleep_);
  }

  // The next wait, before polling again.
  std::chrono::microseconds next() noexcept {
    if (Clock::now() < hot_until_) return std::chrono::microseconds{0};
    const auto wait = sleep_;
    sleep_ = std::min(sleep_ * 2, longest_sleep_);
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
  std::chrono::microseconds hot_period_;
  std::chrono::microseconds longest_sleep_;
  Clock::time_point hot_until_;
  std::chrono::microseconds sleep_{20};
};

}  // namespace connectors::detail::mpi
