#pragma once

// Making executors and the default one, without the Executor class: a
// connector holds its executor by std::shared_ptr and hands it on, so the
// light connector headers (docs/design.md#light-headers) declare these and
// leave the class, its event loop and its thread pool to
// <connectors/executor.hpp>, which only code that calls an executor's
// members needs.

#include <memory>
#include <optional>

namespace connectors {

class Executor;

/// The factory. nullopt = automatic (hardware concurrency); 0 disables a kind.
///   executor(0, 0) -> SequentialExecutor      executor(0, n) -> MultiprocessingExecutor
///   executor(n, 0) -> ThreadingExecutor       executor(n, m) -> ThreadingMultiprocessingExecutor
/// Negative numbers throw std::invalid_argument. Worker processes need
/// connectors::init (see process_executor.hpp). Any thread; each call makes
/// a new executor.
std::shared_ptr<Executor> executor(std::optional<int> threads = std::nullopt, std::optional<int> processes = 0);

/// The executor shared by all connectors that were not given one; created on
/// first use as executor(). Any thread (it takes a lock of its own).
/// Throws what creating the executor throws (std::bad_alloc).
std::shared_ptr<Executor> default_executor();
/// Replaces the default executor (null restores executor()). Connectors
/// without an executor of their own look the default up at every operation,
/// so the replacement applies to them from their next operation on;
/// operations already running keep the executor they started with. Any
/// thread; throws nothing.
void set_default_executor(std::shared_ptr<Executor> executor);

}  // namespace connectors
