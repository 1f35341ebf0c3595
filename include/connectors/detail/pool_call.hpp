#pragma once

#include <connectors/detail/channel.hpp>
#include <connectors/detail/result.hpp>
#include <connectors/detail/thread_pool.hpp>
#include <connectors/event_loop.hpp>

#include <coroutine>
#include <utility>

namespace connectors::detail {

// Awaitable that runs `function` on a pool thread and resumes the awaiting
// coroutine on its loop. It lives in the awaiting coroutine's frame, so a call
// costs no allocation: the same object is the pool's job and the loop's post.
// The loop does not end while the call is in flight (LoopAccess::queue_call),
// which keeps the frame and the channel alive until the post is delivered.
template <class R, class Function>
class PoolCall final : public PoolJob, public ChannelNode {
 public:
  PoolCall(EventLoop& loop, Function& function) noexcept : loop_(loop), function_(function) {}
  PoolCall(const PoolCall&) = delete;
  PoolCall& operator=(const PoolCall&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    awaiting_ = awaiting;
    LoopAccess::queue_call(loop_, *this);
  }
  R await_resume() { return result_.take(); }

 private:
  void run() noexcept override {
    EventLoop* const outer = std::exchange(pool_call_loop, &loop_);
    capture_into(result_, function_);
    pool_call_loop = outer;
    // The loop cannot have closed: it waits for this post.
    [[maybe_unused]] bool posted = LoopAccess::channel(loop_).post(*this);
  }
  void deliver() noexcept override {
    LoopAccess::end_call(loop_);
    awaiting_.resume();
  }
  void discard() noexcept override {}

  EventLoop& loop_;
  Function& function_;
  std::coroutine_handle<> awaiting_;
  Result<R> result_;
};

}  // namespace connectors::detail
