#pragma once

// What the C++ ABI's type information tells of a class's bases that the
// language does not (private bases included): which owners at one address are
// one object (src/owner_networks.cpp, the picture's clusters), and where a
// method's class sits in its owner (owner_as).

#include <cstddef>
#include <optional>
#include <typeinfo>

namespace connectors::detail {

// Whether `base` is `derived` or one of its base classes, through any path
// and access (virtual and private ones included).
bool is_same_or_base(const std::type_info& base, const std::type_info& derived) noexcept;

// Whether an object of one class starts with the other's subobject (or they
// are the same class): a base at offset 0, not reached through a virtual
// base (the class may be a base elsewhere too). Two owners at one address are one object exactly when their
// classes are so related: a block and its first member block are not, nor is
// a first member and a second base of the same class.
bool starts_with(const std::type_info& derived, const std::type_info& base) noexcept;

// Where the `base` subobject sits in an object of class `derived` (0 for the
// class itself). None when `base` is not among `derived`'s bases, is reached
// more than once, or through a virtual base (whose place only an object
// knows).
std::optional<std::ptrdiff_t> base_offset(const std::type_info& base, const std::type_info& derived) noexcept;

}  // namespace connectors::detail
