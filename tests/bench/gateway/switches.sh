#!/usr/bin/env bash
# Context switches and CPU per request, per thread of roster-users and
# roster-gateway, under user(id) at CONN connections (default 2) for 5 s:
# /proc/PID/task/TID/status (voluntary_ctxt_switches,
# nonvoluntary_ctxt_switches) and stat (utime + stime) before and after.
#   tests/bench/gateway/switches.sh        (BUILD=build/gw-rel, CONN=2)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../../.."
build=${BUILD:-build/gw-rel}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DROSTER_TESTS=OFF >/dev/null
cmake --build "$build" --target roster-users roster-gateway -j2 >/dev/null
W=$(mktemp -d /tmp/roster-switches.XXXXXX)
b=$build
cleanup() {
    kill "${G:-}" "${U:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT INT TERM
$b/src/users/roster-users --data $W --listen ipc://$W/users.ipc --init-admin-key $W/admin.key 2>$W/u.log &
U=$!
for _ in $(seq 1 100); do [ -S $W/users.ipc ] && [ -s $W/admin.key ] && break; sleep 0.05; done
$b/gateway/roster-gateway --listen http://127.0.0.1:23391 --upstream ipc://$W/users.ipc --log-level warn 2>$W/g.log &
G=$!
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:23391/healthz && break; sleep 0.05; done
node tests/bench/gateway/seed.mjs http://127.0.0.1:23391/graphql 2000 $W/ids.txt "$(cat $W/admin.key)" >/dev/null 2>&1
snap() { for p in $U $G; do for t in /proc/$p/task/*; do echo "$p $(basename $t) $(cat $t/comm) $(awk '/voluntary_ctxt_switches/{print $2}' $t/status | paste -sd' ') $(awk '{print $14+$15}' $t/stat)"; done; done; }
snap > $W/before
out=$(wrk -t1 -c${CONN:-2} -d5s -s tests/bench/gateway/gql.lua http://127.0.0.1:23391/graphql -- user $W/ids.txt cs "$(cat $W/admin.key)" | sed -n 's/^RESULT //p')
snap > $W/after
echo "$out"
reqs=$(echo "$out" | sed 's/.*"requests":\([0-9]*\).*/\1/')
echo "requests: $reqs"
# per thread, then per process: switches and CPU per request
awk -v n="$reqs" -v hz="$(getconf CLK_TCK)" '
    NR == FNR { v[$2] = $4; iv[$2] = $5; c[$2] = $6; next }
    ($2 in v) {
        dv = $4 - v[$2]; di = $5 - iv[$2]; dc = $6 - c[$2]
        if (dv + di == 0) next
        printf "%s %-16s vol/req %.2f invol/req %.2f cpu %.1f us/req\n", $1, $3, dv / n, di / n, dc / hz / n * 1e6
        tv[$1] += dv; ti[$1] += di; tc[$1] += dc
    }
    END { for (p in tv) printf "%s total vol/req %.2f invol/req %.2f cpu %.1f us/req\n", p, tv[p] / n, ti[p] / n, tc[p] / hz / n * 1e6 }
' "$W/before" "$W/after"
