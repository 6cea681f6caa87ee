#!/usr/bin/env bash
# Two gateway builds against one roster-users, alternating, in the same run
# (measures, never fails on time): for each round and workload, wrk on
# gateway A then gateway B, with each process's CPU time and context
# switches (all threads) per request. Then the B gateway's event-loop
# hand-back counters.
#   BIN_A=old/roster-gateway BIN_B=new/roster-gateway USERS_BIN=.../roster-users \
#     tests/bench/gateway/ab.sh
# Env: USERS (10000), CONN (32), DUR (5), ROUNDS (3), MODES ("user page"; gql.lua's
# modes: user page create mix), B_ARGS (extra gateway B options), PERF=1 records
# `perf record ${PERF_EV:--F 999} -g` of each gateway run into /tmp/perf-{A,B}-MODE.data.
# Loopback ports 23391-23392.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${BIN_A:?BIN_A: the first roster-gateway}" "${BIN_B:?BIN_B: the second}" "${USERS_BIN:?USERS_BIN: roster-users}"
USERS=${USERS:-10000} CONN=${CONN:-32} DUR=${DUR:-5} ROUNDS=${ROUNDS:-3}
MODES=${MODES:-"user page"}
work=$(mktemp -d /tmp/roster-gw-ab.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$work/data"
"$USERS_BIN" --data "$work/data" --listen "ipc://$work/u.ipc" --init-admin-key "$work/admin.key" \
    2>"$work/u.log" &
upid=$!
pids+=($upid)
for _ in $(seq 200); do [ -s "$work/admin.key" ] && break; sleep 0.05; done
key=$(cat "$work/admin.key")
"$BIN_A" --listen http://127.0.0.1:23391 --upstream "ipc://$work/u.ipc" --log-level warn \
    2>"$work/a.log" &
apid=$!
pids+=($apid)
# shellcheck disable=SC2086
"$BIN_B" --listen http://127.0.0.1:23392 --upstream "ipc://$work/u.ipc" --log-level warn \
    ${B_ARGS:-} 2>"$work/b.log" &
bpid=$!
pids+=($bpid)
for p in 23391 23392; do
    for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$p/healthz" && break; sleep 0.05; done
done
node "$here/seed.mjs" http://127.0.0.1:23391/graphql "$USERS" "$work/ids.txt" "$key" >/dev/null

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks, user + system
csw() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
tck=$(getconf CLK_TCK)
for r in $(seq "$ROUNDS"); do
    for mode in $MODES; do
        for gw in A B; do
            port=23391 gp=$apid
            [ $gw = B ] && port=23392 gp=$bpid
            if [ -n "${PERF:-}" ]; then
                # shellcheck disable=SC2086
                perf record ${PERF_EV:--F 999} -g -o "/tmp/perf-$gw-$mode.data" -p "$gp" \
                    -- sleep $((DUR - 1)) >/dev/null 2>&1 &
            fi
            g0=$(cpu $gp) u0=$(cpu $upid) c0=$(csw $gp)
            out=$(wrk -t2 -c"$CONN" -d"${DUR}s" -s "$here/gql.lua" "http://127.0.0.1:$port/graphql" \
                -- "$mode" "$work/ids.txt" "ab-$RANDOM" "$key" | sed -n 's/^RESULT //p')
            g1=$(cpu $gp) u1=$(cpu $upid) c1=$(csw $gp)
            [ -n "${PERF:-}" ] && wait "$(jobs -p | tail -1)" 2>/dev/null || true
            n=$(echo "$out" | sed 's/.*"requests":\([0-9]*\).*/\1/')
            echo "round=$r mode=$mode gw=$gw $out" \
                "gw_cpu_us_per_req=$(((g1 - g0) * 1000000 / tck / n))" \
                "users_cpu_us_per_req=$(((u1 - u0) * 1000000 / tck / n))" \
                "gw_ctx_switches_per_100_req=$(((c1 - c0) * 100 / n))"
        done
    done
done
curl -s -H "authorization: Bearer $key" http://127.0.0.1:23392/metrics |
    grep -E '^roster_gateway_loop_' | sed 's/^/B: /' || true
