#!/bin/sh
# rosterctl load into an empty data directory: the store is written through
# a writable map without a flush per commit and flushed once at the end
# (tools/rosterctl/load.c, "Loading into an empty store").
#   - a completed load verifies clean, dumps the same records it was given
#     (dump -> load -> dump byte-identical) and leaves data.mdb cut back to
#     the pages in use rather than the 64 GiB map;
#   - a load killed (SIGKILL) halfway, in one transaction or after some
#     batches were committed, leaves a store that verify, dump and a new
#     load refuse, saying the load did not finish; removing it and loading
#     again works;
#   - a load of bad input into an empty directory writes nothing and
#     leaves a store that opens.
#   load.sh ROSTERCTL
set -eu
CTL=$1
T=$(mktemp -d)
PID=
trap 'exec 3>&- 2>/dev/null || true; [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"' EXIT INT TERM

. "$(dirname "$0")/lib.sh"

awk 'BEGIN {
    for (t = 0; t < 50; t++)
        printf "{\"__typename\":\"TenantModel\",\"id\":\"019a0000-0000-7000-8000-%012x\",\"name\":\"Tenant %d\",\"reference\":\"t%d\",\"isDefault\":false,\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"updatedAt\":\"2026-01-01T00:00:00.000Z\"}\n", t, t, t
    for (u = 0; u < 6000; u++)
        printf "{\"__typename\":\"UserModel\",\"id\":\"019b0000-0000-7000-8000-%012x\",\"reference\":\"ref-%d\",\"email\":\"user%d@example.com\",\"firstName\":\"First%d\",\"lastName\":\"Last%d\",\"locale\":\"en-US\",\"active\":%s,\"customData\":{\"n\":%d},\"tenantId\":\"019a0000-0000-7000-8000-%012x\",\"createdAt\":\"2026-03-01T10:00:00.000Z\",\"updatedAt\":\"2026-03-01T10:00:00.000Z\"}\n", u, u, u, (u * 7919) % 6000, u % 13, (u % 9 ? "true" : "false"), u, u % 50
}' >"$T/gen.jsonl"

# ---- a completed load: clean, the same records back, the file cut back.
expect 0 "$CTL" --data "$T/a" load <"$T/gen.jsonl"
has "$T/out" "loaded 50 tenant(s) and 6000 user(s)"
expect 0 "$CTL" --data "$T/a" verify
expect 0 "$CTL" --data "$T/a" dump
cp "$T/out" "$T/dump1"
[ "$(wc -l <"$T/dump1")" -eq 6050 ] || fail "dump has $(wc -l <"$T/dump1") lines, wanted 6050"
expect 0 "$CTL" --data "$T/b" load <"$T/dump1"
expect 0 "$CTL" --data "$T/b" verify
expect 0 "$CTL" --data "$T/b" dump
cmp "$T/out" "$T/dump1" || fail "dump -> load -> dump is not byte-identical"
size=$(stat -c %s "$T/b/data.mdb")
[ "$size" -lt $((256 * 1024 * 1024)) ] || fail "data.mdb is $size bytes after the load"
expect 0 "$CTL" --data "$T/b" stats --offline
# A second load into the now non-empty store goes the durable way and is
# checked against the records already there.
expect 4 "$CTL" --data "$T/b" load <"$T/dump1"
has "$T/err" "already"

# ---- killed halfway: the lines arrive through a pipe that is left open,
# so rosterctl is certainly mid-load when it is killed.
killed_load() { # DIR [load options]
    dir=$1
    shift
    rm -f "$T/fifo"
    mkfifo "$T/fifo"
    "$CTL" --data "$dir" load "$@" <"$T/fifo" >"$T/kout" 2>&1 &
    PID=$!
    exec 3>"$T/fifo"
    head -n 3000 "$T/dump1" >&3
    # Until the load has marked the store (every open refuses it from
    # then on) and worked through the lines sent.
    i=0
    until "$CTL" --data "$dir" stats --offline >"$T/probe" 2>&1 ||
        grep -q "unfinished load" "$T/probe"; do
        i=$((i + 1))
        [ $i -lt 300 ] || fail "the load never marked $dir: $(cat "$T/probe")"
        sleep 0.1
    done
    sleep 2
    kill -0 "$PID" 2>/dev/null || fail "the load ended before it was killed: $(cat "$T/kout")"
    kill -9 "$PID"
    wait "$PID" 2>/dev/null || true
    PID=
    exec 3>&-
}
refused() { # DIR
    for cmd in verify dump "stats --offline"; do
        # shellcheck disable=SC2086
        expect 4 "$CTL" --data "$1" $cmd
        has "$T/err" "unfinished load"
        has "$T/err" "load again"
    done
    expect 4 "$CTL" --data "$1" load <"$T/dump1"
    has "$T/err" "unfinished load"
}

killed_load "$T/k1"
refused "$T/k1"
killed_load "$T/k2" --batch 100
refused "$T/k2"
# Removed and loaded again: complete.
rm -f "$T/k2/data.mdb" "$T/k2/lock.mdb"
expect 0 "$CTL" --data "$T/k2" load <"$T/dump1"
expect 0 "$CTL" --data "$T/k2" verify
expect 0 "$CTL" --data "$T/k2" dump
cmp "$T/out" "$T/dump1" || fail "the load after a killed one differs"

# ---- bad input into an empty directory: nothing written, the store opens.
{ head -n 100 "$T/dump1"; echo '{"__typename":"UserModel","email":"not an email"}'; } >"$T/bad.jsonl"
expect 4 "$CTL" --data "$T/c" load <"$T/bad.jsonl"
has "$T/err" "line 101"
has "$T/err" "nothing was written"
expect 0 "$CTL" --data "$T/c" verify
expect 0 "$CTL" --data "$T/c" dump
[ ! -s "$T/out" ] || fail "a rejected load into an empty store wrote records"
echo "load: ok"
