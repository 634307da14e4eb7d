#!/usr/bin/env bash
# Quick start 2 (and CI): set up, build, run the whole test suite:
#   1. builds, side by side: build/ (clang, every program's lock annotations
#      checked by -Wthread-safety), build-tsan/ (ThreadSanitizer) and
#      build-asan/ (AddressSanitizer + UBSan), each only what it runs;
#   2. one ctest run over build/: unit, simulation (1000 fresh seeds),
#      integration (real processes), scenario and benchmark smoke tests,
#      and the sanitizer passes (label "sanitizer"): the unit tests and the
#      multi-process tests of the threaded paths under ThreadSanitizer, any
#      race report failing the run (scripts/sanitize_threads.sh); the
#      replication core, storage and the simulator under ASan + UBSan
#      (scripts/sanitize_memory.sh).
# QKV_SANITIZERS=0 skips the sanitizer trees and passes. Each step prints
# how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "test.sh: $1 ($(( $(date +%s) - start )) s so far)"; }

scripts/setup.sh

# The three trees build side by side: each one's compile ends in a few
# long links and unity batches that leave a core idle, which the others
# fill. Each build's output is in build-logs/ and printed when it ends.
logs=build-logs
mkdir -p "$logs"
builds=(build)
[[ "${QKV_SANITIZERS:-1}" != 0 ]] && builds+=(build-tsan build-asan)
declare -A pids
for b in "${builds[@]}"; do
  (
    began=$(date +%s)
    case $b in
      build) scripts/build.sh ;;
      build-tsan) scripts/sanitize_threads.sh --build-only ;;
      build-asan) scripts/sanitize_memory.sh --build-only ;;
    esac
    echo "test.sh: $b/ built in $(( $(date +%s) - began )) s"
  ) >"$logs/$b.log" 2>&1 &
  pids[$b]=$!
done
failed=()
for b in "${builds[@]}"; do
  if wait "${pids[$b]}"; then
    tail -n 1 "$logs/$b.log"
  else
    cat "$logs/$b.log"
    failed+=("$b/")
  fi
done
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
