#include <connectors/detail/process_entry.hpp>
#include <connectors/detail/type_name.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace connectors::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> readable{abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                       &std::free};
  return status == 0 && readable ? std::string{readable.get()} : std::string{mangled};
}

std::exception_ptr no_process_state_error(const char* prefix, const std::type_info& owner, bool owner_is_class) {
  const std::string name = demangle(owner.name());
  std::string why = owner_is_class ? "the owner type " + name +
                                         " declares no state to travel: give it a `template <class Archive> void "
                                         "serialize(Archive&)` member (public if the class is final), or cereal's "
                                         "non-member serialize or save and load beside the class, in its namespace "
                                         "(not in namespace cereal)"
                                   : "the owner type " + name + " is not a class";
  return std::make_exception_ptr(std::invalid_argument(prefix + why));
}

}  // namespace connectors::detail
