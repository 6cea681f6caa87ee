#!/usr/bin/env bash
# The GraphQL engine benchmark: builds Release in build/oracle-rel, runs our
# engine (bench_graphql) and graphql-js / graphql-jit (bench.js) on the same
# documents in the same run, and prints the table with ratios.
#   tests/bench/graphql/run.sh [SECONDS_PER_MEASUREMENT]   (default 1)
set -euo pipefail
cd "$(dirname "$0")/../../.."
seconds=${1:-1}
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
echo "node $(node --version), graphql $(node -p "require('$npm_dir/node_modules/graphql/package.json').version"), graphql-jit $(node -p "require('$npm_dir/node_modules/graphql-jit/package.json').version" 2>/dev/null || echo none)"
"$build/tests/graphql-oracle/bench/bench_graphql" "$here/docs" "$schema" "$seconds" >>"$results"
NODE_PATH="$npm_dir/node_modules" node "$here/bench.js" "$here/docs" "$schema" "$seconds" >>"$results"
node "$here/report.js" "$results"
