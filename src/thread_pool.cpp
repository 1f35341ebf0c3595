#include <connectors/detail/thread_pool.hpp>

#include "cpu_relax.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace connectors::detail {

// The most jobs a worker takes with one lock (take_chunk_locked).
constexpr std::size_t max_chunk = 16;

// The rest of the chunk a worker took, while it runs the chunk's jobs one by
// one: take_back and idle workers find them there, so a job queued behind one
// that blocks is not held for ever by the blocked worker. A chunk is published only under
// ThreadPoolState::mutex, which take_back holds while it looks; after that a
// job belongs to whoever empties its slot first (the worker by an exchange,
// take_back by a compare-and-swap), so the worker claims each job with one
// uncontended atomic operation instead of a lock. take_back compares the
// origin it copied at publication before it touches a slot: a job the worker
// has claimed may already be run and freed (docs/design.md#thread-pool).
// A cache line of its own: one worker's claims do not bounce another's slots.
struct alignas(64) HeldJobs {
  std::array<std::atomic<PoolJob*>, max_chunk> jobs{};
  std::array<const EventLoop*, max_chunk> origins{};
  std::size_t count = 0;  // under ThreadPoolState::mutex
  std::size_t next = 0;   // the worker's own: the slot it claims next

  // Under ThreadPoolState::mutex.
  void publish(JobList& chunk) noexcept {
    count = 0;
    next = 0;
    while (PoolJob* job = chunk.pop_front()) {
      origins[count] = job->origin;
      jobs[count].store(job, std::memory_order_relaxed);
      ++count;
    }
  }
  // The worker's next unclaimed job, if any.
  PoolJob* claim_next() noexcept {
    while (next < count) {
      if (PoolJob* job = jobs[next++].exchange(nullptr, std::memory_order_acquire)) return job;
    }
    return nullptr;
  }
  bool holds_unclaimed() const noexcept {
    for (std::size_t i = next; i < count; ++i) {
      if (jobs[i].load(std::memory_order_relaxed) != nullptr) return true;
    }
    return false;
  }
  // Under ThreadPoolState::mutex: any unclaimed job, for an idle worker.
  PoolJob* take_any() noexcept {
    for (std::size_t i = 0; i < count; ++i) {
      PoolJob* job = jobs[i].load(std::memory_order_relaxed);
      if (job != nullptr && jobs[i].compare_exchange_strong(job, nullptr, std::memory_order_acquire)) return job;
    }
    return nullptr;
  }
  // Under ThreadPoolState::mutex.
  PoolJob* take_first_of(const EventLoop* origin) noexcept {
    for (std::size_t i = 0; i < count; ++i) {
      if (origins[i] != origin) continue;
      PoolJob* job = jobs[i].load(std::memory_order_relaxed);
      if (job != nullptr && jobs[i].compare_exchange_strong(job, nullptr, std::memory_order_acquire)) return job;
    }
    return nullptr;
  }
};

namespace {

// How many forks separate this process from the program's first: a child
// of fork() (without exec) has a copy of every pool, but none of its
// threads. Counted by a pthread_atfork handler, registered with the first
// pool, so that a pool's submit can tell with one load.
std::atomic<std::uint64_t> forks_since_start{0};

void count_fork_in_child() noexcept { forks_since_start.fetch_add(1, std::memory_order_relaxed); }

std::uint64_t fork_generation() noexcept {
  [[maybe_unused]] static const bool counted = ::pthread_atfork(nullptr, nullptr, &count_fork_in_child) == 0;
  return forks_since_start.load(std::memory_order_relaxed);
}

}  // namespace

struct ThreadPoolState {
  explicit ThreadPoolState(std::size_t size) : size(size), held(size) {}

  const std::size_t size;
  // The process the pool's threads live in (see forks_since_start).
  const std::uint64_t generation = fork_generation();
  // In a forked child the pool's threads do not exist, and its lock may
  // have been held by one of them at the fork.
  bool in_forked_child() const noexcept { return generation != forks_since_start.load(std::memory_order_relaxed); }
  std::mutex mutex;
  std::condition_variable work_available;
  JobList queue;
  // A copy of queue.size that spinning workers read without the lock.
  std::atomic<std::size_t> queued{0};
  std::size_t sleeping_workers = 0;
  std::size_t running_workers = 0;  // workers inside jobs (blocked ones too)
  bool stopping = false;
  std::atomic<bool> stopping_flag{false};
  std::vector<std::thread> workers;
  std::vector<HeldJobs> held;  // one per worker

  // Takes a fair share of the queue: bursts of small jobs then cost one lock
  // per chunk instead of one per job, and no worker hoards long ones.
  JobList take_chunk_locked() noexcept {
    JobList chunk;
    const std::size_t share = std::clamp<std::size_t>(queue.size / (size * 2), 1, max_chunk);
    for (std::size_t i = 0; i < share && !queue.empty(); ++i) chunk.push_back(*queue.pop_front());
    queued.store(queue.size, std::memory_order_relaxed);
    return chunk;
  }

  // A job that another worker holds behind the one it runs, for a worker
  // that found the queue empty. The job it runs may block for long (on a
  // network's lock, on a latch that a job behind it opens): a loop takes its
  // calls back only while every worker is busy, so with an idle worker the
  // held job would wait for the blocked one, and the loop for it, for ever.
  bool holds_unclaimed_locked() const noexcept {
    for (const HeldJobs& chunk : held) {
      for (std::size_t i = 0; i < chunk.count; ++i) {
        if (chunk.jobs[i].load(std::memory_order_relaxed) != nullptr) return true;
      }
    }
    return false;
  }
  PoolJob* take_held_locked() noexcept {
    for (HeldJobs& chunk : held) {
      if (PoolJob* job = chunk.take_any()) return job;
    }
    return nullptr;
  }
};

namespace {

// The pool whose worker the calling thread is, if any.
thread_local const ThreadPoolState* current_worker_pool = nullptr;
// The held chunk of the calling worker thread.
thread_local HeldJobs* current_held = nullptr;

// How long an idle worker watches the queue before it sleeps. Jobs often come
// in bursts (a loop fanning out), and waking a sleeping thread costs ~10 µs;
// but a spinning worker takes a share of a core from the coordinating thread,
// which meanwhile runs the light methods of the operation itself (work-first):
// with 30 µs, a light chain below a fork cost up to twice its time per block
// (docs/design.md#thread-pool).
constexpr auto spin_duration = std::chrono::microseconds{5};

bool spin_for_work(const ThreadPoolState& state) noexcept {
  const auto until = std::chrono::steady_clock::now() + spin_duration;
  for (unsigned i = 0;; ++i) {
    if (state.queued.load(std::memory_order_relaxed) != 0 || state.stopping_flag.load(std::memory_order_relaxed)) {
      return true;
    }
    cpu_relax();
    if ((i & 63U) == 63U && std::chrono::steady_clock::now() >= until) return false;
  }
}

// By value: each worker thread owns a share of the state it runs on.
void worker_main(std::shared_ptr<ThreadPoolState> shared,  // NOLINT(performance-unnecessary-value-param)
                 std::size_t index) {
  current_worker_pool = shared.get();
  ThreadPoolState& self = *shared;
  HeldJobs& held = self.held[index];
  current_held = &held;
  std::unique_lock lock{self.mutex};
  for (;;) {
    PoolJob* first = nullptr;
    if (!self.queue.empty()) {
      JobList chunk = self.take_chunk_locked();
      first = chunk.pop_front();
      // Published under the queue's lock: take_back, which holds it, sees
      // each job either queued or held.
      held.publish(chunk);
    } else if (self.stopping) {
      break;
    } else {
      // Nothing queued: a job another worker holds in its chunk, not started,
      // may wait there behind one that blocks.
      first = self.take_held_locked();
    }
    if (first != nullptr) {
      ++self.running_workers;
      lock.unlock();
      first->run();
      while (PoolJob* job = held.claim_next()) job->run();  // none after a job taken from another worker
      lock.lock();
      --self.running_workers;
      continue;
    }
    lock.unlock();
    const bool busy_again = spin_for_work(self);
    lock.lock();
    // Also awake while another worker holds a job it has not started: a
    // chunk published while this one spun (take_held_locked), which a loop
    // does not take back while this worker is idle.
    if (busy_again || !self.queue.empty() || self.stopping || self.holds_unclaimed_locked()) continue;
    ++self.sleeping_workers;
    self.work_available.wait(lock);
    --self.sleeping_workers;
  }
}

}  // namespace

ThreadPool::ThreadPool(std::size_t size) : state_(std::make_shared<ThreadPoolState>(size == 0 ? 1 : size)) {}

ThreadPool::~ThreadPool() {
  // Nothing to stop or join, no lock to take (see in_forked_child). The
  // state stays: each worker's copy of it still counts.
  if (state_->in_forked_child()) return;
  std::vector<std::thread> workers;
  {
    std::lock_guard lock{state_->mutex};
    state_->stopping = true;
    state_->stopping_flag.store(true, std::memory_order_relaxed);
    workers.swap(state_->workers);
  }
  state_->work_available.notify_all();
  for (std::thread& worker : workers) {
    // The last owner may drop the pool from inside one of its own jobs; that
    // worker finishes on its own (it holds the state) and cannot join itself.
    if (worker.get_id() == std::this_thread::get_id()) {
      worker.detach();
    } else {
      worker.join();
    }
  }
}

bool ThreadPool::submit(JobList& jobs) noexcept {
  if (jobs.empty()) return true;
  ThreadPoolState& state = *state_;
  // The calls run on the caller's thread, as where no thread can start
  // (docs/processes.md, init).
  if (state.in_forked_child()) return false;
  std::lock_guard lock{state.mutex};
  if (state.workers.empty()) {
    // Lazily started: the first jobs bring up the whole pool. With at least
    // one thread the pool works, only smaller.
    try {
      state.workers.reserve(state.size);
      for (std::size_t i = 0; i < state.size; ++i) state.workers.emplace_back(worker_main, state_, i);
    } catch (...) {
      if (state.workers.empty()) return false;
    }
  }
  const std::size_t added = jobs.size;
  state.queue.append(jobs);
  state.queued.store(state.queue.size, std::memory_order_relaxed);
  if (state.sleeping_workers > 0) {
    if (added > 1) {
      state.work_available.notify_all();
    } else {
      state.work_available.notify_one();
    }
  }
  return true;
}

PoolJob* ThreadPool::take_back(const EventLoop* origin, bool only_if_all_busy) noexcept {
  std::lock_guard lock{state_->mutex};
  // A worker that is not inside a job will take the calls: taking them back
  // then would run a THREAD method on the waiting thread beside what it must
  // still do itself (a SEQUENTIAL setter the method may wait for).
  if (only_if_all_busy && state_->running_workers < state_->workers.size()) return nullptr;
  if (PoolJob* job = state_->queue.remove_first_of(origin)) {
    state_->queued.store(state_->queue.size, std::memory_order_relaxed);
    return job;
  }
  for (HeldJobs& held : state_->held) {
    if (PoolJob* job = held.take_first_of(origin)) return job;
  }
  return nullptr;
}

bool ThreadPool::on_worker_thread() const noexcept { return current_worker_pool == state_.get(); }

bool ThreadPool::on_any_worker_thread() noexcept { return current_worker_pool != nullptr; }

bool ThreadPool::worker_holds_jobs() noexcept {
  const HeldJobs* held = current_held;
  return held != nullptr && held->holds_unclaimed();
}

std::size_t ThreadPool::size() const noexcept { return state_->size; }

std::size_t ThreadPool::started_threads() const noexcept {
  std::lock_guard lock{state_->mutex};
  return state_->workers.size();
}

}  // namespace connectors::detail
