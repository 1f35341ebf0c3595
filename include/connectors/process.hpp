#pragma once

// PROCESS support: how a method runs in a worker process on a copy of its
// owner's state (docs/processes.md). The connector headers stay light without
// it (docs/design.md#light-headers); include this header (or the umbrella
// <connectors/connectors.hpp>) wherever a block with cereal-serializable state
// is defined or built. <connectors/process_executor.hpp> and
// <connectors/mpi.hpp> include it.

#include <connectors/detail/process_backend.hpp>
#include <connectors/detail/process_call.hpp>
#include <connectors/detail/process_entry.hpp>
#include <connectors/detail/type_name.hpp>
#include <connectors/event_loop.hpp>
#include <connectors/executor.hpp>
#include <connectors/process_traits.hpp>
#include <connectors/task.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>

namespace connectors::detail {

template <class Owner>
struct ProcessEntry {
  // Throws std::invalid_argument, naming `who`, when the callable or a type
  // cannot travel; whether they can is known at compile time.
  template <class R, class Method, class... Args>
  static void check(const char* who) {
    if constexpr (!is_transferable_callable_v<Method>) {
      throw std::invalid_argument(std::string{who} + ": the callable " + type_name<Method>() +
                                  " cannot run in a worker process: it has state (a capturing lambda or a function "
                                  "object); use a member function pointer or a captureless lambda");
    } else if constexpr (!can_run_in_process_v<Owner, R, Args...>) {
      throw std::invalid_argument(std::string{who} +
                                  ": cannot run in a worker process: " + process_incompatibility<Owner, R, Args...>());
    }
  }

  // The call itself, on `backend` (local workers, MPI ranks, ...). The
  // references stay valid: the caller's frame awaits this task.
  template <class R, class Method, class... Args>
  static Task<R> call(ProcessBackend* backend, EventLoop& loop, const Method& method, Owner* instance,
                      const Args&... args) {
    if constexpr (is_transferable_callable_v<Method> && can_run_in_process_v<Owner, R, Args...>) {
      if (backend == nullptr) throw std::logic_error("Executor: PROCESS placement without worker processes");
      if constexpr (std::is_polymorphic_v<Owner>) {
        // A worker rebuilds an Owner from Owner's state: an object of a
        // derived class would lose its overrides and its own members there,
        // a wrong result without an error (docs/processes.md, What the types need).
        if (typeid(*instance) != typeid(Owner)) {
          throw std::invalid_argument("connectors: cannot run a method of " + type_name<Owner>() +
                                      " in a worker process for an object of the derived class " +
                                      demangle(typeid(*instance).name()) + ": a worker would rebuild only its " +
                                      type_name<Owner>() + " part; flag the method THREAD");
        }
      }
      backend->require_ready();
      co_return co_await ProcessCall<R>{loop, *backend, make_request<R>(method, *instance, args...)};
    } else {
      check<R, Method, Args...>("Executor::run_method");
      throw std::logic_error("connectors: unreachable (the check above throws)");
    }
  }

  // A connector's PROCESS task (detail::UserCall): the method's result,
  // converted to the connector's type, goes to `result`. The references stay
  // valid: the connector's request frame awaits this task.
  template <class R, class Method, class... Args>
  static Task<void> call_into(Executor& executor, std::optional<R>& result, Method method, Owner& instance,
                              const Args&... args) {
    result.emplace(co_await executor.run_method(Parallelization::PROCESS, method, instance, args...));
  }
};

}  // namespace connectors::detail
