#!/usr/bin/env bash
# Builds the fuzzers with clang (libFuzzer, ASan, UBSan) in build/fuzz and
# runs each for SECONDS, one after the other, starting from the committed
# seeds: the GraphQL engine's (parse, validate, execute), the gateway's
# request decoding (gw_request), its CORS and GraphiQL decisions
# (gw_browser), its gRPC reflection answers (gw_grpc_reflection),
# roster-users' request handling (service), rosterctl's filter parser (ctl_filter) and loader (ctl_load),
# and the store's in-place customData reader (json_path).
# CI runs `tests/fuzz/run.sh 20` (about three minutes).
# New interesting inputs go to build/fuzz/corpus/<harness>/ (never into the
# committed seeds); crashing inputs are written to tests/fuzz/crashes/.
# Exit status 1 when a fuzzer found a crash.
#   tests/fuzz/run.sh SECONDS
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:?usage: tests/fuzz/run.sh SECONDS}
build=build/fuzz
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DROSTER_FUZZ=ON -DROSTER_SANITIZE=ON >/dev/null
harnesses="parse validate execute gw_request gw_browser gw_grpc_reflection service ctl_filter ctl_load json_path"
targets=""
for h in $harnesses; do targets="$targets fuzz_$h"; done
cmake --build "$build" --target $targets -j2 >/dev/null
mkdir -p tests/fuzz/crashes
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# -fork=1 with -ignore_*: a crash does not end the run, so each fuzzer gets
# its whole time; every crash found is written to tests/fuzz/crashes/.
status=0
for h in $harnesses; do
    work=$build/corpus/$h
    mkdir -p "$work"
    log=$build/fuzz_$h.log
    before=$(ls tests/fuzz/crashes | wc -l)
    echo "== fuzz_$h for ${seconds}s"
    dict=()
    case $h in parse | validate | execute) dict=(-dict=tests/fuzz/graphql.dict) ;; esac
    "$build/tests/fuzz/fuzz_$h" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$seconds" "${dict[@]}" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="tests/fuzz/crashes/$h-" "$work" "tests/fuzz/seeds/$h" >"$log" 2>&1 || status=1
    # The last status line: "#<execs>: cov: ... oom/timeout/crash: a/b/c time: Ns ..."
    grep -E '^#[0-9]+:' "$log" | tail -1
    after=$(ls tests/fuzz/crashes | wc -l)
    if [ "$after" -gt "$before" ]; then
        status=1
        echo "fuzz_$h: $((after - before)) new crash input(s) in tests/fuzz/crashes/ (log: $log)"
    fi
done
exit $status
