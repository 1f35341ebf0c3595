// The bases of a class, read from the type information of the Itanium C++
// ABI (g++ and clang on this platform): a class with one public non-virtual
// base at offset 0 has a __si_class_type_info, any other class with bases a
// __vmi_class_type_info listing each direct base with its offset, access and
// virtuality (docs/design.md#owner-networks).
#include <connectors/detail/class_hierarchy.hpp>

#include <cxxabi.h>

namespace connectors::detail {

namespace {

struct Found {
  std::size_t times = 0;
  std::ptrdiff_t offset = 0;
  bool through_virtual = false;
  // One of them sits at offset 0, not through a virtual base: an object
  // holds at most one subobject of a class at its own address, so this holds
  // also where the class is a base twice (a sibling's at another offset).
  bool at_start = false;
};

// Counts the subobjects of class `wanted` in `type` (itself included), with
// the offset of the last one found.
void find_bases(const abi::__class_type_info& type, const std::type_info& wanted, std::ptrdiff_t offset,
                bool through_virtual, Found& found) noexcept {
  if (type == wanted) {
    ++found.times;
    found.offset = offset;
    found.through_virtual = found.through_virtual || through_virtual;
    found.at_start = found.at_start || (offset == 0 && !through_virtual);
    return;  // a class is not among its own bases
  }
  if (const auto* single = dynamic_cast<const abi::__si_class_type_info*>(&type)) {
    find_bases(*single->__base_type, wanted, offset, through_virtual, found);
  } else if (const auto* multiple = dynamic_cast<const abi::__vmi_class_type_info*>(&type)) {
    // (The ABI declares the array with one element and lays out all of them.)
    const abi::__base_class_type_info* const bases = multiple->__base_info;
    for (unsigned index = 0; index < multiple->__base_count; ++index) {
      const abi::__base_class_type_info& base = bases[index];
      const bool is_virtual = base.__is_virtual_p();
      find_bases(*base.__base_type, wanted, is_virtual ? 0 : offset + base.__offset(), through_virtual || is_virtual,
                 found);
    }
  }
}

Found find_in(const std::type_info& base, const std::type_info& derived) noexcept {
  Found found;
  if (const auto* type = dynamic_cast<const abi::__class_type_info*>(&derived)) {
    find_bases(*type, base, 0, false, found);
  } else if (base == derived) {
    found.times = 1;
    found.at_start = true;
  }
  return found;
}

}  // namespace

bool is_same_or_base(const std::type_info& base, const std::type_info& derived) noexcept {
  return find_in(base, derived).times != 0;
}

bool starts_with(const std::type_info& derived, const std::type_info& base) noexcept {
  return find_in(base, derived).at_start;
}

std::optional<std::ptrdiff_t> base_offset(const std::type_info& base, const std::type_info& derived) noexcept {
  const Found found = find_in(base, derived);
  if (found.times != 1 || found.through_virtual) return std::nullopt;
  return found.offset;
}

}  // namespace connectors::detail
