#!/bin/sh
# rosterctl users import against a real roster-users: JSON Lines and CSV
# with good and bad records mixed (the good ones land, each bad one is
# reported by its line or row with the field, nothing of it stays), updates
# by id, a dry run that stores nothing, refusals by key (none, reader,
# another tenant's writer), unusable input (a CSV header naming no field, a
# missing file, a bad --format), and a store that verifies afterwards.
#   import.sh ROSTERCTL ROSTER_USERS
set -eu
CTL=$1
USERS=$2
T=$(mktemp -d)
D=$T/data
PID=
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT INT TERM
K=$T/admin.key
c() { "$CTL" --data "$D" --key-file "$K" --timeout 60000 "$@"; }
as() { key=$1; shift; env -u ROSTER_KEY "$CTL" --data "$D" --key "$key" --timeout 60000 "$@"; }
secret() { sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$T/out"; }
total() { c users list --filter withDeactivated=true "$@" --json --limit 1 | sed -n 's/.*"totalCount":\([0-9]*\).*/\1/p'; }
unset ROSTER_KEY
# Progress lines only where a check asks for them (below).
export ROSTERCTL_PROGRESS_INTERVAL_MS=3600000

"$USERS" --data "$D" --init-admin-key "$K" >>"$T/daemon.log" 2>&1 &
PID=$!
wait_health

expect 0 c tenants create --name Acme --json
A=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$T/out")
expect 0 c tenants create --name Other --json
B=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$T/out")
[ -n "$A" ] && [ -n "$B" ] || fail "no tenant ids"

# JSON Lines: 1200 users; line 5 has a bad email, line 9 reuses line 8's,
# line 12 is not JSON, line 14 is an array, line 20 has an unknown field,
# line 23 names no tenant; blank line 30 is skipped.
awk -v t="$A" 'BEGIN {
    for (i = 1; i <= 1200; i++) {
        if (i == 5) { printf "{\"reference\":\"j%d\",\"email\":\"nope\",\"tenantId\":\"%s\"}\n", i, t; continue }
        if (i == 9) { printf "{\"reference\":\"j%d\",\"email\":\"j8@example.com\",\"tenantId\":\"%s\"}\n", i, t; continue }
        if (i == 12) { print "{not json"; continue }
        if (i == 14) { print "[1,2]"; continue }
        if (i == 20) { printf "{\"reference\":\"j%d\",\"email\":\"j%d@example.com\",\"colour\":\"red\"}\n", i, i; continue }
        if (i == 23) { printf "{\"reference\":\"j%d\",\"email\":\"j%d@example.com\",\"tenantId\":\"0190a5b0-0000-7000-8000-000000000001\"}\n", i, i; continue }
        if (i == 30) { print ""; continue }
        printf "{\"reference\":\"j%d\",\"email\":\"j%d@example.com\",\"firstName\":\"J\",\"tenantId\":\"%s\",\"customData\":{\"n\":%d}}\n", i, i, t, i
    }
}' >"$T/users.jsonl"

# A dry run reports the same refusals and stores nothing.
expect 4 c users import "$T/users.jsonl" --dry-run --batch 250
has "$T/out" "dry run (nothing stored): 1193 created, 0 updated, 6 failed"
[ "$(total --filter tenantId="$A")" = 0 ] || fail "the dry run stored users"

expect 4 c users import "$T/users.jsonl" --batch 250
has "$T/out" "1193 created, 0 updated, 6 failed"
has "$T/err" "line 5: email:"
has "$T/err" "line 9: email: .*ALREADY_EXISTS"
has "$T/err" "line 12: not JSON"
has "$T/err" "line 14: a line must hold a JSON object"
has "$T/err" "line 20: colour:"
has "$T/err" "line 23: tenantId: .*NOT_FOUND"
hasnt "$T/err" "line 30"
[ "$(wc -l <"$T/err")" = 6 ] || fail "not one report per bad line"
# Reports come in file order.
sed -n 's/^users import: line \([0-9]*\):.*/\1/p' "$T/err" | tr '\n' ' ' | grep -q '^5 9 12 14 20 23 $' || fail "reports out of order"
[ "$(total --filter tenantId="$A")" = 1193 ] || fail "wrong number of users after import"
[ "$(total --filter reference=j9)" = 0 ] || fail "a refused record left a user"

# Updates by id, as dump writes records: rename two users, one unknown id.
expect 0 c users list --filter reference=j1 --json
U1=$(sed -n 's/.*"data":\[{"id":"\([^"]*\)".*/\1/p' "$T/out")
[ -n "$U1" ] || fail "no id for j1"
printf '{"id":"%s","firstName":"Renamed","createdAt":"2020-01-01T00:00:00.000Z","synced":true}\n{"id":"0190a5b0-0000-7000-8000-0000000000aa","firstName":"X"}\n' "$U1" >"$T/upd.jsonl"
expect 4 c users import "$T/upd.jsonl" --json
has "$T/out" '"line":2,"status":"NOT_FOUND","field":"id"'
has "$T/out" '{"created":0,"updated":1,"failed":1,"dryRun":false}'
expect 0 c users get "$U1" --json
has "$T/out" '"firstName":"Renamed"'

# CSV with a header row: quoted cells with commas and a line break, an
# empty cell (absent), booleans, customData as JSON text; row 4 has a bad
# boolean, row 5 too few cells, row 6 bad customData.
cat >"$T/users.csv" <<EOF
reference,email,firstName,lastName,isOptedIn,customData,tenantId
c1,c1@example.com,"Ada, Countess",Lovelace,true,"{""plan"":""pro""}",$A
c2,c2@example.com,Two,,false,"{""a"":
1}",$A
c3,c3@example.com,Bad,Bool,maybe,,$A
c4,c4@example.com,Short
c5,c5@example.com,Bad,Json,true,[1],$A
c6,c6@example.com,,,,,$A
EOF
expect 4 c users import "$T/users.csv"
has "$T/out" "3 created, 0 updated, 3 failed"
has "$T/err" "row 4: isOptedIn: isOptedIn must be true or false"
has "$T/err" "row 5: the row has 3 cells, the header 7"
has "$T/err" "row 6: customData:"
expect 0 c users list --filter reference=c1 --json
has "$T/out" '"firstName":"Ada, Countess"'
has "$T/out" '"isOptedIn":true'
has "$T/out" '"plan":"pro"'
expect 0 c users list --filter reference=c2 --json
has "$T/out" '"lastName":null'
has "$T/out" '"a":1'
# stdin with --format.
printf 'reference,email,tenantId\nc7,c7@example.com,%s\n' "$A" | { expect 0 c users import - --format csv; }
has "$T/out" "1 created, 0 updated, 0 failed"

# Progress: plain lines on stderr when it is not a terminal, counting users.
awk -v t="$A" 'BEGIN { for (i = 1; i <= 300; i++) printf "{\"reference\":\"p%d\",\"email\":\"p%d@example.com\",\"tenantId\":\"%s\"}\n", i, i, t }' >"$T/prog.jsonl"
ROSTERCTL_PROGRESS_INTERVAL_MS=1 expect 0 c users import "$T/prog.jsonl" --batch 50
has "$T/out" "300 created, 0 updated, 0 failed"
has "$T/err" "^import: .* users"
if grep -q "$(printf '\r')" "$T/err"; then fail "a bar drawn on a file"; fi
expect 4 c users import "$T/prog.jsonl" --batch 50 --dry-run --no-progress
hasnt "$T/err" "^import:"

# Unusable input: nothing is sent.
printf 'reference,colour\nx,red\n' >"$T/bad.csv"
expect 4 c users import "$T/bad.csv"
has "$T/err" 'CSV header column 2 "colour" is not a UserModel field'
expect 1 c users import "$T/missing.jsonl"
has "$T/err" "cannot open"
expect 2 c users import "$T/users.csv" --format xml
has "$T/err" "must be jsonl or csv"
expect 2 c users import "$T/users.csv" --batch 1001

# Refusals: no key, a reader key, another tenant's writer.
printf '{"reference":"k1","email":"k1@example.com","tenantId":"%s"}\n' "$A" >"$T/one.jsonl"
expect 6 env -u ROSTER_KEY "$CTL" --data "$D" users import "$T/one.jsonl"
expect 0 c keys create --name r --role reader --tenant "$A" --json
R=$(secret)
expect 6 as "$R" users import "$T/one.jsonl"
has "$T/err" "PERMISSION_DENIED\|permission"
expect 0 c keys create --name w --role writer --tenant "$B" --json
W=$(secret)
expect 4 as "$W" users import "$T/one.jsonl"
has "$T/err" "line 1: tenantId: .*PERMISSION_DENIED"
[ "$(total --filter reference=k1)" = 0 ] || fail "a refused import stored a user"
printf '{"reference":"k2","email":"k2@example.com"}\n' >"$T/two.jsonl"
expect 0 as "$W" users import "$T/two.jsonl"
[ "$(total --filter tenantId="$B")" = 1 ] || fail "the writer's own-tenant import did not land"

kill -TERM "$PID"
wait "$PID" || fail "roster-users exited non-zero"
PID=
expect 0 "$CTL" --data "$D" verify
echo "import: ok"
