#pragma once

namespace connectors::detail::mpi {

// The life of a serving rank (1..N-1): receives calls from rank 0, runs each
// in this rank's own worker process (so that a crash or a timeout is a reply,
// not the end of the job), sends the reply, until rank 0 says stop. Returns
// then; the caller finalises MPI and exits. `same_binary`: whether this rank
// runs rank 0's binary (rank 0 sends no calls otherwise).
void serve(int rank, bool same_binary);

}  // namespace connectors::detail::mpi
