#!/usr/bin/env bash
# The thread checks of the suite, in build-tsan/ (clang, -O1), under
# ThreadSanitizer: the unit tests (the write groups, call batchers, stores
# and engines with their threads), the server's tests, and the
# multi-process tests of the threaded paths: a 3-node cluster under a
# concurrent put/get load with a kill and a restart (client calls, replica
# batches, write groups, the failure detector, read repair), a sloppy put
# whose hint a fallback hands back once the home returns (the ticker
# thread's handoff), and an anti-entropy repair between real nodes. kvnode
# inherits TSAN_OPTIONS, so a race in a node fails the run too, report
# printed. Only what runs here is built here: every program's lock
# annotations are checked by the clang build of build/ (scripts/build.sh).
# Suppressions (tests/tsan/suppressions.txt) cover only the uninstrumented
# libraries' internals.
# With --build-only it builds and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-tsan
started=$(date +%s)
echo "sanitize_threads: building the tests and the programs they start, under TSan ($dir/)"
scripts/sanitizer_build.sh $dir thread core_tests server_tests integration_tests
echo "sanitize_threads: built in $(( $(date +%s) - started )) s"
[[ "${1:-}" == --build-only ]] && exit 0

reports=$PWD/$dir/tsan-reports
rm -rf "$reports" && mkdir -p "$reports"
export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 ignore_noninstrumented_modules=1 \
suppressions=$PWD/tests/tsan/suppressions.txt log_path=$reports/report"
status=0
# Without address-space randomization (setarch -R, inherited by the kvnode
# processes a test starts): clang 14's TSan cannot map its shadow memory on
# kernels that randomize with more bits than it expects.
run() {
  echo "sanitize_threads: $*"
  setarch "$(uname -m)" -R "$@" --gtest_brief=1 || status=1
}
run $dir/bin/core_tests
run $dir/bin/server_tests
run $dir/bin/integration_tests \
  --gtest_filter='ConcurrentLoadTest.*:SloppyQuorumTest.PutWithAHomeReplicaDownGoesToAFallbackAndTheHintComesBack:AntiEntropyRepairTest.AReplicaThatWasDown*'

if compgen -G "$reports/report.*" >/dev/null; then
  echo "sanitize_threads: ThreadSanitizer reported races:" >&2
  cat "$reports"/report.* >&2
  status=1
fi
if [[ $status != 0 ]]; then
  echo "sanitize_threads: FAILED" >&2
  exit 1
fi
echo "sanitize_threads: no race reported (ran in $(( $(date +%s) - started )) s with the build)"
