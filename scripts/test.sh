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
# 2 and 3 build in the background, at the lowest priority, while 1's tests
# run. QKV_SANITIZERS=0 skips 2 and 3. Each step prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "test.sh: $1 ($(( $(date +%s) - start )) s so far)"; }

scripts/setup.sh
scripts/build.sh
step "built build/"

sanitizers=${QKV_SANITIZERS:-1}
if [[ $sanitizers != 0 ]]; then
  # The sanitizer trees build meanwhile, at the lowest priority: most ctest
  # tests wait on processes and sockets, and the builds take the CPU they
  # leave (the tests' processes come first whenever they want it).
  # In a process group of their own, stopped if this script stops early.
  sanitizer_log=$PWD/build/sanitizer-builds.log
  setsid nice -n 19 bash -c 'scripts/sanitize_threads.sh --build-only &&
    scripts/sanitize_memory.sh --build-only' >"$sanitizer_log" 2>&1 &
  sanitizer_builds=$!
  trap 'kill -- -"$sanitizer_builds" 2>/dev/null || true' EXIT
fi

# Four at a time on two cores: most tests wait on processes and sockets
# (clusters, scenarios); the simulator's 2 threads take two slots.
ctest --test-dir build --output-on-failure -j 4 --timeout 600
step "ctest passed"

if [[ $sanitizers != 0 ]]; then
  if ! wait "$sanitizer_builds"; then
    cat "$sanitizer_log" >&2
    echo "test.sh: the sanitizer builds failed (above)" >&2
    exit 1
  fi
  step "sanitizer builds done ($(grep -h 'built in' "$sanitizer_log" | tr '\n' ' '))"
  scripts/sanitize_threads.sh
  step "ThreadSanitizer pass passed"
  scripts/sanitize_memory.sh
  step "AddressSanitizer + UBSan pass passed"
fi
echo "test.sh: all passed in $(( $(date +%s) - start )) s"
