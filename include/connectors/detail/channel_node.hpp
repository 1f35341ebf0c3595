#pragma once

namespace connectors::detail {

// Something another thread hands to an event loop.
class ChannelNode {
 public:
  ChannelNode* next_in_channel = nullptr;
  // Called by whoever holds the loop (its own thread, or a pool thread that
  // continues its operation: EventLoop::reply_from_worker), from a shallow base.
  virtual void deliver() noexcept = 0;
  // The loop ended before the node could be delivered.
  virtual void discard() noexcept = 0;

 protected:
  ~ChannelNode() = default;
};

}  // namespace connectors::detail
