#pragma once

namespace connectors {

/// Where a connector's method may run. An executor may run a method less
/// concurrently than its flag allows, never more (see docs/executors.md).
enum class Parallelization { SEQUENTIAL, THREAD, PROCESS };

/// When an input pulls new values by itself. Ordered: a smaller value is lazier.
enum class Laziness { ON_REQUEST = 1, ON_NOTIFY, ON_ANNOUNCE, ON_CONNECT };

}  // namespace connectors
