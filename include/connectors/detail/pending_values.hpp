#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <utility>

namespace connectors::detail {

class OutputNode;

// The values a multi-input received and has not applied yet, one entry per
// source at most, in the order they are applied: a new connection's entry
// (without a value) keeps its place in the order of first values (docs/design.md#multi-input),
// a value whose application failed goes back to the front. Every step costs
// constant time, whatever the number of sources (docs/multi-inputs.md, Wide
// networks): a source's entry is found through the slot the multi-input
// keeps with that source, which it has found already, rather than through
// an index of its own (a second hash lookup, and a node allocated and freed,
// per value and source).
template <class V>
class PendingValues {
 public:
  struct Entry {
    OutputNode* source;
    std::optional<V> value;
  };

 private:
  using List = std::list<Entry>;

 public:
  // Where a source's entry is, if it has one.
  using Slot = std::optional<typename List::iterator>;

  // A place in the order, without a value yet.
  void add_placeholder(Slot& slot, OutputNode& source) { slot = insert(entries_.end(), source, std::nullopt); }

  // Stores `value` for `source`: in its entry, or in a new one at the back.
  void receive(Slot& slot, OutputNode& source, V value) {
    if (slot) {
      set(**slot, std::move(value));
    } else {
      slot = insert(entries_.end(), source, std::move(value));
    }
  }

  // A value taken out for applying whose application failed: it is applied
  // first next time, unless a newer one arrived meanwhile.
  void restore(Slot& slot, OutputNode& source, V value) {
    if (slot) {
      if (!(*slot)->value) set(**slot, std::move(value));
    } else {
      slot = insert(entries_.begin(), source, std::move(value));
    }
  }

  // The first entry holding a value, or null. Entries before it are
  // placeholders of sources that never delivered.
  Entry* first_with_value() noexcept {
    if (values_ == 0) return nullptr;
    for (Entry& entry : entries_) {
      if (entry.value) return &entry;
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
    if ((*slot)->value) {
      if (only_without_value) return;
      --values_;
    }
    entries_.erase(*slot);
    slot.reset();
  }

  bool has_values() const noexcept { return values_ > 0; }

 private:
  void set(Entry& entry, V value) {
    if (!entry.value) ++values_;
    entry.value.emplace(std::move(value));
  }

  typename List::iterator insert(typename List::iterator where, OutputNode& source, std::optional<V> value) {
    const bool has_value = value.has_value();
    auto entry = entries_.insert(where, Entry{&source, std::move(value)});
    if (has_value) ++values_;
    return entry;
  }

  List entries_;
  std::size_t values_ = 0;
};

}  // namespace connectors::detail
