#!/usr/bin/env bash
# Replies by field mask (measures, never fails on time): the bytes of one
# ListUsers reply of 100 users with every field and with id only, and wrk
# requests/s of `users(limit: 100) { data { id } }` through the gateway.
#   tests/bench/gateway/ids.sh
# BUILD: a Release build holding roster-users and roster-gateway (default
# build/rel, configured and built here); HELPER: roster-users-reply-size
# (default $BUILD's); USERS users (default 1000) seeded through the gateway,
# each with about CUSTOM bytes of customData (default 0: none); CONN wrk
# connections (default 32), DUR seconds (default 5). Loopback port 23311.
# To measure an older revision, build it elsewhere and pass its build as
# BUILD with HELPER from this one (the helper's mask is an unknown field to
# a service without masks, which then sends every field).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

USERS=${USERS:-1000}
CUSTOM=${CUSTOM:-0}
CONN=${CONN:-32}
DUR=${DUR:-5}
build=${BUILD:-build/rel}
port=23311

if [ -z "${BUILD:-}" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" --target roster-users roster-gateway roster-users-reply-size -j2 >/dev/null
fi
helper=${HELPER:-$build/tests/users/roster-users-reply-size}

work="$(mktemp -d /tmp/roster-ids-bench.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/data"
"$build/src/users/roster-users" --data "$work/data" --listen "ipc://$work/users.ipc" \
    --init-admin-key "$work/admin.key" 2>"$work/users.log" &
pids+=($!)
for _ in $(seq 1 200); do [ -S "$work/users.ipc" ] && [ -s "$work/admin.key" ] && break; sleep 0.05; done
key=$(cat "$work/admin.key")
"$build/gateway/roster-gateway" --listen "http://127.0.0.1:$port" \
    --upstream "ipc://$work/users.ipc" --log-level warn 2>"$work/gateway.log" &
pids+=($!)
for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done

node "$here/seed.mjs" "http://127.0.0.1:$port/graphql" "$USERS" "$work/ids.txt" "$key" "$CUSTOM"

all=$("$helper" "ipc://$work/users.ipc" "$work/admin.key" 100)
ids=$("$helper" "ipc://$work/users.ipc" "$work/admin.key" 100 2)
body='{"query":"{ users(limit: 100) { data { id } } }"}'
http=$(curl -s "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' \
    -H "authorization: Bearer $key" -d "$body" | wc -c)
out=$(wrk -t2 -c"$CONN" -d"${DUR}s" -s "$here/gql.lua" "http://127.0.0.1:$port/graphql" \
    -- ids "" run "$key" | sed -n 's/^RESULT //p')
echo "users=$USERS custom=$CUSTOM build=$build"
echo "ListUsers(limit 100) every field: $all"
echo "ListUsers(limit 100) id only:     $ids"
echo "HTTP response bytes: $http"
echo "wrk users(limit: 100){data{id}}: $out"
