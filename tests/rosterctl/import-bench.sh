#!/bin/sh
# Live bulk import: `rosterctl users import` of N users through BulkWrite
# into a running roster-users (durable group commits), against offline
# `rosterctl load` of the same users into an empty data directory in the
# same run. Measures; never passes or fails.
#   import-bench.sh ROSTERCTL ROSTER_USERS [N] [RUNS]
set -eu
CTL=$1
USERS=$2
N=${3:-200000}
RUNS=${4:-3}
T=$(mktemp -d "${TMPDIR:-/var/tmp}/roster-import-bench-XXXXXX")
PID=
cleanup() {
    if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
now() { date +%s.%N; }
rate() { awk -v s="$1" -v e="$2" -v n="$N" 'BEGIN { printf "%.2f s, %.0f users/s", e - s, n / (e - s) }'; }

awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"reference\":\"r%d\",\"email\":\"user%d@example.com\",\"firstName\":\"First%d\",\"lastName\":\"Last\",\"customData\":{\"plan\":\"pro\",\"seats\":%d}}\n", i, i, i, i % 50 }' >"$T/users.jsonl"
# The offline load wants the dump format's __typename on each line.
sed 's/^{/{"__typename":"UserModel",/' "$T/users.jsonl" >"$T/load.jsonl"
echo "users: $N ($(wc -c <"$T/users.jsonl") bytes of JSON Lines)"

for run in $(seq 1 "$RUNS"); do
    D=$T/live
    rm -rf "$D" "$T/k"
    "$USERS" --data "$D" --init-admin-key "$T/k" --log-level warn >"$T/log" 2>&1 &
    PID=$!
    until "$CTL" --data "$D" --key-file "$T/k" health >/dev/null 2>&1; do sleep 0.05; done
    s=$(now)
    "$CTL" --data "$D" --key-file "$T/k" --timeout 60000 users import "$T/users.jsonl" >/dev/null
    e=$(now)
    cpu=$(awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$PID/stat")
    commits=$("$CTL" --data "$D" --key-file "$T/k" stats | sed -n 's/^commits *//p')
    kill -TERM "$PID"
    wait "$PID"
    PID=
    echo "run $run: users import (live, durable): $(rate "$s" "$e"); roster-users CPU ${cpu} s; commits $commits"

    rm -rf "$T/offline"
    s=$(now)
    "$CTL" --data "$T/offline" load <"$T/load.jsonl" >/dev/null
    e=$(now)
    echo "run $run: load (offline, reference): $(rate "$s" "$e")"
done
