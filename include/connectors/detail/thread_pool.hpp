#pragma once

#include <cstddef>
#include <memory>

namespace connectors::detail {

struct ThreadPoolState;

// A unit of work for the pool, usually living inside a suspended coroutine frame.
class PoolJob {
 public:
  PoolJob* next_job = nullptr;
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
// A thread of the pool that is blocked in a nested run helps with queued jobs
// instead of waiting idle (try_run_one), which makes nested runs deadlock-free
// without ever exceeding the size.
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
  // Runs one queued job on the calling thread, if there is one.
  bool try_run_one() noexcept;
  // Whether the calling thread is one of this pool's workers.
  bool on_worker_thread() const noexcept;

  std::size_t size() const noexcept;
  std::size_t started_threads() const noexcept;

 private:
  std::shared_ptr<ThreadPoolState> state_;
};

}  // namespace connectors::detail
