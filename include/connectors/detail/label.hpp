#pragma once

#include <ostream>
#include <sstream>
#include <string>

namespace connectors::detail {

// A data id or key as a network's picture writes it on a connection
// (docs/observability.md): as it prints, or "?" for a type that does not.
template <class T>
std::string to_label(const T& value) {
  if constexpr (requires(std::ostream & out) { out << value; }) {
    std::ostringstream out;
    out << value;
    return out.str();
  } else {
    return "?";
  }
}

}  // namespace connectors::detail
