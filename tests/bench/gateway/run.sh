#!/usr/bin/env bash
# Gateway benchmark (measures, never fails on time): wrk against
# roster-gateway and, in the same run, three references:
#   node     fastify + mercurius (graphql-jit) + lmdb-js, same schema subset
#   ceiling  libmicrohttpd (the gateway's HTTP library, in the shape of its
#            front: tests/bench/http-front/mhd_front.c) -> one req0/rep0 ipc
#            round trip -> echo process
#   ceiling-nng  the same with nng's HTTP server (ceiling.c; the gateway's
#            HTTP front before libmicrohttpd), for comparison
#   nginx    nginx-light returning a static body the size of user(id)'s
# Store of USERS users (default 10000) in each GraphQL server; CONN
# connections (default 32); DUR seconds per run (default 5).
# Workloads: user(id) with 6 fields; a page of 20 at random offsets 0-1000
# ordered by createdAt DESC with totalCount; createUser; 90/10 mix of
# user(id) and createUser. Then the gateway's RSS with 256 connections open.
#   tests/bench/gateway/run.sh            (prints a Markdown table)
# Loopback ports 23301-23305; everything runs in a temporary directory and
# is stopped at the end. The gateway's requests carry the admin API key
# roster-users mints at start (--init-admin-key).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

USERS=${USERS:-10000}
CONN=${CONN:-32}
DUR=${DUR:-5}
build=${BUILD:-build/gw-rel}
P_GW=23301 P_NODE=23302 P_CEIL=23303 P_NGINX=23304 P_CEIL_NNG=23305

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DROSTER_TESTS=OFF >/dev/null
cmake --build "$build" --target roster-users roster-gateway -j2 >/dev/null

work="$(mktemp -d /tmp/roster-gw-bench.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

cc -O2 -o "$work/ceiling" "$here/ceiling.c" -lnng -lpthread
cc -O2 -o "$work/mhd_front" "$root/tests/bench/http-front/mhd_front.c" \
    $(pkg-config --cflags --libs libmicrohttpd) -lnng -lpthread
(cd "$here/node-server" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

wait_http() { # url
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.05
    done
    echo "no answer from $1" >&2
    return 1
}

mkdir -p "$work/data" "$work/nodedb" "$work/nginx/tmp"
"$build/src/users/roster-users" --data "$work/data" --listen "ipc://$work/users.ipc" \
    --init-admin-key "$work/admin.key" 2>"$work/users.log" &
pids+=($!)
for _ in $(seq 1 200); do [ -S "$work/users.ipc" ] && [ -s "$work/admin.key" ] && break; sleep 0.05; done
key=$(cat "$work/admin.key")
"$build/gateway/roster-gateway" --listen "http://127.0.0.1:$P_GW" \
    --upstream "ipc://$work/users.ipc" --log-level warn 2>"$work/gateway.log" &
gw_pid=$!
pids+=($gw_pid)
node "$here/node-server/server.mjs" "$P_NODE" "$work/nodedb" "${NODE_WORKERS:-2}" &
pids+=($!)
"$work/ceiling" echo "ipc://$work/echo.ipc" &
pids+=($!)
"$work/ceiling" http "$P_CEIL_NNG" "ipc://$work/echo.ipc" &
pids+=($!)
"$work/mhd_front" "$P_CEIL" "ipc://$work/echo.ipc" &
pids+=($!)
wait_http "http://127.0.0.1:$P_GW/healthz"
wait_http "http://127.0.0.1:$P_NODE/graphql"

echo "seeding $USERS users into the gateway and the Node server..." >&2
node "$here/seed.mjs" "http://127.0.0.1:$P_GW/graphql" "$USERS" "$work/gw_ids.txt" "$key"
node "$here/seed.mjs" "http://127.0.0.1:$P_NODE/graphql" "$USERS" "$work/node_ids.txt"

# The user(id) response, for nginx's static body and the ceiling's payload.
uid=$(head -1 "$work/gw_ids.txt")
user_req="{\"query\":\"query U(\$id: ID!) { user(id: \$id) { id email firstName lastName createdAt active } }\",\"variables\":{\"id\":\"$uid\"}}"
user_res=$(curl -s "http://127.0.0.1:$P_GW/graphql" -H 'content-type: application/json' \
    -H "authorization: Bearer $key" -d "$user_req")
case "$user_res" in *'"errors"'*) echo "user(id) failed: $user_res" >&2; exit 1 ;; esac
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$P_NGINX;
        location / {
            default_type application/json;
            return 200 '$user_res';
        }
    }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
wait_http "http://127.0.0.1:$P_NGINX/"
echo "$user_req" >"$work/user_req.json"

# Each run: name, url, mode, ids file. Prints "name rps p50 p99 errors".
run() {
    local name=$1 url=$2 mode=$3 ids=$4 c=${5:-$CONN}
    local out
    out=$(wrk -t2 -c"$c" -d"${DUR}s" -s "$here/gql.lua" "$url" -- "$mode" "$ids" "$name-$RANDOM" "$key" |
        sed -n 's/^RESULT //p')
    echo "$name $mode $out"
}

results="$work/results.txt"
: >"$results"
for mode in user page create mix; do
    run gateway "http://127.0.0.1:$P_GW/graphql" $mode "$work/gw_ids.txt" | tee -a "$results" >&2
    run node "http://127.0.0.1:$P_NODE/graphql" $mode "$work/node_ids.txt" | tee -a "$results" >&2
done
# The ceiling echoes the user(id) request body; nginx returns the user(id) body.
run ceiling "http://127.0.0.1:$P_CEIL/graphql" user "$work/gw_ids.txt" | tee -a "$results" >&2
run ceiling-nng "http://127.0.0.1:$P_CEIL_NNG/graphql" user "$work/gw_ids.txt" | tee -a "$results" >&2
run nginx "http://127.0.0.1:$P_NGINX/" user "$work/gw_ids.txt" | tee -a "$results" >&2

# GraphQL-level errors the gateway reported while under load (must be 0).
gql_errors=$(curl -s "http://127.0.0.1:$P_GW/metrics" |
    awk '/^roster_gateway_requests_total/ && !/outcome="ok"/ {s += $2} END {print s + 0}')

# RSS with 256 connections open (and busy on user(id)).
wrk -t2 -c256 -d4s -s "$here/gql.lua" "http://127.0.0.1:$P_GW/graphql" -- user "$work/gw_ids.txt" \
    run "$key" >/dev/null &
wrk_pid=$!
sleep 3
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$gw_pid/status")
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$gw_pid/status")
wait $wrk_pid

node - "$results" "$rss_kb" "$hwm_kb" "$gql_errors" <<'JS'
const fs = require('fs');
const [file, rss, hwm, gqlErrors] = process.argv.slice(2);
const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => {
  const [name, mode, ...rest] = l.split(' ');
  return { name, mode, ...JSON.parse(rest.join(' ')) };
});
const get = (n, m) => rows.find((r) => r.name === n && r.mode === m);
const ms = (us) => (us / 1000).toFixed(2);
const label = { user: 'user(id)', page: 'users page of 20', create: 'createUser', mix: '90/10 user/createUser' };
console.log('| workload | server | req/s | p50 ms | p99 ms | errors |');
console.log('|---|---|---:|---:|---:|---:|');
for (const r of rows)
  console.log(`| ${label[r.mode]} | ${r.name} | ${r.rps.toFixed(0)} | ${ms(r.p50_us)} | ${ms(r.p99_us)} | ${r.socket_errors + r.non2xx} |`);
console.log('');
console.log('| ratio | value | target |');
console.log('|---|---:|---|');
const ratio = (a, b) => (a / b).toFixed(2);
const gu = get('gateway', 'user'), nu = get('node', 'user');
console.log(`| gateway / ceiling req/s, user(id) | ${ratio(gu.rps, get('ceiling', 'user').rps)} | >= 0.8 |`);
console.log(`| gateway / nginx req/s, user(id) | ${ratio(gu.rps, get('nginx', 'user').rps)} | >= 0.5 |`);
for (const m of ['user', 'page', 'create', 'mix']) {
  const g = get('gateway', m), n = get('node', m);
  console.log(`| gateway / node req/s, ${label[m]} | ${ratio(g.rps, n.rps)} | >= ${m === 'page' ? 4 : 3} |`);
  console.log(`| gateway / node p99, ${label[m]} | ${ratio(g.p99_us, n.p99_us)} | <= 0.33 |`);
}
console.log(`| gateway RSS with 256 connections | ${(rss / 1024).toFixed(1)} MB (peak ${(hwm / 1024).toFixed(1)} MB) | <= 32 MB |`);
console.log(`| GraphQL errors during the gateway runs | ${gqlErrors} | 0 |`);
JS
