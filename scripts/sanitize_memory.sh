#!/usr/bin/env bash
# The memory checks of the suite, in build-asan/ (clang, -O1, AddressSanitizer
# + UndefinedBehaviorSanitizer, lock annotations checked): the replication
# core and storage unit tests, and kvsim on seeds of its own (a fresh base
# seed, printed; the simulator's own tests run in ctest). Nothing here links
# gRPC.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-asan
if [[ ! -f $dir/build.ninja ]]; then
  CC=clang CXX=clang++ cmake -S . -B $dir -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DQKV_SANITIZE=address,undefined >/dev/null
fi
echo "sanitize_memory: building the core, storage and simulator under ASan + UBSan ($dir/)"
cmake --build $dir -j "${QKV_BUILD_JOBS:-$(nproc)}" --target core_tests kvsim
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
echo "sanitize_memory: core_tests"
$dir/bin/core_tests --gtest_brief=1
echo "sanitize_memory: kvsim"
$dir/bin/kvsim --seeds 200 --seed random --jobs 2
