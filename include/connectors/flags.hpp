#pragma once

namespace connectors {

/// Where a connector's method may run. An executor may run a method less
/// concurrently than its flag allows, never more (see docs/executors.md).
/// SEQUENTIAL: on the thread that coordinates the operation; THREAD: on a pool
/// thread; PROCESS: on a copy of the owner in a worker process (getters only;
/// an input's method flagged PROCESS runs as THREAD).
enum class Parallelization { SEQUENTIAL, THREAD, PROCESS };

/// When an input pulls new values by itself. Ordered: a smaller value is lazier.
/// ON_REQUEST: only when something downstream asks; ON_NOTIFY: when its
/// source pushes a value; ON_ANNOUNCE: after a direct change upstream;
/// ON_CONNECT: also after a connect (`docs/laziness-and-caching.md`).
enum class Laziness { ON_REQUEST = 1, ON_NOTIFY, ON_ANNOUNCE, ON_CONNECT };

}  // namespace connectors
