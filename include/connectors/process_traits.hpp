#pragma once

// What a method needs to run in a worker process: the owner must be
// default-constructible and cereal-serializable, the arguments and the result
// cereal-serializable (and default-constructible, since the receiving side
// loads into a fresh object). See docs/processes.md.

#include <connectors/detail/type_name.hpp>

#include <cereal/archives/binary.hpp>
// Every standard type cereal supports: whether a type travels must not
// depend on which of cereal's headers a file happened to include (the answer
// would differ between translation units, and the linker would keep one).
#include <cereal/types/array.hpp>
#include <cereal/types/atomic.hpp>
#include <cereal/types/bitset.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/complex.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/forward_list.hpp>
#include <cereal/types/functional.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/queue.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/stack.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/valarray.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <deque>
#include <forward_list>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <stack>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <valarray>
#include <variant>
#include <vector>

namespace connectors {

namespace detail {

// cereal's traits see whether the outer type has a save and a load: a
// std::vector has them whatever its elements are. A standard template's
// components must travel too, or a block whose value is a vector of a plain
// struct would fail to compile inside cereal (the process path is compiled
// for every owner with state) instead of refusing PROCESS with
// std::invalid_argument (docs/processes.md, What the types need).
template <class... Ts>
struct TypeList {};
// What a smart pointer points to (see Transferable<Pointee<T>>).
template <class T>
struct Pointee {};

template <class T>
struct Components {
  using type = TypeList<>;
};
template <class T, class A>
struct Components<std::vector<T, A>> {
  using type = TypeList<T>;
};
template <class T, class A>
struct Components<std::deque<T, A>> {
  using type = TypeList<T>;
};
template <class T, class A>
struct Components<std::list<T, A>> {
  using type = TypeList<T>;
};
template <class T, class A>
struct Components<std::forward_list<T, A>> {
  using type = TypeList<T>;
};
template <class T, std::size_t N>
struct Components<std::array<T, N>> {
  using type = TypeList<T>;
};
template <class K, class V, class C, class A>
struct Components<std::map<K, V, C, A>> {
  using type = TypeList<K, V>;
};
template <class K, class V, class C, class A>
struct Components<std::multimap<K, V, C, A>> {
  using type = TypeList<K, V>;
};
template <class K, class V, class H, class E, class A>
struct Components<std::unordered_map<K, V, H, E, A>> {
  using type = TypeList<K, V>;
};
template <class K, class V, class H, class E, class A>
struct Components<std::unordered_multimap<K, V, H, E, A>> {
  using type = TypeList<K, V>;
};
template <class K, class C, class A>
struct Components<std::set<K, C, A>> {
  using type = TypeList<K>;
};
template <class K, class C, class A>
struct Components<std::multiset<K, C, A>> {
  using type = TypeList<K>;
};
template <class K, class H, class E, class A>
struct Components<std::unordered_set<K, H, E, A>> {
  using type = TypeList<K>;
};
template <class K, class H, class E, class A>
struct Components<std::unordered_multiset<K, H, E, A>> {
  using type = TypeList<K>;
};
template <class T, class C>
struct Components<std::queue<T, C>> {
  using type = TypeList<C>;
};
// cereal saves a priority queue's comparator too (nothing, when it is empty).
template <class T, class C, class Compare>
struct Components<std::priority_queue<T, C, Compare>> {
  using type = std::conditional_t<std::is_empty_v<Compare>, TypeList<C>, TypeList<C, Compare>>;
};
template <class T>
struct Components<std::atomic<T>> {
  using type = TypeList<T>;
};
template <class T, class C>
struct Components<std::stack<T, C>> {
  using type = TypeList<C>;
};
template <class T>
struct Components<std::valarray<T>> {
  using type = TypeList<T>;
};
template <class T>
struct Components<std::optional<T>> {
  using type = TypeList<T>;
};
template <class... Ts>
struct Components<std::variant<Ts...>> {
  using type = TypeList<Ts...>;
};
template <class A, class B>
struct Components<std::pair<A, B>> {
  using type = TypeList<A, B>;
};
template <class... Ts>
struct Components<std::tuple<Ts...>> {
  using type = TypeList<Ts...>;
};
template <class T, class D>
struct Components<std::unique_ptr<T, D>> {
  using type = TypeList<Pointee<T>>;
};
template <class T>
struct Components<std::shared_ptr<T>> {
  using type = TypeList<Pointee<T>>;
};
template <class T>
struct Components<std::weak_ptr<T>> {
  using type = TypeList<Pointee<T>>;
};
template <class T>
struct Components<Pointee<T>> : Components<T> {};

template <class T>
struct Transferable;
template <class List>
struct AllTransferable;
// An empty class inside a standard template travels as nothing: binary
// archives elide it. (Alone, as a result, argument or owner, it must say how
// it travels, as before.)
template <class T>
inline constexpr bool elided = std::is_class_v<T>&& std::is_empty_v<T>&& std::is_default_constructible_v<T>;
template <class T>
inline constexpr bool elided<Pointee<T>> = false;
template <class T>
inline constexpr bool component_travels = Transferable<T>::value || elided<T>;
template <class... Ts>
struct AllTransferable<TypeList<Ts...>> : std::bool_constant<(component_travels<Ts> && ...)> {};

template <class T>
inline constexpr bool cereal_saves_and_loads =
    cereal::traits::is_output_serializable<T, cereal::BinaryOutputArchive>::value&&
        cereal::traits::is_input_serializable<T, cereal::BinaryInputArchive>::value;

template <class T>
struct Transferable
    : std::bool_constant<std::is_void_v<T> || (std::is_default_constructible_v<T> && cereal_saves_and_loads<T> &&
                                               AllTransferable<typename Components<T>::type>::value)> {};
// What a smart pointer points to is made by cereal: through cereal::access
// (a private constructor with `friend class cereal::access` will do), by a
// load_and_construct, or, for a polymorphic type, as the registered derived
// type it names.
template <class T>
struct Transferable<Pointee<T>>
    : std::bool_constant<cereal_saves_and_loads<T> && AllTransferable<typename Components<T>::type>::value &&
                         (std::is_polymorphic_v<T> || cereal::traits::is_default_constructible<T>::value ||
                          cereal::traits::has_load_and_construct<T, cereal::BinaryInputArchive>::value)> {};

// The innermost type that keeps T from travelling (T itself when its
// components travel), named for process_incompatibility.
template <class T>
std::string untransferable_part();
template <class... Ts>
std::string first_untransferable_part(TypeList<Ts...>) {
  std::string found;
  (
      [&] {
        if constexpr (!component_travels<Ts>) {
          if (found.empty()) found = untransferable_part<Ts>();
        }
      }(),
      ...);
  return found;
}
template <class T>
struct Named {
  using type = T;
};
template <class T>
struct Named<Pointee<T>> {
  using type = T;
};
template <class T>
std::string untransferable_part() {
  std::string inner = first_untransferable_part(typename Components<T>::type{});
  return inner.empty() ? type_name<typename Named<T>::type>() : inner;
}

// "the <role> type X is not default-constructible and cereal-serializable",
// or, when X holds the type at fault, "... X cannot travel: Y is not ...".
template <class T>
std::string untransferable_reason(const char* role) {
  const std::string whole = type_name<T>();
  const std::string part = untransferable_part<T>();
  const std::string why = " is not default-constructible and cereal-serializable";
  if (part == whole) return std::string{"the "} + role + " type " + whole + why;
  return std::string{"the "} + role + " type " + whole + " cannot travel: " + part + why;
}

}  // namespace detail

/// Whether values of T can travel to and from a worker process: T can be saved
/// and loaded with cereal's binary archives and default-constructed, and so
/// can the components of the standard templates cereal supports (a
/// std::vector's elements, a std::map's keys and values, a std::variant's
/// alternatives...). `void` travels (as nothing). (What the serialize
/// function of a class of yours saves is cereal's to check: a member that
/// cannot be saved fails to compile there.)
template <class T>
inline constexpr bool is_transferable_v = detail::Transferable<T>::value;

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
    return detail::untransferable_reason<Result>("result");
  } else {
    std::string reason;
    (
        [&] {
          if constexpr (!is_transferable_v<Args>) {
            if (reason.empty()) {
              reason = detail::untransferable_reason<Args>("argument");
            }
          }
        }(),
        ...);
    return reason;
  }
}

}  // namespace connectors
