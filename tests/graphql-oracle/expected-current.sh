#!/usr/bin/env bash
# Checks with graphql-js that the committed expected verdicts are what
# oracle.js produces for the committed corpus.
#   expected-current.sh NODE NODE_MODULES_DIR SCHEMA CORPUS_DIR EXPECTED_DIR
set -euo pipefail
node=$1
modules=$2
if [ ! -d "$modules/graphql" ]; then
    echo "graphql npm package not installed: skipping"
    exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
NODE_PATH="$modules" ORACLE_SCHEMA="$3" "$node" "$here/oracle.js" check "$4" "$5"
