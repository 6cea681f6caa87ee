#!/usr/bin/env bash
# The cost of API keys on user(id) through the gateway (measures, never
# fails on time). In one run, against one roster-users (LMDB, USERS users,
# started with --allow-keyless-ipc and --init-admin-key):
#   before  roster-gateway built from BASE (the tree before the gateway
#           checked keys), sending no credential: the service takes the
#           keyless ipc caller as admin;
#   key     roster-gateway from the working tree, every request carrying
#           the admin key: verified through the gateway's key cache (one
#           GetKey per key per second) and sent with every upstream call,
#           where roster-users verifies it again.
# With COMPARE=token, "before" is replaced by
#   token   the same gateway, every request carrying a service token (from
#           /v01/authorize/serviceAccount for the admin key) instead of the
#           key: hashed and cached at the gateway like a key, and checked by
#           roster-users on every call (Ed25519 signature, claims, the
#           issuing key's record); no old gateway is built.
# ROUNDS rounds of two wrk runs (one each, the order alternating) of DUR
# seconds each (2 threads, CONN
# connections); prints every run with the CPU time the gateway and
# roster-users spent per request (from /proc, so it holds on a busy
# machine where req/s does not), the medians and key/before.
#   tests/bench/gateway/auth.sh   [COMPARE=base|token] [BASE=<commit>] [ROUNDS=3] [DUR=5] [CONN=32] [USERS=10000]
# Loopback ports 23311-23312; everything runs in a temporary directory and
# is stopped at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

USERS=${USERS:-10000}
CONN=${CONN:-32}
DUR=${DUR:-5}
ROUNDS=${ROUNDS:-3}
COMPARE=${COMPARE:-base}
build=${BUILD:-build/gw-rel}
# Default base: the parent of the commit that added gateway/auth.c.
BASE=${BASE:-$(git log --format=%H -1 --diff-filter=A -- gateway/auth.c)^}
P_KEY=23311 P_BEFORE=23312

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DROSTER_TESTS=OFF >/dev/null
cmake --build "$build" --target roster-users roster-gateway rosterctl -j2 >/dev/null

work="$(mktemp -d /tmp/roster-gw-auth-bench.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

base_rev=$(git rev-parse --short "$BASE")
if [ "$COMPARE" = base ]; then
    echo "building the gateway at $base_rev..." >&2
    mkdir -p "$work/base"
    git archive "$BASE" | tar -x -C "$work/base"
    cmake -S "$work/base" -B "$work/base/build" -DCMAKE_BUILD_TYPE=Release -DROSTER_TESTS=OFF \
        >/dev/null
    cmake --build "$work/base/build" --target roster-gateway -j2 >/dev/null
fi

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
    --allow-keyless-ipc --init-admin-key "$work/admin.key" 2>"$work/users.log" &
users_pid=$!
pids+=($users_pid)
for _ in $(seq 1 200); do [ -S "$work/users.ipc" ] && [ -s "$work/admin.key" ] && break; sleep 0.05; done
key=$(cat "$work/admin.key")
"$build/gateway/roster-gateway" --listen "http://127.0.0.1:$P_KEY" \
    --upstream "ipc://$work/users.ipc" --log-level warn 2>"$work/gateway-key.log" &
key_pid=$!
pids+=($key_pid)
wait_http "http://127.0.0.1:$P_KEY/healthz"
if [ "$COMPARE" = base ]; then
    "$work/base/build/gateway/roster-gateway" --listen "http://127.0.0.1:$P_BEFORE" \
        --upstream "ipc://$work/users.ipc" --log-level warn 2>"$work/gateway-before.log" &
    before_pid=$!
    pids+=($before_pid)
    wait_http "http://127.0.0.1:$P_BEFORE/healthz"
    other=(before "$P_BEFORE" "" "$before_pid")
else
    env_id=$("$build/tools/rosterctl/rosterctl" --connect "ipc://$work/users.ipc" --key "$key" \
        --json environment | node -e 'process.stdin.on("data", (d) => console.log(JSON.parse(d).environmentId))')
    token=$(curl -s -H 'content-type: application/json' \
        -d "{\"environmentId\":\"$env_id\",\"apiKey\":\"$key\"}" \
        "http://127.0.0.1:$P_KEY/v01/authorize/serviceAccount" |
        node -e 'process.stdin.on("data", (d) => console.log(JSON.parse(d).accessToken))')
    other=(token "$P_KEY" "$token" "$key_pid")
fi

echo "seeding $USERS users..." >&2
node "$here/seed.mjs" "http://127.0.0.1:$P_KEY/graphql" "$USERS" "$work/ids.txt" "$key"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system CPU, clock ticks
hz=$(getconf CLK_TCK)

run() { # name port key gateway-pid
    local out g0 u0
    g0=$(ticks "$4")
    u0=$(ticks "$users_pid")
    out=$(wrk -t2 -c"$CONN" -d"${DUR}s" -s "$here/gql.lua" "http://127.0.0.1:$2/graphql" -- \
        user "$work/ids.txt" "$1" "$3" | sed -n 's/^RESULT //p')
    echo "$1 $(($(ticks "$4") - g0)) $(($(ticks "$users_pid") - u0)) $hz $out"
}

results="$work/results.txt"
: >"$results"
# The order alternates, so a load change on the shared machine does not
# always fall on the same side.
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then
        run "${other[@]}" | tee -a "$results" >&2
        run key "$P_KEY" "$key" "$key_pid" | tee -a "$results" >&2
    else
        run key "$P_KEY" "$key" "$key_pid" | tee -a "$results" >&2
        run "${other[@]}" | tee -a "$results" >&2
    fi
done
auth=$(curl -s "http://127.0.0.1:$P_KEY/metrics" -H "authorization: Bearer $key" |
    awk '/^roster_gateway_auth_total/ {print}' | tr '\n' ' ')

node - "$results" "$base_rev" "$auth" "$COMPARE" <<'JS'
const fs = require('fs');
const [file, base, auth, compare] = process.argv.slice(2);
// "before" (the old gateway, no key) or "token" is the reference side.
const ref = compare === 'token' ? 'token' : 'before';
const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => {
  const [name, gt, ut, hz, ...rest] = l.split(' ');
  const r = { name, ...JSON.parse(rest.join(' ')) };
  r.gw_us = (gt / hz) * 1e6 / r.requests; // CPU per request
  r.users_us = (ut / hz) * 1e6 / r.requests;
  return r;
});
const ms = (us) => (us / 1000).toFixed(2);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
console.log('| run | gateway | req/s | p50 ms | p99 ms | errors | gateway CPU µs/req | roster-users CPU µs/req |');
console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
const n = {};
for (const r of rows) {
  n[r.name] = (n[r.name] || 0) + 1;
  const label = r.name === 'key' ? 'with key (cache hit path)' : ref === 'token' ? 'with a service token' : `before (${base}), no key`;
  console.log(`| ${n[r.name]} | ${label} | ${r.rps.toFixed(0)} | ${ms(r.p50_us)} | ${ms(r.p99_us)} | ${r.socket_errors + r.non2xx} | ${r.gw_us.toFixed(1)} | ${r.users_us.toFixed(1)} |`);
}
const pick = (name, f) => median(rows.filter((r) => r.name === name).map(f));
const kb = pick('key', (r) => r.rps), bb = pick(ref, (r) => r.rps);
console.log('');
console.log(`| median | ${ref} | with key | key / ${ref} |`);
console.log('|---|---:|---:|---:|');
console.log(`| req/s | ${bb.toFixed(0)} | ${kb.toFixed(0)} | ${(kb / bb).toFixed(3)} |`);
const kp50 = pick('key', (r) => r.p50_us), bp50 = pick(ref, (r) => r.p50_us);
const kp99 = pick('key', (r) => r.p99_us), bp99 = pick(ref, (r) => r.p99_us);
console.log(`| p50 ms | ${ms(bp50)} | ${ms(kp50)} | ${(kp50 / bp50).toFixed(3)} |`);
console.log(`| p99 ms | ${ms(bp99)} | ${ms(kp99)} | ${(kp99 / bp99).toFixed(3)} |`);
for (const [label, f] of [['gateway CPU µs/req', (r) => r.gw_us], ['roster-users CPU µs/req', (r) => r.users_us], ['both, CPU µs/req', (r) => r.gw_us + r.users_us]]) {
  const b = pick(ref, f), k = pick('key', f);
  console.log(`| ${label} | ${b.toFixed(1)} | ${k.toFixed(1)} | ${(k / b).toFixed(3)} |`);
}
const before = rows.filter((r) => r.name === ref), keyed = rows.filter((r) => r.name === 'key');
const ratios = keyed.map((k, i) => k.rps / before[i].rps);
console.log(`| req/s, median of the per-round ratios | | | ${median(ratios).toFixed(3)} |`);
console.log('');
console.log(`Key checks at the gateway: ${auth.trim()}`);
JS
