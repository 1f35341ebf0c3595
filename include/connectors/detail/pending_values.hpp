#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace connectors::detail {

class OutputNode;

// The values a multi-input received and has not applied yet, one entry per
// source at most, in the order they are applied: a new connection's entry
// (without a value) keeps its place in the order of first values (docs/design.md#multi-input),
// a value whose application failed goes back to the front. Every step costs
// constant time, whatever the number of sources (docs/multi-inputs.md, Wide
// networks): a source's entry is found through the slot the multi-input
// keeps with that source, which it has found already, rather than through
// an index of its own.
//
// The entries live in one vector, linked by position, and a freed entry is
// the next one used: a value costs no allocation of its own, and a get after
// every source has delivered walks entries lying side by side in the order
// they arrived, instead of list nodes scattered over the heap (at 10^5
// sources the walk then runs from memory at the speed of a sequential read;
// docs/benchmarks.md, "Pending values side by side").
template <class V>
class PendingValues {
 public:
  struct Entry {
    OutputNode* source;
    std::optional<V> value;
    // Where the source's entry in the multi-input's table was when this
    // value arrived: checked, then used instead of a lookup by `source`.
    std::size_t source_hint;
  };

  // Where a source's entry is, if it has one.
  class Slot {
   public:
    Slot() noexcept = default;
    explicit operator bool() const noexcept { return position_ != none; }

   private:
    friend class PendingValues;
    std::uint32_t position_ = none;
  };

  // A place in the order, without a value yet.
  void add_placeholder(Slot& slot, OutputNode& source, std::size_t hint) {
    slot.position_ = insert(tail_, source, hint, std::nullopt);
  }

  // Stores `value` for `source`: in its entry, or in a new one at the back.
  void receive(Slot& slot, OutputNode& source, std::size_t hint, V value) {
    if (slot) {
      set(entry_at(slot), hint, std::move(value));
    } else {
      slot.position_ = insert(tail_, source, hint, std::move(value));
    }
  }

  // A value taken out for applying whose application failed: it is applied
  // first next time, unless a newer one arrived meanwhile.
  void restore(Slot& slot, OutputNode& source, std::size_t hint, V value) {
    if (slot) {
      if (!entry_at(slot).value) set(entry_at(slot), hint, std::move(value));
    } else {
      slot.position_ = insert(none, source, hint, std::move(value));
    }
  }

  // The first entry holding a value, or null (valid until the next change).
  // Entries before it are placeholders of sources that never delivered.
  Entry* first_with_value() noexcept {
    if (values_ == 0) return nullptr;
    for (std::uint32_t at = head_; at != none; at = nodes_[at].next) {
      if (nodes_[at].entry.value) return &nodes_[at].entry;
    }
    return nullptr;
  }

  V take(Entry& entry) {
    V value = std::move(*entry.value);
    entry.value.reset();
    --values_;
    return value;
  }

  // Forgets the entry of `slot` (only if it holds no value, when asked).
  void erase(Slot& slot, bool only_without_value = false) noexcept {
    if (!slot) return;
    Node& node = nodes_[slot.position_];
    if (node.entry.value) {
      if (only_without_value) return;
      --values_;
    }
    node.entry.value.reset();
    (node.previous == none ? head_ : nodes_[node.previous].next) = node.next;
    (node.next == none ? tail_ : nodes_[node.next].previous) = node.previous;
    node.next = free_;
    free_ = slot.position_;
    slot.position_ = none;
  }

  bool has_values() const noexcept { return values_ > 0; }

 private:
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

  struct Node {
    Entry entry;
    std::uint32_t previous;
    std::uint32_t next;  // in the order, or in the free list
  };

  Entry& entry_at(const Slot& slot) noexcept { return nodes_[slot.position_].entry; }

  // A newer value replaces an older one; the count stays right if moving
  // the new one in throws.
  void set(Entry& entry, std::size_t hint, V value) {
    if (entry.value) {
      entry.value.reset();
      --values_;
    }
    entry.value.emplace(std::move(value));
    ++values_;
    entry.source_hint = hint;
  }

  // Links a new entry in after `after` (`none`: at the front); strong
  // guarantee.
  std::uint32_t insert(std::uint32_t after, OutputNode& source, std::size_t hint, std::optional<V> value) {
    std::uint32_t at = free_;
    if (at != none) {
      // A freed entry holds no value.
      if (value) nodes_[at].entry.value.emplace(std::move(*value));
      nodes_[at].entry.source = &source;
      nodes_[at].entry.source_hint = hint;
      free_ = nodes_[at].next;
    } else {
      if (nodes_.size() >= none) throw std::length_error("connectors::MultiInput: too many sources");
      nodes_.push_back(Node{Entry{&source, std::move(value), hint}, none, none});
      at = static_cast<std::uint32_t>(nodes_.size() - 1);
    }
    Node& node = nodes_[at];
    node.previous = after;
    node.next = after == none ? head_ : nodes_[after].next;
    (node.next == none ? tail_ : nodes_[node.next].previous) = at;
    (after == none ? head_ : nodes_[after].next) = at;
    if (node.entry.value) ++values_;
    return at;
  }

  std::vector<Node> nodes_;
  std::uint32_t head_ = none;
  std::uint32_t tail_ = none;
  std::uint32_t free_ = none;
  std::size_t values_ = 0;
};

}  // namespace connectors::detail
