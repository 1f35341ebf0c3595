#!/usr/bin/env bash
# MpiExecutor next to raw MPI, back to back on the same machine and the same
# mpirun settings as the tests (docs/benchmarks.md, "MPI ranks"):
#   benchmarks/bench_mpi.sh [build directory, default build/release]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() { timeout 300 mpirun -n 3 --oversubscribe --mca btl self,vader "$build/benchmarks/bench_mpi" "$@"; }
run raw
run
