#!/usr/bin/env bash
# One tenant's pages beside pages over every tenant (measures, never
# fails on time): the latency of a tenant's page of users through
# roster-gateway, alone and while other clients ask for pages of users
# over every tenant ordered by email, on a store with many tenants, where
# each such page merges every tenant's range of the email index.
#
#   STORE=/var/tmp/sb5k tests/bench/gateway/merge-lanes.sh [USERS_BIN]
#
# STORE: a data directory with many tenants, made by storebench (for
# example `storebench --dir /var/tmp/sb5k --users 500000 --tenants 5000
# --gets 100 --pages 5 --scans 1 --no-sync`); its customData indexes
# plan:string and seats:integer are declared so that none is dropped. The
# first run mints an admin key into STORE.admin.key. USERS_BIN: the
# roster-users binary to run (default build/release's), to compare
# builds on the same store. CONNS clients ask for the pages over every
# tenant (default 2); DUR seconds per measurement (default 10). Loopback
# port 23312; everything else in a temporary directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

: "${STORE:?STORE must name a data directory made by storebench}"
users_bin=${1:-build/release/src/users/roster-users}
CONNS=${CONNS:-2}
DUR=${DUR:-10}
PORT=23312
[ -e "$STORE/data.mdb" ] || { echo "$STORE holds no store" >&2; exit 1; }

. "$here/store-daemons.sh"
bench_workdir roster-lanes

bench_start_on_store "$STORE" "$users_bin" build/release/gateway/roster-gateway "$PORT" \
    --merge-warn-tenants 0

body() { jq -cn --arg q "$1" '{query: $q}'; }
tenant=$(curl -s "$url" -H 'content-type: application/json' -H "authorization: Bearer $key" \
    -d "$(body '{ tenants(limit: 1) { data { id } } }')" | jq -r '.data.tenants.data[0].id')
body "{ users(filter: {tenantId: {equalTo: \"$tenant\"}}, order: {sort: EMAIL, order: ASC}, limit: 20) { totalCount data { id email } } }" >"$work/tenant.json"
body '{ users(order: {sort: EMAIL, order: ASC}, limit: 20) { totalCount data { id email } } }' >"$work/all.json"
for f in tenant all; do
    res=$(curl -s "$url" -H 'content-type: application/json' -H "authorization: Bearer $key" -d @"$work/$f.json")
    case "$res" in *'"errors"'*) echo "query failed: $res" >&2; exit 1 ;; esac
done

# run BODY CONNS SECONDS: wrk; prints its RESULT JSON.
run() {
    wrk -t1 -c"$2" -d"${3}s" -s "$here/gql.lua" "$url" -- body "$1" run "$key" |
        sed -n 's/^RESULT //p'
}
row() { jq -r --arg n "$1" '"| \($n) | \(.p50_us) | \(.p99_us) | \(.rps | floor) | \(.socket_errors + .non2xx) |"'; }

echo "roster-users: $users_bin"
echo "| requests | p50 us | p99 us | req/s | errors |"
echo "|---|---:|---:|---:|---:|"
run "$work/tenant.json" 1 "$DUR" | row "one tenant's page, alone (1 connection)"
run "$work/all.json" "$CONNS" $((DUR + 2)) >"$work/all.out" &
wrk_all=$!
sleep 1
run "$work/tenant.json" 1 "$DUR" | row "one tenant's page, beside pages over every tenant"
wait "$wrk_all"
row "pages over every tenant ($CONNS connections)" <"$work/all.out"
