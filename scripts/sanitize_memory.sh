#!/usr/bin/env bash
# The memory checks of the suite, in build-asan/ (clang, -O1, AddressSanitizer
# + UndefinedBehaviorSanitizer, lock annotations checked), in three parts:
#   unit   the replication core and storage unit tests;
#   kvsim  the simulator on seeds of its own (a fresh base seed, printed;
#          the simulator's own tests run in ctest);
#   fuzz   each libFuzzer target (tests/fuzz) for QKV_FUZZ_SECONDS (default
#          10) from its seed corpus, new inputs kept in a temporary
#          directory; a crash, leak or failed check fails the part and
#          leaves the input in build-asan/fuzz-crashes/.
# Nothing here links gRPC.
#
#   scripts/sanitize_memory.sh               build, then run every part
#   scripts/sanitize_memory.sh --build-only  build and stop
#   scripts/sanitize_memory.sh --part P      bring the tree up to date, run
#                                            part P (ctest runs each part as
#                                            a test: asan_unit, asan_kvsim,
#                                            asan_fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-asan
started=$(date +%s)
mode=${1:-all}
part=${2:-}

build() {
  scripts/sanitizer_build.sh "$@" $dir address,undefined core_tests kvsim "${fuzz_targets[@]}"
}

fuzz_targets=(fuzz_object_codec fuzz_context fuzz_request fuzz_config fuzz_scenario)

# Runs fuzz target $1 for QKV_FUZZ_SECONDS; prints its executions.
fuzz() {
  local name=${1#fuzz_} scratch log
  scratch=$(mktemp -d)  # the new inputs (libFuzzer reads every file in it)
  log=$(mktemp)
  mkdir -p "$dir/fuzz-crashes"
  if ! "$dir/bin/$1" -max_total_time="${QKV_FUZZ_SECONDS:-10}" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$dir/fuzz-crashes/$1-" "$scratch" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
    cat "$log"
    rm -rf "$scratch" "$log"
    echo "sanitize_memory: $1 failed (input in $dir/fuzz-crashes/)" >&2
    return 1
  fi
  echo "sanitize_memory: $1: $(grep -o 'number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$') executions in ${QKV_FUZZ_SECONDS:-10} s, clean"
  rm -rf "$scratch" "$log"
}

run_part() {
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
  echo "sanitize_memory: $1"
  case $1 in
    unit) $dir/bin/core_tests --gtest_brief=1 ;;
    kvsim) $dir/bin/kvsim --seeds 200 --seed random --jobs 2 ;;
    fuzz) for t in "${fuzz_targets[@]}"; do fuzz "$t"; done ;;
    *)
      echo "sanitize_memory: no part '$1' (unit, kvsim, fuzz)" >&2
      return 2
      ;;
  esac
}

case $mode in
  --build-only)
    echo "sanitize_memory: building the core, storage, the simulator and the fuzz targets under ASan + UBSan ($dir/)"
    build
    echo "sanitize_memory: built in $(( $(date +%s) - started )) s"
    exit 0
    ;;
  --part)
    build --if-built
    parts=("$part")
    ;;
  all)
    echo "sanitize_memory: building the core, storage, the simulator and the fuzz targets under ASan + UBSan ($dir/)"
    build
    parts=(unit kvsim fuzz)
    ;;
  *)
    echo "usage: scripts/sanitize_memory.sh [--build-only | --part unit|kvsim|fuzz]" >&2
    exit 2
    ;;
esac

for p in "${parts[@]}"; do run_part "$p"; done
echo "sanitize_memory: passed (${parts[*]}; $(( $(date +%s) - started )) s)"
