#!/usr/bin/env bash
# Runs an MPI test job: `run_mpi.sh MPIEXEC <mpirun arguments...>`, on
# loopback with 3 ranks on 2 cores allowed, as root if need be, under a
# timeout. Passes when mpirun exits 0 and no process of the job is left
# afterwards (ranks, their fork servers, their workers): every process of the
# job carries a marker in its environment, which is looked for in /proc.
set -u
mpiexec=$1
shift
marker="connectors-mpi-test-$$-${RANDOM}${RANDOM}"
CONNECTORS_MPI_TEST_MARKER=$marker OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
  timeout --kill-after=10 120 "$mpiexec" --oversubscribe --mca btl self,vader \
  -x CONNECTORS_MPI_TEST_MARKER "$@"
status=$?
if ((status != 0)); then
  echo "run_mpi.sh: mpirun exited with status $status" >&2
fi
# The fork servers notice their rank's end asynchronously; give them time,
# bounded only so that a leftover process fails the test instead of hanging it.
left=""
for _ in $(seq 200); do
  left=$(grep -l -s -a "CONNECTORS_MPI_TEST_MARKER=$marker" /proc/[0-9]*/environ || true)
  [[ -z $left ]] && break
  sleep 0.05
done
if [[ -n $left ]]; then
  echo "run_mpi.sh: processes of the job are still running:" >&2
  for file in $left; do
    pid=${file#/proc/}
    pid=${pid%/environ}
    echo "  $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" >&2
  done
  exit 1
fi
exit "$status"
