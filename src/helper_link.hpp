#pragma once

#include <connectors/helper.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace connectors::detail {

class OperationScope;

// What a helper of an operation's methods (connectors::as_helper) holds: the
// operation while it lasts. An operation the helper starts is nested in it
// (enter) and the operation does not end before that one has (close), so a
// helper never nests in an operation that is gone.
class HelperLink {
 public:
  explicit HelperLink(OperationScope& operation) noexcept : operation_(&operation) {}
  HelperLink(const HelperLink&) = delete;
  HelperLink& operator=(const HelperLink&) = delete;

  // The operation an operation starting on a helper thread nests in, or null
  // once it has ended; every non-null answer is paired with a leave().
  OperationScope* enter() noexcept;
  void leave() noexcept;
  // At the operation's end: waits for the nested operations under way, and
  // sends later ones to the top level.
  void close() noexcept;

 private:
  friend HelperLink* link_to_current_operation();
  friend void add_reference(HelperLink* link) noexcept;
  friend void release(HelperLink* link) noexcept;

  std::atomic<int> references_{1};  // the operation's
  std::mutex mutex_;
  std::condition_variable idle_;
  OperationScope* operation_;
  int under_way_ = 0;
};

// The link the calling thread runs a Helper under, or null.
HelperLink* current_helper_link() noexcept;

}  // namespace connectors::detail
