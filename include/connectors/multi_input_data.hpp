#pragma once

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
/// add() hands out the ids (docs/design.md#multi-input). With an integral Id, add() stores under
/// the lowest counter value that is free, starting from where the counter
/// stands; the counter does not move past the id it returned, so an id
/// deleted before the next add() is used again.
template <class V, class Id = std::size_t>
class MultiInputData {
 public:
  using key_type = Id;
  using mapped_type = V;
  using value_type = std::pair<const Id, V>;
  using iterator = typename std::list<value_type>::iterator;
  using const_iterator = typename std::list<value_type>::const_iterator;

  MultiInputData() = default;
  MultiInputData(std::initializer_list<V> values) requires std::is_integral_v<Id> {
    for (const V& value : values) add(value);
  }
  MultiInputData(const MultiInputData& other) { *this = other; }
  MultiInputData& operator=(const MultiInputData& other) {
    if (this != &other) {
      clear();
      for (const value_type& entry : other) (*this)[entry.first] = entry.second;
      counter_ = other.counter_;
    }
    return *this;
  }
  MultiInputData(MultiInputData&&) noexcept = default;
  MultiInputData& operator=(MultiInputData&&) noexcept = default;

  /// Stores `value` under a new id and returns the id.
  Id add(V value) requires std::is_integral_v<Id> {
    while (index_.count(counter_) != 0) ++counter_;
    entries_.emplace_back(counter_, std::move(value));
    index_.emplace(counter_, std::prev(entries_.end()));
    return counter_;
  }

  /// The value under `id`; a missing id is appended with a default V.
  V& operator[](const Id& id) {
    auto found = index_.find(id);
    if (found != index_.end()) return found->second->second;
    entries_.emplace_back(id, V{});
    index_.emplace(id, std::prev(entries_.end()));
    return entries_.back().second;
  }

  V& at(const Id& id) {
    auto found = index_.find(id);
    if (found == index_.end()) throw std::out_of_range("connectors::MultiInputData::at: no such id");
    return found->second->second;
  }
  const V& at(const Id& id) const { return lookup(id)->second; }
  bool contains(const Id& id) const { return index_.count(id) != 0; }

  /// Removes `id`; throws std::out_of_range if it is not there.
  void erase(const Id& id) {
    auto found = index_.find(id);
    if (found == index_.end()) throw std::out_of_range("connectors::MultiInputData::erase: no such id");
    entries_.erase(found->second);
    index_.erase(found);
  }
  void clear() noexcept {
    entries_.clear();
    index_.clear();
  }

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  iterator begin() noexcept { return entries_.begin(); }
  iterator end() noexcept { return entries_.end(); }
  const_iterator begin() const noexcept { return entries_.begin(); }
  const_iterator end() const noexcept { return entries_.end(); }

 private:
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
