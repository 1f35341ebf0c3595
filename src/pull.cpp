// The request engine (docs/design.md#engine): the steps of a single output's
// and a single input's request, written once, and the two drivers that run
// them — a task that suspends where it must wait, and a plain loop for the
// top-level request of a direct call.
#include <connectors/detail/node.hpp>
#include <connectors/detail/user_call.hpp>
#include <connectors/executor.hpp>

#include "stack_lease.hpp"
#include "work_first.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <utility>
#include <vector>

namespace connectors::detail {

Task<void> OutputNode::compute_elsewhere(Operation&, std::vector<InputNode*>&, void*) {
  throw std::logic_error("connectors: internal error: only a single output computes in the request engine");
}
Task<void> InputNode::apply_elsewhere(Operation&) {
  throw std::logic_error("connectors: internal error: only a single input applies in the request engine");
}

namespace {

// upstream_done: the announcers were pulled; the node computes (an output)
// or applies (an input) once nothing is pending. ready: the same after a
// wait, which ends only when nothing is pending. pushed: an output pushed
// its value; what the push asked to pull comes next.
enum class Stage : std::uint8_t { start, notified, upstream_done, ready, pushed, finish };

struct Frame {
  NodeBase* node;
  bool is_output;
  Stage phase;
};

// What a step needs that only a driver can give: a wait or another request.
enum class Need : std::uint8_t {
  nothing,             // the stack is empty: the request is done
  request,             // the coroutine request of a multi-connector (node)
  wait_for_output,     // an output another branch is computing (node)
  wait_for_input,      // an input whose source another branch is computing (node)
  request_announcers,  // every announcing input of an output, concurrently (node)
  request_notified,    // the ON_NOTIFY inputs a push reached, concurrently
  compute_elsewhere,   // the getter of the output on top, where the executor places it
  apply_elsewhere,     // the setter of the input on top, where the executor places it
  yield,               // let the sibling requests not started yet start first
  go_home,             // a SEQUENTIAL method met by a pool thread continuing the request
};

// Where a method runs now (PullEngine::placement).
enum class Place : std::uint8_t { here, elsewhere, after_siblings, at_home };

}  // namespace

class PullEngine {
 public:
  // `may_wait`: the driver can suspend (pull); pull_inline cannot, and runs
  // THREAD methods itself (nothing else could run meanwhile).
  PullEngine(Operation& operation, std::vector<Frame>& stack, bool may_wait, const NodeBase* root,
             void* caller) noexcept
      : operation_(operation),
        stack_(stack),
        may_wait_(may_wait),
        loop_(may_wait ? running_loop() : nullptr),
        root_(root),
        caller_(caller) {}
  PullEngine(const PullEngine&) = delete;
  PullEngine& operator=(const PullEngine&) = delete;

  void start(NodeBase& node, bool is_output) { stack_.push_back(Frame{&node, is_output, Stage::start}); }

  // Runs steps until the stack is empty or one needs a driver; `subject_`
  // says for which connector.
  Need advance() {
    while (!stack_.empty()) {
      OperationScope::check_not_poisoned(operation_.scope);  // the next frame's connector may be gone
      const Frame& frame = stack_.back();
      const Need need = frame.is_output ? step_output(*static_cast<OutputNode*>(frame.node), frame.phase)
                                        : step_input(*static_cast<InputNode*>(frame.node), frame.phase);
      if (need != Need::nothing) return need;
    }
    return Need::nothing;
  }

  // The task that gives what `need` asks (not a wait).
  Task<void> task_for(Need need) {
    switch (need) {
      case Need::request:
        return subject_.is_output ? static_cast<OutputNode*>(subject_.node)->request(operation_)
                                  : static_cast<InputNode*>(subject_.node)->request(operation_);
      case Need::request_announcers:
        return static_cast<OutputNode*>(subject_.node)->request_announcers(operation_);
      case Need::request_notified:
        return detail::request_notified(operation_, std::move(pulling_));
      case Need::compute_elsewhere: {
        auto& output = *static_cast<OutputNode*>(stack_.back().node);
        return output.compute_elsewhere(operation_, pulling_, caller_for(output));
      }
      case Need::apply_elsewhere:
        return static_cast<InputNode*>(stack_.back().node)->apply_elsewhere(operation_);
      default:
        throw std::logic_error("connectors: internal error: the request engine needs no task here");
    }
  }

  // The wait of `need` (wait_for_output, wait_for_input).
  WaitList::Awaiter wait_for(Need need) noexcept {
    if (need == Need::wait_for_output) {
      auto& output = *static_cast<OutputNode*>(subject_.node);
      return output.computable_.wait(output.pending_announcements_ == 0, operation_.id);
    }
    auto& input = *static_cast<InputNode*>(subject_.node);
    return input.computable_.wait(input.announcement_ == nullptr, operation_.id);
  }

  // The driver gave what `need` asked for.
  void given(Need need) noexcept {
    switch (need) {
      case Need::wait_for_output:
      case Need::wait_for_input:
        stack_.back().phase = Stage::ready;
        return;
      case Need::compute_elsewhere:
        stack_.back().phase = Stage::pushed;
        return;
      case Need::apply_elsewhere:
        static_cast<InputNode*>(stack_.back().node)->running_ = false;
        stack_.pop_back();
        return;
      case Need::yield:
        yielded_ = true;
        return;
      default:
        return;
    }
  }

  // After a failure: the requests under way end; their nodes stay invalid,
  // and whoever waits for them (another branch) fails with the same error.
  void unwind(const std::exception_ptr& error) noexcept {
    for (const Frame& frame : stack_) {
      if (frame.phase == Stage::start || frame.phase == Stage::notified) continue;
      if (destroyed_in(operation_, frame.node)) continue;
      if (frame.is_output) {
        auto& output = *static_cast<OutputNode*>(frame.node);
        output.running_ = false;
        output.abort_downstream(error, operation_);
      } else {
        auto& input = *static_cast<InputNode*>(frame.node);
        input.running_ = false;
        input.abort_observers(error, operation_);
      }
    }
    stack_.clear();
  }

  Operation& operation() noexcept { return operation_; }

 private:
  Need step_output(OutputNode& output, Stage phase) {
    switch (phase) {
      case Stage::notified:  // only inputs are notified
      case Stage::start:
        if (output.kind_ != OutputNode::Kind::single) {
          stack_.pop_back();
          return hand_to_request(output, true);
        }
        if (output.running_) {  // another branch computes it and pushes to us
          stack_.pop_back();
          return Need::nothing;
        }
        output.running_ = true;
        stack_.back().phase = Stage::upstream_done;
        if (!output.valid() && output.pending_announcements_ > 0) return pull_announcers(output);
        return compute(output);
      case Stage::upstream_done:
        if (output.pending_announcements_ != 0) return wait(true);
        [[fallthrough]];
      case Stage::ready:
        return compute(output);
      case Stage::pushed:
        return after_push(output);
      case Stage::finish:
        output.running_ = false;
        stack_.pop_back();
        return Need::nothing;
    }
    return Need::nothing;
  }

  Need step_input(InputNode& input, Stage phase) {
    switch (phase) {
      case Stage::notified:
      case Stage::start:
        if (input.multi_) {
          stack_.pop_back();
          if (phase == Stage::notified) {
            operation_.deferred_notified.push_back(&input);  // as request_notified
            return Need::nothing;
          }
          return hand_to_request(input, false);
        }
        if (input.running_) {
          stack_.pop_back();
          return Need::nothing;
        }
        if (input.announcement_ != nullptr) return descend(&input);
        stack_.back().phase = Stage::upstream_done;
        input.running_ = true;
        return apply(input);
      case Stage::upstream_done:
        if (input.announcement_ != nullptr) return wait(false);
        [[fallthrough]];
      case Stage::ready:
        return apply(input);
      case Stage::pushed:
      case Stage::finish:
        return Need::nothing;
    }
    return Need::nothing;
  }

  // The start of a request of `input` (a single input, not running, with an
  // announcement), continued upstream in one loop as long as the way is a
  // chain: each output with exactly one announcing observed input. This is
  // what every step of the generic loop would do, without going back to it
  // for each node.
  Need descend(InputNode* input) {
    for (;;) {
      stack_.back().phase = Stage::upstream_done;
      input->running_ = true;
      OutputNode* upstream = input->announcement_;
      if (upstream->kind_ != OutputNode::Kind::single || upstream->running_) {
        stack_.push_back(Frame{upstream, true, Stage::start});
        return Need::nothing;
      }
      // Frame first, flag second: a failing push_back leaves no flag set
      // without a frame to reset it.
      const bool waits = !upstream->valid() && upstream->pending_announcements_ > 0;
      stack_.push_back(Frame{upstream, true, Stage::upstream_done});
      upstream->running_ = true;
      if (!waits) return Need::nothing;
      InputNode* sole = upstream->sole_announcer();
      if (sole == nullptr || sole->multi_ || sole->running_ || sole->announcement_ == nullptr) {
        return pull_announcers(*upstream);
      }
      stack_.push_back(Frame{sole, false, Stage::start});
      input = sole;  // its flag is set (and its frame started) at the top of the loop
    }
  }

  // Requests every observed input of `output` (on top, upstream_done) with a
  // pending announcement: in this loop, one after another, when the
  // operation's methods all run here or there is one; concurrently otherwise,
  // since their branches may overlap on the executor's threads or processes.
  Need pull_announcers(OutputNode& output) {
    if (!operation_.all_inline() && output.sole_announcer() == nullptr) {
      subject_ = stack_.back();
      return Need::request_announcers;
    }
    for (InputNode* input : output.observed_) {
      if (input->announcing_) stack_.push_back(Frame{input, false, Stage::start});
    }
    return Need::nothing;
  }

  // The output (on top, nothing pending) pushes its valid cached value to
  // the connections that have not received it, or computes, caches and
  // pushes a new one to all.
  Need compute(OutputNode& output) {
    pulling_.clear();
    if (output.valid()) {
      output.push_cached_inline(pulling_, caller_for(output));
      return after_push(output);
    }
    switch (decide(output.parallelization())) {
      case Place::here:
        output.compute_inline(operation_, pulling_, caller_for(output));
        return after_push(output);
      case Place::elsewhere:
        return Need::compute_elsewhere;
      case Place::at_home:
        return Need::go_home;
      case Place::after_siblings:
        break;
    }
    return Need::yield;
  }

  // The ON_NOTIFY inputs the push reached are requested next (the
  // multi-inputs among them deferred, as request_notified does).
  Need after_push(OutputNode& output) {
    Frame& top = stack_.back();
    if (pulling_.empty()) {
      output.running_ = false;
      stack_.pop_back();
      return Need::nothing;
    }
    top.phase = Stage::finish;
    if (pulling_.size() > 1 && !operation_.all_inline()) return Need::request_notified;
    // In reverse: the stack serves the last one pushed first, and the
    // inputs are served in the order of their connections, as
    // request_notified does on the other executors (docs/parallelization.md).
    for (auto input = pulling_.rbegin(); input != pulling_.rend(); ++input) {
      stack_.push_back(Frame{*input, false, Stage::notified});
    }
    return Need::nothing;
  }

  // The input (on top, nothing pending) applies what arrived, or tells its
  // observers that nothing will change after all.
  Need apply(InputNode& input) {
    stack_.back().phase = Stage::upstream_done;  // started: a throwing setter resets the flag
    if (!input.holds_value()) {
      // Its announcer was pulled and delivered nothing (its change was
      // withdrawn, or it holds the value already): the announcement is over,
      // and it must not keep the observers announced (cancel_observers).
      input.announcement_ = nullptr;
      if (input.announcing_) input.cancel_observers();
    } else {
      switch (decide(input.parallelization() == Parallelization::PROCESS ? Parallelization::THREAD
                                                                         : input.parallelization())) {
        case Place::here:
          input.apply_inline(operation_);
          break;
        case Place::elsewhere:
          return Need::apply_elsewhere;
        case Place::at_home:
          return Need::go_home;
        case Place::after_siblings:
          return Need::yield;
      }
    }
    input.running_ = false;
    stack_.pop_back();
    return Need::nothing;
  }

  // Where a method with `flag` runs now: SEQUENTIAL ones here; THREAD ones
  // here when nothing else could run meanwhile (work-first,
  // docs/parallelization.md), which is always so for pull_inline; PROCESS
  // ones elsewhere. (An input's setter runs as THREAD when flagged PROCESS:
  // an input's change must stay in this process.)
  //
  // A THREAD method met while sibling requests of this one wait to start
  // (request_concurrently) is decided once they have: each runs until it
  // waits, and a sibling that waits for this very branch (a chain below a
  // fork) leaves it the only runnable work, to run here without a hand-off
  // to the pool; a sibling with work of its own sends it to the pool beside
  // that work (a sibling's SEQUENTIAL method yields to it first).
  //
  // Calls queued for the pool by other branches are handed to it before a
  // method occupies this thread, so that they do not wait behind it.
  Place placement(Parallelization flag) const noexcept {
    // The inline pull: every method here but a PROCESS one, without the
    // questions below, which only a suspendable pull asks; this is on every
    // block's way (docs/benchmarks.md).
    if (!may_wait_) return operation_.runs_elsewhere(flag) ? Place::elsewhere : Place::here;
    // A pool thread continuing the operation runs no method itself: a THREAD
    // one becomes this thread's next job (the call), a PROCESS one starts on
    // the loop's thread (the call), and for a SEQUENTIAL one the request goes
    // back to the loop's thread, which decides again (docs/design.md#continuation).
    if (standing_in())
      return operation_.placement(flag) == Parallelization::SEQUENTIAL ? Place::at_home : Place::elsewhere;
    switch (operation_.placement(flag)) {
      case Parallelization::SEQUENTIAL:
        // A THREAD method that waits to be decided goes first: to the pool,
        // beside this one.
        if (!yielded_ && operation_.yielded_requests != 0) return Place::after_siblings;
        break;
      case Parallelization::THREAD:
        // Once only: siblings that cannot start while this request waits
        // (their start loop is below a nested run) would never let it go.
        if (operation_.unstarted_requests != 0) return yielded_ ? Place::elsewhere : Place::after_siblings;
        // The loop idle: no call is queued to be handed to the pool first.
        return only_runnable_work_here(operation_, loop_) ? Place::here : Place::elsewhere;
      case Parallelization::PROCESS:
        return Place::elsewhere;
    }
    if (loop_ != nullptr) submit_queued_calls(*loop_);
    return Place::here;
  }

  // The placement of the method on top; once it is decided (not put off),
  // the next method may be put off once again.
  Place decide(Parallelization flag) noexcept {
    const Place place = placement(flag);
    if (place != Place::after_siblings) yielded_ = false;
    return place;
  }

  // A node on top still pending: another branch computes what it waits for.
  Need wait(bool is_output) {
    if (!may_wait_) {
      throw std::logic_error("connectors: internal error: an inline pull left an announcement pending");
    }
    subject_ = stack_.back();
    return is_output ? Need::wait_for_output : Need::wait_for_input;
  }

  // A multi-connector's request is its own (popped already).
  Need hand_to_request(NodeBase& node, bool is_output) {
    subject_ = Frame{&node, is_output, Stage::start};
    return Need::request;
  }

  void* caller_for(const OutputNode& output) const noexcept { return &output == root_ ? caller_ : nullptr; }

  Operation& operation_;
  std::vector<Frame>& stack_;
  const bool may_wait_;
  // The loop that resumes this pull (a suspendable one runs on its loop only),
  // asked per method whether it is idle: looked up once, not per block.
  EventLoop* const loop_;
  const NodeBase* root_;
  void* caller_;
  Frame subject_{};       // the connector a Need is about
  bool yielded_ = false;  // the method on top was put off once (placement)
  std::vector<InputNode*> pulling_;
};

namespace {

// The stacks of suspendable pulls: they interleave on a loop, so unlike
// StackLease's they are not nested; kept per thread for reuse. A deep chain
// below a fork (two frames per block) would otherwise grow a fresh stack by
// doubling on every pull, copying it each time: a stack is kept whatever its
// size, as long as all kept ones hold at most `kept_frames_limit` frames
// (1 MiB per thread).
class PooledStack {
 public:
  PooledStack() {
    if (spare_count > 0) {
      frames_ = std::move(spare[--spare_count]);
      kept_frames -= frames_.capacity();
    }
  }
  PooledStack(const PooledStack&) = delete;
  PooledStack& operator=(const PooledStack&) = delete;
  // Keeping a stack allocates nothing (the spares have their places), so a
  // destructor run while memory is short cannot throw.
  ~PooledStack() {
    if (spare_count < spare.size() && kept_frames + frames_.capacity() <= kept_frames_limit) {
      frames_.clear();
      kept_frames += frames_.capacity();
      spare[spare_count++] = std::move(frames_);
    }
  }
  std::vector<Frame>& frames() noexcept { return frames_; }

 private:
  static constexpr std::size_t kept_frames_limit = (std::size_t{1} << 20) / sizeof(Frame);
  static thread_local std::array<std::vector<Frame>, 64> spare;
  static thread_local std::size_t spare_count;
  static thread_local std::size_t kept_frames;
  std::vector<Frame> frames_;
};
thread_local std::array<std::vector<Frame>, 64> PooledStack::spare;
thread_local std::size_t PooledStack::spare_count = 0;
thread_local std::size_t PooledStack::kept_frames = 0;

// Resumes the awaiting request from the loop's ready queue, after what is
// ready before it.
struct YieldToLoop {
  bool await_ready() const noexcept { return innermost_run == nullptr; }
  void await_suspend(std::coroutine_handle<> waiting) const noexcept { defer_resume(*innermost_run, waiting); }
  void await_resume() const noexcept {}
};

Task<void> drive(Operation& operation, NodeBase& root, bool is_output, void* caller) {
  PooledStack stack;
  PullEngine engine{operation, stack.frames(), true, &root, caller};
  engine.start(root, is_output);
  try {
    for (;;) {
      const Need need = engine.advance();
      if (need == Need::nothing) break;
      if (need == Need::wait_for_output || need == Need::wait_for_input) {
        co_await engine.wait_for(need);
      } else if (need == Need::yield) {
        ++operation.yielded_requests;
        co_await YieldToLoop{};
        --operation.yielded_requests;
      } else if (need == Need::go_home) {
        co_await YieldToLoop{};
      } else {
        co_await engine.task_for(need);
      }
      engine.given(need);
    }
  } catch (...) {
    engine.unwind(std::current_exception());
    throw;
  }
}

void drive_inline(Operation& operation, NodeBase& root, bool is_output, RootDone on_root_done, void* context,
                  void* caller, bool serve_deferred) {
  StackLease<Frame> lease;
  PullEngine engine{operation, *lease, false, &root, caller};
  engine.start(root, is_output);
  try {
    for (;;) {
      for (Need need = engine.advance(); need != Need::nothing; need = engine.advance()) {
        // A nested run gives it; nothing here waits for another branch.
        operation.executor.run_coroutine(engine.task_for(need));
        engine.given(need);
      }
      if (on_root_done != nullptr) {
        on_root_done(context);
        on_root_done = nullptr;
      }
      if (!serve_deferred || operation.deferred_notified.empty()) break;
      // ON_NOTIFY multi-inputs deferred by pushes (request_notified).
      // Started in reverse, so that they are served in order (after_push).
      const std::vector<InputNode*> deferred = take_deferred(operation);
      for (auto input = deferred.rbegin(); input != deferred.rend(); ++input) engine.start(**input, false);
    }
  } catch (...) {
    engine.unwind(std::current_exception());
    throw;
  }
}

}  // namespace

Task<void> pull(Operation& operation, OutputNode& root, void* caller) { return drive(operation, root, true, caller); }
Task<void> pull(Operation& operation, InputNode& root) { return drive(operation, root, false, nullptr); }

void pull_inline(Operation& operation, OutputNode& root, RootDone on_root_done, void* context, void* caller) {
  drive_inline(operation, root, true, on_root_done, context, caller, true);
}
void pull_inline_nested(Operation& operation, OutputNode& root) {
  drive_inline(operation, root, true, nullptr, nullptr, nullptr, false);
}

}  // namespace connectors::detail
