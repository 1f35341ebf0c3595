#pragma once

// What a connector's constructor checks of its arguments that the compiler
// cannot.

#include <stdexcept>
#include <string>

namespace connectors::detail {

// A null owner or method would be called at the first use, far from the
// mistake.
template <class Owner, class... Methods>
void check_not_null(const Owner* owner, const char* connector, Methods... methods) {
  if (owner == nullptr) {
    throw std::invalid_argument(std::string("connectors::") + connector + ": a null owner");
  }
  if ((... || !methods)) {
    throw std::invalid_argument(std::string("connectors::") + connector + ": a null pointer to member function");
  }
}

}  // namespace connectors::detail
