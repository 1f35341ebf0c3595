#pragma once

// What a connector knows of its owner's type, which only its constructor
// sees: the type's name (pictures, timelines) and how to reach the owner as
// one of its bases (owner_as, and the picture's grouping).

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
  // What `thrower(object)` throws, caught as a pointer to the owner's type
  // (converted, if the object's type is derived from it), or null. For real
  // objects only: the conversion may read their virtual-base offsets.
  void* (*catch_owner)(void (*thrower)(void*), void* object);
};

template <class Owner>
const OwnerType& owner_type_of() {
  static const OwnerType type{typeid(Owner), &throw_as<Owner>, [](void (*thrower)(void*), void* object) -> void* {
                                try {
                                  thrower(object);
                                } catch (Owner* owner) {
                                  return owner;
                                } catch (...) {
                                }
                                return nullptr;
                              }};
  return type;
}

// `owner`, of type `type`, as a `C`: the class of a method given to a
// connector's setter (a condition, replace, keys), found once, when the
// method is given. A public base of the owner's class may sit at another
// address than the owner (a second base): the language's own conversion
// reaches it, in an exception handler. Any other class (one derived from
// the owner's: connectors declared in a base, conditions added by the class
// built on it) is taken to start where the owner does, as the owner's first
// base does (docs/connectors.md).
template <class C>
C* owner_as(const OwnerType* type, void* owner) {
  if (type == nullptr || type->type == typeid(C)) return static_cast<C*>(owner);
  try {
    type->throw_owner(owner);
  } catch (C* converted) {
    return converted;
  } catch (...) {
  }
  return static_cast<C*>(owner);
}

}  // namespace connectors::detail
