#!/usr/bin/env bash
# The memory checks of the suite, in build-asan/ (clang, -O1, AddressSanitizer
# + UndefinedBehaviorSanitizer, lock annotations checked), in two parts:
#   unit   the replication core and storage unit tests;
#   kvsim  the simulator on seeds of its own (a fresh base seed, printed;
#          the simulator's own tests run in ctest).
# Nothing here links gRPC.
#
#   scripts/sanitize_memory.sh               build, then run both parts
#   scripts/sanitize_memory.sh --build-only  build and stop
#   scripts/sanitize_memory.sh --part P      bring the tree up to date, run
#                                            part P (ctest runs each part as
#                                            a test: asan_unit, asan_kvsim)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-asan
started=$(date +%s)
mode=${1:-all}
part=${2:-}

build() {
  scripts/sanitizer_build.sh "$@" $dir address,undefined core_tests kvsim
}

run_part() {
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
  echo "sanitize_memory: $1"
  case $1 in
    unit) $dir/bin/core_tests --gtest_brief=1 ;;
    kvsim) $dir/bin/kvsim --seeds 200 --seed random --jobs 2 ;;
    *)
      echo "sanitize_memory: no part '$1' (unit, kvsim)" >&2
      return 2
      ;;
  esac
}

case $mode in
  --build-only)
    echo "sanitize_memory: building the core, storage and simulator under ASan + UBSan ($dir/)"
    build
    echo "sanitize_memory: built in $(( $(date +%s) - started )) s"
    exit 0
    ;;
  --part)
    build --if-built
    parts=("$part")
    ;;
  all)
    echo "sanitize_memory: building the core, storage and simulator under ASan + UBSan ($dir/)"
    build
    parts=(unit kvsim)
    ;;
  *)
    echo "usage: scripts/sanitize_memory.sh [--build-only | --part unit|kvsim]" >&2
    exit 2
    ;;
esac

for p in "${parts[@]}"; do run_part "$p"; done
echo "sanitize_memory: passed (${parts[*]}; $(( $(date +%s) - started )) s)"
