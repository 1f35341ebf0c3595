#pragma once

#include <cstddef>
#include <iterator>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace connectors::detail {

class OutputNode;

// The values a multi-input received and has not applied yet, one entry per
// source at most, in the order they are applied: a new connection's entry
// (without a value) keeps its place in the order of first values (docs/design.md#multi-input),
// a value whose application failed goes back to the front. Every step costs
// constant time, whatever the number of sources (docs/multi-inputs.md, Wide
// networks).
template <class V>
class PendingValues {
 public:
  struct Entry {
    OutputNode* source;
    std::optional<V> value;
  };

  Entry* find(const OutputNode& source) noexcept {
    auto found = index_.find(&source);
    return found == index_.end() ? nullptr : &*found->second;
  }

  // A place in the order, without a value yet.
  void add_placeholder(OutputNode& source) { insert(entries_.end(), source, std::nullopt); }

  // Stores `value` for `source`: in its entry, or in a new one at the back.
  void receive(OutputNode& source, V value) {
    if (Entry* entry = find(source)) {
      set(*entry, std::move(value));
    } else {
      insert(entries_.end(), source, std::move(value));
    }
  }

  // A value taken out for applying whose application failed: it is applied
  // first next time, unless a newer one arrived meanwhile.
  void restore(OutputNode& source, V value) {
    if (Entry* entry = find(source)) {
      if (!entry->value) set(*entry, std::move(value));
    } else {
      insert(entries_.begin(), source, std::move(value));
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

  // Forgets `source`'s entry (only if it holds no value, when asked).
  void erase(const OutputNode& source, bool only_without_value = false) noexcept {
    auto found = index_.find(&source);
    if (found == index_.end()) return;
    if (found->second->value) {
      if (only_without_value) return;
      --values_;
    }
    entries_.erase(found->second);
    index_.erase(found);
  }

  bool has_values() const noexcept { return values_ > 0; }

 private:
  using List = std::list<Entry>;

  void set(Entry& entry, V value) {
    if (!entry.value) ++values_;
    entry.value.emplace(std::move(value));
  }

  void insert(typename List::iterator where, OutputNode& source, std::optional<V> value) {
    const bool has_value = value.has_value();
    auto entry = entries_.insert(where, Entry{&source, std::move(value)});
    try {
      index_.emplace(&source, entry);
    } catch (...) {
      entries_.erase(entry);
      throw;
    }
    if (has_value) ++values_;
  }

  List entries_;
  std::unordered_map<const OutputNode*, typename List::iterator> index_;
  std::size_t values_ = 0;
};

}  // namespace connectors::detail
