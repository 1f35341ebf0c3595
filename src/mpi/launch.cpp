// What connectors::init does when the program was started by mpirun
// (docs/distributed.md, "Launch"): MPI_Init, the same-binary check, then rank
// 0 returns to main and every other rank serves until rank 0 ends.

#include "dispatcher.hpp"
#include "fingerprint.hpp"
#include "serve.hpp"

#include <connectors/mpi.hpp>

#include <mpi.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace connectors {

namespace {

std::atomic<int> world_rank{0};
std::atomic<int> world_size{1};

// The variables mpirun (Open MPI's, or a PMI/PMIx launcher's) sets in each
// rank's environment. A program started without it stays single-process:
// MPI is then not initialised at all.
bool launched_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

// Rank 0 at exit: stop the ranks (they exit 0 once they have), then MPI.
void finish_rank_zero() {
  // Installed before this handler, so absent only in a child that rank 0
  // forked (Dispatcher::instance): there, stopping the ranks would stop them
  // for rank 0 as well, and MPI_Finalize on a copy of its state never returns.
  detail::mpi::Dispatcher* dispatcher = detail::mpi::Dispatcher::instance();
  if (dispatcher == nullptr) return;
  dispatcher->shut_down();
  MPI_Finalize();
}

}  // namespace

int mpi_rank() noexcept { return world_rank.load(); }
int mpi_world_size() noexcept { return world_size.load(); }

namespace detail::mpi {

void init_under_mpi(int argc, char** argv) {
  if (!launched_by_mpirun()) return;
  int provided = 0;
  // One thread at a time calls MPI: main here and at exit, the
  // communication thread in between.
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    throw std::runtime_error("connectors::init: MPI_Init_thread failed");
  }
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (provided < MPI_THREAD_SERIALIZED) {
    if (rank == 0) std::fprintf(stderr, "connectors::init: the MPI library does not support MPI_THREAD_SERIALIZED\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  world_rank.store(rank);
  world_size.store(size);

  // Requests name code by (module, offset): only the same binary may serve
  // them. Every rank reports its fingerprint to rank 0, and learns rank 0's.
  const Fingerprint mine = program_fingerprint();
  Fingerprint first = mine;
  std::vector<Fingerprint> all(rank == 0 ? static_cast<std::size_t>(size) : 1);
  MPI_Gather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, 0, MPI_COMM_WORLD);
  MPI_Bcast(&first, sizeof first, MPI_BYTE, 0, MPI_COMM_WORLD);

  if (rank != 0) {
    const bool same = mine == first;
    if (!same) {
      std::fprintf(stderr,
                   "connectors: MPI rank %d runs a different binary than rank 0 (%s; rank 0: %s); it serves no "
                   "calls\n",
                   rank, mine.describe().c_str(), first.describe().c_str());
    }
    try {
      serve(rank, same);
    } catch (const std::exception& error) {
      // Never back into main: a serving rank would run the program.
      std::fprintf(stderr, "connectors: MPI rank %d cannot serve on: %s\n", rank, error.what());
      MPI_Abort(MPI_COMM_WORLD, 1);
    } catch (...) {
      std::fprintf(stderr, "connectors: MPI rank %d cannot serve on (an unknown exception)\n", rank);
      MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_Finalize();
    std::exit(0);
  }

  std::vector<int> serving;
  std::string different;
  for (int other = 1; other < size; ++other) {
    if (all[static_cast<std::size_t>(other)] == mine) {
      serving.push_back(other);
    } else {
      different += (different.empty() ? "" : ", ") + std::to_string(other) + " (" +
                   all[static_cast<std::size_t>(other)].describe() + ")";
    }
  }
  Dispatcher::install(std::make_unique<Dispatcher>(size, serving));
  std::atexit(finish_rank_zero);
  if (!different.empty()) {
    throw std::runtime_error("connectors::init: MPI ranks " + different + " run a different binary than rank 0 (" +
                             mine.describe() +
                             "); every rank must run the same executable (docs/distributed.md). No call goes "
                             "to those ranks.");
  }
}

}  // namespace detail::mpi

}  // namespace connectors
