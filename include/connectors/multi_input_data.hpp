#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <list>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace connectors {

/// An insertion-ordered map Id -> V, the natural storage behind a multi-input:
/// add() hands out the ids (`docs/design.md#multi-input`). With an integral Id, add() stores under
/// the lowest counter value that is free, starting from where the counter
/// stands; the counter does not move past the id it returned, so an id
/// deleted before the next add() is used again.
///
///     connectors::MultiInputData<double> values;
///     values.add(1.5);                        // 0
///     std::size_t second = values.add(2.5);   // 1
///     values.erase(second);
///     values.add(3.5);                        // 1 again: the counter stayed there
///
/// **Threads.** A plain container, not synchronised: the same rules as a
/// standard container (const members may run concurrently with each other,
/// nothing else). As a multi-input's storage it needs no lock for the
/// multi-input's own calls: a multi-input runs its owner's add, remove and
/// replace one at a time, and the outputs that observe it compute only after
/// the changes they wait for were applied.
template <class V, class Id = std::size_t>
class MultiInputData {
  static_assert(std::is_default_constructible_v<std::hash<Id>> && std::equality_comparable<Id>,
                "connectors::MultiInputData<V, Id>: Id needs std::hash<Id> (specialise it for your type) and ==");

 public:
  /// The data id type.
  using key_type = Id;
  /// The stored value type.
  using mapped_type = V;
  /// An entry: (id, value).
  using value_type = std::pair<const Id, V>;
  /// Iterates the entries in insertion order.
  using iterator = typename std::list<value_type>::iterator;
  /// Iterates the entries in insertion order, read-only.
  using const_iterator = typename std::list<value_type>::const_iterator;

  /// Empty; the counter starts at Id{}.
  MultiInputData() = default;
  /// Adds each value in turn (ids 0, 1, 2, ...; integral Id only). Throws
  /// only std::bad_alloc or what copying a V throws.
  MultiInputData(std::initializer_list<V> values) requires std::is_integral_v<Id> {
    for (const V& value : values) add(value);
  }
  /// Copies the entries, their order and the counter. Throws only
  /// std::bad_alloc or what copying a V or an Id throws.
  MultiInputData(const MultiInputData& other) : counter_(other.counter_) {
    for (const value_type& entry : other) append(entry.first, entry.second);
  }
  /// Replaces the entries, their order and the counter with copies of
  /// `other`'s. Throws as the copy constructor, and then changes nothing.
  MultiInputData& operator=(const MultiInputData& other) {
    if (this != &other) *this = MultiInputData(other);
    return *this;
  }
  /// Takes `other`'s entries; `other` is left valid but unspecified.
  MultiInputData(MultiInputData&&) noexcept = default;
  /// Takes `other`'s entries; `other` is left empty (itself: unchanged).
  MultiInputData& operator=(MultiInputData&& other) noexcept {
    // Not defaulted: the index holds iterators into the entries, and a
    // member-wise self-move would empty the entries but keep the index.
    if (this != &other) {
      entries_ = std::move(other.entries_);
      index_ = std::move(other.index_);
      counter_ = std::move(other.counter_);
      other.clear();
    }
    return *this;
  }

  /// Stores `value` under a new id and returns the id (integral Id only).
  /// Throws std::length_error when every value of Id is in use (a small Id
  /// such as std::uint8_t holds 256 entries), std::bad_alloc, or what moving
  /// a V throws, and then changes nothing.
  Id add(V value) requires std::is_integral_v<Id> {
    const Id first = counter_;
    while (index_.count(counter_) != 0) {
      // Counted unsigned: past the largest Id it wraps to the smallest (a
      // signed ++ would overflow).
      if constexpr (std::is_same_v<Id, bool>) {
        counter_ = !counter_;  // (bool has no unsigned counterpart)
      } else {
        counter_ = static_cast<Id>(static_cast<std::make_unsigned_t<Id>>(counter_) + 1U);
      }
      if (counter_ == first) throw std::length_error("connectors::MultiInputData::add: every id is in use");
    }
    append(counter_, std::move(value));
    return counter_;
  }

  /// The value under `id`; a missing id is appended with a default V (at the
  /// end of the order). Throws only std::bad_alloc or what V{} or copying
  /// the Id throws, and then changes nothing.
  V& operator[](const Id& id) {
    auto found = index_.find(id);
    if (found != index_.end()) return found->second->second;
    return append(id, V{});
  }

  /// Stores `value` under `id`: in place of the value there (which keeps
  /// its place in the order), or appended at the end. Returns the entry
  /// and whether it was appended, as std::map::insert_or_assign does; V
  /// need not be default-constructible. Throws only std::bad_alloc or what
  /// moving a V or copying the Id throws; an append that throws changes
  /// nothing (a value replaced in place holds what V's throwing move left).
  std::pair<iterator, bool> insert_or_assign(const Id& id, V value) {
    auto found = index_.find(id);
    if (found != index_.end()) {
      found->second->second = std::move(value);
      return {found->second, false};
    }
    append(id, std::move(value));
    return {std::prev(entries_.end()), true};
  }

  /// The value under `id`. Throws std::out_of_range if it is not there.
  V& at(const Id& id) {
    auto found = index_.find(id);
    if (found == index_.end()) throw std::out_of_range("connectors::MultiInputData::at: no such id");
    return found->second->second;
  }
  /// \overload
  const V& at(const Id& id) const { return lookup(id)->second; }
  /// Whether a value is stored under `id`. Throws nothing in practice (what
  /// hashing the Id throws).
  bool contains(const Id& id) const { return index_.count(id) != 0; }

  /// Removes `id`; throws std::out_of_range if it is not there.
  void erase(const Id& id) {
    auto found = index_.find(id);
    if (found == index_.end()) throw std::out_of_range("connectors::MultiInputData::erase: no such id");
    entries_.erase(found->second);
    index_.erase(found);
  }
  /// Removes every entry; the counter stays where it is.
  void clear() noexcept {
    entries_.clear();
    index_.clear();
  }

  /// The number of entries.
  std::size_t size() const noexcept { return entries_.size(); }
  /// Whether there are no entries.
  bool empty() const noexcept { return entries_.empty(); }
  /// The first entry in insertion order.
  iterator begin() noexcept { return entries_.begin(); }
  /// Past the last entry.
  iterator end() noexcept { return entries_.end(); }
  /// The first entry in insertion order, read-only.
  const_iterator begin() const noexcept { return entries_.begin(); }
  /// Past the last entry, read-only.
  const_iterator end() const noexcept { return entries_.end(); }

 private:
  // A new entry at the end, in the order and the index or in neither: an
  // entry missing from the index would be iterated but never found, and a
  // retried add would store its value twice.
  V& append(const Id& id, V value) {
    entries_.emplace_back(id, std::move(value));
    try {
      index_.emplace(id, std::prev(entries_.end()));
    } catch (...) {
      entries_.pop_back();
      throw;
    }
    return entries_.back().second;
  }

  const_iterator lookup(const Id& id) const {
    auto found = index_.find(id);
    if (found == index_.end()) throw std::out_of_range("connectors::MultiInputData::at: no such id");
    return found->second;
  }

  std::list<value_type> entries_;
  std::unordered_map<Id, iterator> index_;
  Id counter_{};
};

}  // namespace connectors
