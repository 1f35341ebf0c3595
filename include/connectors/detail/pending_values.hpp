#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
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
// The entries live in arrays of their own, linked by position, and a freed
// entry is the next one used: a value costs no allocation of its own, and a
// get after every source has delivered walks entries lying side by side in
// the order they arrived, instead of list nodes scattered over the heap (at
// 10^5 sources the walk then runs from memory at the speed of a sequential
// read; docs/benchmarks.md, "Pending values side by side"). The arrays are
// never moved: growing copies nothing and faults no page in twice.
template <class V>
class PendingValues {
 public:
  PendingValues() = default;
  PendingValues(const PendingValues&) = delete;
  PendingValues& operator=(const PendingValues&) = delete;
  ~PendingValues() {
    for (std::uint32_t at = 0; at < used_; ++at) std::destroy_at(&node(at));
    for (std::size_t chunk = 0; chunk < chunks_.size(); ++chunk) {
      std::allocator<Node>{}.deallocate(chunks_[chunk], chunk_size(chunk));
    }
  }

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
    for (std::uint32_t at = head_; at != none; at = node(at).next) {
      if (node(at).entry.value) return &node(at).entry;
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
    Node& freed = node(slot.position_);
    if (freed.entry.value) {
      if (only_without_value) return;
      --values_;
    }
    freed.entry.value.reset();
    (freed.previous == none ? head_ : node(freed.previous).next) = freed.next;
    (freed.next == none ? tail_ : node(freed.next).previous) = freed.previous;
    freed.next = free_;
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

  // Chunk k holds first_chunk << k entries up to largest_chunk, then
  // largest_chunk each: small enough to come from the heap and go back to
  // it, where the next multi-input finds them, instead of being mapped and
  // unmapped (and faulted in anew) each time.
  static constexpr std::uint32_t first_chunk = 16;
  static constexpr unsigned doubling_chunks = 7;
  static constexpr std::uint32_t largest_chunk = first_chunk << doubling_chunks;
  static constexpr std::uint32_t in_doubling_chunks = first_chunk * ((std::uint32_t{1} << doubling_chunks) - 1);
  static std::size_t chunk_size(std::size_t chunk) noexcept {
    return chunk < doubling_chunks ? std::size_t{first_chunk} << chunk : largest_chunk;
  }
  Node& node(std::uint32_t at) noexcept {
    if (at >= in_doubling_chunks) {
      const std::uint32_t beyond = at - in_doubling_chunks;
      return chunks_[doubling_chunks + beyond / largest_chunk][beyond % largest_chunk];
    }
    const auto chunk = static_cast<unsigned>(std::bit_width(at / first_chunk + 1) - 1);
    return chunks_[chunk][at - first_chunk * ((std::uint32_t{1} << chunk) - 1)];
  }

  Entry& entry_at(const Slot& slot) noexcept { return node(slot.position_).entry; }

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
      Entry& reused = node(at).entry;
      if (value) reused.value.emplace(std::move(*value));
      reused.source = &source;
      reused.source_hint = hint;
      free_ = node(at).next;
    } else {
      at = used_;
      if (at == capacity_) add_chunk();
      ::new (static_cast<void*>(&node(at))) Node{Entry{&source, std::move(value), hint}, none, none};
      ++used_;
    }
    Node& added = node(at);
    added.previous = after;
    added.next = after == none ? head_ : node(after).next;
    (added.next == none ? tail_ : node(added.next).previous) = at;
    (after == none ? head_ : node(after).next) = at;
    if (added.entry.value) ++values_;
    return at;
  }

  void add_chunk() {
    const std::size_t size = chunk_size(chunks_.size());
    if (capacity_ + size >= none) throw std::length_error("connectors::MultiInput: too many sources");
    chunks_.reserve(chunks_.size() + 1);
    chunks_.push_back(std::allocator<Node>{}.allocate(size));
    capacity_ += static_cast<std::uint32_t>(size);
  }

  std::vector<Node*> chunks_;  // raw storage; entries below used_ are constructed
  std::uint32_t used_ = 0;
  std::uint32_t capacity_ = 0;
  std::uint32_t head_ = none;
  std::uint32_t tail_ = none;
  std::uint32_t free_ = none;
  std::size_t values_ = 0;
};

}  // namespace connectors::detail
