#!/usr/bin/env bash
# Copies the GraphiQL page's assets into vendor/ from the npm packages
# pinned in package-lock.json. Run after changing the versions in
# package.json (then `npm install --package-lock-only` first); the gateway's
# build uses only vendor/, so it never needs npm or the network.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$tmp/"
(cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
m=$tmp/node_modules
v=$here/vendor
rm -rf "$v"
mkdir -p "$v"
cp "$m/graphiql/graphiql.min.js" "$m/graphiql/graphiql.min.css" "$v/"
cp "$m/react/umd/react.production.min.js" "$v/"
cp "$m/react-dom/umd/react-dom.production.min.js" "$v/"
for p in graphiql react react-dom; do
    node -e 'const p=require(process.argv[1]);console.log(p.name+" "+p.version+" "+p.license)' \
        "$m/$p/package.json"
done >"$v/VERSIONS"
# One file with every license, served at /graphiql/LICENSES.txt.
for p in graphiql react react-dom; do
    printf '%s\n\n' "== $(sed -n 1p <(grep "^$p " "$v/VERSIONS")) =="
    cat "$m/$p/LICENSE"
    printf '\n'
done >"$v/LICENSES.txt"
cat "$v/VERSIONS"
