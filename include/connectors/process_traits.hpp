#pragma once

// What a method needs to run in a worker process: the owner must be
// default-constructible and cereal-serializable, the arguments and the result
// cereal-serializable (and default-constructible, since the receiving side
// loads into a fresh object). See docs/processes.md.

#include <connectors/detail/type_name.hpp>

#include <cereal/archives/binary.hpp>
// The standard types users most often pass; a type whose cereal header is not
// included anywhere counts as not serializable.
#include <cereal/types/array.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/complex.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include <string>
#include <type_traits>

namespace connectors {

/// Whether values of T can travel to and from a worker process: T can be saved
/// and loaded with cereal's binary archives and default-constructed. `void`
/// travels (as nothing).
template <class T>
inline constexpr bool is_transferable_v =
    std::is_void_v<T> || (std::is_default_constructible_v<T> &&
                          cereal::traits::is_output_serializable<T, cereal::BinaryOutputArchive>::value &&
                          cereal::traits::is_input_serializable<T, cereal::BinaryInputArchive>::value);

/// Whether a callable can be identified in a worker process: pointers to
/// member functions or data members, pointers to functions, and stateless
/// callables (captureless lambdas), which the worker default-constructs. A
/// callable with state (a capturing lambda, std::function) cannot travel.
template <class Callable>
inline constexpr bool is_transferable_callable_v = std::is_member_pointer_v<Callable> ||
                                                   (std::is_pointer_v<Callable> &&
                                                    std::is_function_v<std::remove_pointer_t<Callable>>) ||
                                                   (std::is_class_v<Callable> && std::is_empty_v<Callable> &&
                                                    std::is_default_constructible_v<Callable> &&
                                                    std::is_trivially_copyable_v<Callable>);

/// Whether a method of `Owner` taking `Args...` and returning `Result` can run
/// in a worker process (on a copy of the owner's state).
template <class Owner, class Result, class... Args>
inline constexpr bool can_run_in_process_v =
    std::is_class_v<std::remove_cv_t<Owner>>&& is_transferable_v<std::remove_cv_t<Owner>>&& is_transferable_v<Result> &&
    (is_transferable_v<Args> && ...);

template <class Owner, class Result, class... Args>
struct can_run_in_process : std::bool_constant<can_run_in_process_v<Owner, Result, Args...>> {};

/// Why a method of `Owner` taking `Args...` and returning `Result` cannot run
/// in a worker process, naming the first type at fault; empty when it can.
/// Connectors use it to reject set_parallelization(PROCESS) with
/// std::invalid_argument.
/// Throws only std::bad_alloc; any thread.
template <class Owner, class Result, class... Args>
std::string process_incompatibility() {
  using Plain = std::remove_cv_t<Owner>;
  if constexpr (!std::is_class_v<Plain>) {
    return "the owner type " + detail::type_name<Plain>() + " is not a class";
  } else if constexpr (!std::is_default_constructible_v<Plain>) {
    return "the owner type " + detail::type_name<Plain>() +
           " is not default-constructible (a worker process default-constructs the owner, then loads its state)";
  } else if constexpr (!is_transferable_v<Plain>) {
    return "the owner type " + detail::type_name<Plain>() +
           " is not cereal-serializable (give it a `template <class Archive> void serialize(Archive&)` member)";
  } else if constexpr (!is_transferable_v<Result>) {
    return "the result type " + detail::type_name<Result>() + " is not default-constructible and cereal-serializable";
  } else {
    std::string reason;
    (
        [&] {
          if constexpr (!is_transferable_v<Args>) {
            if (reason.empty()) {
              reason = "the argument type " + detail::type_name<Args>() +
                       " is not default-constructible and cereal-serializable";
            }
          }
        }(),
        ...);
    return reason;
  }
}

}  // namespace connectors
