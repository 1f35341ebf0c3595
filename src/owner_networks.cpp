// The connectors of one owner are one network (docs/connectors.md, Threads;
// docs/design.md#owner-networks), also those no observer links (an input
// that feeds no output of its owner, an output no input of the owner
// feeds): their methods share the owner's state, so their operations must
// share a lock. Observers join what they link when the input is made; the
// rest is joined here, when a connector of the owner first needs a group.
// An owner is known by its address: the connectors its class and its bases
// declare (whatever the access to those bases), and those of a first member
// block, which sits at the same address. Sharing that one's lock only
// serialises the two: re-entry is told by links, not by locks.
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

// A group of the owner's network (the registry holds a reference to it) and
// how many of the owner's connectors have one.
struct OwnerNetwork {
  NetworkGroup* group;
  std::size_t connectors;
};

// Sharded, so that blocks made and destroyed on several threads at once do
// not wait for one mutex. Never destroyed: a block with static storage may
// be destroyed after this file's statics.
struct Shard {
  std::mutex mutex;
  std::unordered_map<const void*, OwnerNetwork> owners;
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
  Shard& shard = shard_of(address);
  std::lock_guard lock{shard.mutex};
  auto found = shard.owners.find(address);
  if (found != shard.owners.end()) {
    NetworkGroup* root = NetworkGroup::root_of(found->second.group);
    root->add_reference();
    ++found->second.connectors;
    return root;
  }
  auto* fresh = new NetworkGroup;
  try {
    shard.owners.emplace(address, OwnerNetwork{fresh, 1});
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
  NetworkGroup* unused = nullptr;
  {
    Shard& shard = shard_of(address);
    std::lock_guard lock{shard.mutex};
    auto found = shard.owners.find(address);
    if (found == shard.owners.end() || --found->second.connectors != 0) return;
    unused = found->second.group;
    shard.owners.erase(found);
  }
  NetworkGroup::release(unused);
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
