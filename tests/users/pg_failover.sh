#!/bin/sh
# roster-users through a PostgreSQL failover, without a restart:
#   - a primary and a hot standby of its own (streaming replication,
#     synchronous: synchronous_standby_names '*', so a commit is
#     acknowledged once the standby has it), on loopback ports PORT and
#     PORT+1 (scripts/pg-cluster.sh start, standby);
#   - roster-users on both hosts in one URL with
#     target_session_attrs=read-write: it writes wherever the primary is;
#     its pool held to 2 connections (--store-pool), never more open;
#   - users created one at a time by rosterctl, each acknowledged one
#     recorded with the id it was acknowledged with;
#   - the primary crashes (immediate shutdown) in the middle: while no host
#     takes writes, creates fail (UNAVAILABLE) and roster-users stays up;
#   - the standby is promoted: creates succeed again through the same
#     roster-users, whose pool connects to the new primary;
#   - every acknowledged user is on the new primary with its id, the totals
#     count no user twice, and verify (indexes, counters, change feed) is
#     clean.
#   pg_failover.sh ROSTERCTL ROSTER_USERS PG_CLUSTER_SH PORT
set -eu
CTL=$1
USERS=$2
PGC=$3
PORT=$4
SPORT=$((PORT + 1))
T=$(mktemp -d)
chmod 755 "$T" # the clusters' owner (postgres, when run as root) enters it
PID=
WRITER=
. "$(dirname "$0")/../rosterctl/lib.sh"
finish() {
    [ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null || true
    "$PGC" stop "$T/standby" >/dev/null 2>&1 || true
    "$PGC" stop "$T/primary" >/dev/null 2>&1 || true
    cleanup
}
trap finish EXIT INT TERM

D=$T/data
K=$T/admin.key
c() { "$CTL" --data "$D" --key-file "$K" --timeout 10000 "$@"; }
q() { # port sql: one value
    psql -X -q -h 127.0.0.1 -p "$1" -U roster -d roster -tAc "$2"
}

"$PGC" start "$T/primary" "$PORT"
"$PGC" standby "$T/standby" "$PORT" "$SPORT"
q "$PORT" "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
q "$PORT" "SELECT pg_reload_conf()" >/dev/null
i=0
until [ "$(q "$PORT" "SELECT sync_state FROM pg_stat_replication")" = sync ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || fail "the standby did not become synchronous"
    sleep 0.05
done
[ "$(q "$SPORT" "SELECT pg_is_in_recovery()")" = t ] || fail "the standby is not in recovery"

URL="postgresql://roster@127.0.0.1:$PORT,127.0.0.1:$SPORT/roster?target_session_attrs=read-write&connect_timeout=2"
mkdir -p "$D"
"$USERS" --data "$D" --init-admin-key "$K" --store "$URL" --store-pool 2 >"$T/daemon.log" 2>&1 &
PID=$!
wait_health

# The writer: one create at a time until $T/stop exists; "ok REF ID" or
# "failed REF EXIT-CODE" per attempt, in order.
writer() {
    n=0
    while [ ! -e "$T/stop" ]; do
        n=$((n + 1))
        rc=0
        "$CTL" --data "$D" --key-file "$K" --timeout 10000 --json users create \
            --reference "u$n" --email "u$n@example.com" >"$T/w.out" 2>"$T/w.err" || rc=$?
        if [ $rc = 0 ]; then
            id=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$T/w.out")
            echo "ok u$n $id" >>"$T/attempts"
        else
            echo "failed u$n $rc $(head -c 160 "$T/w.err" | tr '\n' ' ')" >>"$T/attempts"
        fi
    done
}
: >"$T/attempts"
writer &
WRITER=$!

acked() { grep -c '^ok' "$T/attempts" || true; }
failed() { grep -c '^failed' "$T/attempts" || true; }
wait_acked() { # count
    i=0
    while [ "$(acked)" -lt "$1" ]; do
        i=$((i + 1))
        [ $i -lt 1200 ] || fail "only $(acked) creates acknowledged, wanted $1 (failed: $(failed))"
        kill -0 "$PID" 2>/dev/null || fail "roster-users exited"
        sleep 0.05
    done
}

wait_acked 10
# Reads beside the writes: the pool serves both within its 2 connections.
reader() {
    for _ in 1 2 3 4 5 6 7 8; do
        c users list --limit 5 >/dev/null 2>&1 || return 1
        c users get "$(sed -n 's/^ok [^ ]* //p' "$T/attempts" | head -n 1)" >/dev/null 2>&1 ||
            return 1
    done
}
readers=
for _ in 1 2 3 4 5 6 7 8; do
    reader &
    readers="$readers $!"
done
for r in $readers; do wait "$r" || fail "a read beside the writes failed"; done
wait_acked 20
conns=$(q "$PORT" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'roster'")
[ "$conns" -ge 1 ] && [ "$conns" -le 2 ] || fail "$conns connections open, wanted 1 or 2"
has "$T/daemon.log" "store=postgresql store_pool=2"
[ "$(failed)" = 0 ] || fail "creates failed before the failover"
"$PGC" crash "$T/primary"
before=$(acked)
# No host takes writes now: creates fail while roster-users keeps running.
i=0
until [ "$(failed)" -ge 3 ]; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "no create failed with the primary down"
    sleep 0.05
done
kill -0 "$PID" 2>/dev/null || fail "roster-users exited when the primary went away"
"$PGC" promote "$T/standby"
wait_acked $((before + 20))
touch "$T/stop"
wait "$WRITER"
WRITER=
kill -0 "$PID" 2>/dev/null || fail "roster-users exited"

# Each failure was the service unavailable (exit 3), nothing else.
if grep '^failed' "$T/attempts" | grep -v '^failed [^ ]* 3 '; then
    fail "a create failed otherwise than unavailable during the failover"
fi

# Every acknowledged create is on the new primary, with its id, once.
expect 0 c --json users list --all
grep '^ok' "$T/attempts" | while read -r _ ref id; do
    [ -n "$id" ] || fail "no id acknowledged for $ref"
    grep -q "\"id\":\"$id\",\"reference\":\"$ref\"" "$T/out" ||
        grep -q "\"id\":\"$id\".*\"reference\":\"$ref\"" "$T/out" ||
        fail "acknowledged $ref ($id) is missing after the failover"
done
total=$(q "$SPORT" "SELECT count(*) FROM roster_users")
ok=$(acked)
bad=$(failed)
# A failed create may still have committed (its answer was lost with the
# primary), never more than once: the references are unique.
[ "$total" -ge "$ok" ] && [ "$total" -le $((ok + bad)) ] ||
    fail "$total users stored for $ok acknowledged and $bad failed creates"
[ "$(q "$SPORT" "SELECT count(DISTINCT u_reference) FROM roster_users")" = "$total" ] ||
    fail "a reference is stored twice"

# The store as the new primary holds it: indexes, counters and feed agree.
kill -TERM "$PID"
wait "$PID" || true
PID=
expect 0 "$CTL" --store "postgresql://roster@127.0.0.1:$SPORT/roster" verify
has "$T/out" "ok: every index agrees"
echo "pg_failover: $ok acknowledged ($before before the crash), $bad failed, $total stored"
