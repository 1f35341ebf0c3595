#pragma once

#include <connectors/detail/channel.hpp>
#include <connectors/detail/result.hpp>
#include <connectors/detail/thread_pool.hpp>
#include <connectors/event_loop.hpp>

#include <coroutine>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace connectors::detail {

// A THREAD call of run_method: the method, its owner and its arguments, and
// an awaitable that runs them on a pool thread and resumes the awaiting
// coroutine on its loop. The call is the one parameter of the coroutine that
// awaits it (Executor::call_on_pool), which awaits it as an lvalue: the
// coroutine's frame then holds the call once, with no lambda, no copy of the
// arguments beside it and no awaiter temporary, and 10^5 calls in flight fit
// a smaller size class (docs/design.md#frames). The same object is the pool's
// job and the loop's post, so a call costs no allocation. The loop does not
// end while the call is in flight (LoopAccess::queue_call), which keeps the
// frame and the channel alive until the post is delivered.
template <class R, class Method, class Owner, class... Args>
class PoolCall final : public PoolJob {
 public:
  template <class... Built>
  PoolCall(Method method, Owner* instance, Built&&... args)
      : method_(std::move(method)), instance_(instance), args_(std::forward<Built>(args)...) {}
  // The coroutine's parameter copy; a call is moved only before it is queued.
  PoolCall(PoolCall&& other) noexcept(
      std::is_nothrow_move_constructible_v<Method>&& std::is_nothrow_move_constructible_v<std::tuple<Args...>>)
      : PoolJob(), method_(std::move(other.method_)), instance_(other.instance_), args_(std::move(other.args_)) {}
  PoolCall(const PoolCall&) = delete;
  PoolCall& operator=(const PoolCall&) = delete;
  PoolCall& operator=(PoolCall&&) = delete;
  ~PoolCall() = default;

  // Where the reply goes: set by the awaiting coroutine when it first runs,
  // so that an await outside an executor's run throws there.
  void reply_to(EventLoop& loop) noexcept { origin = &loop; }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    awaiting_ = awaiting;
    LoopAccess::queue_call(*origin, *this);
  }
  R await_resume() { return result_.take(); }

 private:
  void run() noexcept override {
    EventLoop* const outer = std::exchange(pool_call_loop, pool_call_loop_for(origin));
    capture_into(result_, [this]() -> R {
      return std::apply([this](Args&... args) -> R { return std::invoke(method_, *instance_, std::move(args)...); },
                        args_);
    });
    pool_call_loop = outer;
    // The loop cannot have closed: it waits for this post.
    [[maybe_unused]] bool posted = LoopAccess::channel(*origin).post(*this);
  }
  void deliver() noexcept override {
    LoopAccess::end_call(*origin);
    awaiting_.resume();
  }
  void discard() noexcept override {}

  Method method_;
  Owner* instance_;
  [[no_unique_address]] std::tuple<Args...> args_;
  std::coroutine_handle<> awaiting_;
  Result<R> result_;
};

}  // namespace connectors::detail
