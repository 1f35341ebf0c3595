// The connectors of one owner are one network (docs/connectors.md, Threads;
// docs/design.md#owner-networks), also those no observer links (an input
// that feeds no output of its owner, an output no input of the owner
// feeds): their methods share the owner's state, so their operations must
// share a lock. Observers join what they link when the input is made; the
// rest is joined here, when a connector of the owner first needs a group.
#include <connectors/detail/network_group.hpp>
#include <connectors/detail/node.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace connectors::detail {

namespace {

// One class declaring connectors for the object at `address`. The classes of
// one object (a class and its bases) are one owner, whose entries hold
// groups of one network; a block's first member block sits at the same
// address and is another owner.
struct OwnerKey {
  const void* address;
  const OwnerType* type;
  bool operator==(const OwnerKey&) const = default;
};

// By address alone: the entries of one address share a bucket, where a new
// class of the object finds its bases' and derived classes' entries.
struct AddressHash {
  std::size_t operator()(const OwnerKey& key) const noexcept { return std::hash<const void*>{}(key.address); }
};

// A group of the owner's network (the registry holds a reference to it) and
// how many of the class's connectors have one.
struct OwnerNetwork {
  NetworkGroup* group;
  std::size_t connectors;
};

using Owners = std::unordered_map<OwnerKey, OwnerNetwork, AddressHash>;

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
  Owners owners;
};
constexpr std::size_t shard_count = 16;

Shard& shard_of(const void* address) {
  static auto* const shards = new std::array<Shard, shard_count>;
  return (*shards)[std::hash<const void*>{}(address) / alignof(std::max_align_t) % shard_count];
}

// The entry of another class of the same object (a base or derived class of
// `key.type`), or null.
OwnerNetwork* related_entry(Owners& owners, const OwnerKey& key) {
  const std::size_t bucket = owners.bucket(key);
  for (auto entry = owners.begin(bucket); entry != owners.end(bucket); ++entry) {
    const OwnerKey& other = entry->first;
    if (other.address != key.address) continue;
    if (is_base(other.type, key.type, key.address) || is_base(key.type, other.type, key.address)) return &entry->second;
  }
  return nullptr;
}

}  // namespace

NetworkGroup* NodeBase::join_owner_network() const {
  const OwnerKey key{owner(), owner_type_};
  Shard& shard = shard_of(key.address);
  std::lock_guard lock{shard.mutex};
  auto found = shard.owners.find(key);
  if (found != shard.owners.end()) {
    NetworkGroup* root = NetworkGroup::root_of(found->second.group);
    root->add_reference();
    ++found->second.connectors;
    return root;
  }
  // The first connector of this class: a base or derived class's may have
  // joined the object's network already; else the network starts here.
  const OwnerNetwork* related = shard.owners.bucket_count() != 0 ? related_entry(shard.owners, key) : nullptr;
  NetworkGroup* group = related != nullptr ? NetworkGroup::root_of(related->group) : new NetworkGroup;
  if (related != nullptr) group->add_reference();  // the connector's (a new group has it)
  try {
    shard.owners.emplace(key, OwnerNetwork{group, 1});
  } catch (...) {
    NetworkGroup::release(group);
    throw;
  }
  group->add_reference();  // the registry's
  return group;
}

void NodeBase::leave_owner_network() const noexcept {
  if (!has_network_group() || owner() == nullptr) return;
  const OwnerKey key{owner(), owner_type_};
  NetworkGroup* unused = nullptr;
  {
    Shard& shard = shard_of(key.address);
    std::lock_guard lock{shard.mutex};
    auto found = shard.owners.find(key);
    if (found == shard.owners.end() || --found->second.connectors != 0) return;
    unused = found->second.group;
    shard.owners.erase(found);
  }
  NetworkGroup::release(unused);
}

}  // namespace connectors::detail
