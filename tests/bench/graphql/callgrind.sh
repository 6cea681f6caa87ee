#!/usr/bin/env bash
# Instructions per operation of each engine phase on each benchmark
# document, from valgrind's callgrind (deterministic on a shared machine,
# unlike the wall-clock figures of run.sh).
#   tests/bench/graphql/callgrind.sh BENCH_GRAPHQL [OUT_DIR]
# BENCH_GRAPHQL is a bench_graphql binary of an optimized build, e.g.
#   cmake -S . -B build/rel -DCMAKE_BUILD_TYPE=Release -DROSTER_TESTS=ON
#   cmake --build build/rel -j2 --target bench_graphql
#   tests/bench/graphql/callgrind.sh build/rel/tests/graphql-oracle/bench/bench_graphql
# Each figure is the inclusive instruction count of the phase's entry point
# (gql_parse, gql_validate, gql_execute) summed over its calls from the
# measuring loop (run_batch, execute_once; not schema building) and divided
# by the number of those calls. bench_graphql runs each phase for a time, so
# the number of calls varies from run to run, but every call of one phase
# on one document does the same work.
set -euo pipefail
bin=$1
out=${2:-$(mktemp -d)}
cd "$(dirname "$0")/../../.."
here=tests/bench/graphql
schema=gateway/schema.graphql
mkdir -p "$out"
printf '%-14s %-9s %12s %7s\n' document phase instr/op calls
for doc in user_by_id users_page create_user introspection; do
    mkdir -p "$out/docs-$doc"
    cp "$here/docs/$doc.graphql" "$here/docs/$doc.json" "$out/docs-$doc/"
    for phase in parse validate execute; do
        f=gql_$phase
        cg=$out/cg.$doc.$phase
        valgrind --tool=callgrind --callgrind-out-file="$cg" --compress-strings=no \
            --compress-pos=no "$bin" "$out/docs-$doc" "$schema" 0.2 "$phase" >/dev/null 2>&1
        awk -v f="$f" -v doc="$doc" -v phase="$phase" '
            /^fn=/ { caller = substr($0, 4) ; next }
            /^cfn=/ { want = ($0 == "cfn=" f) && caller ~ /^(run_batch|execute_once|bench_measure)$/ ; next }
            /^calls=/ { if (want) { split(substr($0, 7), a, " "); calls += a[1]; take = 1 } ; next }
            take { ir += $2; take = 0; want = 0 }
            END { printf "%-14s %-9s %12d %7d\n", doc, phase, calls ? ir / calls : 0, calls }
        ' "$cg"
    done
done
