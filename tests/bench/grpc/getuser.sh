#!/usr/bin/env bash
# gRPC benchmark (measures, never passes/fails): GetUser through
# roster-gateway's gRPC front against GetUser over nng straight to
# roster-users, at the same number of calls in flight, in one run against
# one roster-users, both with the same API key and the same user id.
#   grpc  h2load (Debian's nghttp2-client) on one HTTP/2 connection with N
#         concurrent streams, each request a pre-framed gRPC message (the
#         5-byte length prefix and a GetUserRequest) with te: trailers,
#         content-type: application/grpc and the key in authorization;
#   nng   roster-rpcload --mode get --id ID --inflight N through the C
#         client library (one nng socket, N contexts), the key in ROSTER_KEY.
# ROUNDS rounds at each N, grpc and nng alternating, best of each; then
# roster-users' Stats confirms every GetUser of the run answered OK (h2load
# counts HTTP 200, which a gRPC error also is).
#   tests/bench/grpc/getuser.sh   [SECS=5] [ROUNDS=2] [INFLIGHT="1 32 128"] [BUILD=build/grpc-rel]
# Loopback ports 23321 (HTTP) and 23322 (gRPC); everything runs in a
# temporary directory and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${BUILD:-build/grpc-rel}
SECS=${SECS:-5}
ROUNDS=${ROUNDS:-2}
INFLIGHT=${INFLIGHT:-"1 32 128"}
P_HTTP=23321 P_GRPC=23322

command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DROSTER_SANITIZE=OFF -DROSTER_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target roster-users roster-gateway roster-rpcload rosterctl -j2 >/dev/null
USERS=$BUILD/src/users/roster-users
GATEWAY=$BUILD/gateway/roster-gateway
LOAD=$BUILD/tools/rpcload/roster-rpcload
CTL=$BUILD/tools/rosterctl/rosterctl

TMP=$(mktemp -d /tmp/roster-grpcbench-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

IPC=ipc://$TMP/users.ipc
"$USERS" --data "$TMP" --listen "$IPC" --init-admin-key "$TMP/admin.key" --log-level warn \
    2>>"$TMP/daemons.log" &
UPID=$!
pids+=($UPID)
for _ in $(seq 1 100); do [ -S "$TMP/users.ipc" ] && [ -s "$TMP/admin.key" ] && break; sleep 0.05; done
export ROSTER_KEY
ROSTER_KEY=$(cat "$TMP/admin.key")
"$GATEWAY" --listen "http://127.0.0.1:$P_HTTP" --upstream "$IPC" --grpc-listen "127.0.0.1:$P_GRPC" \
    --log-level warn 2>>"$TMP/daemons.log" &
GPID=$!
pids+=($GPID)
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$P_HTTP/readyz" >/dev/null 2>&1 && break
    sleep 0.05
done

ctl() { "$CTL" --data "$TMP" --connect "$IPC" "$@"; }
ID=$(ctl --json users create --reference bench-1 --email bench-1@example.com --first-name Bench \
    --last-name User --locale en-GB --timezone Europe/London | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
[ -n "$ID" ] || { echo "could not create the user" >&2; exit 1; }

# The gRPC request: GetUserRequest{id} after the 5-byte prefix (not
# compressed, 4-byte big-endian length).
echo "id: \"$ID\"" | protoc --proto_path=proto --encode=roster.v1.GetUserRequest roster.proto \
    >"$TMP/get.pb"
len=$(stat -c %s "$TMP/get.pb")
{ printf '\x00'; printf "%08x" "$len" | xxd -r -p; cat "$TMP/get.pb"; } >"$TMP/get.grpc"
URL=http://127.0.0.1:$P_GRPC/roster.v1.UserService/GetUser
H=(-H 'te: trailers' -H 'content-type: application/grpc' -H "authorization: Bearer $ROSTER_KEY")

# One call first: it must answer grpc-status 0.
probe=$(nghttp -v "${H[@]}" -d "$TMP/get.grpc" "$URL" 2>&1 | tr -d '\000')
echo "$probe" | grep -q 'grpc-status: 0' || { echo "probe failed:"; echo "$probe"; exit 1; } >&2

echo "# $(date -u +%FT%TZ) $(nproc) cores, ${SECS}s measured after 1s warm-up, best of $ROUNDS"
echo "# $(git rev-parse --short HEAD), GetUser of one user ($(stat -c %s "$TMP/get.pb")-byte request)"

# CPU time (ms) a process has used: utime + stime from /proc.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' "/proc/$1/stat"; }
# Runs a load command and appends the CPU microseconds per answered call
# the gateway and roster-users spent during it (warm-up included).
with_cpu() { # CMD... -> the command's line + " gw_cpu_us=... users_cpu_us=..."
    local g0 u0 g1 u1 line n
    g0=$(cpu_ms "$GPID"); u0=$(cpu_ms "$UPID")
    line=$("$@")
    g1=$(cpu_ms "$GPID"); u1=$(cpu_ms "$UPID")
    n=$(echo "$line" | field ok)
    echo "$line $(awk -v g="$(awk -v a="$g0" -v b="$g1" 'BEGIN{print b-a}')" \
        -v u="$(awk -v a="$u0" -v b="$u1" 'BEGIN{print b-a}')" -v n="$n" -v w="$SECS" \
        'BEGIN{f=(w+1)/w; printf "gw_cpu_us=%.1f users_cpu_us=%.1f", g*1000/(n*f), u*1000/(n*f)}')"
}
grpc_run() { # CONNECTIONS STREAMS -> "rate=... mean=... max=... ok=... failed=..."
    local out
    out=$(h2load -c "$1" -m "$2" -D "$SECS" --warm-up-time=1 "${H[@]}" -d "$TMP/get.grpc" "$URL" 2>&1)
    local rate ok failed mean max
    rate=$(echo "$out" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p')
    ok=$(echo "$out" | sed -n 's/.* \([0-9]*\) succeeded.*/\1/p' | head -1)
    failed=$(echo "$out" | sed -n 's/.* \([0-9]*\) failed.*/\1/p' | head -1)
    mean=$(echo "$out" | awk '/^time for request:/ {print $6}')
    max=$(echo "$out" | awk '/^time for request:/ {print $5}')
    echo "rate=$rate mean=$mean max=$max ok=$ok failed=$failed"
}
nng_run() { # N
    "$LOAD" --url "$IPC" --mode get --id "$ID" --inflight "$1" --seconds "$SECS" --warmup 1
}
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p"; }
better() { # better CURRENT NEW -> the line with the higher rate
    if [ -z "$1" ]; then echo "$2"; return; fi
    if awk -v a="$(echo "$1" | field rate)" -v b="$(echo "$2" | field rate)" 'BEGIN{exit !(b>a)}'; then
        echo "$2"
    else echo "$1"; fi
}

# grpc: one connection with N streams (a gRPC client's one channel);
# grpc4: four connections with N/4 streams each (N >= 4).
declare -A G G4 N
for n in $INFLIGHT; do
    G[$n]=""; G4[$n]=""; N[$n]=""
    for r in $(seq 1 "$ROUNDS"); do
        g=$(with_cpu grpc_run 1 "$n"); echo "grpc  $n round $r: $g"; G[$n]=$(better "${G[$n]}" "$g")
        if [ "$n" -ge 4 ]; then
            g=$(with_cpu grpc_run 4 $((n / 4))); echo "grpc4 $n round $r: $g"
            G4[$n]=$(better "${G4[$n]}" "$g")
        fi
        x=$(with_cpu nng_run "$n"); echo "nng   $n round $r: $x"; N[$n]=$(better "${N[$n]}" "$x")
    done
done

# Every GetUser roster-users answered during the run was OK.
stats=$(ctl --json stats)
bad=$(echo "$stats" | tr -d '\n ' | grep -o '"method":"GetUser"[^]]*]' | grep -o '"code":[1-9][0-9]*' || true)
if [ -n "$bad" ]; then echo "GetUser answered errors: $bad" >&2; exit 1; fi
echo "$stats" | tr -d '\n ' | grep -o '"method":"GetUser","count":[0-9]*' || true

echo
echo "| in flight | gRPC, 1 conn (req/s) | gRPC, 4 conns (req/s) | nng direct (req/s) | best gRPC / nng | gRPC mean latency (1 conn) | nng p50 / p99 | CPU µs per call: gateway, users (gRPC 1 conn) | users (nng) |"
echo "|---|---|---|---|---|---|---|---|---|"
for n in $INFLIGHT; do
    gr=$(echo "${G[$n]}" | field rate); nr=$(echo "${N[$n]}" | field rate)
    g4=$(echo "${G4[$n]}" | field rate)
    best=$(awk -v a="$gr" -v b="${g4:-0}" 'BEGIN{print (b>a)?b:a}')
    ratio=$(awk -v a="$best" -v b="$nr" 'BEGIN{printf "%.2f", a/b}')
    echo "| $n | $gr | ${g4:--} | $nr | $ratio | $(echo "${G[$n]}" | field mean) | $(echo "${N[$n]}" | field p50_us) µs / $(echo "${N[$n]}" | field p99_us) µs | $(echo "${G[$n]}" | field gw_cpu_us), $(echo "${G[$n]}" | field users_cpu_us) | $(echo "${N[$n]}" | field users_cpu_us) |"
done
