#!/usr/bin/env bash
# Usage: clang_tidy.sh <clang-tidy> <source dir> <build dir>
# Runs clang-tidy (the checks of .clang-tidy, warnings are errors) over the
# library's sources, src/*.cpp and src/mpi/*.cpp, with the build's
# compile_commands.json, two files at a time (the CI machine has two cores).
# Prints the findings only, without clang-tidy's counts of suppressed ones.
set -uo pipefail
clang_tidy=$1
source_dir=$2
build_dir=$3
cd "$source_dir" || exit 1
files=(src/*.cpp)
# connectors::mpi's sources only if the build compiles them.
if grep -q '"file": ".*/src/mpi/' "$build_dir/compile_commands.json"; then files+=(src/mpi/*.cpp); fi
printf '%s\0' "${files[@]}" | xargs -0 -P2 -n1 "$clang_tidy" --quiet -p "$build_dir" 2>&1 |
  grep -v '^[0-9]* warnings\? generated\.$'
status=${PIPESTATUS[1]}
if ((status != 0)); then echo "clang-tidy found problems in ${#files[@]} files (or failed): see above" >&2; fi
exit "$status"
