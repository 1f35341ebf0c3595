#include <connectors/detail/frame_allocator.hpp>
#include <connectors/detail/node.hpp>
#include <connectors/detail/operation.hpp>
#include <connectors/detail/thread_pool.hpp>
#include <connectors/event_loop.hpp>

#include "cpu_relax.hpp"

#include <chrono>
#include <stdexcept>

namespace connectors {

namespace detail {

void defer_resume(RunFrame& frame, std::coroutine_handle<> next) noexcept { defer_resume(*frame.loop, next); }

void defer_resume(EventLoop& loop, std::coroutine_handle<> next) noexcept {
  loop.ready_.push_back(EventLoop::Ready{next, {}});
}

std::shared_ptr<Channel> running_loop_channel(const char* what) {
  EventLoop* loop = running_loop();
  if (loop == nullptr) throw std::logic_error(what);
  return LoopAccess::channel_ptr(*loop);
}

namespace {

// A callback handed in through call_soon_threadsafe.
class CallbackNode final : public ChannelNode {
 public:
  CallbackNode(std::function<void()> callback, std::exception_ptr& error_slot)
      : callback_(std::move(callback)), error_slot_(error_slot) {}
  void deliver() noexcept override {
    try {
      callback_();
    } catch (...) {
      if (!error_slot_) error_slot_ = std::current_exception();
    }
    delete this;
  }
  void discard() noexcept override { delete this; }

 private:
  std::function<void()> callback_;
  std::exception_ptr& error_slot_;
};

// How long a run that may starve the pool sleeps before it looks for its own
// queued calls to take back (EventLoop::idle).
constexpr std::chrono::microseconds helper_poll_interval{1000};
constexpr std::chrono::microseconds forever{std::chrono::hours{24 * 365}};

}  // namespace
}  // namespace detail

EventLoop::EventLoop(const Executor& executor, detail::ThreadPool* pool)
    : executor_(&executor),
      pool_(pool),
      thread_id_(std::this_thread::get_id()),
      channel_(std::make_shared<detail::Channel>()) {}

EventLoop::~EventLoop() { shut_down(); }

void EventLoop::check_loop_thread(const char* what) const {
  if (std::this_thread::get_id() != thread_id_ || finished_) {
    throw std::logic_error(std::string(what) + ": must be called on the thread of the running loop");
  }
}

void EventLoop::call_soon(std::function<void()> callback) {
  check_loop_thread("EventLoop::call_soon");
  if (!callback) throw std::invalid_argument("EventLoop::call_soon: empty callback");
  ready_.push_back(Ready{{}, std::move(callback)});
}

bool EventLoop::call_soon_threadsafe(std::function<void()> callback) {
  if (!callback) throw std::invalid_argument("EventLoop::call_soon_threadsafe: empty callback");
  auto* node = new detail::CallbackNode(std::move(callback), callback_error_);
  if (channel_->post(*node)) return true;
  node->discard();
  return false;
}

void EventLoop::adopt(std::coroutine_handle<detail::DetachedTask::promise_type> driver) {
  auto& promise = driver.promise();
  try {
    ready_.push_back(Ready{driver, {}});
  } catch (...) {
    driver.destroy();  // not linked yet: nothing else would free it (nor the task in it)
    throw;
  }
  promise.next = detached_;
  if (detached_ != nullptr) detached_->previous = &promise;
  promise.list_head = &detached_;
  detached_ = &promise;
}

void EventLoop::run_ready() noexcept {
  // A bounded batch, so that posts from other threads are not starved.
  for (std::size_t budget = ready_.size(); budget > 0 && !ready_.empty(); --budget) {
    Ready next = std::move(ready_.front());
    ready_.pop_front();
    if (next.handle) {
      next.handle.resume();
      submit_outbox();
    } else {
      try {
        next.callback();
      } catch (...) {
        if (!callback_error_) callback_error_ = std::current_exception();
      }
    }
  }
}

bool EventLoop::deliver_posts() noexcept {
  detail::ChannelNode* node = channel_->take_all();
  if (node == nullptr) return false;
  while (node != nullptr) {
    detail::ChannelNode* next = node->next_in_channel;
    node->deliver();
    node = next;
  }
  return true;
}

void EventLoop::submit_outbox() noexcept {
  if (outbox_.empty()) return;
  if (pool_ != nullptr && pool_->submit(outbox_)) return;
  // Not a single pool thread could be started: run the calls here, less
  // concurrently than flagged, which the dispatch rules allow.
  while (detail::PoolJob* call = outbox_.pop_front()) call->run();
}

void EventLoop::idle() noexcept {
  // A run that holds a network's lock (a network operation's, on the thread
  // that coordinates it) or that a user method waits for (on a pool thread,
  // on a helper of the method, or nested in another run on this thread)
  // takes its own queued calls back when no worker has taken them: every
  // worker may be blocked on that very lock, or waiting in such a run, for
  // ever. On a pool thread at once (it is a worker itself); elsewhere once a
  // poll interval passed without a post and only while every worker is
  // inside a job: an idle worker will take them. So also on a worker of
  // another executor's pool: that pool's job waits for this run, and this
  // pool's workers may all wait in runs of that one (docs/executors.md,
  // "Nested runs"). A run of the executor API on a user thread outside any
  // operation keeps to the dispatch table: its THREAD calls never run on its
  // thread (docs/design.md#thread-pool).
  const bool on_worker = pool_ != nullptr && pool_->on_worker_thread();
  const bool may_take_back = pool_ != nullptr && calls_in_flight_ != 0 &&
                             (on_worker || detail::innermost_run->outer != nullptr ||
                              detail::current_operation != nullptr || detail::ThreadPool::on_any_worker_thread());
  if (may_take_back && (on_worker || polled_)) {
    if (detail::PoolJob* call = pool_->take_back(this, !on_worker)) {
      polled_ = false;
      call->run();
      return;
    }
  }
  // A pool thread that finishes a method meanwhile may continue the request
  // itself (reply_from_worker): the baton is free while this thread waits.
  baton_.unlock();
  channel_->wait_for_post(may_take_back ? detail::helper_poll_interval : detail::forever);
  lock_baton();
  polled_ = may_take_back && !channel_->has_posts();
}

void EventLoop::lock_baton() noexcept {
  // A pool thread holds it for a few protocol steps at most: spin before sleeping.
  for (int i = 0; i < 256; ++i) {
    if (baton_.try_lock()) return;
    detail::cpu_relax();
  }
  baton_.lock();
}

void EventLoop::reply_from_worker(detail::ChannelNode& reply, detail::OperationScope* scope) noexcept {
  // The loop's own thread (a call it took back) delivers through its channel
  // as always; so does a pool thread while the loop's thread runs.
  // Nor is a loop on a pool thread continued: it takes its calls back at
  // once when it waits, and a stand-in's calls would not wake it.
  if (home_on_worker_ || std::this_thread::get_id() == thread_id_ || !baton_.try_lock()) {
    [[maybe_unused]] bool posted = channel_->post(reply);  // the loop waits for it: not closed
    return;
  }
  {
    // This thread is the loop's for the operation's bookkeeping until the
    // request waits again (docs/design.md#continuation).
    detail::RunFrame frame{executor_, this, static_cast<const char*>(__builtin_frame_address(0)),
                           detail::innermost_run};
    struct StandIn {
      detail::RunFrame* outer_run;
      EventLoop* outer_stand_in;
      detail::OperationScope* outer_operation;
      EventLoop* outer_pool_call;
      const detail::OperationScope* outer_acting;
      detail::DestructionWatch* outer_watch;
      ~StandIn() {
        detail::DestructionWatch::exchange_innermost(outer_watch);
        detail::innermost_run = outer_run;
        detail::standing_in_for = outer_stand_in;
        detail::current_operation = outer_operation;
        detail::pool_call_loop = outer_pool_call;
        detail::acting_coordinator_of = outer_acting;
      }
    } restore{std::exchange(detail::innermost_run, &frame), std::exchange(detail::standing_in_for, this),
              std::exchange(detail::current_operation, scope),
              std::exchange(detail::pool_call_loop, home_pool_call_loop_),
              std::exchange(detail::acting_coordinator_of, scope),
              // An input this thread destroys leaves the watches that the
              // loop's thread keeps below its run (a macro's connect, an
              // announcement walk) as if that thread destroyed it.
              detail::DestructionWatch::exchange_innermost(home_watch_)};
    reply.deliver();  // ends the call and resumes the request (may free `reply`)
    submit_outbox();
  }
  // The loop's thread wakes for what only it runs (SEQUENTIAL methods,
  // yields, waiters) and to end the run.
  if ((!ready_.empty() || calls_in_flight_ == 0) && !wake_up_.posted.exchange(true, std::memory_order_relaxed)) {
    [[maybe_unused]] bool posted = channel_->post(wake_up_);
  }
  // The last touch of the loop: once free, its thread may end the run.
  baton_.unlock();
}

void EventLoop::run_until_done(std::coroutine_handle<> root) {
  detail::RunFrame frame{executor_, this, static_cast<const char*>(__builtin_frame_address(0)), detail::innermost_run};
  detail::innermost_run = &frame;
  // The frames of a thread's outermost run are kept for its next run
  // (docs/design.md §5, "Frames").
  if (frame.outer == nullptr) detail::begin_outermost_run();
  struct Restore {
    detail::RunFrame* outer;
    ~Restore() {
      detail::innermost_run = outer;
      if (outer == nullptr) detail::end_outermost_run();
    }
  } restore{frame.outer};

  polled_ = false;
  home_on_worker_ = pool_ != nullptr && pool_->on_worker_thread();
  home_pool_call_loop_ = detail::pool_call_loop;
  home_watch_ = detail::DestructionWatch::innermost();
  std::unique_lock baton{baton_};
  ready_.push_back(Ready{root, {}});
  for (;;) {
    run_ready();
    submit_outbox();
    if (deliver_posts()) continue;
    if (!ready_.empty()) continue;
    if (root.done() && calls_in_flight_ == 0) break;
    idle();
  }
  shut_down();
  if (callback_error_) std::rethrow_exception(std::exchange(callback_error_, nullptr));
}

void EventLoop::shut_down() noexcept {
  if (finished_) return;
  finished_ = true;
  channel_->close();
  // Tasks from create_task that still wait (on a Future nobody completes) end
  // here; destroying a driver unlinks it.
  while (detached_ != nullptr) {
    std::coroutine_handle<detail::DetachedTask::promise_type>::from_promise(*detached_).destroy();
  }
  ready_.clear();
}

}  // namespace connectors
