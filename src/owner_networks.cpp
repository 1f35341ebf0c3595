// The connectors of one owner are one network (docs/connectors.md, Threads;
// docs/design.md#owner-networks), also those no observer links (an input
// that feeds no output of its owner, an output no input of the owner
// feeds): their methods share the owner's state, so their operations must
// share a lock. Observers join what they link when the input is made; the
// rest is joined here, when a connector of the owner first needs a group.
#include <connectors/detail/network_group.hpp>
#include <connectors/detail/node.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace connectors::detail {

namespace {

// One owner object: the connectors its class declares and those its base
// classes declare (`types`, each at the object's address). A block's first
// member block sits at the same address and is another owner. `group` is a
// group of the owner's network (the registry holds a reference to it);
// `connectors` counts the owner's connectors that have a group.
struct OwnerNetwork {
  std::vector<const OwnerType*> types;
  NetworkGroup* group;
  std::size_t connectors;
};

// Whether `base` is a base class of `derived`, for the object at `address`
// (as the picture tells the owners at one address apart).
bool is_base(const OwnerType* base, const OwnerType* derived, const void* address) {
  void* object = const_cast<void*>(address);
  return base != nullptr && derived != nullptr && base->catch_owner(derived->throw_owner, object) == object;
}

// Sharded, so that blocks made and destroyed on several threads at once do
// not wait for one mutex. Never destroyed: a block with static storage may
// be destroyed after this file's statics.
struct Shard {
  std::mutex mutex;
  std::unordered_map<const void*, std::vector<OwnerNetwork>> owners_at;
};
constexpr std::size_t shard_count = 16;

Shard& shard_of(const void* address) {
  static auto* const shards = new std::array<Shard, shard_count>;
  return (*shards)[std::hash<const void*>{}(address) / alignof(std::max_align_t) % shard_count];
}

// The owner at `address` whose class is `type`, or the end.
std::vector<OwnerNetwork>::iterator find_owner(std::vector<OwnerNetwork>& owners, const OwnerType* type) {
  for (auto owner = owners.begin(); owner != owners.end(); ++owner) {
    for (const OwnerType* seen : owner->types) {
      if (seen == type) return owner;
    }
  }
  return owners.end();
}

}  // namespace

NetworkGroup* NodeBase::join_owner_network() const {
  const void* const address = owner();
  Shard& shard = shard_of(address);
  std::lock_guard lock{shard.mutex};
  std::vector<OwnerNetwork>& owners = shard.owners_at[address];
  auto owner = find_owner(owners, owner_type_);
  if (owner == owners.end()) {
    // The first connector of this class: a base or derived class's may be
    // there already (the object's other connectors).
    for (owner = owners.begin(); owner != owners.end(); ++owner) {
      const bool related = std::any_of(owner->types.begin(), owner->types.end(), [&](const OwnerType* seen) {
        return is_base(seen, owner_type_, address) || is_base(owner_type_, seen, address);
      });
      if (related) break;
    }
    if (owner != owners.end()) owner->types.push_back(owner_type_);
  }
  if (owner != owners.end()) {
    NetworkGroup* root = NetworkGroup::root_of(owner->group);
    root->add_reference();
    ++owner->connectors;
    return root;
  }
  NetworkGroup* fresh = nullptr;
  try {
    fresh = new NetworkGroup;
    owners.push_back(OwnerNetwork{{owner_type_}, fresh, 1});
  } catch (...) {
    if (fresh != nullptr) NetworkGroup::release(fresh);
    if (owners.empty()) shard.owners_at.erase(address);
    throw;
  }
  fresh->add_reference();  // the registry's
  return fresh;
}

void NodeBase::leave_owner_network() const noexcept {
  if (!has_network_group() || owner() == nullptr) return;
  const void* const address = owner();
  NetworkGroup* unused = nullptr;
  {
    Shard& shard = shard_of(address);
    std::lock_guard lock{shard.mutex};
    auto at = shard.owners_at.find(address);
    if (at == shard.owners_at.end()) return;
    auto owner = find_owner(at->second, owner_type_);
    if (owner == at->second.end() || --owner->connectors != 0) return;
    unused = owner->group;
    at->second.erase(owner);
    if (at->second.empty()) shard.owners_at.erase(at);
  }
  NetworkGroup::release(unused);
}

}  // namespace connectors::detail
