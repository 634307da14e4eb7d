#!/usr/bin/env bash
# Quick start 2 (and CI): set up, build, run the whole test suite: unit,
# integration (real processes) and simulation tests under ctest, then the
# replication core, storage and simulator again under ASan + UBSan.
# QKV_SANITIZERS=0 skips the sanitizer pass.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j 2 --timeout 600

if [[ "${QKV_SANITIZERS:-1}" != 0 ]]; then
  echo "test.sh: ASan + UBSan build of the core, storage and simulator (build-asan/)"
  if [[ ! -f build-asan/build.ninja ]]; then
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DQKV_SANITIZE=address,undefined >/dev/null
  fi
  cmake --build build-asan --target unit_tests sim_tests kvsim
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
  build-asan/bin/unit_tests --gtest_brief=1
  build-asan/bin/sim_tests --gtest_brief=1
  build-asan/bin/kvsim --seeds 300
fi
echo "test.sh: all passed in $(( $(date +%s) - start )) s"
