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
  scripts/sanitize_threads.sh
  step "ThreadSanitizer pass passed"
  scripts/sanitize_memory.sh
  step "AddressSanitizer + UBSan pass passed"
fi
echo "test.sh: all passed in $(( $(date +%s) - start )) s"
