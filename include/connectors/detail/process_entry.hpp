#pragma once

// The seam between the light connector headers and PROCESS support
// (docs/design.md#light-headers). A connector or an executor that may run a
// method in a worker process asks two questions about the method's owner:
//
// - does it declare state to travel (`declares_process_state`)? Answered
//   here without cereal, from the owner's own declarations, so the answer is
//   the same in every translation unit;
// - if so, how is the call made? `ProcessEntry<Owner>` answers; it is
//   declared here and defined by <connectors/process.hpp>. A translation unit
//   that builds such an owner without that header stops at a static_assert
//   naming the header, instead of silently losing PROCESS support.

#include <connectors/task.hpp>

#include <coroutine>
#include <exception>
#include <type_traits>
#include <typeinfo>

namespace connectors::detail {

template <class Owner>
struct ProcessEntry;  // defined in <connectors/process.hpp>

template <class T>
concept complete_type = requires {
  sizeof(T);
};

// Stands for an archive when looking for a generic `serialize(Archive&)`.
// Of no namespace of cereal's on purpose: what cereal declares there for
// the standard types depends on the headers a file includes, and the answer
// must be the same in every file (docs/design.md#light-headers).
struct ArchiveProbe {};

// Names cereal looks for in a class. A class that declares one of them (of
// any kind, public or private) makes the lookup through StateNameProbe
// ambiguous; that ambiguity is the answer.
struct StateNames {
  void serialize();
  void save();
  void load();
  void save_minimal();
  void load_minimal();
};
template <class T>
struct StateNameProbe : T, StateNames {};

template <class T>
concept lacks_member_state_names = requires {
  &StateNameProbe<T>::serialize;
  &StateNameProbe<T>::save;
  &StateNameProbe<T>::load;
  &StateNameProbe<T>::save_minimal;
  &StateNameProbe<T>::load_minimal;
};

// A final class cannot be probed by derivation: only its public members and
// free functions count (docs/processes.md).
template <class T>
concept has_public_state_members = requires(T& value, ArchiveProbe& archive) {
  value.serialize(archive);
}
|| requires(const T& value, ArchiveProbe& archive) { value.save(archive); };

template <class T>
concept has_free_state_functions = requires(T& value, ArchiveProbe& archive) {
  serialize(archive, value);
}
|| requires(const T& value, ArchiveProbe& archive) { save(archive, value); };

template <class T>
concept declares_process_state = std::is_class_v<T> &&((!std::is_final_v<T> && !lacks_member_state_names<T>) ||
                                                       has_public_state_members<T> || has_free_state_functions<T>);

// The std::invalid_argument saying why an owner that declares no state
// cannot run a method in a worker, after `prefix`; built in the library
// (src/type_name.cpp), so that every connector type does not compile it.
std::exception_ptr no_process_state_error(const char* prefix, const std::type_info& owner, bool owner_is_class);

// A task that fails with `error` when awaited, as a coroutine that threw
// would.
template <class R>
Task<R> failed_task(std::exception_ptr error) {
  co_await std::suspend_never{};
  std::rethrow_exception(std::move(error));
}

}  // namespace connectors::detail

// The message a translation unit meets when it builds an owner with state to
// travel but lacks PROCESS support; a macro so that static_assert shows it
// verbatim.
#define CONNECTORS_DETAIL_PROCESS_HEADER_MISSING                                                             \
  "connectors: this owner type is cereal-serializable, so its methods may run in worker processes: "         \
  "#include <connectors/process.hpp> (or <connectors/connectors.hpp>) in every file that defines or builds " \
  "such a block"
