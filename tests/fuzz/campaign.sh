#!/usr/bin/env bash
# A long fuzzing campaign: builds the libFuzzer harnesses like run.sh (in
# build/fuzz) and runs each named harness, one at a time and niced, for
# RUNS executions (or until SECONDS when given; 0 = no time limit), in a
# single process so a crash or leak stops that harness at once. The corpus
# grows in build/fuzz/corpus/<harness>/ (started from the committed seeds),
# crashing inputs go to tests/fuzz/crashes/, logs to
# build/fuzz/campaign/<harness>.log. Prints, per harness: executions,
# seconds, corpus size and whether it stopped at a crash.
#   tests/fuzz/campaign.sh RUNS SECONDS HARNESS...
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:?usage: tests/fuzz/campaign.sh RUNS SECONDS HARNESS...}
seconds=${2:?usage: tests/fuzz/campaign.sh RUNS SECONDS HARNESS...}
shift 2
build=build/fuzz
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DROSTER_FUZZ=ON -DROSTER_SANITIZE=ON >/dev/null
for h in "$@"; do
    nice -n 10 cmake --build "$build" --target "fuzz_$h" -j2 >/dev/null
done
mkdir -p tests/fuzz/crashes "$build/campaign"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for h in "$@"; do
    work=$build/corpus/$h
    mkdir -p "$work"
    log=$build/campaign/$h.log
    t0=$(date +%s)
    rc=0
    nice -n 10 "$build/tests/fuzz/fuzz_$h" -runs="$runs" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="tests/fuzz/crashes/$h-" "$work" "tests/fuzz/seeds/$h" >"$log" 2>&1 || rc=$?
    t1=$(date +%s)
    execs=$(grep -E '^stat::number_of_executed_units:' "$log" | awk '{print $2}' || true)
    [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    echo "fuzz_$h: execs=${execs:-?} seconds=$((t1 - t0)) corpus=$(ls "$work" | wc -l) exit=$rc"
    [ "$rc" -eq 0 ] || status=1
done
exit $status
