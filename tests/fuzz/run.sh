#!/usr/bin/env bash
# Builds the GraphQL fuzzers with clang (libFuzzer, ASan, UBSan) in
# build/fuzz and runs each for SECONDS, starting from the committed seeds.
# New interesting inputs go to build/fuzz/corpus/<harness>/ (never into the
# committed seeds); crashes are written to tests/fuzz/crashes/.
#   tests/fuzz/run.sh SECONDS
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:?usage: tests/fuzz/run.sh SECONDS}
build=build/fuzz
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DROSTER_FUZZ=ON -DROSTER_SANITIZE=ON >/dev/null
cmake --build "$build" --target fuzz_parse fuzz_validate fuzz_execute -j2 >/dev/null
mkdir -p tests/fuzz/crashes
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for h in parse validate execute; do
    work=$build/corpus/$h
    mkdir -p "$work"
    log=$build/fuzz_$h.log
    echo "== fuzz_$h for ${seconds}s"
    if "$build/tests/fuzz/fuzz_$h" -max_total_time="$seconds" -print_final_stats=1 \
        -dict=tests/fuzz/graphql.dict -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="tests/fuzz/crashes/$h-" "$work" "tests/fuzz/seeds/$h" >"$log" 2>&1; then
        :
    else
        status=1
        echo "fuzz_$h found a problem; see $log and tests/fuzz/crashes/"
    fi
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)' "$log" || tail -5 "$log"
done
exit $status
