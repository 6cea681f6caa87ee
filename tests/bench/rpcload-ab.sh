#!/usr/bin/env bash
# A/B of the client library's GetUser throughput between two builds, against
# one roster-users (B's), interleaved so that load from elsewhere hits both.
# Usage: tests/bench/rpcload-ab.sh A_BUILD_DIR B_BUILD_DIR
#   each a Release build (-DCMAKE_BUILD_TYPE=Release) holding
#   tools/rpcload/roster-rpcload; B also src/users/roster-users.
# Knobs: BENCH_SECONDS (5), BENCH_WARMUP (1), BENCH_ROUNDS (2).
set -euo pipefail
A=$1/tools/rpcload/roster-rpcload
B=$2/tools/rpcload/roster-rpcload
USERS=$2/src/users/roster-users
SECS=${BENCH_SECONDS:-5}
WARM=${BENCH_WARMUP:-1}
ROUNDS=${BENCH_ROUNDS:-2}
TMP=$(mktemp -d /tmp/roster-rpcab-XXXXXX)
"$USERS" --data "$TMP" --listen "ipc://$TMP/users.ipc" --allow-keyless-ipc --log-level warn \
    2>"$TMP/users.log" &
UPID=$!
trap 'kill $UPID; wait $UPID || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 100); do [ -S "$TMP/users.ipc" ] && break; sleep 0.05; done
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in 1 32 128; do
    for r in $(seq 1 "$ROUNDS"); do
        echo "A $n round $r: $("$A" --url "ipc://$TMP/users.ipc" --mode get --inflight $n \
            --seconds "$SECS" --warmup "$WARM")"
        echo "B $n round $r: $("$B" --url "ipc://$TMP/users.ipc" --mode get --inflight $n \
            --seconds "$SECS" --warmup "$WARM")"
    done
done
echo "# end, load $(cut -d' ' -f1-3 /proc/loadavg)"
