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
#include <connectors/detail/class_hierarchy.hpp>
#include <connectors/detail/network_group.hpp>
#include <connectors/detail/node.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

namespace connectors::detail {

namespace {

// A group of an owner's network (the registry holds a reference to it), how
// many of the owner's connectors have one, and the classes their owner
// pointers had: the owner's class and those of its bases that declare
// connectors (a null type: a connector that names none).
struct OwnerNetwork {
  NetworkGroup* group;
  std::size_t connectors;
  std::vector<const std::type_info*> classes;
};

// Whether `type` is a class of the object `owner` is: one of its classes, a
// base of one at its start, or one that starts with one of them. Two
// distinct objects at one address (a block and its first member) are not so
// related, since an object cannot hold another of its class or of the
// classes it starts with at its own address; and the relation is one chain
// of classes per object, so a connector finds one owner whatever the order
// its owner's connectors came in.
bool is_class_of(const OwnerNetwork& owner, const std::type_info* type) noexcept {
  for (const std::type_info* seen : owner.classes) {
    if (seen == nullptr || type == nullptr) {
      if (seen == type) return true;
    } else if (*seen == *type || starts_with(*seen, *type) || starts_with(*type, *seen)) {
      return true;
    }
  }
  return false;
}

// Sharded, so that blocks made and destroyed on several threads at once do
// not wait for one mutex. Never destroyed: a block with static storage may
// be destroyed after this file's statics. Few owners share an address: a
// short list each.
struct Shard {
  std::mutex mutex;
  std::unordered_map<const void*, std::vector<OwnerNetwork>> owners;
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
  if (auto found = shard.owners.find(address); found != shard.owners.end()) {
    for (OwnerNetwork& owner : found->second) {
      if (!is_class_of(owner, type)) continue;
      bool seen = false;
      for (const std::type_info* known : owner.classes) seen = seen || known == type;
      if (!seen) owner.classes.push_back(type);
      NetworkGroup* root = NetworkGroup::root_of(owner.group);
      root->add_reference();
      ++owner.connectors;
      return root;
    }
  }
  auto* fresh = new NetworkGroup;
  try {
    shard.owners[address].push_back(OwnerNetwork{fresh, 1, {type}});
  } catch (...) {
    // (An empty list the failure left stays out of the count: forgotten.)
    if (auto made = shard.owners.find(address); made != shard.owners.end() && made->second.empty()) {
      shard.owners.erase(made);
    }
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
    auto found = shard.owners.find(address);
    if (found == shard.owners.end()) return;
    std::vector<OwnerNetwork>& at_address = found->second;
    for (auto owner = at_address.begin(); owner != at_address.end(); ++owner) {
      if (!is_class_of(*owner, type)) continue;
      if (--owner->connectors != 0) return;
      unused = owner->group;
      at_address.erase(owner);
      break;
    }
    if (at_address.empty()) shard.owners.erase(found);
  }
  if (unused != nullptr) NetworkGroup::release(unused);
}

std::size_t registered_owners() noexcept {
  std::size_t count = 0;
  for (Shard& shard : shards()) {
    std::lock_guard lock{shard.mutex};
    for (const auto& entry : shard.owners) count += entry.second.size();
  }
  return count;
}

}  // namespace connectors::detail
