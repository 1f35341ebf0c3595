// Helper threads of a user method (docs/connectors.md#threads-and-nested-operations,
// docs/design.md#helper-threads).
#include <connectors/helper.hpp>

#include <connectors/detail/operation.hpp>
#include "helper_link.hpp"

namespace connectors::detail {

namespace {
// The link a Helper made current on this thread while it runs its function.
thread_local HelperLink* thread_helper_link = nullptr;
}  // namespace

OperationScope* HelperLink::enter() noexcept {
  std::lock_guard lock{mutex_};
  if (operation_ == nullptr) return nullptr;
  ++under_way_;
  return operation_;
}

void HelperLink::leave() noexcept {
  std::lock_guard lock{mutex_};
  // Notified under the lock: close() may free the operation once it sees zero.
  if (--under_way_ == 0) idle_.notify_all();
}

void HelperLink::close() noexcept {
  std::unique_lock lock{mutex_};
  idle_.wait(lock, [this] { return under_way_ == 0; });
  operation_ = nullptr;
}

HelperLink* link_to_current_operation() {
  OperationScope* operation = current_operation;
  if (operation == nullptr) {
    HelperLink* inherited = thread_helper_link;  // a helper making a helper
    add_reference(inherited);
    return inherited;
  }
  HelperLink* link = operation->helper_link_.load(std::memory_order_acquire);
  if (link == nullptr) {
    // Methods of one operation may run on several threads at once: the first
    // to make a helper installs the link.
    auto* fresh = new HelperLink{*operation};
    if (operation->helper_link_.compare_exchange_strong(link, fresh, std::memory_order_acq_rel)) {
      link = fresh;
    } else {
      delete fresh;
    }
  }
  add_reference(link);
  return link;
}

void add_reference(HelperLink* link) noexcept {
  if (link != nullptr) link->references_.fetch_add(1, std::memory_order_relaxed);
}

void release(HelperLink* link) noexcept {
  if (link != nullptr && link->references_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete link;
}

HelperThreadScope::HelperThreadScope(HelperLink* link) noexcept : saved_(thread_helper_link) {
  thread_helper_link = link;
}

HelperThreadScope::~HelperThreadScope() { thread_helper_link = saved_; }

HelperLink* current_helper_link() noexcept { return thread_helper_link; }

}  // namespace connectors::detail
