#pragma once

// What a connector knows of its owner's type, which only its constructor
// sees: the type's name (pictures, timelines) and how to reach the owner as
// the class of a method given later (owner_as).

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
  // What `thrower(pointer)` throws, caught as a pointer to the owner's type
  // (converted, if it points to a class derived from it), or null.
  void* (*catch_owner)(void (*thrower)(void*), void* pointer);
};

template <class Owner>
const OwnerType& owner_type_of() {
  static const OwnerType type{typeid(Owner), &throw_as<Owner>, [](void (*thrower)(void*), void* pointer) -> void* {
                                try {
                                  thrower(pointer);
                                } catch (Owner* owner) {
                                  return owner;
                                } catch (...) {
                                }
                                return nullptr;
                              }};
  return type;
}

// `owner`, of type `type`, as a `C`: the class of a method given to a
// connector's setter (a condition, replace, keys). Found once, when the
// method is given; a plain cast would call it on the wrong object wherever
// the two classes do not start at the same address.
// - C is the owner's class or a public base of it (a second base sits
//   elsewhere): the language's own conversion, in an exception handler.
// - C is derived from the owner's class (connectors declared in a base,
//   conditions in the class built on it): the object is a C, and the owner
//   lies in it at the offset at which the conversion from C finds it.
// Throws std::invalid_argument for any other class.
template <class C>
C* owner_as(const OwnerType* type, void* owner, const char* setter) {
  if (type != nullptr) {
    try {
      type->throw_owner(owner);
    } catch (C* converted) {
      return converted;
    } catch (...) {
    }
    if (void* as_owner = type->catch_owner(&throw_as<C>, owner)) {
      const auto offset = static_cast<char*>(as_owner) - static_cast<char*>(owner);
      return static_cast<C*>(static_cast<void*>(static_cast<char*>(owner) - offset));
    }
  }
  throw std::invalid_argument(std::string("connectors: ") + setter +
                              ": the method's class is not the connector's owner class, a public base of it, or a "
                              "class derived from it");
}

}  // namespace connectors::detail
