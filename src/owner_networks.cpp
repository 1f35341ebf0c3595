// The connectors of one owner are one network (docs/connectors.md, Threads;
// docs/design.md#owner-networks), also those no observer links (an input
// that feeds no output of its owner, an output no input of the owner
// feeds): their methods share the owner's state, so their operations must
// share a lock. Observers join what they link when the input is made; the
// rest is joined here, when a connector of the owner first needs a group.
// An owner is an address and a class: the connectors its class and its bases
// declare at that address (whatever the access to those bases) are one
// network; a block's first member block, at the same address but of a class
// that is neither, is another owner.
#include <connectors/detail/network_group.hpp>
#include <connectors/detail/node.hpp>

#include "owner_identity.hpp"

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <typeinfo>
#include <unordered_map>
#include <utility>

namespace connectors::detail {

namespace {

// A group of an owner's network (the registry holds a reference to it), how
// many of the owner's connectors have one, and the most derived of the
// classes their owner pointers had (null: a connector that names none).
struct OwnerNetwork {
  NetworkGroup* group;
  std::size_t connectors;
  const std::type_info* type;
};

// Sharded, so that blocks made and destroyed on several threads at once do
// not wait for one mutex. Never destroyed: a block with static storage may
// be destroyed after this file's statics. Rarely two owners at one address
// (a block and its first member block): a multimap, whose node is as small
// as a map's (docs/benchmarks.md: bytes per block).
struct Shard {
  std::mutex mutex;
  std::unordered_multimap<const void*, OwnerNetwork> owners;
};
constexpr std::size_t shard_count = 16;

std::array<Shard, shard_count>& shards() {
  static auto* const all = new std::array<Shard, shard_count>;
  return *all;
}

Shard& shard_of(const void* address) {
  return shards()[std::hash<const void*>{}(address) / alignof(std::max_align_t) % shard_count];
}

}  // namespace

NetworkGroup* NodeBase::join_owner_network() const {
  const void* const address = owner();
  const std::type_info* const type = owner_type();
  Shard& shard = shard_of(address);
  std::lock_guard lock{shard.mutex};
  auto [at, end] = shard.owners.equal_range(address);
  for (; at != end; ++at) {
    OwnerNetwork& owner = at->second;
    if (!is_class_of(owner.type, type)) continue;
    owner.type = more_derived(owner.type, type);
    NetworkGroup* root = NetworkGroup::root_of(owner.group);
    root->add_reference();
    ++owner.connectors;
    return root;
  }
  auto* fresh = new NetworkGroup;
  try {
    shard.owners.emplace(address, OwnerNetwork{fresh, 1, type});
  } catch (...) {
    NetworkGroup::release(fresh);
    throw;
  }
  fresh->add_reference();  // the registry's
  return fresh;
}

void NodeBase::leave_owner_network() const noexcept {
  if (!has_network_group() || owner() == nullptr) return;
  const void* const address = owner();
  const std::type_info* const type = owner_type();
  NetworkGroup* unused = nullptr;
  {
    Shard& shard = shard_of(address);
    std::lock_guard lock{shard.mutex};
    auto [at, end] = shard.owners.equal_range(address);
    for (; at != end; ++at) {
      if (!is_class_of(at->second.type, type)) continue;
      if (--at->second.connectors != 0) return;
      unused = at->second.group;
      shard.owners.erase(at);
      break;
    }
  }
  if (unused != nullptr) NetworkGroup::release(unused);
}

std::size_t registered_owners() noexcept {
  std::size_t count = 0;
  for (Shard& shard : shards()) {
    std::lock_guard lock{shard.mutex};
    count += shard.owners.size();
  }
  return count;
}

}  // namespace connectors::detail
