#pragma once

#include <cstddef>
#include <deque>
#include <vector>

namespace connectors::detail {

// A reusable stack for an iterative graph walk, one per nesting level: user
// code run during a walk (a condition, a method) may start an operation on
// another network, which walks too. A deque keeps the outer levels' stacks in
// place when a new level is added.
template <class Frame>
class StackLease {
 public:
  StackLease() {
    if (stacks.size() <= depth) stacks.emplace_back();
    stack_ = &stacks[depth++];
    stack_->clear();
  }
  StackLease(const StackLease&) = delete;
  StackLease& operator=(const StackLease&) = delete;
  ~StackLease() { --depth; }
  std::vector<Frame>& operator*() const noexcept { return *stack_; }

 private:
  static thread_local std::deque<std::vector<Frame>> stacks;
  static thread_local std::size_t depth;
  std::vector<Frame>* stack_;
};
template <class Frame>
thread_local std::deque<std::vector<Frame>> StackLease<Frame>::stacks;
template <class Frame>
thread_local std::size_t StackLease<Frame>::depth = 0;

}  // namespace connectors::detail
