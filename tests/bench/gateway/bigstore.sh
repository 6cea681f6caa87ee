#!/usr/bin/env bash
# Gateway benchmark on a big store (measures, never fails on time): the
# pages and filters of storebench asked through roster-gateway over HTTP,
# one connection at a time, so each line is the latency a client sees.
#
#   tests/bench/gateway/bigstore.sh                 (2,000,000 users)
#   USERS=10000000 STORE=/var/tmp/big tests/bench/gateway/bigstore.sh
#
# STORE: a data directory. Empty or missing: storebench fills it with USERS
# users in 100 tenants (and its customData indexes plan:string and
# seats:integer) and leaves it there; already filled by an earlier run:
# used as it is. Default: a temporary directory removed at the end. The
# first run on a store mints an admin key into STORE.admin.key (beside the
# directory); later runs on that store use it.
# DUR seconds per query (default 3); ORDERS the orders to run (default
# all nine sort fields, then customData:seats, the order by that customData
# index). For each order, over all users and within one tenant: the first
# page of 20, the page at offset 1,000, and the pages reached by cursor in
# the middle and at the end (each cursor is taken once from the page
# before it by offset; the measured requests then continue from it at
# constant cost). Then customData equality and range filters with exact
# totals beside the built-in firstName filter. The gateway's deadline is
# 60 s (the offset lookups of the cursors walk half the store). Loopback
# port 23311; everything else in a temporary directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

USERS=${USERS:-2000000}
DUR=${DUR:-3}
ORDERS=${ORDERS:-"CREATED_AT EMAIL FIRST_NAME LAST_NAME PHONE LOCALE TIMEZONE UPDATED_AT ACTIVE customData:seats"}
build=${BUILD:-build/release}
PORT=23311

./scripts/build-release.sh >/dev/null

. "$here/store-daemons.sh"
bench_workdir roster-bigstore
store_dir=${STORE:-$work/store}

mkdir -p "$store_dir"
if [ ! -e "$store_dir/data.mdb" ]; then
    echo "storebench: $USERS users into $store_dir ..." >&2
    "$build/tools/storebench/storebench" --dir "$store_dir" --users "$USERS" --gets 1000 \
        --pages 1 --scans 1 >"$work/storebench.log"
    grep -E '^(store|per user|load)' "$work/storebench.log" >&2 || true
fi

bench_start_on_store "$store_dir" "$build/src/users/roster-users" "$build/gateway/roster-gateway" "$PORT"

# gql QUERY: the response body of one request (fails on a GraphQL error).
gql() {
    local body res
    body=$(jq -cn --arg q "$1" '{query: $q}')
    res=$(curl -s "$url" -H 'content-type: application/json' -H "authorization: Bearer $key" -d "$body")
    case "$res" in *'"errors"'*)
        echo "query failed: $1 -> $res" >&2
        return 1
        ;;
    esac
    printf '%s' "$res"
}

# measure NAME QUERY: wrk on one connection; prints "NAME | p50 | p99 | req/s".
measure() {
    local name=$1 q=$2 out
    gql "$q" >/dev/null
    jq -cn --arg q "$q" '{query: $q}' >"$work/body.json"
    out=$(wrk -t1 -c1 -d"${DUR}s" -s "$here/gql.lua" "$url" -- body "$work/body.json" run "$key" |
        sed -n 's/^RESULT //p')
    echo "$out" | jq -r --arg n "$name" \
        '"| \($n) | \(.p50_us) | \(.p99_us) | \(.rps | floor) | \(.socket_errors + .non2xx) |"'
}

tenant=$(gql '{ tenants(limit: 1) { data { id } } }' | jq -r '.data.tenants.data[0].id')
echo "| query | p50 us | p99 us | req/s | errors |"
echo "|---|---:|---:|---:|---:|"
for sort in $ORDERS; do
    for scope in all tenant; do
        filter=""
        [ "$scope" = tenant ] && filter="filter: {tenantId: {equalTo: \"$tenant\"}}, "
        case "$sort" in
        customData:*) args="${filter}order: {order: ASC, customData: \"${sort#customData:}\"}" ;;
        *) args="${filter}order: {order: ASC, sort: $sort}" ;;
        esac
        total=$(gql "{ users($args, limit: 1) { totalCount } }" | jq '.data.users.totalCount')
        fields="data { id email } pageInfo { hasNextPage endCursor }"
        measure "$sort $scope first page" "{ users($args, limit: 20) { $fields } }"
        measure "$sort $scope offset 1000" "{ users($args, limit: 20, offset: 1000) { $fields } }"
        for at in middle end; do
            skip=$((total / 2))
            [ $at = end ] && skip=$((total - 40))
            cursor=$(gql "{ users($args, limit: 20, offset: $skip) { pageInfo { endCursor } } }" |
                jq -r '.data.users.pageInfo.endCursor')
            measure "$sort $scope cursor $at ($((skip + 20)) of $total)" \
                "{ users($args, limit: 20, after: \"$cursor\") { $fields } }"
        done
    done
done
t="filter: {tenantId: {equalTo: \"$tenant\"}, "
measure "firstName equalTo Ann, totalCount" \
    '{ users(filter: {firstName: {equalTo: "Ann"}}, limit: 20) { totalCount data { id } } }'
measure "customData plan equalTo Ann, totalCount" \
    '{ users(filter: {customData: [{path: "plan", equalTo: "Ann"}]}, limit: 20) { totalCount data { id } } }'
measure "customData seats lessThan 40, totalCount" \
    '{ users(filter: {customData: [{path: "seats", lessThan: 40}]}, limit: 20) { totalCount data { id } } }'
measure "customData seats moreThanEqual 960, totalCount" \
    '{ users(filter: {customData: [{path: "seats", moreThanEqual: 960}]}, limit: 20) { totalCount data { id } } }'
measure "one tenant firstName equalTo Ann, totalCount" \
    "{ users(${t}firstName: {equalTo: \"Ann\"}}, limit: 20) { totalCount data { id } } }"
measure "one tenant customData plan equalTo Ann, totalCount" \
    "{ users(${t}customData: [{path: \"plan\", equalTo: \"Ann\"}]}, limit: 20) { totalCount data { id } } }"
measure "user(id) (reference)" \
    "{ user(id: \"$(gql '{ users(limit: 1) { data { id } } }' | jq -r '.data.users.data[0].id')\") { id email } }"
