#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace connectors::detail::mpi {

// What identifies the program's binary across machines: the ELF build id of
// the main executable (as the linker wrote it), or, for a binary linked
// without one, a hash of the executable file. Requests name code by
// (module, offset), which means the same only in the same binary
// (docs/distributed.md, "Same binary").
struct Fingerprint {
  std::array<std::uint8_t, 32> bytes{};
  std::uint32_t size = 0;
  bool from_build_id = false;

  bool operator==(const Fingerprint&) const = default;
  // Hexadecimal, with where it came from.
  std::string describe() const;
};

// This process's fingerprint, computed once.
const Fingerprint& program_fingerprint();

}  // namespace connectors::detail::mpi
