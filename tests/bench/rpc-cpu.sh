#!/usr/bin/env bash
# Where the RPC time goes: CPU per round trip in the client and in the
# server, from /proc/PID/stat (utime+stime) over a 3 s window in the middle
# of each run, for three pairs at the same concurrency:
#   echo  bare req0 client (roster-rpcload --mode echo) -> roster-echo
#   lib   client library GetUser -> roster-echo answering a recorded GetUser reply
#   get   client library GetUser -> roster-users
# Usage: tests/bench/rpc-cpu.sh   (needs tests/bench/rpc.sh's build; NS="32 128")
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${BUILD:-build/client-rel}
T=$(mktemp -d /tmp/roster-rpccpu-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
waitsock() { for _ in $(seq 1 100); do [ -S "$1" ] && return 0; sleep 0.05; done; exit 1; }

"$B/src/users/roster-users" --data "$T" --listen "ipc://$T/u.ipc" --allow-keyless-ipc --log-level warn & U=$!; PIDS+=($U)
waitsock "$T/u.ipc"
"$B/tools/rpcload/roster-rpcload" --url "ipc://$T/u.ipc" --mode get --inflight 1 --seconds 0.2 \
    --warmup 0 --save-reply "$T/r.bin" >/dev/null
"$B/tools/echo/roster-echo" --listen "ipc://$T/e.ipc" --reply-bytes "$(stat -c %s "$T/r.bin")" 2>/dev/null & E=$!; PIDS+=($E)
"$B/tools/echo/roster-echo" --listen "ipc://$T/c.ipc" --reply-file "$T/r.bin" 2>/dev/null & C=$!; PIDS+=($C)
waitsock "$T/e.ipc"; waitsock "$T/c.ipc"
for n in ${NS:-32 128}; do
    for mode in echo lib get; do
        case $mode in
        echo) url=ipc://$T/e.ipc; S=$E; args=(--mode echo) ;;
        lib) url=ipc://$T/c.ipc; S=$C; args=(--mode get --id 0190f3a2-7c1e-7d2a-9b4e-1a2b3c4d5e6f) ;;
        get) url=ipc://$T/u.ipc; S=$U; args=(--mode get) ;;
        esac
        "$B/tools/rpcload/roster-rpcload" --url "$url" "${args[@]}" --inflight "$n" --seconds 4.5 \
            --warmup 0.5 >"$T/out" & L=$!
        sleep 1.5; s0=$(cpu $S); l0=$(cpu $L); sleep 3; s1=$(cpu $S); l1=$(cpu $L); wait $L
        rate=$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' "$T/out")
        awk -v m=$mode -v n="$n" -v r="$rate" -v s=$((s1 - s0)) -v l=$((l1 - l0)) \
            'BEGIN{printf "%-4s %3d in flight: %7d rt/s  server %.1f us/rt  client %.1f us/rt\n", m, n, r, s*10000/(r*3), l*10000/(r*3)}'
    done
done
