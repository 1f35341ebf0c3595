#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace connectors::detail {

// Where a piece of machine code lives, in a form that means the same thing in
// another process running the same binary even though address-space layout
// randomisation loaded it elsewhere: the module (shared object path, or ""
// for the main program) and the offset from that module's load base.
struct CodeAddress {
  std::string module;
  std::uint64_t offset = 0;

  template <class Archive>
  void serialize(Archive& archive) {
    archive(module, offset);
  }
};

// Throws std::invalid_argument when `code` lies in no loaded module.
CodeAddress locate_code(const void* code);
// Throws std::runtime_error when the module is not loaded here or the offset
// is not inside its executable code.
void* resolve_code(const CodeAddress& address);

// The same for an object in a module's loaded data (any loadable segment).
CodeAddress locate_data(const void* data);
// Throws std::runtime_error unless [address, address + size) lies inside one
// readable loadable segment of the module.
const void* resolve_data(const CodeAddress& address, std::size_t size);

}  // namespace connectors::detail
