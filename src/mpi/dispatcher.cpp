#include "dispatcher.hpp"

#include "backoff.hpp"
#include "protocol.hpp"

#include <connectors/errors.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <new>
#include <utility>

namespace connectors::detail::mpi {

namespace {

// Never destroyed: an MpiExecutor with static storage duration may be
// destroyed after this file's statics, and must still find it (stopped).
Dispatcher* installed = nullptr;
// The process that installed it: rank 0. A child that rank 0 forks (without
// exec) has a copy, whose mutex may have been held at the fork and whose
// thread is gone; it must not use it (its static MpiExecutors are destroyed
// at its exit, and close it).
std::atomic<int> installed_by{0};

void complete(ProcessJob& job) noexcept { complete_job(job); }
void fail(ProcessJob& job, const std::string& message) noexcept { fail_job(job, message); }

}  // namespace

Dispatcher::Dispatcher(int world_size, const std::vector<int>& serving) : world_size_(world_size) {
  for (int rank : serving) ranks_.push_back(Rank{rank});
}

Dispatcher* Dispatcher::instance() noexcept {
  if (installed == nullptr || ::getpid() != installed_by.load(std::memory_order_relaxed)) return nullptr;
  return installed;
}

void Dispatcher::install(std::unique_ptr<Dispatcher> dispatcher) noexcept {
  installed_by.store(static_cast<int>(::getpid()));
  installed = dispatcher.release();
}

Dispatcher::Rank* Dispatcher::find(int rank) noexcept {
  for (Rank& state : ranks_) {
    if (state.rank == rank) return &state;
  }
  return nullptr;
}

void Dispatcher::submit(const std::shared_ptr<ClientRecord>& client, ProcessJob& job) noexcept {
  std::unique_lock lock{mutex_};
  if (stopping_) {
    lock.unlock();
    fail(job, "connectors: MPI rank 0 is ending; no more calls go to other ranks");
    return;
  }
  try {
    // The thread first: a job queued for a thread that could not start
    // would stay queued after it failed (and its memory was gone), to be
    // sent with a later call's thread, its reply given to that call.
    if (!started_) {
      thread_ = std::thread{[this] { run(); }};
      started_ = true;
    }
    queue_.push_back(Pending{&job, client});
  } catch (const std::exception& error) {
    lock.unlock();
    fail(job, std::string{"connectors: cannot hand a call to the MPI ranks: "} + error.what());
    return;
  }
  lock.unlock();
  work_.notify_one();
}

void Dispatcher::close(const ClientRecord& client) {
  std::unique_lock lock{mutex_};
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->client.get() == &client) {
      fail(*it->job, "connectors: the executor was destroyed while the call was queued");
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  // A request being sent is read by MPI until the send returns: only then
  // may its job complete (and its memory go).
  sent_.wait(lock, [&] {
    return std::none_of(ranks_.begin(), ranks_.end(),
                        [&](const Rank& state) { return state.sending && state.client == &client; });
  });
  bool cancels = false;
  for (Rank& state : ranks_) {
    if (state.client != &client || state.job == nullptr) continue;
    fail(*std::exchange(state.job, nullptr),
         "connectors: the executor was destroyed while the call ran on MPI rank " + std::to_string(state.rank));
    state.client = nullptr;
    state.cancel_due = true;
    cancels = true;
  }
  lock.unlock();
  if (cancels) work_.notify_one();
}

void Dispatcher::send_work(std::unique_lock<std::mutex>& lock) {
  for (Rank& state : ranks_) {
    if (state.cancel_due && !stopping_) {
      state.cancel_due = false;
      MessageHeader header{MessageKind::cancel};
      header.call_id = state.call_id;
      lock.unlock();
      send_message(header, nullptr, state.rank);
      lock.lock();
    }
  }
  // Calls go to idle ranks only: one call per rank, the rest wait here, so
  // that no call queues behind a long one while another rank is free.
  for (Rank& state : ranks_) {
    if (queue_.empty() || stopping_) return;
    if (state.busy) continue;
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    state.busy = true;
    state.sending = true;
    state.job = pending.job;
    state.client = pending.client.get();
    state.call_id = ++last_call_id_;
    state.sent_at = std::chrono::steady_clock::now();
    const ClientRecord& settings = *pending.client;
    MessageHeader header{MessageKind::call};
    header.call_id = state.call_id;
    header.size = pending.job->request.size();
    header.code_size = pending.job->code_size;
    header.timeout_ms = settings.timeout_ms.load(std::memory_order_relaxed);
    header.memory_limit = settings.memory_limit.load(std::memory_order_relaxed);
    header.recycle_after_calls = settings.recycle_after_calls.load(std::memory_order_relaxed);
    header.recycle_above_memory = settings.recycle_above_memory.load(std::memory_order_relaxed);
    header.max_reply_size = settings.max_reply_size.load(std::memory_order_relaxed);
    const char* request = pending.job->request.data();
    lock.unlock();
    send_message(header, request, state.rank);
    lock.lock();
    state.sending = false;
    sent_.notify_all();
  }
}

ProcessJob* Dispatcher::answered(int from, std::uint64_t call_id) {
  std::lock_guard lock{mutex_};
  Rank* state = find(from);
  if (state == nullptr || !state->busy || state->call_id != call_id) return nullptr;
  state->busy = false;
  state->previous =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - state->sent_at);
  state->client = nullptr;
  state->cancel_due = false;
  // Null when abandoned: the rank is free again, that is all.
  return std::exchange(state->job, nullptr);
}

void Dispatcher::receive_reply(int from, const MessageHeader& header) {
  ByteBuffer reply;
  std::string problem;
  std::shared_ptr<ReceiveBuffers> buffers;
  {
    std::lock_guard lock{mutex_};
    if (Rank* state = find(from)) buffers = state->buffers;
  }
  char* memory = nullptr;
  try {
    if (buffers == nullptr) throw std::bad_alloc{};
    memory = buffers->prepare(header.size);
  } catch (const std::exception&) {
    // The rank sends it anyway: take it piece by piece and drop it.
    problem = "connectors: MPI rank " + std::to_string(from) + " sent a reply of " + std::to_string(header.size) +
              " bytes, for which rank 0 found no memory";
    discard_payload(header, from);
  }
  if (memory != nullptr && !payload_inline(header)) {
    // The caller decodes the first pieces while MPI moves the rest: the two
    // copies overlap instead of following each other (docs/distributed.md).
    // Its reading waits only for MPI, which completes every message whose
    // header came (a rank that dies takes the job down).
    if (ByteBuffer lent = buffers->lend_before_arrival(header.size); lent.file() != nullptr) {
      if (ProcessJob* job = answered(from, header.call_id)) {
        job->reply = std::move(lent);
        complete(*job);
      }
      receive_payload(header, memory, from, [&](std::size_t bytes) { buffers->arrived(bytes); });
      return;
    }
  }
  if (memory != nullptr) {
    receive_payload(header, memory, from);
    reply = buffers->lend(header.size);
  }
  ProcessJob* job = answered(from, header.call_id);
  if (job == nullptr) return;
  if (!problem.empty()) {
    fail(*job, problem);
    return;
  }
  job->reply = std::move(reply);
  complete(*job);
}

std::chrono::microseconds Dispatcher::in_flight_poll_pause() const noexcept {
  const auto now = std::chrono::steady_clock::now();
  auto pause = in_flight_longest_sleep;
  for (const Rank& state : ranks_) {
    if (!state.busy) continue;
    const auto age = std::chrono::duration_cast<std::chrono::microseconds>(now - state.sent_at);
    pause = std::min(pause, in_flight_pause(age, state.previous));
  }
  return pause;
}

void Dispatcher::run() noexcept {
  precise_sleeps();
  Backoff backoff{rank_zero_hot, rank_zero_sleep};
  std::unique_lock lock{mutex_};
  while (!stopping_) {
    send_work(lock);
    if (stopping_) break;
    const bool waiting = std::any_of(ranks_.begin(), ranks_.end(), [](const Rank& state) { return state.busy; });
    lock.unlock();
    MessageHeader header;
    const int from = waiting ? poll_header(header) : -1;
    if (from >= 0) {
      if (header.kind == MessageKind::reply) receive_reply(from, header);
      backoff.reset();
      lock.lock();
      continue;
    }
    lock.lock();
    auto more_work = [&] {
      if (stopping_) return true;
      if (std::any_of(ranks_.begin(), ranks_.end(), [](const Rank& state) { return state.cancel_due; })) return true;
      return !queue_.empty() &&
             std::any_of(ranks_.begin(), ranks_.end(), [](const Rank& state) { return !state.busy; });
    };
    if (more_work()) continue;
    // In flight: polled as often as the youngest calls need (backoff.hpp);
    // else hot for a while after a reply, as the next call usually follows.
    const auto pause = waiting ? in_flight_poll_pause() : backoff.next();
    if (!waiting && pause.count() != 0) {
      // Nothing to answer and quiet for a while: sleep until a call comes.
      // Right after a reply the next call usually follows at once, so the
      // thread stays awake (below) for the hot period first: a wake-up
      // costs more than the whole MPI hop here (docs/distributed.md).
      work_.wait(lock, more_work);
      backoff.reset();
      continue;
    }
    if (pause.count() == 0) {
      lock.unlock();
      ::sched_yield();
      lock.lock();
    } else {
      work_.wait_for(lock, pause, more_work);
    }
  }
  lock.unlock();
  stop_ranks();
}

void Dispatcher::stop_ranks() {
  {
    std::lock_guard lock{mutex_};
    for (Pending& pending : queue_) fail(*pending.job, "connectors: MPI rank 0 ended before the call could run");
    queue_.clear();
    for (Rank& state : ranks_) {
      if (state.job != nullptr) {
        fail(*std::exchange(state.job, nullptr),
             "connectors: MPI rank 0 ended while the call ran on rank " + std::to_string(state.rank));
      }
    }
  }
  // Every rank, including those that run another binary, waits for this.
  const MessageHeader stop{MessageKind::stop};
  for (int rank = 1; rank < world_size_; ++rank) send_message(stop, nullptr, rank);
  int running = world_size_ - 1;
  Backoff backoff{rank_zero_hot, rank_zero_sleep};
  while (running > 0) {
    MessageHeader header;
    const int from = poll_header(header);
    if (from < 0) {
      backoff.pause();
      continue;
    }
    if (header.kind == MessageKind::stopped) {
      --running;
    } else if (header.kind == MessageKind::reply) {
      // A reply already on its way: take it so that its rank can go on.
      discard_payload(header, from);
    }
  }
}

void Dispatcher::shut_down() {
  std::unique_lock lock{mutex_};
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  const bool started = started_;
  lock.unlock();
  work_.notify_one();
  if (started) {
    thread_.join();
  } else {
    stop_ranks();
  }
}

}  // namespace connectors::detail::mpi
