#!/usr/bin/env bash
# Change feed benchmark (measures, never passes/fails), Release build, one
# run: CreateUser (durable, group commit) at 32 in flight with the feed
# off (--no-change-feed) and on, alternated ROUNDS times so load from
# elsewhere hits both alike; then the feed on with a watcher
# (roster-feed-subscriber: roster_client_watch, writing each event to a
# file) following it during the same write load: events/s delivered while
# the writes run, and how far behind it was when they stopped.
# Usage: tests/bench/feed.sh   (BENCH_SECONDS=10 BENCH_ROUNDS=3 BUILD=build/feed-rel)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build/feed-rel}
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
INFLIGHT=${BENCH_INFLIGHT:-32}

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DROSTER_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" --target roster-users roster-rpcload roster-feed-subscriber -j2 >/dev/null
USERS=$BUILD/src/users/roster-users
LOAD=$BUILD/tools/rpcload/roster-rpcload
SUB=$BUILD/tests/client/roster-feed-subscriber

TMP=$(mktemp -d /tmp/roster-feedbench-XXXXXX)
PID=""; SPID=""
cleanup() {
    for p in $PID $SPID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

start() { # start DIR EXTRA-ARGS... ; waits for the ipc socket file
    local dir=$1; shift
    mkdir -p "$dir"
    "$USERS" --data "$dir" --listen "ipc://$dir/users.ipc" --allow-keyless-ipc --log-level warn "$@" \
        >>"$TMP/daemons.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do [ -S "$dir/users.ipc" ] && return 0; sleep 0.05; done
    echo "did not start" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" || true; PID=""; }
# CPU time roster-users has used, in microseconds (utime + stime): steadier
# than rates on a shared machine, where other loads take turns on the cores
# and the disk.
cpu_us() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.0f", ($14 + $15) * 1e6 / hz}' "/proc/$PID/stat"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# Records in a subscriber file and the last seq (python: 4-byte LE lengths).
records() {
    python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
n = at = 0
while at + 4 <= len(data):
    (size,) = struct.unpack_from('<I', data, at)
    if at + 4 + size > len(data):
        break
    at += 4 + size
    n += 1
print(n)
PY
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, ${SECS}s per measurement, ${INFLIGHT} in flight, durable commits"
echo "# roster-users $(git rev-parse --short HEAD)"
OFF=(); ON=(); COFF=(); CON=()
measure() { # measure DIR LABEL EXTRA... ; appends rate and CPU us/write
    local dir=$1 label=$2; shift 2
    start "$dir" "$@"
    local c0 c1 o ok
    c0=$(cpu_us)
    o=$("$LOAD" --url "ipc://$dir/users.ipc" --mode create --inflight "$INFLIGHT" --seconds "$SECS" --warmup 0)
    c1=$(cpu_us)
    stop
    ok=$(echo "$o" | field ok)
    cpu=$(awk -v a="$c0" -v b="$c1" -v n="$ok" 'BEGIN{printf "%.1f", (b-a)/n}')
    echo "$label: $o cpu_us_per_write=$cpu"
    RATE=$(echo "$o" | field rate)
}
for r in $(seq 1 "$ROUNDS"); do
    measure "$TMP/off$r" "round $r feed off" --no-change-feed
    OFF+=("$RATE"); COFF+=("$cpu")
    measure "$TMP/on$r" "round $r feed on " 
    ON+=("$RATE"); CON+=("$cpu")
done

# The feed on with a watcher following it from seq 0.
start "$TMP/watch"
"$SUB" "ipc://$TMP/watch/users.ipc" "$TMP/watch.rec" >>"$TMP/sub.log" 2>&1 &
SPID=$!
sleep 0.5
t0=$(date +%s.%N)
w=$("$LOAD" --url "ipc://$TMP/watch/users.ipc" --mode create --inflight "$INFLIGHT" --seconds "$SECS" --warmup 0)
t1=$(date +%s.%N)
at_stop=$(records "$TMP/watch.rec")
ok=$(echo "$w" | field ok)
# Wait for the watcher to catch up with every event written.
for _ in $(seq 1 200); do
    n=$(records "$TMP/watch.rec"); [ "$n" -ge "$ok" ] && break; sleep 0.05
done
t2=$(date +%s.%N)
final=$(records "$TMP/watch.rec")
kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=""
stop
echo "feed on, watched: $w"
echo "watcher: $at_stop events in its file when the load generator returned ($ok writes acknowledged in the window, more while it drained), $final in all; last check $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.0f", (b-a)*1000}') ms after (mostly counting the file)"

med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
mo=$(med "${OFF[@]}"); mn=$(med "${ON[@]}")
wr=$(echo "$w" | field rate)
awk -v o="$mo" -v n="$mn" 'BEGIN{printf "CreateUser/s, median of rounds: feed off %.0f, feed on %.0f (%.1f%% of off)\n", o, n, 100*n/o}'
co=$(med "${COFF[@]}"); cn=$(med "${CON[@]}")
awk -v o="$co" -v n="$cn" 'BEGIN{printf "roster-users CPU per CreateUser, median of rounds: feed off %.1f us, feed on %.1f us (+%.1f us, %.0f%%)\n", o, n, n-o, 100*(n-o)/o}'
awk -v w="$wr" -v s="$at_stop" -v t0="$t0" -v t1="$t1" 'BEGIN{printf "with a watcher: CreateUser %.0f/s; events delivered to the watcher during the writes %.0f/s\n", w, s/(t1-t0)}'
