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

  void submit(PoolJob& job);
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
