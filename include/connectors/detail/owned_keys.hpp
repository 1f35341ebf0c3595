#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <unordered_map>  // also std::hash, without <functional> (docs/design.md#light-headers)
#include <utility>
#include <vector>

namespace connectors::detail {

// The keys of a whole multi-output whose values a multi-input stores, each
// with the id its value is stored under (key -> id). A get that replaces n
// keys' values looks each up, and one where k keys vanished takes each of
// those out: with many keys, a search per key made the first quadratic and
// the second cubic (docs/multi-inputs.md, Wide networks). So once there are
// more than a few, the entries are indexed by key when `std::hash<Id>`
// exists; otherwise they are searched (an Id needs only ==).
//
// The index only speeds lookups up: a store that runs out of memory fails as
// a whole, and when an entry that goes back in (put_back, which cannot fail)
// finds no memory for the index, the index is dropped, and lookups search
// until the next store builds it again. As in PresetIds, whether std::hash<Id> exists
// is asked only in the member functions that look up, and the index's type
// is not part of this class's layout.
template <class Id>
class OwnedKeys {
 public:
  using Entry = std::pair<Id, Id>;  // key -> the id its value is stored under

  OwnedKeys() = default;
  OwnedKeys(OwnedKeys&&) noexcept = default;
  OwnedKeys& operator=(OwnedKeys&&) noexcept = default;
  OwnedKeys(const OwnedKeys&) = delete;
  OwnedKeys& operator=(const OwnedKeys&) = delete;
  ~OwnedKeys() = default;

  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }
  const Entry* begin() const noexcept { return entries_.data(); }
  const Entry* end() const noexcept { return entries_.data() + entries_.size(); }
  void clear() noexcept {
    entries_.clear();
    index_.reset();
  }

  // The id `key`'s value is stored under, or null.
  const Id* find(const Id& key) const noexcept {
    const std::size_t position = position_of(key);
    return position == none ? nullptr : &entries_[position].second;
  }

  // `key`'s value is stored under `id` now; returns the id as held. Strong
  // guarantee: on an exception (copying the key, or memory) nothing changed.
  const Id& store(const Id& key, Id&& id) {
    const std::size_t position = position_of(key);
    if (position != none) {
      entries_[position].second = std::move(id);  // (Id's move does not throw: MultiInput requires it)
      return entries_[position].second;
    }
    entries_.emplace_back(key, std::move(id));
    try {
      index_added();
    } catch (...) {
      entries_.pop_back();
      throw;
    }
    return entries_.back().second;
  }

  // Takes `key`'s entry out (it is there); the last entry takes its place.
  Entry take(const Id& key) noexcept {
    const std::size_t position = position_of(key);
    Entry taken = std::move(entries_[position]);
    index_erase(taken.first);
    if (position + 1 != entries_.size()) {
      entries_[position] = std::move(entries_.back());
      index_moved(position);
    }
    entries_.pop_back();
    return taken;
  }

  // Puts back an entry taken out (a removal that failed before the owner's
  // method ran, so that a retry removes it). The vector has the place still;
  // the index drops out if it cannot take it.
  void put_back(Entry&& entry) noexcept {
    if (entries_.size() == entries_.capacity()) return;  // (cannot happen after take)
    entries_.push_back(std::move(entry));
    try {
      index_added();
    } catch (...) {
      index_.reset();
    }
  }

  // The keys held here that `values` (key -> value) does not have, in the
  // order they are held.
  template <class V>
  std::vector<Id> keys_missing_from(const std::vector<std::pair<Id, V>>& values) const {
    std::vector<Id> missing;
    if (index_ != nullptr) {
      std::vector<bool> delivered(entries_.size(), false);
      for (const auto& value : values) {
        const std::size_t position = position_of(value.first);
        if (position != none) delivered[position] = true;
      }
      for (std::size_t position = 0; position < entries_.size(); ++position) {
        if (!delivered[position]) missing.push_back(entries_[position].first);
      }
      return missing;
    }
    for (const Entry& entry : entries_) {
      bool delivered = false;
      for (const auto& value : values) {
        if (value.first == entry.first) {
          delivered = true;
          break;
        }
      }
      if (!delivered) missing.push_back(entry.first);
    }
    return missing;
  }

 private:
  static constexpr std::size_t none = static_cast<std::size_t>(-1);
  // Below this many entries a search is as fast as a hash lookup.
  static constexpr std::size_t indexed_from = 16;

  template <class Dependent>
  static constexpr bool hashed_v = std::is_default_constructible_v<std::hash<Dependent>>&&
      std::is_invocable_r_v<std::size_t, const std::hash<Dependent>&, const Dependent&>;
  template <class Dependent>
  using Index = std::unordered_map<Dependent, std::size_t>;

  // A template, so that nothing of it is instantiated before it is called.
  template <class Dependent = Id>
  Index<Dependent>* index() const noexcept {
    return static_cast<Index<Dependent>*>(index_.get());
  }

  std::size_t position_of(const Id& key) const noexcept {
    if constexpr (hashed_v<Id>) {
      if (index_ != nullptr) {
        const auto found = index()->find(key);
        return found == index()->end() ? none : found->second;
      }
    }
    for (std::size_t position = 0; position < entries_.size(); ++position) {
      if (entries_[position].first == key) return position;
    }
    return none;
  }

  // The last entry was added: it joins the index, which is built once there
  // are enough entries. Strong guarantee.
  void index_added() {
    if constexpr (hashed_v<Id>) {
      if (index_ != nullptr) {
        index()->emplace(entries_.back().first, entries_.size() - 1);
        return;
      }
      if (entries_.size() < indexed_from) return;
      auto built = std::make_unique<Index<Id>>();
      built->reserve(entries_.size());
      for (std::size_t position = 0; position < entries_.size(); ++position) {
        built->emplace(entries_[position].first, position);
      }
      index_ = Owned{built.release(), Deleter{[](void* index) noexcept { delete static_cast<Index<Id>*>(index); }}};
    }
  }
  // (Noexcept: Id's == and hash may not throw, docs/multi-inputs.md.)
  void index_erase(const Id& key) noexcept {
    if constexpr (hashed_v<Id>) {
      if (index_ != nullptr) index()->erase(key);
    }
  }
  void index_moved(std::size_t position) noexcept {
    if constexpr (hashed_v<Id>) {
      if (index_ != nullptr) index()->find(entries_[position].first)->second = position;
    }
  }

  struct Deleter {
    void (*destroy)(void*) noexcept = nullptr;
    void operator()(void* index) const noexcept { destroy(index); }
  };
  using Owned = std::unique_ptr<void, Deleter>;

  std::vector<Entry> entries_;
  Owned index_;
};

}  // namespace connectors::detail
