#!/usr/bin/env bash
# RPC benchmark (measures, never passes/fails): roster-users through the
# client library against a bare nng req0/rep0 echo with the same request
# and reply sizes, in the same run.
#   GetUser at 1, 32, 128 in flight over ipc (echo at the same concurrency)
#   CreateUser (durable) at 32 in flight, group commit on and off
# Usage: tests/bench/rpc.sh   (BENCH_SECONDS=5 BENCH_ROUNDS=2 BUILD=build/client-rel)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build/client-rel}
SECS=${BENCH_SECONDS:-5}
WARM=${BENCH_WARMUP:-1}

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DROSTER_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" --target roster-users roster-rpcload roster-echo -j2 >/dev/null
USERS=$BUILD/src/users/roster-users
LOAD=$BUILD/tools/rpcload/roster-rpcload
ECHO=$BUILD/tools/echo/roster-echo

TMP=$(mktemp -d /tmp/roster-rpcbench-XXXXXX)
PID=""
UPID=""; EPID=""; CPID=""
cleanup() {
    for p in $PID $UPID $EPID $CPID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

start() { # start NAME CMD... ; waits for the ipc socket file
    local sock=$1; shift
    "$@" >>"$TMP/daemons.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do [ -S "$sock" ] && return 0; sleep 0.05; done
    echo "did not start: $*" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" || true; PID=""; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, ${SECS}s measured after ${WARM}s warm-up"
echo "# roster-users $(git rev-parse --short HEAD)"

# GetUser vs echo: both servers up at once, measurements interleaved
# (get, echo, get, echo ...) so load from elsewhere on the machine hits
# both alike; each side reports its best of ROUNDS.
ROUNDS=${BENCH_ROUNDS:-2}
mkdir -p "$TMP/get"
start "$TMP/get/users.ipc" "$USERS" --data "$TMP/get" --listen "ipc://$TMP/get/users.ipc" --allow-keyless-ipc --log-level warn
UPID=$PID
probe=$("$LOAD" --url "ipc://$TMP/get/users.ipc" --mode get --inflight 1 --seconds 0.2 --warmup 0 \
        --save-reply "$TMP/getuser.reply")
REQ=$(echo "$probe" | field req_bytes); REP=$(echo "$probe" | field reply_bytes)
start "$TMP/echo.ipc" "$ECHO" --listen "ipc://$TMP/echo.ipc" --reply-bytes "$REP" --contexts 64
EPID=$PID
# A third peer for splitting the cost: the same echo answering with a
# recorded GetUser reply, so the client library runs its full path against
# a server that does no work ("lib" rows).
start "$TMP/canned.ipc" "$ECHO" --listen "ipc://$TMP/canned.ipc" --reply-file "$TMP/getuser.reply" --contexts 64
CPID=$PID
best() { # best CURRENT NEW -> the line with the higher rate
    if [ -z "$1" ]; then echo "$2"; return; fi
    a=$(echo "$1" | field rate); b=$(echo "$2" | field rate)
    if awk -v a="$a" -v b="$b" 'BEGIN{exit !(b>a)}'; then echo "$2"; else echo "$1"; fi
}
declare -A GET ECH LIB
for n in 1 32 128; do
    GET[$n]=""; ECH[$n]=""; LIB[$n]=""
    for r in $(seq 1 "$ROUNDS"); do
        g=$("$LOAD" --url "ipc://$TMP/get/users.ipc" --mode get --inflight $n --seconds "$SECS" --warmup "$WARM")
        echo "get  $n round $r: $g"
        GET[$n]=$(best "${GET[$n]}" "$g")
        e=$("$LOAD" --url "ipc://$TMP/echo.ipc" --mode echo --req-bytes "$REQ" --inflight $n --seconds "$SECS" --warmup "$WARM")
        echo "echo $n round $r: $e"
        ECH[$n]=$(best "${ECH[$n]}" "$e")
        l=$("$LOAD" --url "ipc://$TMP/canned.ipc" --mode get --id 0190f3a2-7c1e-7d2a-9b4e-1a2b3c4d5e6f \
            --inflight $n --seconds "$SECS" --warmup "$WARM")
        echo "lib  $n round $r: $l"
        LIB[$n]=$(best "${LIB[$n]}" "$l")
    done
done
PID=$UPID; stop
PID=$EPID; stop
PID=$CPID; stop
for n in 1 32 128; do
    g=$(echo "${GET[$n]}" | field rate); e=$(echo "${ECH[$n]}" | field rate)
    l=$(echo "${LIB[$n]}" | field rate)
    awk -v n=$n -v g="$g" -v e="$e" -v l="$l" 'BEGIN{printf "GetUser/echo at %3d in flight: %.0f / %.0f = %.2fx   (client library vs canned echo: %.0f = %.2fx echo)\n", n, g, e, g/e, l, l/e}'
done

# CreateUser, durable, 32 in flight
mkdir -p "$TMP/gc" "$TMP/nogc"
start "$TMP/gc/users.ipc" "$USERS" --data "$TMP/gc" --listen "ipc://$TMP/gc/users.ipc" --allow-keyless-ipc --log-level warn
GC=$("$LOAD" --url "ipc://$TMP/gc/users.ipc" --mode create --inflight 32 --seconds "$SECS" --warmup "$WARM")
echo "create group-commit 32: $GC"
stop
start "$TMP/nogc/users.ipc" "$USERS" --data "$TMP/nogc" --listen "ipc://$TMP/nogc/users.ipc" --allow-keyless-ipc --no-group-commit --log-level warn
NGC=$("$LOAD" --url "ipc://$TMP/nogc/users.ipc" --mode create --inflight 32 --seconds "$SECS" --warmup "$WARM")
echo "create one-commit   32: $NGC"
stop
g=$(echo "$GC" | field rate); o=$(echo "$NGC" | field rate)
awk -v g="$g" -v o="$o" 'BEGIN{printf "CreateUser group/one-commit at 32 in flight: %.0f / %.0f = %.1fx\n", g, o, g/o}'
