#include <connectors/detail/thread_pool.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace connectors::detail {

struct ThreadPoolState {
  explicit ThreadPoolState(std::size_t size) : size(size) {}

  const std::size_t size;
  std::mutex mutex;
  std::condition_variable work_available;
  PoolJob* head = nullptr;
  PoolJob* tail = nullptr;
  std::size_t idle_workers = 0;
  bool stopping = false;
  std::vector<std::thread> workers;

  // Pops under the lock; null when the queue is empty.
  PoolJob* pop_locked() noexcept {
    PoolJob* job = head;
    if (job != nullptr) {
      head = job->next_job;
      if (head == nullptr) tail = nullptr;
      job->next_job = nullptr;
    }
    return job;
  }
};

namespace {
// The pool whose worker the calling thread is, if any.
thread_local const ThreadPoolState* current_worker_pool = nullptr;

void worker_main(std::shared_ptr<ThreadPoolState> shared) {
  current_worker_pool = shared.get();
  ThreadPoolState& self = *shared;
  std::unique_lock lock{self.mutex};
  for (;;) {
    if (PoolJob* next = self.pop_locked()) {
      lock.unlock();
      next->run();
      lock.lock();
      continue;
    }
    if (self.stopping) break;
    ++self.idle_workers;
    self.work_available.wait(lock);
    --self.idle_workers;
  }
}
}  // namespace

ThreadPool::ThreadPool(std::size_t size) : state_(std::make_shared<ThreadPoolState>(size == 0 ? 1 : size)) {}

ThreadPool::~ThreadPool() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock{state_->mutex};
    state_->stopping = true;
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

void ThreadPool::submit(PoolJob& job) {
  ThreadPoolState& state = *state_;
  std::unique_lock lock{state.mutex};
  job.next_job = nullptr;
  if (state.tail != nullptr) {
    state.tail->next_job = &job;
  } else {
    state.head = &job;
  }
  state.tail = &job;
  if (state.workers.empty()) {
    // Lazily started: the first job brings up the whole pool.
    try {
      state.workers.reserve(state.size);
      for (std::size_t i = 0; i < state.size; ++i) state.workers.emplace_back(worker_main, state_);
    } catch (...) {
      // With at least one worker the pool works, only smaller. With none, the
      // job must not stay queued: its caller is about to see the exception.
      if (state.workers.empty()) {
        state.head = state.tail = nullptr;
        throw;
      }
    }
    return;
  }
  if (state.idle_workers > 0) state.work_available.notify_one();
}

bool ThreadPool::try_run_one() noexcept {
  PoolJob* job = nullptr;
  {
    std::lock_guard lock{state_->mutex};
    job = state_->pop_locked();
  }
  if (job == nullptr) return false;
  job->run();
  return true;
}

bool ThreadPool::on_worker_thread() const noexcept { return current_worker_pool == state_.get(); }

std::size_t ThreadPool::size() const noexcept { return state_->size; }

std::size_t ThreadPool::started_threads() const noexcept {
  std::lock_guard lock{state_->mutex};
  return state_->workers.size();
}

}  // namespace connectors::detail
