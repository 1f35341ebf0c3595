#pragma once

// Helper threads of a user method (docs/connectors.md#threads-and-nested-operations).

#include <type_traits>
#include <utility>

namespace connectors {

namespace detail {

// The link between an operation and the helpers its methods start
// (src/helper_link.cpp). Counted: the operation holds one reference, every
// `Helper` holding it one more.
class HelperLink;

// A new reference to the link of the operation whose user method the calling
// thread runs (or whose helper it is), or null outside any operation.
// Throws std::bad_alloc.
HelperLink* link_to_current_operation();
void add_reference(HelperLink* link) noexcept;
void release(HelperLink* link) noexcept;

// Makes `link` the calling thread's while it lasts: an operation the thread
// starts meanwhile (outside any other) is nested in the linked operation, if
// that has not ended.
class HelperThreadScope {
 public:
  explicit HelperThreadScope(HelperLink* link) noexcept;
  HelperThreadScope(const HelperThreadScope&) = delete;
  HelperThreadScope& operator=(const HelperThreadScope&) = delete;
  ~HelperThreadScope();

 private:
  HelperLink* saved_;
};

}  // namespace detail

/// A function that runs as part of the user method that made it, on whatever
/// thread calls it. Made by `connectors::as_helper`.
template <class Function>
class Helper {
 public:
  /// Links `function` to the operation whose user method the calling thread
  /// runs (or whose helper it is), if any. Throws what moving `function`
  /// throws, or std::bad_alloc. Thread safety: call it from the method.
  explicit Helper(Function function) : function_(std::move(function)), link_(detail::link_to_current_operation()) {}
  /// A copy linked to the same operation. Thread safety: any thread.
  Helper(const Helper& other) : function_(other.function_), link_(other.link_) { detail::add_reference(link_); }
  /// Takes over `other`'s link, which then has none. Thread safety: any thread.
  Helper(Helper&& other) noexcept(std::is_nothrow_move_constructible_v<Function>)
      : function_(std::move(other.function_)), link_(std::exchange(other.link_, nullptr)) {}
  Helper& operator=(const Helper&) = delete;
  Helper& operator=(Helper&&) = delete;
  ~Helper() { detail::release(link_); }

  /// Calls the function; operations it starts are nested in the linked
  /// operation while that lasts. Throws what the function throws, which
  /// includes std::logic_error from an operation that re-enters the network
  /// being computed. Thread safety: any thread, several at once if the
  /// function allows it.
  template <class... Args>
  decltype(auto) operator()(Args&&... args) {
    detail::HelperThreadScope scope{link_};
    return function_(std::forward<Args>(args)...);
  }
  /// The same for a const Helper.
  template <class... Args>
  decltype(auto) operator()(Args&&... args) const {
    detail::HelperThreadScope scope{link_};
    return function_(std::forward<Args>(args)...);
  }

 private:
  Function function_;
  detail::HelperLink* link_;
};

/// Wraps `function` so that, called on a helper thread a user method starts,
/// it counts as part of that method's operation:
///
/// ```cpp
/// double read() const {  // a getter
///   auto part = std::async(std::launch::async, connectors::as_helper([this] { return lookup->output(); }));
///   return value_ + part.get();
/// }
/// ```
///
/// An operation the helper starts (a call, connect or disconnect) is nested in
/// the method's operation, as if the method had started it: on the network
/// being computed it throws `std::logic_error` instead of waiting for that
/// network's lock (which the computation holds while the method waits for the
/// helper: a deadlock); on any other network it works, also on one that shares
/// the computing network's lock because the two were connected once. The
/// method's operation ends only after the helper's operations that are under
/// way. Once that operation has ended, the helper's operations are top-level
/// ones, as from any thread. Configuring or inspecting a connector from the
/// helper (`set_caching`, `state()`, ...) is checked as such an operation is:
/// refused on the network being computed, serialised on one that shares its
/// lock. Destroying connectors from the helper is not part of the operation
/// (it waits for the network's lock as from any thread).
///
/// Outside any user method, `as_helper(f)` calls `f` as it is.
///
/// Thread safety: the returned object may be called from any thread, also
/// from several at once if `function` allows it; it may be copied and
/// destroyed on any thread.
template <class Function>
Helper<std::decay_t<Function>> as_helper(Function&& function) {
  return Helper<std::decay_t<Function>>{std::forward<Function>(function)};
}

}  // namespace connectors
