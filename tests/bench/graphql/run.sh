#!/usr/bin/env bash
# The GraphQL engine benchmark: builds Release in build/oracle-rel, runs our
# engine (bench_graphql) and graphql-js / graphql-jit (bench.js) on the same
# documents in the same run, and prints the table with ratios.
# The two alternate for ROUNDS rounds and each figure is the best of its
# rounds, since the machine is shared and other work comes and goes.
#   tests/bench/graphql/run.sh [SECONDS_PER_MEASUREMENT [ROUNDS]]   (0.5, 3)
set -euo pipefail
cd "$(dirname "$0")/../../.."
seconds=${1:-0.5}
rounds=${2:-3}
here=tests/bench/graphql
build=build/oracle-rel
schema=gateway/schema.graphql

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bench_graphql -j2 >/dev/null

npm_dir=$build/bench-graphql-npm
mkdir -p "$npm_dir"
if [ ! -d "$npm_dir/node_modules/graphql" ] || ! cmp -s "$here/package-lock.json" "$npm_dir/package-lock.json"; then
    cp "$here/package.json" "$here/package-lock.json" "$npm_dir/"
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
mods=$PWD/$npm_dir/node_modules
echo "node $(node --version), graphql $(node -p "require('$mods/graphql/package.json').version"), graphql-jit $(node -p "require('$mods/graphql-jit/package.json').version" 2>/dev/null || echo none)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); ${seconds}s per measurement, best of $rounds rounds"
for round in $(seq "$rounds"); do
    "$build/tests/graphql-oracle/bench/bench_graphql" "$here/docs" "$schema" "$seconds" >>"$results"
    NODE_PATH="$mods" node "$here/bench.js" "$here/docs" "$schema" "$seconds" >>"$results"
done
node "$here/report.js" "$results"
