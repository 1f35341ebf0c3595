#pragma once

namespace connectors {

/// Prepares worker processes for the process executors. Call it first thing in
/// `main`, like MPI_Init, while the program is still single-threaded: it forks
/// a small fork server from which workers are started later, so that no worker
/// is ever forked from a multithreaded process. In an MPI serving rank it
/// does not return (docs/distributed.md). A second call does nothing. Throws
/// std::logic_error if other threads already exist, if a method running in a
/// worker process calls it, or in a child the program forked after calling
/// it; std::system_error if the fork server cannot be started (the program
/// is then not initialized, and init may be called again); what the MPI
/// transport's start throws (connectors::mpi; the fork server stays, see
/// docs/distributed.md). See docs/processes.md. Threads: call it on the main thread
/// before any other thread exists (that is its point).
///
///     int main(int argc, char** argv) {
///       connectors::init(argc, argv);
///       // ... build networks, use process executors ...
///     }
void init(int argc, char** argv);

/// Whether init() has started the fork server in this process. Any thread.
bool initialized() noexcept;

}  // namespace connectors
