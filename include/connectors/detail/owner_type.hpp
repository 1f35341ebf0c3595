#pragma once

// What a connector knows of its owner's type, which only its constructor
// sees: the type's name (pictures, timelines) and how to reach the owner as
// one of its bases (owner_as, and the picture's grouping).

#include <connectors/detail/class_hierarchy.hpp>
#include <connectors/detail/type_name.hpp>

#include <stdexcept>
#include <string>
#include <typeinfo>

namespace connectors::detail {

// Throws `pointer` as a `T*`.
template <class T>
void throw_as(void* pointer) {
  throw static_cast<T*>(pointer);
}

struct OwnerType {
  const std::type_info& type;
  // Throws the owner as a pointer to its own type: a handler for a pointer
  // to a public base receives it converted, at the base's address.
  void (*throw_owner)(void* owner);
};

template <class Owner>
const OwnerType& owner_type_of() {
  static const OwnerType type{typeid(Owner), &throw_as<Owner>};
  return type;
}

// `owner`, of type `type`, as a `C`: the class of `method`, given to a
// connector's `setter` (a condition, replace, keys), found once, when the
// method is given. A public base of the owner's class may sit at another
// address than the owner (a second base, a virtual one): the language's own
// conversion reaches it, in an exception handler. A private base is found
// at its offset in the owner's class, and so is the owner in a class built
// on it (connectors declared in a base, conditions added by the class built
// on it), whose object the owner is then part of (docs/connectors.md). A
// null method, one of a class unrelated to the owner's, or one whose place
// cannot be known from the classes alone (a private virtual base, the owner
// as a virtual base of the method's class, a base the owner holds twice)
// would be called on an object it does not belong to:
// std::invalid_argument.
template <class C, class Method>
C* owner_as(const OwnerType* type, void* owner, Method method, const char* setter) {
  if (method == nullptr) {
    throw std::invalid_argument(std::string("connectors::") + setter + ": a null pointer to member function");
  }
  if (type == nullptr || type->type == typeid(C)) return static_cast<C*>(owner);
  try {
    type->throw_owner(owner);
  } catch (C* converted) {
    return converted;
  } catch (...) {
  }
  char* const at = static_cast<char*>(owner);
  if (const auto offset = base_offset(typeid(C), type->type)) return reinterpret_cast<C*>(at + *offset);
  if (const auto offset = base_offset(type->type, typeid(C))) return reinterpret_cast<C*>(at - *offset);
  const bool related = is_same_or_base(typeid(C), type->type) || is_same_or_base(type->type, typeid(C));
  throw std::invalid_argument(
      std::string("connectors::") + setter + ": the method's class (" + type_name<C>() +
      (related ? ") is related to the owner's only through a virtual or a repeated base, where its place in the "
                 "owner cannot be known"
               : ") is neither the owner's class, nor one of its bases, nor a class built on it"));
}

}  // namespace connectors::detail
