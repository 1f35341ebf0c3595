#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace connectors::detail {

// The data ids that the connections made through `mi[id]` store under: one
// connection per id, as a single input takes one source
// (docs/multi-inputs.md, Virtual inputs). A second source on the same id
// would have its values replace the first one's, and a disconnect of either
// would remove the other's value. Hashed when `std::hash<Id>` exists, so
// that 10^5 such connections stay linear; searched otherwise (an Id needs
// only ==). Nothing is allocated until the first id is added: a multi-input
// without `mi[id]` connections pays one pointer.
template <class Id>
class PresetIds {
 public:
  bool contains(const Id& id) const {
    if (!ids_) return false;
    if constexpr (hashed) {
      return ids_->contains(id);
    } else {
      return std::find(ids_->begin(), ids_->end(), id) != ids_->end();
    }
  }

  // Strong guarantee: on an exception nothing was added.
  void insert(const Id& id) {
    if (!ids_) ids_ = std::make_unique<Ids>();
    if constexpr (hashed) {
      ids_->emplace(id, '\0');
    } else {
      ids_->push_back(id);
    }
  }

  void erase(const Id& id) noexcept {
    if (!ids_) return;
    if constexpr (hashed) {
      ids_->erase(id);
    } else if (auto found = std::find(ids_->begin(), ids_->end(), id); found != ids_->end()) {
      *found = std::move(ids_->back());  // Id's move does not throw (MultiInput requires it)
      ids_->pop_back();
    }
  }

 private:
  static constexpr bool hashed = std::is_default_constructible_v<std::hash<Id>> &&
                                 std::is_invocable_r_v<std::size_t, const std::hash<Id>&, const Id&>;
  using Ids = std::conditional_t<hashed, std::unordered_map<Id, char>, std::vector<Id>>;

  std::unique_ptr<Ids> ids_;
};

}  // namespace connectors::detail
