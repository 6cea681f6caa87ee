#!/bin/bash
# roster-users listener check (docs/bench/listener-check.md): idle CPU with
# the check off and at its default period, and the time until a new client
# is served again after an ipc connect()+close() stopped nng 1.5.2's accept
# loop. Needs python3 for the raw connect.
B=${1:?usage: listener_check.sh BUILD_DIR (a Release build with roster-users and rosterctl)}
D=$(mktemp -d /tmp/roster-listener-bench-XXXXXX)/d
for check in 0 1000; do
  rm -rf $D; mkdir -p $D
  $B/src/users/roster-users --data $D --allow-keyless-ipc --listener-check-ms $check 2>$D.log & P=$!; sleep 0.5
  c0=$(awk '{print $14+$15}' /proc/$P/stat); sleep 20; c1=$(awk '{print $14+$15}' /proc/$P/stat)
  echo "check_ms=$check idle cpu over 20 s: $((c1-c0)) ticks (1 tick = 10 ms)"
  kill -TERM $P; wait $P
done
for i in 1 2 3 4 5; do
  rm -rf $D; mkdir -p $D
  $B/src/users/roster-users --data $D --allow-keyless-ipc --listener-check-ms 1000 2>$D.log & P=$!; sleep 0.3
  $B/tools/rosterctl/rosterctl --data $D health > /dev/null
  python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('$D/users.ipc'); s.close()"
  t0=$(date +%s%N); ok=0
  for k in $(seq 1 40); do $B/tools/rosterctl/rosterctl --data $D --timeout 500 health >/dev/null 2>&1 && { ok=1; break; }; done
  t1=$(date +%s%N)
  echo "try $i: served=$ok after $(( (t1-t0)/1000000 )) ms, restores=$(grep -c listener_restored $D.log)"
  kill -TERM $P; wait $P
done
rm -rf "$(dirname "$D")" "$D.log"
