#!/bin/sh
# Progress of rosterctl's offline load, verify and dump, from the real
# binary: on a pseudo-terminal (script(1) of util-linux) a bar redrawn with
# '\r' that carries a percent and a rate, cleared at the end for the
# summary line; with stderr to a file, plain periodic lines and no '\r';
# nothing from a short run; --no-progress; bad lines printed clear of the
# bar.
#   progress.sh ROSTERCTL SCRIPT
set -eu
CTL=$1
SCRIPT=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
CR=$(printf '\r')
unset ROSTERCTL_PROGRESS_INTERVAL_MS

fail() { echo "FAIL: $*" >&2; exit 1; }
show() { tr '\r' '\n' <"$1" >&2; }
has() { grep -q -- "$2" "$1" || { show "$1"; fail "$1 lacks: $2"; }; }
hasnt() { if grep -q -- "$2" "$1"; then show "$1"; fail "$1 has: $2"; fi; }
# count FILE REGEX: the '\r'- or '\n'-separated pieces of FILE matching REGEX.
count() { tr '\r' '\n' <"$1" | grep -c -- "$2" || true; }
# onpty OUT CMD: runs the shell command CMD with stdin, stdout and stderr on
# a pseudo-terminal; what it wrote (the terminal turns "\n" into "\r\n")
# goes to OUT.
onpty() {
    out=$1; shift
    "$SCRIPT" -qec "$*" /dev/null </dev/null >"$out" || { show "$out"; fail "exit $?: $*"; }
}

# 1 tenant and 1000 users: well under a second of load even under the
# sanitizers, so the load cases redraw every millisecond.
awk 'BEGIN {
    printf "{\"__typename\":\"TenantModel\",\"id\":\"019a0000-0000-7000-8000-000000000001\",\"name\":\"T\",\"isDefault\":false,\"createdAt\":\"2026-01-01T00:00:00.000Z\",\"updatedAt\":\"2026-01-01T00:00:00.000Z\"}\n"
    for (u = 0; u < 1000; u++)
        printf "{\"__typename\":\"UserModel\",\"id\":\"019b0000-0000-7000-8000-%012x\",\"reference\":\"r%d\",\"email\":\"u%d@example.com\",\"tenantId\":\"019a0000-0000-7000-8000-000000000001\",\"createdAt\":\"2026-03-01T10:00:00.000Z\",\"updatedAt\":\"2026-03-01T10:00:00.000Z\"}\n", u, u, u
}' >"$T/gen.jsonl"

# ---- (a) a pseudo-terminal. load: redrawn every 1 ms, a bar with the
# percent of the file read, the records, a rate in records per second.
onpty "$T/load.tty" "ROSTERCTL_PROGRESS_INTERVAL_MS=1 '$CTL' --data '$T/a' load <'$T/gen.jsonl'"
bars=$(count "$T/load.tty" '^load \[[#.]*\] *[0-9]*% [0-9]* records *[0-9.]*[kM]*/s [0-9]*:[0-9][0-9]')
[ "$bars" -ge 3 ] || { show "$T/load.tty"; fail "load drew $bars bars, wanted 3 or more"; }
has "$T/load.tty" "${CR}load \[#"
has "$T/load.tty" "${CR}load \[.*\]  *[0-9]*% .* eta [0-9]*:[0-9][0-9]"
# At most one redraw per interval: no more than the seconds taken allow.
secs=$(tr '\r' '\n' <"$T/load.tty" | sed -n 's/^load: 1001 records in \([0-9]*\)\..*/\1/p')
[ -n "$secs" ] || { show "$T/load.tty"; fail "no load summary"; }
[ "$bars" -le $(((secs + 1) * 1000 + 1)) ] || fail "$bars redraws in under $((secs + 1)) s"
# The end: blanks over the bar, the summary, then the command's own line.
has "$T/load.tty" " ${CR}load: 1001 records in [0-9.]*s, [0-9.]*[kM]* records/s${CR}$"
tr -d '\r' <"$T/load.tty" | tail -n 1 | grep -qx "loaded 1 tenant(s) and 1000 user(s)" ||
    { show "$T/load.tty"; fail "load's own line is not last"; }

# verify and dump (its stdout to a file) redraw every millisecond here.
onpty "$T/verify.tty" "ROSTERCTL_PROGRESS_INTERVAL_MS=1 '$CTL' --data '$T/a' verify"
has "$T/verify.tty" "${CR}verify \[#*\.*\]  *[0-9]*% [0-9]* records"
has "$T/verify.tty" "${CR}verify: 1001 records in "
has "$T/verify.tty" "ok: every index agrees with the records"
onpty "$T/dump.tty" "ROSTERCTL_PROGRESS_INTERVAL_MS=1 '$CTL' --data '$T/a' dump >'$T/dump.jsonl'"
has "$T/dump.tty" "${CR}dump \[#*\.*\]  *[0-9]*% [0-9]* records"
has "$T/dump.tty" "${CR}dump: 1001 records in "
[ "$(wc -l <"$T/dump.jsonl")" -eq 1001 ] || fail "dump wrote $(wc -l <"$T/dump.jsonl") lines"
head -n 1 "$T/dump.jsonl" | grep -q '^{"__typename":"TenantModel"' || fail "dump output"
# dump to the terminal itself: the records are the progress, no bar.
onpty "$T/dumpout.tty" "ROSTERCTL_PROGRESS_INTERVAL_MS=1 '$CTL' --data '$T/a' dump"
[ "$(count "$T/dumpout.tty" '^{"__typename"')" -eq 1001 ] || fail "dump to the terminal"
hasnt "$T/dumpout.tty" "dump \["
hasnt "$T/dumpout.tty" "dump: 1001 records"
# --no-progress: nothing but the command's output.
onpty "$T/quiet.tty" "ROSTERCTL_PROGRESS_INTERVAL_MS=1 '$CTL' --data '$T/a' --no-progress verify"
hasnt "$T/quiet.tty" "verify \["
hasnt "$T/quiet.tty" "verify: "
# A run shorter than the interval (a minute here, so that a slow machine
# cannot make it longer): no bar, no summary.
head -n 3 "$T/gen.jsonl" >"$T/three.jsonl"
onpty "$T/short.tty" "ROSTERCTL_PROGRESS_INTERVAL_MS=60000 '$CTL' --data '$T/short' load <'$T/three.jsonl'"
hasnt "$T/short.tty" "load \["
hasnt "$T/short.tty" "load: "
has "$T/short.tty" "loaded 1 tenant(s) and 2 user(s)"
# Bad lines are printed on a line of their own, the bar cleared first.
{ sed -n 1,60p "$T/gen.jsonl"; echo '{"__typename":"UserModel","reference":"no-email"}'
  sed -n 61,120p "$T/gen.jsonl"; } >"$T/bad.jsonl"
onpty "$T/bad.tty" "ROSTERCTL_PROGRESS_INTERVAL_MS=1 '$CTL' --data '$T/bad' load <'$T/bad.jsonl'; true"
has "$T/bad.tty" "${CR}load \["
[ "$(count "$T/bad.tty" '^rosterctl: load: line 61: email')" -eq 1 ] ||
    { show "$T/bad.tty"; fail "the bad line is not on a line of its own"; }
has "$T/bad.tty" "1 bad line(s); nothing was written"
hasnt "$T/bad.tty" "load: 121 records in"

# ---- (b) stderr to a file: plain lines every 1 ms, no '\r'.
ROSTERCTL_PROGRESS_INTERVAL_MS=1 "$CTL" --data "$T/b" load <"$T/gen.jsonl" >"$T/load.out" 2>"$T/load.err" ||
    { cat "$T/load.err" >&2; fail "plain load"; }
has "$T/load.out" "loaded 1 tenant(s) and 1000 user(s)"
hasnt "$T/load.err" "$CR"
lines=$(grep -c '^load: [0-9]* records, [0-9]*%, [0-9.]*[kM]* records/s, [0-9]*:[0-9][0-9] elapsed, eta [0-9]*:[0-9][0-9]$' "$T/load.err" || true)
[ "$lines" -ge 3 ] || { cat "$T/load.err" >&2; fail "$lines periodic lines, wanted 3 or more"; }
tail -n 1 "$T/load.err" | grep -q '^load: 1001 records in [0-9.]*s, [0-9.]*[kM]* records/s$' ||
    { cat "$T/load.err" >&2; fail "the summary is not the last line"; }
[ "$(grep -vc '^load: ' "$T/load.err")" -eq 0 ] || { cat "$T/load.err" >&2; fail "other lines"; }
ROSTERCTL_PROGRESS_INTERVAL_MS=1 "$CTL" --data "$T/b" verify >"$T/verify.out" 2>"$T/verify.err"
hasnt "$T/verify.err" "$CR"
has "$T/verify.err" '^verify: [0-9]* records, [0-9]*%, '
tail -n 1 "$T/verify.err" | grep -q '^verify: 1001 records in ' || fail "verify summary"
ROSTERCTL_PROGRESS_INTERVAL_MS=1 "$CTL" --data "$T/b" dump >"$T/dump.out" 2>"$T/dump.err"
has "$T/dump.err" '^dump: [0-9]* records, [0-9]*%, '
tail -n 1 "$T/dump.err" | grep -q '^dump: 1001 records in ' || fail "dump summary"
cmp "$T/dump.out" "$T/dump.jsonl" || fail "the dumps of a and b differ"
# The default 5 s: a short run writes nothing to stderr; so do --json
# (stderr is no terminal) and --no-progress, whatever the interval.
"$CTL" --data "$T/b" verify >"$T/out" 2>"$T/err"
[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "a short verify wrote to stderr"; }
ROSTERCTL_PROGRESS_INTERVAL_MS=1 "$CTL" --data "$T/b" --json verify >"$T/out" 2>"$T/err"
[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "--json verify wrote to stderr"; }
has "$T/out" '"ok":true'
ROSTERCTL_PROGRESS_INTERVAL_MS=1 "$CTL" --data "$T/b" --no-progress dump >"$T/out" 2>"$T/err"
[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "--no-progress dump wrote to stderr"; }
# An interval that is no number of milliseconds is named, and ignored.
ROSTERCTL_PROGRESS_INTERVAL_MS=0 "$CTL" --data "$T/b" verify >"$T/out" 2>"$T/err"
has "$T/err" "ignoring ROSTERCTL_PROGRESS_INTERVAL_MS=0: not milliseconds between 1 and 3600000"
[ "$(wc -l <"$T/err")" -eq 1 ] || { cat "$T/err" >&2; fail "more than the warning"; }
echo "progress: ok"
