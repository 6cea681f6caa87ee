#!/usr/bin/env bash
# Builds Roster with AddressSanitizer and UndefinedBehaviorSanitizer in
# build/test and runs every test suite through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build/test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DROSTER_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
# Leak checking stays on; Check forks each test so a leak fails that test.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
# nng 1.5.2 can leave a few of its objects unreclaimed at
# exit; see the file for the function it covers.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan-nng.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
