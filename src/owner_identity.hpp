#pragma once

// Which connectors at one address belong to one object
// (docs/design.md#owner-networks): the rule the registry of owners' networks
// (src/owner_networks.cpp) and the picture's clusters (src/picture.cpp) share.

#include <connectors/detail/class_hierarchy.hpp>

#include <typeinfo>

namespace connectors::detail {

// Whether a connector whose owner, at some address, is of class `type` belongs
// to the object there whose most derived class seen so far is `seen`: the
// same class, one it starts with (a base at offset 0), or one that starts
// with it (null: a connector that names no class, one only with another).
// Two distinct objects at one address (a block and its first member) are
// never so related, since an object cannot hold another of its class or of a
// class it starts with at its own address; and an object's classes at its
// address are one chain, each starting with the next, so the most derived
// one stands for all, whatever the order its connectors came in.
inline bool is_class_of(const std::type_info* seen, const std::type_info* type) noexcept {
  if (seen == nullptr || type == nullptr) return seen == type;
  return *seen == *type || starts_with(*seen, *type) || starts_with(*type, *seen);
}

// The more derived of two classes of one object (is_class_of): the one to
// keep as `seen`.
inline const std::type_info* more_derived(const std::type_info* seen, const std::type_info* type) noexcept {
  return seen != nullptr && type != nullptr && *seen != *type && starts_with(*type, *seen) ? type : seen;
}

}  // namespace connectors::detail
