#pragma once

namespace connectors::detail {

// What connectors::init does after it has started the fork server, for a
// transport that must set itself up at the same point (connectors::mpi calls
// MPI_Init there and sends ranks 1..N-1 to serve: docs/distributed.md). It may
// throw; init then throws it. It may also not return (a serving rank).
using InitExtension = void (*)(int argc, char** argv);

// Registers `extension`, once, before main (from a transport's header, see
// mpi.hpp); returns true. Registering a second, different one throws
// std::logic_error: only one transport can own the launch.
bool register_init_extension(InitExtension extension);

// Runs the registered extension, if any (called by init).
void run_init_extension(int argc, char** argv);

}  // namespace connectors::detail
