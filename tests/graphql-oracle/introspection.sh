#!/usr/bin/env bash
# Runs graphql-js's full introspection query through our engine and checks
# with graphql-js that buildClientSchema accepts the result and that its
# printSchema equals printSchema(buildSchema(schema.graphql)).
#   introspection.sh ORACLE_DRIVER SCHEMA CORPUS_DIR NODE NODE_MODULES_DIR
set -euo pipefail
driver=$1
schema=$2
corpus=$3
node=$4
modules=$5
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$modules/graphql" ]; then
    echo "graphql npm package not installed: skipping"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for mode in "" --async; do
    "$driver" run "$schema" "$corpus" int_full_query $mode >"$tmp/result.json"
    NODE_PATH="$modules" ORACLE_SCHEMA="$schema" "$node" "$here/oracle.js" introspection "$tmp/result.json"
done
