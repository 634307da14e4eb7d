#!/usr/bin/env bash
# Quick start 2 (and CI): set up, build, run the whole test suite:
#   1. build/ (clang, every program's lock annotations checked by
#      -Wthread-safety): unit, simulation (1000 fresh seeds), integration
#      (real processes), scenario and benchmark smoke tests, under ctest;
#   2. build-tsan/ (clang, ThreadSanitizer): the unit tests and the
#      multi-process tests of the threaded paths, with any race report
#      failing the run (scripts/sanitize_threads.sh);
#   3. build-asan/ (clang, AddressSanitizer + UBSan): the replication core
#      and storage unit tests, and the simulator (scripts/sanitize_memory.sh).
# 2 and 3 build one after the other, then run side by side.
# QKV_SANITIZERS=0 skips 2 and 3. Each step prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "test.sh: $1 ($(( $(date +%s) - start )) s so far)"; }

scripts/setup.sh
scripts/build.sh
step "built build/"
# Four at a time on two cores: most tests wait on processes and sockets
# (clusters, scenarios); the simulator's 2 threads take two slots.
ctest --test-dir build --output-on-failure -j 4 --timeout 600
step "ctest passed"

if [[ "${QKV_SANITIZERS:-1}" != 0 ]]; then
  scripts/sanitize_threads.sh --build-only
  scripts/sanitize_memory.sh --build-only
  step "sanitizer builds done"
  # The two passes side by side: the ThreadSanitizer pass mostly waits on
  # its cluster's processes (27 CPU-s in 47 s here), so together they take
  # about 55 s instead of 80. Each one's output follows when it ends.
  logs=build/sanitizer-logs
  mkdir -p "$logs"
  scripts/sanitize_threads.sh >"$logs/threads.log" 2>&1 &
  threads=$!
  scripts/sanitize_memory.sh >"$logs/memory.log" 2>&1 &
  memory=$!
  failed=()
  wait "$threads" || failed+=("ThreadSanitizer")
  cat "$logs/threads.log"
  wait "$memory" || failed+=("AddressSanitizer + UBSan")
  cat "$logs/memory.log"
  if [[ ${#failed[@]} -gt 0 ]]; then
    echo "test.sh: the ${failed[*]} pass failed (above)" >&2
    exit 1
  fi
  step "ThreadSanitizer and AddressSanitizer + UBSan passes passed"
fi
echo "test.sh: all passed in $(( $(date +%s) - start )) s"
