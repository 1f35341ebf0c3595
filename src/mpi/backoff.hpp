#pragma once

// How a rank waits for MPI messages without spinning a core: Open MPI's
// blocking receives poll in a loop, so a rank that waits for its next call
// would use a whole core. Right after a message it polls
// hot (answers within microseconds while a run is busy); once quiet it sleeps
// between polls, longer and longer up to a bound, so an idle rank costs
// almost nothing and the first call after a pause waits at most that bound
// (docs/distributed.md, "Idle ranks").

#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace connectors::detail::mpi {

using namespace std::chrono_literals;

// The settings (docs/distributed.md, "Idle ranks"): a serving rank waiting
// for its next call polls hot for 1 ms and then at most every 2 ms (an idle
// rank costs about 2 % of a core, a call after a pause waits up to 2 ms more);
// waiting for its own worker it polls hot for 300 us (a trivial call's reply
// arrives within that) unless its previous call was longer, and then sleeps
// on its channel, which wakes it at once, looking for rank 0's messages every
// 4 ms. Rank 0 waiting for replies polls as in_flight_pause says (below);
// after a reply, with nothing in flight, it stays hot for 500 us (the next
// call usually follows), then sleeps until a call is submitted.
inline constexpr std::chrono::microseconds idle_rank_hot = 1000us;
inline constexpr std::chrono::microseconds idle_rank_sleep = 2000us;
// After its reply a serving rank expects the next call of a fan-out within
// rank 0's time to see the reply: for after_reply_period it sleeps at most
// after_reply_sleep between polls, instead of backing off towards
// idle_rank_sleep, which made each next call wait up to 1.3 ms longer here.
inline constexpr std::chrono::microseconds after_reply_period = 2000us;
inline constexpr std::chrono::microseconds after_reply_sleep = 100us;
inline constexpr std::chrono::microseconds local_call_hot = 300us;
// A serving rank whose worker runs a longer call looks for a cancel or a stop
// from rank 0 this often: each look is a wake-up, about 20 us of CPU on this
// VM, taken from the workers (docs/benchmarks.md, "MPI ranks").
inline constexpr std::chrono::microseconds running_call_poll = 4000us;
inline constexpr std::chrono::microseconds rank_zero_hot = 500us;
inline constexpr std::chrono::microseconds rank_zero_sleep = 250us;
// A rank sending a large payload waits while the receiver copies it (64 MiB:
// about 12 ms here); a late look at the end only delays the sender's next
// poll, not the data.
inline constexpr std::chrono::microseconds send_hot = 50us;
inline constexpr std::chrono::microseconds send_sleep = 500us;

// How long rank 0's communication thread sleeps before it polls again for the
// reply of a call that has been on a rank for `age`, when that rank's
// previous call took `previous` (zero: none yet). Each poll is a wake-up,
// about 20 us of CPU on this VM, taken from the ranks' workers, and each
// sleep overshoots by some 130 us here; each microsecond a reply waits is
// lost on that rank, whose next call it delays (docs/distributed.md, "Idle
// ranks"):
// - after a short call (or none), hot for rank_zero_hot: a trivial call's
//   reply comes within it; then sleeps of 1/in_flight_divisor of the call's
//   age, so that a reply waits for at most about that share of its call's
//   time;
// - after a long call, the reply is expected near the same time again (the
//   calls of a fan-out): sleeps of a quarter of the time left to it, densest
//   around it, and never longer than 1/in_flight_divisor of the longer of the
//   two, so a call shorter than expected waits for at most that share of the
//   previous one.
// All sleeps within [in_flight_shortest_sleep, in_flight_longest_sleep]. A
// 20 ms call after another is polled some 45 times instead of about 80 after
// a hot period of 500 us.
inline constexpr std::chrono::microseconds in_flight_shortest_sleep = 20us;
inline constexpr std::chrono::microseconds in_flight_longest_sleep = 2000us;
inline constexpr int in_flight_divisor = 32;

constexpr std::chrono::microseconds in_flight_pause(std::chrono::microseconds age,
                                                    std::chrono::microseconds previous) noexcept {
  if (previous < rank_zero_hot) {
    if (age < rank_zero_hot) return std::chrono::microseconds{0};
    return std::clamp(age / in_flight_divisor, in_flight_shortest_sleep, in_flight_longest_sleep);
  }
  const auto bound =
      std::clamp(std::max(age, previous) / in_flight_divisor, in_flight_shortest_sleep, in_flight_longest_sleep);
  const auto distance = age < previous ? previous - age : age - previous;
  return std::clamp(distance / 4, in_flight_shortest_sleep, bound);
}

// How long a serving rank polls hot for its worker's reply when its previous
// call took `previous` (zero: none yet): a rank whose calls run long sleeps on
// its channel at once, and its worker keeps the core (docs/distributed.md,
// "Idle ranks").
constexpr std::chrono::microseconds local_call_hot_period(std::chrono::microseconds previous) noexcept {
  return previous < local_call_hot ? local_call_hot : std::chrono::microseconds{0};
}

// Makes this thread's timed sleeps end on time: Linux lets a sleep of a normal
// thread end up to 50 us late by default (its timer slack), which the short
// sleeps of the polling above would add to every reply they wait for
// (docs/distributed.md, "Idle ranks").
inline void precise_sleeps() noexcept { ::prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL); }

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

  // Still within the hot period after the last reset().
  bool hot() const noexcept { return Clock::now() < hot_until_; }

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
