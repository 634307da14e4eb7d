#!/usr/bin/env bash
# Configures (once) and builds a clang sanitizer build of quorumkv:
#   scripts/sanitizer_build.sh DIR SANITIZERS TARGET...
# e.g. scripts/sanitizer_build.sh build-tsan thread core_tests kvnode.
# -O1 with line tables only: fast enough to run, reports with file:line.
# Under clang every program's lock annotations are checked too.
# Builds of one DIR take turns (a lock in DIR): the sanitizer tests under
# ctest each bring their tree up to date before they run, side by side.
# With --if-built first (the sanitizer tests under ctest): a DIR never built
# is not built now but skipped, exit 77 (ctest's skip code), unless
# QKV_REQUIRE_SANITIZERS=1 (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if_built=0
if [[ "${1:-}" == --if-built ]]; then
  if_built=1
  shift
fi
dir=$1
sanitizers=$2
shift 2
if [[ $if_built == 1 && ! -f $dir/build.ninja && "${QKV_REQUIRE_SANITIZERS:-0}" != 1 ]]; then
  echo "skipped: $dir/ is not built (scripts/test.sh builds it)"
  exit 77
fi
mkdir -p "$dir"
exec 9>"$dir/.build-lock"
flock 9
if [[ ! -f $dir/build.ninja ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DQKV_SANITIZE="$sanitizers" >/dev/null
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j "${QKV_BUILD_JOBS:-$(nproc)}" "${targets[@]}"
