#!/bin/sh
# rosterctl on a PostgreSQL store (ROSTER_TEST_PG_URL: the test cluster):
#   - migrate copies an LMDB data directory (tenants, users, API keys) into
#     an empty database and checks it: dump of both is byte-identical,
#     verify is clean, the keys are listed alike;
#   - migrate into a database that holds data is refused (exit 4), and so
#     are a --to that is not a URL and a --from that is one (exit 2);
#   - the offline commands work on --store: stats, verify, keys list, load
#     (dump -> load -> dump identical on a second database);
#   - compact and upgrade refuse --store, saying what applies instead.
#   migrate.sh ROSTERCTL
set -eu
CTL=$1
T=$(mktemp -d)
DBS=""
pg() { psql -X -q -v ON_ERROR_STOP=1 -d "$ROSTER_TEST_PG_URL" -c "$1"; }
trap 'for db in $DBS; do pg "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done; rm -rf "$T"' EXIT INT TERM

. "$(dirname "$0")/lib.sh"

: "${ROSTER_TEST_PG_URL:?ROSTER_TEST_PG_URL must name the test cluster}"
base=${ROSTER_TEST_PG_URL%/*}
newdb() { # name -> URL on stdout
    pg "CREATE DATABASE $1"
    DBS="$DBS $1"
    echo "$base/$1"
}
tag=$(basename "$T" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')
A=$(newdb "m1_$tag")
B=$(newdb "m2_$tag")

awk 'BEGIN {
    for (t = 0; t < 20; t++)
        printf "{\"__typename\":\"TenantModel\",\"id\":\"019a0000-0000-7000-8000-%012x\",\"name\":\"Tenant %d\",\"reference\":\"t%d\",\"isDefault\":%s,\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"updatedAt\":\"2026-01-01T00:00:00.000Z\"}\n", t, t, t, (t == 3 ? "true" : "false")
    for (u = 0; u < 3000; u++)
        printf "{\"__typename\":\"UserModel\",\"id\":\"019b0000-0000-7000-8000-%012x\",\"reference\":\"ref-%d\",\"email\":\"User%d@Example.com\",\"firstName\":\"First%d\",\"locale\":\"en-US\",\"active\":%s,\"customData\":{\"n\":%d},\"tenantId\":\"019a0000-0000-7000-8000-%012x\",\"createdAt\":\"2026-03-01T10:00:00.000Z\",\"updatedAt\":\"2026-03-01T10:00:00.000Z\"}\n", u, u, u, u % 13, (u % 9 ? "true" : "false"), u, u % 20
}' >"$T/gen.jsonl"
expect 0 "$CTL" --data "$T/lmdb" load <"$T/gen.jsonl"
expect 0 "$CTL" --data "$T/lmdb" --json keys create --offline --name ops --role admin
expect 0 "$CTL" --data "$T/lmdb" --json keys create --offline --name w --role writer \
    --tenant 019a0000-0000-7000-8000-000000000002
expect 0 "$CTL" --data "$T/lmdb" --json keys list --offline
cp "$T/out" "$T/keys-lmdb"

# ---- bad arguments
expect 2 "$CTL" migrate --from "$T/lmdb" --to "$T/elsewhere"
expect 2 "$CTL" migrate --from "$A" --to "$B"

# ---- the copy and its check
expect 0 "$CTL" migrate --from "$T/lmdb" --to "$A"
has "$T/out" "migrated 20 tenants, 3000 users and 2 keys; the copy matches the source"
expect 0 "$CTL" --data "$T/lmdb" dump
cp "$T/out" "$T/dump-lmdb"
expect 0 "$CTL" --store "$A" dump
cmp "$T/out" "$T/dump-lmdb" || fail "the PostgreSQL store dumps other records than the LMDB one"
expect 0 "$CTL" --store "$A" verify
has "$T/out" "ok: every index agrees"
expect 0 "$CTL" --store "$A" --json keys list --offline
cmp "$T/out" "$T/keys-lmdb" || fail "the keys differ after migrate"
expect 0 "$CTL" --store "$A" stats --offline
has "$T/out" "3000"

# ---- a second migrate into the same database is refused, changing nothing
expect 4 "$CTL" migrate --from "$T/lmdb" --to "$A"
has "$T/err" "already holds"
expect 0 "$CTL" --store "$A" verify

# ---- load and dump on --store
expect 0 "$CTL" --store "$B" load <"$T/dump-lmdb"
expect 0 "$CTL" --store "$B" dump
cmp "$T/out" "$T/dump-lmdb" || fail "dump -> load -> dump through PostgreSQL is not identical"

# ---- LMDB-only commands refuse a PostgreSQL store
expect 4 "$CTL" --store "$A" compact
has "$T/err" "VACUUM"
expect 4 "$CTL" --store "$A" upgrade
has "$T/err" "migrates"
echo "ok"
