#!/usr/bin/env bash
# The gateway benchmark on both store backends in one run (measures, never
# fails on time): roster-users on LMDB and roster-users on PostgreSQL 15
# (a cluster of its own with fsync on, started by scripts/pg-cluster.sh,
# on the same machine), each behind its own roster-gateway, seeded alike
# and driven by the same wrk workloads as run.sh: user(id) with 6 fields;
# a page of 20 at random offsets 0-1000 ordered by createdAt DESC with
# totalCount; createUser; 90/10 mix of user(id) and createUser; and users
# filtered by a random reference (one found, through the plans that read
# rows: on PostgreSQL a server-side cursor); users whose id is one of 3
# random ids (valueIn).
# Each run also counts GraphQL errors (the gateway's /metrics outcomes
# other than ok; wrk sees only HTTP statuses) and the CPU time per request
# of each stack's roster-users, gateway and PostgreSQL processes.
#   tests/bench/gateway/backends.sh            (prints Markdown tables)
# USERS (default 10000), CONN (default 32), DUR seconds (default 5).
# Loopback ports 23321-23323; everything in a temporary directory, stopped
# and removed at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

USERS=${USERS:-10000}
CONN=${CONN:-32}
DUR=${DUR:-5}
build=${BUILD:-build/gw-rel}
P_LMDB=23321 P_PG=23322 P_PGSQL=23323

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DROSTER_TESTS=OFF >/dev/null
cmake --build "$build" --target roster-users roster-gateway -j2 >/dev/null

work="$(mktemp -d /tmp/roster-backends-bench.XXXXXX)"
chmod 755 "$work" # the cluster's owner (postgres, when run as root) enters it
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    scripts/pg-cluster.sh stop "$work/pg" >/dev/null 2>&1 || true
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

PG_FSYNC=on scripts/pg-cluster.sh start "$work/pg" "$P_PGSQL"
pg_url=$(scripts/pg-cluster.sh url "$work/pg" "$P_PGSQL")

declare -A users_pid gw_pid
# start NAME PORT [roster-users options...]: one roster-users and its gateway.
start() {
    local name=$1 port=$2
    shift 2
    mkdir -p "$work/$name"
    "$build/src/users/roster-users" --data "$work/$name" --listen "ipc://$work/$name/users.ipc" \
        --init-admin-key "$work/$name/admin.key" "$@" 2>"$work/$name/users.log" &
    pids+=($!)
    users_pid[$name]=$!
    for _ in $(seq 1 200); do
        [ -S "$work/$name/users.ipc" ] && [ -s "$work/$name/admin.key" ] && break
        sleep 0.05
    done
    "$build/gateway/roster-gateway" --listen "http://127.0.0.1:$port" \
        --upstream "ipc://$work/$name/users.ipc" --log-level warn 2>"$work/$name/gateway.log" &
    pids+=($!)
    gw_pid[$name]=$!
    wait_http "http://127.0.0.1:$port/healthz"
}
start lmdb "$P_LMDB" --custom-index plan:string
start postgres "$P_PG" --store "$pg_url" --custom-index plan:string

echo "seeding $USERS users into each..." >&2
for name in lmdb postgres; do
    port=$P_LMDB
    [ "$name" = postgres ] && port=$P_PG
    node "$here/seed.mjs" "http://127.0.0.1:$port/graphql" "$USERS" "$work/$name/ids.txt" \
        "$(cat "$work/$name/admin.key")" 0 50
done

# GraphQL-level errors a gateway has answered so far (HTTP 200 with
# "errors", which wrk does not see): every outcome but ok in /metrics.
gql_errors() { # port
    curl -s "http://127.0.0.1:$1/metrics" |
        awk '/^roster_gateway_requests_total/ && !/outcome="ok"/ {s += $2} END {print s + 0}'
}

# CPU time (utime + stime, in clock ticks) of NAME's roster-users, its
# gateway and, for postgres, every process of the cluster, as "u g p".
cpu_of() { # name
    local u g p=0 pm
    u=$(awk '{print $14 + $15}' "/proc/${users_pid[$1]}/stat")
    g=$(awk '{print $14 + $15}' "/proc/${gw_pid[$1]}/stat")
    if [ "$1" = postgres ]; then
        pm=$(head -1 "$work/pg/postmaster.pid")
        for c in $pm $(pgrep -P "$pm"); do
            p=$((p + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
        done
    fi
    echo "$u $g $p"
}
# The difference of two cpu_of readings in seconds, as "u,g,p".
cpu_diff() { # before after
    local hz
    hz=$(getconf CLK_TCK)
    awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN {
        split(a, x, " "); split(b, y, " ");
        printf "%.3f,%.3f,%.3f", (y[1] - x[1]) / hz, (y[2] - x[2]) / hz, (y[3] - x[3]) / hz }'
}

results="$work/results.txt"
: >"$results"
for mode in user page create mix ref idsin cdx; do
    for name in lmdb postgres; do
        port=$P_LMDB
        [ "$name" = postgres ] && port=$P_PG
        before=$(gql_errors "$port")
        cpu0=$(cpu_of "$name")
        out=$(wrk -t2 -c"$CONN" -d"${DUR}s" -s "$here/gql.lua" "http://127.0.0.1:$port/graphql" -- \
            "$mode" "$work/$name/ids.txt" "$name-$RANDOM" "$(cat "$work/$name/admin.key")" |
            sed -n 's/^RESULT //p')
        out="${out%\}}"',"gql_errors":'"$(($(gql_errors "$port") - before))"',"cpu":['"$(cpu_diff "$cpu0" "$(cpu_of "$name")")"']}'
        echo "$name $mode $out" | tee -a "$results" >&2
    done
done

node - "$results" <<'JS'
const fs = require('fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => {
  const [name, mode, ...rest] = l.split(' ');
  return { name, mode, ...JSON.parse(rest.join(' ')) };
});
const get = (n, m) => rows.find((r) => r.name === n && r.mode === m);
const ms = (us) => (us / 1000).toFixed(2);
const label = {
  user: 'user(id)',
  page: 'users page of 20',
  create: 'createUser',
  mix: '90/10 user/createUser',
  ref: 'users by reference',
  idsin: 'users by 3 ids (valueIn)',
  cdx: 'users by customData plan (indexed)',
};
console.log('| workload | store | req/s | p50 ms | p99 ms | errors (socket, non-2xx, GraphQL) |');
console.log('|---|---|---:|---:|---:|---:|');
for (const r of rows)
  console.log(`| ${label[r.mode]} | ${r.name} | ${r.rps.toFixed(0)} | ${ms(r.p50_us)} | ${ms(r.p99_us)} | ${r.socket_errors + r.non2xx + r.gql_errors} |`);
console.log('');
// CPU per request, in microseconds, of each stack's processes during its run.
const per = (r, i) => ((r.cpu[i] * 1e6) / r.requests).toFixed(0);
console.log('| workload | store | CPU µs/request: roster-users | gateway | PostgreSQL (all its processes) |');
console.log('|---|---|---:|---:|---:|');
for (const r of rows)
  console.log(`| ${label[r.mode]} | ${r.name} | ${per(r, 0)} | ${per(r, 1)} | ${r.name === 'postgres' ? per(r, 2) : '-'} |`);
console.log('');
console.log('| workload | postgres / lmdb req/s | postgres / lmdb p99 |');
console.log('|---|---:|---:|');
for (const m of ['user', 'page', 'create', 'mix', 'ref', 'idsin', 'cdx']) {
  const a = get('lmdb', m), b = get('postgres', m);
  console.log(`| ${label[m]} | ${(b.rps / a.rps).toFixed(2)} | ${(b.p99_us / a.p99_us).toFixed(2)} |`);
}
JS
