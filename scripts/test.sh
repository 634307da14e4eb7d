#!/usr/bin/env bash
# Quick start 2 (and CI): set up, build, run the whole test suite:
#   1. builds build/ (clang, every program's lock annotations checked by
#      -Wthread-safety), build-tsan/ (ThreadSanitizer) and build-asan/
#      (AddressSanitizer + UBSan), each only what it runs: side by side
#      after a small change, one after another otherwise;
#   2. one ctest run over build/: unit, simulation (1000 fresh seeds),
#      integration (real processes), scenario and benchmark smoke tests,
#      and the sanitizer passes (label "sanitizer"): the unit tests whose
#      code starts threads and the multi-process tests of the threaded paths
#      under ThreadSanitizer, any race report failing the run
#      (scripts/sanitize_threads.sh); the
#      replication core, storage and the simulator under ASan + UBSan
#      (scripts/sanitize_memory.sh).
# QKV_SANITIZERS=0 skips the sanitizer trees and passes. Each step prints
# how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "test.sh: $1 ($(( $(date +%s) - start )) s so far)"; }

scripts/setup.sh

logs=build-logs
mkdir -p "$logs"
builds=(build)
[[ "${QKV_SANITIZERS:-1}" != 0 ]] && builds+=(build-tsan build-asan)

# Builds tree $1, its output to build-logs/$1.log.
build_tree() {
  local began
  began=$(date +%s)
  case $1 in
    build) scripts/build.sh ;;
    build-tsan) scripts/sanitize_threads.sh --build-only ;;
    build-asan) scripts/sanitize_memory.sh --build-only ;;
  esac || return  # errexit does not reach here from the `||` below
  echo "test.sh: $1/ built in $(( $(date +%s) - began )) s"
}

# Side by side when little is to rebuild (after a one-file change each tree
# compiles a batch and links, which leaves a core idle that the others fill:
# 47 -> 18 s here). One after another when much is (a tree never built, a
# header most files include): each tree then keeps both cores busy, and six
# compilers on two cores cost more than they gain (a cold build took 481 s
# side by side, about 420 one after another).
side_by_side=1
for b in "${builds[@]}"; do [[ -f $b/build.ninja ]] || side_by_side=0; done
if [[ $side_by_side == 1 ]]; then
  pending=$(ninja -C build -n 2>/dev/null | grep -c '^\[' || true)
  (( pending <= 40 )) || side_by_side=0
fi
failed=()
if [[ $side_by_side == 1 ]]; then
  echo "test.sh: building ${builds[*]} side by side (output in $logs/)"
  declare -A pids
  for b in "${builds[@]}"; do
    build_tree "$b" >"$logs/$b.log" 2>&1 &
    pids[$b]=$!
  done
  for b in "${builds[@]}"; do
    if wait "${pids[$b]}"; then
      tail -n 1 "$logs/$b.log"
    else
      cat "$logs/$b.log"
      failed+=("$b/")
    fi
  done
else
  for b in "${builds[@]}"; do
    build_tree "$b" 2>&1 | tee "$logs/$b.log" || failed+=("$b/")
  done
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "test.sh: the build of ${failed[*]} failed (above)" >&2
  exit 1
fi
step "built ${builds[*]}"

# Four at a time on two cores: most tests wait on processes and sockets
# (clusters, scenarios, the ThreadSanitizer cluster); the simulator's two
# threads take two slots.
filter=()
if [[ "${QKV_SANITIZERS:-1}" == 0 ]]; then
  filter=(-LE sanitizer)
else
  export QKV_REQUIRE_SANITIZERS=1
fi
ctest --test-dir build --output-on-failure -j 4 --timeout 600 "${filter[@]}"
step "ctest passed"
echo "test.sh: all passed in $(( $(date +%s) - start )) s"
