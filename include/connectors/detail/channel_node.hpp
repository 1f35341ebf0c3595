#pragma once

namespace connectors::detail {

// Something another thread hands to an event loop.
class ChannelNode {
 public:
  ChannelNode* next_in_channel = nullptr;
  // Called on the loop's thread, from the loop's shallow base; a method's
  // reply may instead be delivered by the pool thread that ran it, in the
  // loop's place (EventLoop::reply_from_worker).
  virtual void deliver() noexcept = 0;
  // The loop ended before the node could be delivered.
  virtual void discard() noexcept = 0;

 protected:
  ~ChannelNode() = default;
};

}  // namespace connectors::detail
