#pragma once

#include <connectors/detail/find_if.hpp>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <unordered_map>  // also std::hash, without <functional> (docs/design.md#light-headers)
#include <utility>
#include <vector>

namespace connectors::detail {

// The ids held, hashed or searched (PresetIds says when).
template <class Id, bool Hashed>
struct PresetIdTable {
  std::unordered_map<Id, char> ids;
  bool contains(const Id& id) const { return ids.contains(id); }
  void insert(const Id& id) { ids.emplace(id, '\0'); }
  void erase(const Id& id) noexcept { ids.erase(id); }
};
template <class Id>
struct PresetIdTable<Id, false> {
  std::vector<Id> ids;
  bool contains(const Id& id) const { return find(id) != ids.end(); }
  void insert(const Id& id) { ids.push_back(id); }
  void erase(const Id& id) noexcept {
    auto found = find(id);
    if (found == ids.end()) return;
    // (Id's move does not throw: MultiInput requires it. Not onto itself: a
    // user's move assignment need not allow that.)
    if (found != ids.end() - 1) *found = std::move(ids.back());
    ids.pop_back();
  }
  typename std::vector<Id>::const_iterator find(const Id& id) const {
    return detail::find_if(ids.begin(), ids.end(), [&](const Id& held) { return held == id; });
  }
  typename std::vector<Id>::iterator find(const Id& id) {
    return detail::find_if(ids.begin(), ids.end(), [&](const Id& held) { return held == id; });
  }
};

// The data ids that the connections made through `mi[id]` store under: one
// connection per id, as a single input takes one source
// (docs/multi-inputs.md, Virtual inputs). A second source on the same id
// would have its values replace the first one's, and a disconnect of either
// would remove the other's value. Hashed when `std::hash<Id>` exists, so
// that 10^5 such connections stay linear; searched otherwise (an Id needs
// only ==). Nothing is allocated until the first id is added: a multi-input
// without `mi[id]` connections pays two pointers.
//
// Whether std::hash<Id> exists is asked only in the member functions, which
// are instantiated where a connection is made: asking instantiates
// std::hash<Id>, and a program may declare a multi-input of Id before it
// specialises std::hash for Id. For the same reason the table's type is not
// part of this class's layout.
template <class Id>
class PresetIds {
 public:
  bool contains(const Id& id) const { return table_ != nullptr && table()->contains(id); }

  // Strong guarantee: on an exception nothing was added.
  void insert(const Id& id) {
    using Table = std::remove_pointer_t<decltype(table())>;
    if (table_ == nullptr) {
      table_ = Owned{new Table{}, Deleter{[](void* table) noexcept { delete static_cast<Table*>(table); }}};
    }
    table()->insert(id);
  }

  // Noexcept: a disconnect or a destructor erases, and Id's == and hash may
  // not throw (docs/multi-inputs.md).
  void erase(const Id& id) noexcept {
    if (table_ != nullptr) table()->erase(id);
  }

 private:
  // A template, so that nothing of it is instantiated before it is called.
  template <class Dependent = Id>
  auto* table() const noexcept {
    constexpr bool hashed = std::is_default_constructible_v<std::hash<Dependent>> &&
                            std::is_invocable_r_v<std::size_t, const std::hash<Dependent>&, const Dependent&>;
    return static_cast<PresetIdTable<Dependent, hashed>*>(table_.get());
  }

  struct Deleter {
    void (*destroy)(void*) noexcept = nullptr;
    void operator()(void* table) const noexcept { destroy(table); }
  };
  using Owned = std::unique_ptr<void, Deleter>;
  Owned table_;
};

}  // namespace connectors::detail
