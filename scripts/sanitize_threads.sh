#!/usr/bin/env bash
# The thread checks of the suite, in build-tsan/ (clang, -O1), under
# ThreadSanitizer, in two parts:
#   unit     the unit tests whose code runs threads: storage's (the
#            engines and stores, RocksDB's threads with the engine's) and the
#            server's (worker pools, delay queue, health service);
#            replication/ starts no thread, and its tests run in one;
#   cluster  the multi-process tests of the threaded paths: a 3-node
#            cluster under a concurrent put/get load with a kill and a
#            restart (client calls, replica batches, write groups, the
#            failure detector, read repair), a sloppy put whose hint a
#            fallback hands back once the home returns (the ticker thread's
#            handoff), and an anti-entropy repair between real nodes.
# kvnode inherits TSAN_OPTIONS, so a race in a node fails the run too,
# report printed. Only what runs here is built here: every program's lock
# annotations are checked by the clang build of build/ (scripts/build.sh).
# Suppressions (tests/tsan/suppressions.txt) cover only the uninstrumented
# libraries' internals.
#
#   scripts/sanitize_threads.sh               build, then run both parts
#   scripts/sanitize_threads.sh --build-only  build and stop
#   scripts/sanitize_threads.sh --part P      bring the tree up to date, run
#                                             part P (ctest runs each part
#                                             as a test: tsan_unit,
#                                             tsan_cluster)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-tsan
started=$(date +%s)
mode=${1:-all}
part=${2:-}

build() {
  scripts/sanitizer_build.sh "$@" $dir thread storage_tests server_tests integration_tests
}

# Runs one part; its reports go to a directory of its own, so that the two
# parts can run side by side.
run_part() {
  local reports=$PWD/$dir/tsan-reports/$1 status=0
  rm -rf "$reports" && mkdir -p "$reports"
  export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 ignore_noninstrumented_modules=1 \
suppressions=$PWD/tests/tsan/suppressions.txt log_path=$reports/report"
  # Without address-space randomization (setarch -R, inherited by the
  # kvnode processes a test starts): clang 14's TSan cannot map its shadow
  # memory on kernels that randomize with more bits than it expects.
  run() {
    echo "sanitize_threads: $*"
    setarch "$(uname -m)" -R "$@" --gtest_brief=1 || status=1
  }
  case $1 in
    unit)
      run $dir/bin/storage_tests
      run $dir/bin/server_tests
      ;;
    cluster)
      run $dir/bin/integration_tests --gtest_filter='ConcurrentLoadTest.*:SloppyQuorumTest.PutWithAHomeReplicaDownGoesToAFallbackAndTheHintComesBack:AntiEntropyRepairTest.AReplicaThatWasDown*'
      ;;
    *)
      echo "sanitize_threads: no part '$1' (unit, cluster)" >&2
      return 2
      ;;
  esac
  if compgen -G "$reports/report.*" >/dev/null; then
    echo "sanitize_threads: ThreadSanitizer reported races:" >&2
    cat "$reports"/report.* >&2
    status=1
  fi
  return $status
}

case $mode in
  --build-only)
    echo "sanitize_threads: building the tests and the programs they start, under TSan ($dir/)"
    build
    echo "sanitize_threads: built in $(( $(date +%s) - started )) s"
    exit 0
    ;;
  --part)
    build --if-built
    parts=("$part")
    ;;
  all)
    echo "sanitize_threads: building the tests and the programs they start, under TSan ($dir/)"
    build
    parts=(unit cluster)
    ;;
  *)
    echo "usage: scripts/sanitize_threads.sh [--build-only | --part unit|cluster]" >&2
    exit 2
    ;;
esac

status=0
for p in "${parts[@]}"; do run_part "$p" || status=1; done
if [[ $status != 0 ]]; then
  echo "sanitize_threads: FAILED (${parts[*]})" >&2
  exit 1
fi
echo "sanitize_threads: no race reported (${parts[*]}; $(( $(date +%s) - started )) s)"
