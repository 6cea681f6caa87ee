#!/bin/sh
# Offline load speed: `rosterctl load` of N generated users (JSON Lines in
# the dump format, no ids: each line goes through store_user_create) into
# an empty data directory, with the rosterctl under test and a reference
# rosterctl (an earlier build) alternating in the same run. Prints wall
# time, users/s, CPU and peak RSS (/usr/bin/time -v) of each, and checks
# that every load reported all N users. Measures; never fails on time.
#   load-bench.sh ROSTERCTL REFERENCE_ROSTERCTL [N] [RUNS]
set -eu
CTL=$1
REF=$2
N=${3:-1000000}
RUNS=${4:-2}
T=$(mktemp -d "${TMPDIR:-/var/tmp}/roster-load-bench-XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM

awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"__typename\":\"UserModel\",\"reference\":\"r%d\",\"email\":\"user%d@example.com\",\"firstName\":\"First%d\",\"lastName\":\"Last\",\"customData\":{\"plan\":\"pro\",\"seats\":%d}}\n", i, i, i, i % 50 }' >"$T/load.jsonl"
echo "users: $N ($(wc -c <"$T/load.jsonl") bytes of JSON Lines)"

one() { # name binary run
    rm -rf "$T/d"
    /usr/bin/time -v "$2" --data "$T/d" load <"$T/load.jsonl" >"$T/out" 2>"$T/time"
    grep -q "loaded 0 tenant(s) and $N user(s)" "$T/out" || {
        echo "$1: unexpected output: $(cat "$T/out")" >&2
        exit 1
    }
    awk -v name="$1" -v run="$3" -v n="$N" -v size="$(du -k "$T/d/data.mdb" | cut -f1)" '
        /Elapsed \(wall clock\)/ { m = split($NF, p, ":"); w = 0; for (i = 1; i <= m; i++) w = w * 60 + p[i] }
        /User time/ { u = $NF } /System time/ { s = $NF }
        /Maximum resident set size/ { rss = $NF }
        END { printf "run %d %-9s %6.2f s  %6.1fk users/s  user %.2f s  sys %.2f s  peak RSS %d MB  data.mdb %d MB\n",
              run, name, w, n / w / 1000, u, s, rss / 1024, size / 1024 }' "$T/time"
}

for run in $(seq 1 "$RUNS"); do
    one reference "$REF" "$run"
    one new "$CTL" "$run"
done
