#!/usr/bin/env bash
# The memory checks of the suite, in build-asan/ (clang, -O1, AddressSanitizer
# + UndefinedBehaviorSanitizer, lock annotations checked): the replication
# core and storage unit tests, and kvsim on seeds of its own (a fresh base
# seed, printed; the simulator's own tests run in ctest). Nothing here links
# gRPC.
# With --build-only it builds and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-asan
started=$(date +%s)
echo "sanitize_memory: building the core, storage and simulator under ASan + UBSan ($dir/)"
scripts/sanitizer_build.sh $dir address,undefined core_tests kvsim
echo "sanitize_memory: built in $(( $(date +%s) - started )) s"
[[ "${1:-}" == --build-only ]] && exit 0
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
echo "sanitize_memory: core_tests"
$dir/bin/core_tests --gtest_brief=1
echo "sanitize_memory: kvsim"
$dir/bin/kvsim --seeds 200 --seed random --jobs 2
echo "sanitize_memory: ran in $(( $(date +%s) - started )) s with the build"
