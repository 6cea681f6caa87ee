#!/bin/sh
# Measures rosterctl's offline commands on an optimized build against
# references on the same data, in the same run (not a test; it never fails
# on time):
#   load   in one transaction, in batches of 5,000 lines, and --dry-run
#          (everything but the commit), against jq parsing and re-encoding
#          the same JSON Lines (the floor for any JSON loader);
#   dump   (decode + JSON) against mdb_dump -a (raw hex of every database);
#   verify against dump (one pass over the records);
#   stats --offline.
# Usage: tests/rosterctl/bench.sh build/ctl-rel/tools/rosterctl/rosterctl [USERS] [TENANTS]
set -eu
CTL=$1
N=${2:-50000}
NT=${3:-100}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

awk -v n="$N" -v nt="$NT" 'BEGIN {
    for (t = 0; t < nt; t++)
        printf "{\"__typename\":\"TenantModel\",\"id\":\"019a0000-0000-7000-8000-%012x\",\"name\":\"Tenant %d\",\"reference\":\"t%d\",\"isDefault\":false,\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"updatedAt\":\"2026-01-01T00:00:00.000Z\"}\n", t, t, t
    for (u = 0; u < n; u++)
        printf "{\"__typename\":\"UserModel\",\"id\":\"019b0000-0000-7000-8000-%012x\",\"reference\":\"ref-%d\",\"email\":\"user%d@example.com\",\"firstName\":\"First%d\",\"lastName\":\"Last%d\",\"phone\":null,\"locale\":\"en-US\",\"timezone\":\"Asia/Bangkok\",\"isOptedIn\":false,\"active\":true,\"avatarUrl\":null,\"customData\":{\"n\":%d},\"twoFactorEnabled\":false,\"tenantId\":\"019a0000-0000-7000-8000-%012x\",\"createdAt\":\"2026-03-01T10:00:00.000Z\",\"updatedAt\":\"2026-03-01T10:00:00.000Z\"}\n", u, u, u, u, u, u, u % nt
}' >"$T/in.jsonl"
echo "input: $N users, $NT tenants, $(wc -c <"$T/in.jsonl") bytes of JSON Lines"

"$CTL" --data "$T/seed" load <"$T/in.jsonl" >/dev/null
"$CTL" --data "$T/seed" stats --offline | sed -n '2,6p'

hyperfine --runs 3 --style basic --prepare "rm -rf $T/x" \
    -n "rosterctl load (one transaction)" "$CTL --data $T/x load <$T/in.jsonl" \
    -n "rosterctl load --batch 5000" "$CTL --data $T/x load --batch 5000 <$T/in.jsonl" \
    -n "rosterctl load --dry-run" "$CTL --data $T/x load --dry-run <$T/in.jsonl" \
    -n "jq -c . (parse + encode only)" "jq -c . $T/in.jsonl >/dev/null"
hyperfine --runs 5 --warmup 1 --style basic -N \
    -n "rosterctl dump" "sh -c '$CTL --data $T/seed dump >/dev/null'" \
    -n "mdb_dump -a (raw hex)" "sh -c 'mdb_dump -a $T/seed >/dev/null'" \
    -n "rosterctl verify" "$CTL --data $T/seed verify" \
    -n "rosterctl stats --offline" "$CTL --data $T/seed stats --offline"
