#!/usr/bin/env bash
# Usage: clang_format.sh <clang-format> <source dir>
# Fails if a C++ file of the repository differs from its clang-format-14 form
# (.clang-format); `clang-format-14 -i <file>` fixes it. The files are git's
# tracked ones, or all under the usual directories outside a git checkout.
set -euo pipefail
clang_format=$1
cd "$2"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z -- '*.cpp' '*.hpp' '*.h' '*.cc'
else
  find benchmarks docs examples include src tests \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cc' \) -print0
fi | xargs -0 -r "$clang_format" --dry-run --Werror
