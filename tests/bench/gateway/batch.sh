#!/usr/bin/env bash
# Cross-request batching (measures, never fails on time): user(id) through
# two roster-gateways on one roster-users, one with --batch-lookups yes and
# one with no, in the same run. For each connection count in CONNS
# (default "32 256") the two are run ROUNDS times (default 3), alternating
# which goes first, so drift on a shared machine hits both alike. Prints
# one row per run (req/s, p50, p99, upstream RPCs and shared lookups per
# HTTP request from the gateway's /metrics, and CPU time per request of the
# gateway and of roster-users from /proc) and the on/off ratios of the
# medians.
#   tests/bench/gateway/batch.sh
# USERS users (default 10000) seeded through the gateway; DUR seconds per
# run (default 5); BUILD a Release build (default build/gw-rel, configured
# and built here); ON_ARGS more options for the "on" gateway (e.g.
# "--batch-in-flight 2"), OFF_ARGS the "off" gateway's batching options
# (default "--batch-lookups no"; "--batch-lookups yes" compares two
# batching settings). Loopback ports 23321-23322; NETNS=1 runs
# everything in a private network namespace (unshare -n), so no other
# process's ports collide. The requests carry the admin key roster-users
# mints at start.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

if [ "${NETNS:-0}" = 1 ] && [ -z "${ROSTER_IN_NETNS:-}" ]; then
    build=${BUILD:-build/gw-rel}
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DROSTER_TESTS=OFF >/dev/null
    cmake --build "$build" --target roster-users roster-gateway -j2 >/dev/null
    exec unshare -n bash -c 'ip link set lo up && ROSTER_IN_NETNS=1 BUILT=1 exec "$0"' "$0"
fi

USERS=${USERS:-10000}
DUR=${DUR:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-"32 256"}
build=${BUILD:-build/gw-rel}
P_ON=23321 P_OFF=23322

if [ -z "${BUILT:-}" ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DROSTER_TESTS=OFF >/dev/null
    cmake --build "$build" --target roster-users roster-gateway -j2 >/dev/null
fi

work="$(mktemp -d /tmp/roster-batch-bench.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

wait_http() { # url
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.05
    done
    echo "no answer from $1" >&2
    return 1
}

mkdir -p "$work/data"
"$build/src/users/roster-users" --data "$work/data" --listen "ipc://$work/users.ipc" \
    --init-admin-key "$work/admin.key" 2>"$work/users.log" &
users_pid=$!
pids+=($users_pid)
for _ in $(seq 1 200); do [ -S "$work/users.ipc" ] && [ -s "$work/admin.key" ] && break; sleep 0.05; done
key=$(cat "$work/admin.key")
for p in on off; do
    port=$P_ON batch=(--batch-lookups yes ${ON_ARGS:-})
    [ $p = off ] && port=$P_OFF batch=(${OFF_ARGS:---batch-lookups no})
    "$build/gateway/roster-gateway" --listen "http://127.0.0.1:$port" \
        --upstream "ipc://$work/users.ipc" "${batch[@]}" --log-level warn \
        2>"$work/gateway-$p.log" &
    pids+=($!)
    eval "pid_$p=$!"
    wait_http "http://127.0.0.1:$port/healthz"
done

echo "seeding $USERS users..." >&2
node "$here/seed.mjs" "http://127.0.0.1:$P_ON/graphql" "$USERS" "$work/ids.txt" "$key"

# Sum of a metric's samples whose line matches a pattern, from one gateway.
metric() { # port name [pattern]
    curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" -v pat="${3:-}" \
        'index($0, n) == 1 && (pat == "" || index($0, pat)) {s += $NF} END {printf "%d\n", s}'
}

# CPU time of a process so far, in clock ticks (utime + stime).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)

# One run: prints "name conns rps p50_us p99_us rpcs_per_req shared_per_req
# errors gw_cpu_us_per_req users_cpu_us_per_req".
run() { # name port conns
    local name=$1 port=$2 c=$3 r0 q0 s0 r1 q1 s1 out gpid g0 g1 u0 u1
    gpid=$(eval echo "\$pid_$name")
    g0=$(ticks "$gpid")
    u0=$(ticks "$users_pid")
    r0=$(metric "$port" roster_gateway_upstream_rpc_total)
    q0=$(metric "$port" roster_gateway_requests_total)
    s0=$(metric "$port" roster_gateway_upstream_batched_lookups_total)
    out=$(wrk -t"$((c < 2 ? 1 : 2))" -c"$c" -d"${DUR}s" -s "$here/gql.lua" "http://127.0.0.1:$port/graphql" -- \
        user "$work/ids.txt" run "$key" | sed -n 's/^RESULT //p')
    r1=$(metric "$port" roster_gateway_upstream_rpc_total)
    q1=$(metric "$port" roster_gateway_requests_total)
    s1=$(metric "$port" roster_gateway_upstream_batched_lookups_total)
    g1=$(ticks "$gpid")
    u1=$(ticks "$users_pid")
    node -e '
const [name, c, o, r, q, s, g, u, tck] = process.argv.slice(1);
const x = JSON.parse(o);
const us = (t) => ((t * 1e6) / tck / q).toFixed(1);
console.log([name, c, x.rps.toFixed(0), x.p50_us, x.p99_us, (r / q).toFixed(3), (s / q).toFixed(3),
  x.socket_errors + x.non2xx, us(g), us(u)].join(" "));' "$name" "$c" "$out" $((r1 - r0)) $((q1 - q0)) \
        $((s1 - s0)) $((g1 - g0)) $((u1 - u0)) "$tck"
}

# Warm both (page cache, document caches, connections).
DUR=2 run on $P_ON 32 >/dev/null
DUR=2 run off $P_OFF 32 >/dev/null

results="$work/results.txt"
: >"$results"
for c in $CONNS; do
    for i in $(seq 1 "$ROUNDS"); do
        if [ $((i % 2)) = 1 ]; then order="on off"; else order="off on"; fi
        for p in $order; do
            port=$P_ON
            [ $p = off ] && port=$P_OFF
            run $p $port "$c" | tee -a "$results" >&2
        done
    done
done

node - "$results" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => {
  const [name, conns, rps, p50, p99, rpcs, shared, errors, gcpu, ucpu] = l.split(' ');
  return { name, conns: +conns, rps: +rps, p50: +p50, p99: +p99, rpcs: +rpcs, shared: +shared, errors: +errors, gcpu: +gcpu, ucpu: +ucpu };
});
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[(s.length - 1) >> 1]; };
console.log('| connections | batching | run | req/s | p50 ms | p99 ms | upstream RPCs / request | shared lookups / request | gateway CPU µs / request | roster-users CPU µs / request | errors |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const seen = {};
for (const r of rows) {
  const k = `${r.conns}-${r.name}`;
  seen[k] = (seen[k] || 0) + 1;
  console.log(`| ${r.conns} | ${r.name} | ${seen[k]} | ${r.rps} | ${(r.p50 / 1000).toFixed(2)} | ${(r.p99 / 1000).toFixed(2)} | ${r.rpcs.toFixed(3)} | ${r.shared.toFixed(3)} | ${r.gcpu} | ${r.ucpu} | ${r.errors} |`);
}
console.log('');
console.log('| connections | on/off req/s (median) | on/off req/s (geometric mean of the rounds) | on/off p99 (median) | RPCs / request on | off | on/off gateway CPU / request | on/off roster-users CPU / request |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const c of [...new Set(rows.map((r) => r.conns))]) {
  const on = rows.filter((r) => r.conns === c && r.name === 'on');
  const off = rows.filter((r) => r.conns === c && r.name === 'off');
  const m = (xs, f) => med(xs.map(f));
  // Round i's two runs are next to each other in time: their ratio
  // cancels the machine's drift between rounds.
  const n = Math.min(on.length, off.length);
  let lg = 0;
  for (let i = 0; i < n; i++) lg += Math.log(on[i].rps / off[i].rps);
  const gm = Math.exp(lg / n);
  console.log(`| ${c} | ${(m(on, (r) => r.rps) / m(off, (r) => r.rps)).toFixed(2)} | ${gm.toFixed(2)} | ${(m(on, (r) => r.p99) / m(off, (r) => r.p99)).toFixed(2)} | ${m(on, (r) => r.rpcs).toFixed(3)} | ${m(off, (r) => r.rpcs).toFixed(3)} | ${(m(on, (r) => r.gcpu) / m(off, (r) => r.gcpu)).toFixed(2)} | ${(m(on, (r) => r.ucpu) / m(off, (r) => r.ucpu)).toFixed(2)} |`);
}
JS
