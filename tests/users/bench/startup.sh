#!/bin/sh
# Startup time of roster-users on a filled store: the daemon's own
# startup_ms (process start to listening, store opened) and the wall time
# from exec until the startup line appears, over 5 runs.
# Usage: tests/users/bench/startup.sh BUILD_DIR DATA_DIR
set -eu
build=$1
data=$2
bin=$build/src/users/roster-users
for i in 1 2 3 4 5; do
    log=$(mktemp)
    t0=$(date +%s%N)
    "$bin" --data "$data" --listen "tcp://127.0.0.1:2012$i" 2>"$log" &
    pid=$!
    until grep -q 'event=startup' "$log"; do sleep 0.001; done
    t1=$(date +%s%N)
    kill -TERM "$pid"
    wait "$pid"
    echo "run $i: $(grep -o 'startup_ms=[0-9.]*' "$log") wall_ms=$(( (t1 - t0) / 1000000 ))"
    rm -f "$log"
done
