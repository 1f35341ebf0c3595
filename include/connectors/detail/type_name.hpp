#pragma once

#include <string>
#include <typeinfo>

namespace connectors::detail {

// The readable (demangled) name of a type, for error messages.
std::string demangle(const char* mangled);

template <class T>
std::string type_name() {
  return demangle(typeid(T).name());
}

}  // namespace connectors::detail
