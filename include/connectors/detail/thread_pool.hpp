#pragma once

#include <connectors/detail/channel_node.hpp>

#include <cstddef>
#include <memory>

namespace connectors {
class EventLoop;
}

namespace connectors::detail {

struct ThreadPoolState;

// A method call that an event loop queues for the pool: a worker runs it,
// then hands it back to its loop through the loop's channel, where it is
// delivered. One object is both the job and the post, with one vtable
// pointer: it usually lives inside the suspended coroutine frame that awaits
// it, and 10^5 calls in flight are 10^5 frames (docs/design.md#frames).
class PoolJob : public ChannelNode {
 public:
  PoolJob* next_job = nullptr;
  // The loop that queued it: a loop that waits for its own calls may take
  // them back (ThreadPool::take_back).
  EventLoop* origin = nullptr;
  virtual void run() noexcept = 0;

 protected:
  ~PoolJob() = default;
};

// Jobs linked through next_job, gathered without the pool's lock.
struct JobList {
  PoolJob* head = nullptr;
  PoolJob* tail = nullptr;
  std::size_t size = 0;

  bool empty() const noexcept { return head == nullptr; }
  void push_back(PoolJob& job) noexcept {
    job.next_job = nullptr;
    if (tail != nullptr) {
      tail->next_job = &job;
    } else {
      head = &job;
    }
    tail = &job;
    ++size;
  }
  PoolJob* pop_front() noexcept {
    PoolJob* job = head;
    if (job != nullptr) {
      head = job->next_job;
      if (head == nullptr) tail = nullptr;
      job->next_job = nullptr;
      --size;
    }
    return job;
  }
  // Unlinks the first job queued by `origin`, if any.
  PoolJob* remove_first_of(const EventLoop* origin) noexcept {
    PoolJob* before = nullptr;
    for (PoolJob* job = head; job != nullptr; before = job, job = job->next_job) {
      if (job->origin != origin) continue;
      (before != nullptr ? before->next_job : head) = job->next_job;
      if (tail == job) tail = before;
      job->next_job = nullptr;
      --size;
      return job;
    }
    return nullptr;
  }
  void append(JobList& other) noexcept {
    if (other.empty()) return;
    if (tail != nullptr) {
      tail->next_job = other.head;
    } else {
      head = other.head;
    }
    tail = other.tail;
    size += other.size;
    other = JobList{};
  }
};

// A persistent pool of at most `size` worker threads, started at the first
// submit. Workers only ever run jobs, so at most `size` user methods run at once.
// A run that may starve the pool (on a thread of the pool, one a method waits
// for, or an operation's coordinator holding its network's lock) takes back
// its own queued jobs and runs them itself instead of waiting for a worker
// that may never come: every worker may be blocked on that lock or waiting in
// such a run (take_back; docs/design.md#thread-pool).
class ThreadPool {
 public:
  explicit ThreadPool(std::size_t size);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  // Runs what is queued, then joins the workers.
  ~ThreadPool();

  // Queues every job of `jobs` (left empty) with one lock. Returns false, and
  // leaves `jobs` as they were, only when not a single worker thread could be
  // started; the caller then runs them itself.
  [[nodiscard]] bool submit(JobList& jobs) noexcept;
  // Unqueues the first job that `origin` queued and no worker has taken, if
  // any; the caller runs it.
  // With `only_if_all_busy`, only while every worker is inside a job.
  PoolJob* take_back(const EventLoop* origin, bool only_if_all_busy) noexcept;
  // Whether the calling thread is one of this pool's workers.
  bool on_worker_thread() const noexcept;
  // Whether it is a worker of any pool.
  static bool on_any_worker_thread() noexcept;
  // Whether the calling thread is a worker (of any pool) that still holds
  // jobs of the chunk it took, which it runs before going back to the queue.
  static bool worker_holds_jobs() noexcept;

  std::size_t size() const noexcept;
  std::size_t started_threads() const noexcept;

 private:
  std::shared_ptr<ThreadPoolState> state_;
};

}  // namespace connectors::detail
