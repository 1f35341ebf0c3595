#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace connectors::detail {

// A reusable stack for an iterative graph walk, one per nesting level: user
// code run during a walk (a condition, a method) may start an operation on
// another network, which walks too. Each level's stack has a place of its
// own, which a new level leaves where it is; the list of them allocates
// nothing until the first walk, where running out of memory can be reported
// (a thread-local that allocates as it is made would end the program: its
// construction may not throw).
template <class Frame>
class StackLease {
 public:
  StackLease() {
    if (stacks.size() <= depth) stacks.push_back(std::make_unique<std::vector<Frame>>());
    stack_ = stacks[depth++].get();
    stack_->clear();
  }
  StackLease(const StackLease&) = delete;
  StackLease& operator=(const StackLease&) = delete;
  ~StackLease() { --depth; }
  std::vector<Frame>& operator*() const noexcept { return *stack_; }

 private:
  static thread_local std::vector<std::unique_ptr<std::vector<Frame>>> stacks;
  static thread_local std::size_t depth;
  std::vector<Frame>* stack_;
};
template <class Frame>
thread_local std::vector<std::unique_ptr<std::vector<Frame>>> StackLease<Frame>::stacks;
template <class Frame>
thread_local std::size_t StackLease<Frame>::depth = 0;

}  // namespace connectors::detail
