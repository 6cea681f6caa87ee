#!/bin/sh
# rosterctl live commands against a real roster-users on a temporary data
# directory (default ipc address derived from --data), plus the offline
# commands while the daemon runs and the unavailable path. The daemon mints
# an admin key into $T/admin.key (--init-admin-key) and every call presents
# it, except where the API key checks say otherwise.
#   live.sh ROSTERCTL ROSTER_USERS
set -eu
CTL=$1
USERS=$2
T=$(mktemp -d)
D=$T/data
PID=
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT INT TERM
idof() { sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$T/out"; }
K=$T/admin.key
c() { "$CTL" --data "$D" --key-file "$K" "$@"; }
# nokey CMD...: runs CMD without ROSTER_KEY in its environment.
nokey() { env -u ROSTER_KEY "$@"; }
unset ROSTER_KEY

mkdir -p "$D"
"$USERS" --data "$D" --init-admin-key "$K" >"$T/daemon.log" 2>&1 &
PID=$!
wait_health
[ -s "$K" ] || fail "roster-users did not write the admin key to $K"
[ "$(stat -c %a "$K")" = 600 ] || fail "admin key file mode $(stat -c %a "$K"), wanted 600"

expect 0 c health
has "$T/out" "^SERVING  ipc://$D/users.ipc"
expect 0 c --json health
has "$T/out" '"status":"SERVING"'

# ---- tenants
expect 0 c --json tenants create --name Acme --reference acme
TA=$(idof)
has "$T/out" '"name":"Acme","reference":"acme","isDefault":false'
expect 0 c --json tenants create --name Beta
TB=$(idof)
expect 0 c tenants set-default "$TB"
has "$T/out" "isDefault  true"
expect 0 c --json tenants get "$TB"
has "$T/out" '"isDefault":true'
expect 0 c tenants list --filter 'name~*ac%'
has "$T/out" "1 of 1 tenants"
has "$T/out" "$TA"
expect 0 c --json tenants list --order name:desc
has "$T/out" "^{\"totalCount\":2,\"data\":\[{\"id\":\"$TB\""
expect 0 c --json tenants list --filter "id=[$TA]" --filter reference!=null
has "$T/out" '"totalCount":1'
expect 0 c tenants update "$TA" --name "Acme Corp" --clear reference
has "$T/out" "name       Acme Corp"
has "$T/out" "reference  -"
expect 2 c tenants update "$TA"
has "$T/err" "nothing to change"
expect 2 c tenants update "$TA" --clear name
has "$T/err" "only reference can be cleared"
expect 2 c tenants create --reference x
has "$T/err" "tenants create: --name is required"
expect 1 c tenants get 0190b1c4-0000-7000-8000-000000000001
has "$T/err" "tenants get"

# ---- users
expect 0 c --json users create --reference r1 --email ann@acme.com --first-name Ann \
    --tenant-id "$TA" --custom-data '{"k":1}'
U1=$(idof)
has "$T/out" '"firstName":"Ann","lastName":null'
has "$T/out" '"customData":{"k":1}'
has "$T/out" "\"tenantId\":\"$TA\""
expect 0 c --json users create --reference r2 --email bob@acme.com --last-name Lee \
    --tenant-id "$TA" --opted-in true --locale en-GB --timezone Europe/London --phone +441234
U2=$(idof)
expect 0 c --json users create --reference r3 --email cy@beta.io
U3=$(idof)
has "$T/out" "\"tenantId\":\"$TB\""
expect 4 c users create --reference r4 --email ANN@acme.com --tenant-id "$TA"
has "$T/err" "users create"
has "$T/err" "email"
expect 4 c users create --reference r5 --email not-an-email
has "$T/err" "email"
expect 2 c users create --reference r6
has "$T/err" "--email is required"
expect 2 c users create --reference r6 --email a@b.co --active maybe
has "$T/err" "--active takes true or false"
expect 2 c users create --reference r6 --email a@b.co --custom-data '[1]'
has "$T/err" "JSON object"
expect 1 c --json users create --reference r7 --email x@y.z --tenant-id 0190b1c4-0000-7000-8000-000000000001
has "$T/err" '"error":{"code":"NOT_FOUND"'
has "$T/err" 'tenantId'

expect 0 c users get "$U1"
has "$T/out" "^email  *ann@acme.com"
has "$T/out" "^firstName  *Ann"
expect 1 c users get 0190b1c4-0000-7000-8000-000000000001
has "$T/err" "rosterctl: users get:"
expect 4 c users get not-a-uuid
expect 1 c --json users get 0190b1c4-0000-7000-8000-000000000001
has "$T/err" '{"error":{"code":"NOT_FOUND"'

expect 0 c --json users list --filter 'email~%@acme.com'
has "$T/out" '^{"totalCount":2,'
# --fields: the service sends only those fields (and id); tables show them.
expect 0 c --json users list --filter 'email~%@acme.com' --fields email
has "$T/out" '^{"totalCount":2,"data":\[{"id":"[^"]*","email":"[^"]*"},{'
hasnt "$T/out" 'firstName'
expect 0 c users list --fields email,firstName --filter "id=[$U1]"
has "$T/out" '^email  *firstName'
has "$T/out" '^ann@acme.com  *Ann'
expect 0 c --json users get "$U1" --fields createdAt
has "$T/out" "^{\"id\":\"$U1\",\"createdAt\":\"[^\"]*\"}$"
expect 2 c users list --fields id,mail
has "$T/err" 'a user has no field "mail"; its fields: id reference email'
expect 2 c users get "$U1" --fields email,email
has "$T/err" 'email is named twice'
expect 0 c --json tenants list --fields name --filter "id=[$TA]"
has "$T/out" "^{\"totalCount\":1,\"data\":\[{\"id\":\"$TA\",\"name\":\"Acme Corp\"}\]"
expect 2 c tenants get "$TA" --fields users
has "$T/err" 'a tenant has no field "users"'
expect 0 c --json users list --filter "tenantId=$TB"
has "$T/out" '"totalCount":1'
has "$T/out" "$U3"
expect 0 c --json users list --filter lastName=null --filter "tenantId=$TA"
has "$T/out" '"totalCount":1'
has "$T/out" "$U1"
expect 0 c --json users list --filter lastName!=null
has "$T/out" '"totalCount":1'
has "$T/out" "$U2"
expect 0 c --json users list --filter "id=[$U1,$U3]"
has "$T/out" '"totalCount":2'
hasnt "$T/out" "$U2"
expect 0 c --json users list --filter 'email!=[ann@acme.com]'
has "$T/out" '"totalCount":2'
hasnt "$T/out" "$U1"
expect 0 c --json users list --filter isOptedIn=true
has "$T/out" '"totalCount":1'
expect 0 c --json users list --filter 'firstName~*AN%'
has "$T/out" '"totalCount":1'
has "$T/out" "$U1"
expect 0 c --json users list --filter 'firstName~AN%'
has "$T/out" '"totalCount":0'
expect 0 c --json users list --filter 'locale=[en-GB,de-DE]' --filter timezone=Europe/London --filter phone!=null
has "$T/out" '"totalCount":1'
expect 0 c --json users list --filter createdAt\>2020-01-01T00:00:00Z --filter 'updatedAt<=2999-01-01T00:00:00Z' \
    --order email:desc --limit 1 --offset 1
has "$T/out" "^{\"totalCount\":3,\"data\":\[{\"id\":\"$U2\""
expect 0 c --json users list --search email:ACME
has "$T/out" '"totalCount":2'
expect 0 c users list --order createdAt:asc
has "$T/out" "3 of 3 users (offset 0)"
head -n 2 "$T/out" | tail -n 1 | grep -q "$U1" || fail "createdAt:asc does not start with $U1"
expect 2 c users list --filter colour=x
has "$T/err" "unknown user field 'colour'"
expect 2 c users list --limit -1
expect 4 c users list --limit 5000
has "$T/err" "limit"

expect 0 c --json users update "$U1" --first-name Anna --clear customData
has "$T/out" '"firstName":"Anna"'
has "$T/out" '"customData":null'
expect 0 c --json users update "$U1" --clear first-name --two-factor true
has "$T/out" '"firstName":null'
has "$T/out" '"twoFactorEnabled":true'
expect 2 c users update "$U1" --clear colour
has "$T/err" "unknown field 'colour'"
expect 2 c users update "$U1"
has "$T/err" "nothing to change"
expect 1 c users update 0190b1c4-0000-7000-8000-000000000001 --first-name X
expect 4 c users update "$U1" --email bob@acme.com
has "$T/err" "email"

expect 0 c --json users deactivate "$U2"
has "$T/out" '"active":false'
expect 0 c --json users list --filter "tenantId=$TA"
has "$T/out" '"totalCount":1'
expect 0 c --json users list --filter "tenantId=$TA" --filter withDeactivated=true
has "$T/out" '"totalCount":2'
expect 0 c --json users list --filter active=false
has "$T/out" '"totalCount":1'
has "$T/out" "$U2"
expect 0 c --json tenants get "$TA" --user-count
has "$T/out" '"users":{"totalCount":1}'
expect 0 c tenants list --user-count
has "$T/out" "users"

# ---- service stats
expect 0 c stats
has "$T/out" "^GetUser  *[0-9]"
has "$T/out" "NOT_FOUND:"
has "$T/out" "users            3"
expect 0 c --json stats
has "$T/out" '"users":3,"tenants":2'
has "$T/out" '"method":"ListUsers","count":'

# ---- API keys
expect 0 c --json keys create --name ops --role admin
has "$T/out" '^{"key":{"id":"[0-9a-f-]*","name":"ops","role":"admin","tenantId":null,"status":"active"'
has "$T/out" '"secret":"rstr_[0-9a-f]\{32\}_[A-Za-z0-9_-]\{43\}"}$'
has "$T/err" '"warning":"the secret is shown only this once'
ADMIN2=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$T/out")
expect 0 c keys create --name svc --role WRITER --tenant "$TA" --expires 30d
has "$T/out" "^secret  *rstr_"
has "$T/out" "^role  *writer"
has "$T/out" "^tenantId  *$TA"
has "$T/out" "^expiresAt  *20"
has "$T/err" "rosterctl: keys create: the secret is shown only this once"
WRITER=$(sed -n 's/^secret  *//p' "$T/out")
WID=$(sed -n 's/^id  *//p' "$T/out")
[ -n "$WRITER" ] && [ -n "$WID" ] || fail "keys create printed no id or secret"
expect 0 c keys create --name later --role reader --tenant "$TB" --expires 2999-01-01T00:00:00Z
has "$T/out" "^expiresAt  *2999-01-01T00:00:00.000Z"
expect 0 c keys list
has "$T/out" "^id  *name  *role  *tenantId  *status"
has "$T/out" "ops  *admin"
has "$T/out" "svc  *writer  *$TA  *active"
has "$T/out" "4 of 4 keys"
hasnt "$T/out" "rstr_"
expect 0 c --json keys show "$WID"
has "$T/out" "^{\"id\":\"$WID\",\"name\":\"svc\",\"role\":\"writer\",\"tenantId\":\"$TA\",\"status\":\"active\""
hasnt "$T/out" "rstr_"
hasnt "$T/out" "ecret"
expect 1 c keys show 0190b1c4-0000-7000-8000-000000000001
has "$T/err" "keys show"
# usage errors are caught before any call
expect 2 c keys create --name x
has "$T/err" "--role is required"
expect 2 c keys create --role admin
has "$T/err" "--name is required"
expect 2 c keys create --name x --role boss
has "$T/err" "--role takes admin|writer|reader, not 'boss'"
expect 2 c keys create --name x --role admin --expires soon
has "$T/err" "--expires takes an ISO-8601 time"
expect 2 c keys rotate "$WID" --grace forever
has "$T/err" "--grace takes a duration"
expect 4 c keys create --name x --role writer
has "$T/err" "tenantId"

# the second admin key works, given each way: --key, --key-file, ROSTER_KEY
expect 0 nokey "$CTL" --data "$D" --key "$ADMIN2" keys list
has "$T/out" "4 of 4 keys"
expect 0 env ROSTER_KEY="$ADMIN2" "$CTL" --data "$D" --json keys list
has "$T/out" '"totalCount":4'
# precedence: --key over --key-file over ROSTER_KEY
expect 6 env ROSTER_KEY="$ADMIN2" "$CTL" --data "$D" --key "$WRITER" keys list
expect 0 env ROSTER_KEY="$WRITER" "$CTL" --data "$D" --key-file "$K" keys list
expect 6 env ROSTER_KEY="$ADMIN2" "$CTL" --data "$D" --key "$WRITER" --key-file "$K" keys list

# a writer key: its tenant's users, not keys or tenants
expect 0 nokey "$CTL" --data "$D" --key "$WRITER" users get "$U1"
has "$T/out" "^email  *ann@acme.com"
expect 6 nokey "$CTL" --data "$D" --key "$WRITER" keys list
has "$T/err" "rosterctl: keys list: permission denied: ListKeys needs the admin role"
expect 6 nokey "$CTL" --data "$D" --key "$WRITER" tenants create --name Nope
has "$T/err" "rosterctl: tenants create: permission denied: "
expect 6 nokey "$CTL" --data "$D" --key "$WRITER" --json keys list
has "$T/err" '"code":"PERMISSION_DENIED"'
# a wrong key, and none at all (the daemon does not allow keyless ipc)
BAD=rstr_0190b1c4000070008000000000000001_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
expect 6 nokey "$CTL" --data "$D" --key "$BAD" users list
has "$T/err" "rosterctl: users list: unauthenticated: .*(the key from --key is unknown, revoked, expired or malformed)"
# the right id with a wrong secret
expect 6 nokey "$CTL" --data "$D" --key "$(echo "$ADMIN2" | cut -c1-38)AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" users list
has "$T/err" "the key from --key is unknown"
expect 6 nokey "$CTL" --data "$D" --json users list
has "$T/err" '"code":"UNAUTHENTICATED"'
has "$T/err" "no API key was given: use --key, --key-file or ROSTER_KEY"
# key files others may read, or that are not files, are refused before any call
cp "$K" "$T/open.key"
chmod 644 "$T/open.key"
expect 2 "$CTL" --data "$D" --key-file "$T/open.key" users list
has "$T/err" "key file $T/open.key is accessible by group or others (mode 0644)"
chmod 640 "$T/open.key"
expect 2 "$CTL" --data "$D" --key-file "$T/open.key" health
has "$T/err" "chmod 600"
expect 2 "$CTL" --data "$D" --key-file "$T" users list
has "$T/err" "is not a regular file"
expect 2 "$CTL" --data "$D" --key-file "$T/none.key" users list
has "$T/err" "cannot open key file $T/none.key"
expect 2 "$CTL" --data "$D" --key "two words" users list
has "$T/err" "space or control character"

# rotate: the new secret works, the old one until its grace ends (here at once)
expect 0 c --json keys rotate "$WID" --grace 0
has "$T/out" "\"rotatedAt\":\"20"
has "$T/err" '"warning"'
WRITER2=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$T/out")
[ -n "$WRITER2" ] && [ "$WRITER2" != "$WRITER" ] || fail "rotate printed no new secret"
expect 0 nokey "$CTL" --data "$D" --key "$WRITER2" users get "$U1"
expect 6 nokey "$CTL" --data "$D" --key "$WRITER" users get "$U1"
expect 0 c keys rotate "$WID"
has "$T/out" "^previousValidUntil  *20"
has "$T/out" "^secret  *rstr_"
WRITER3=$(sed -n 's/^secret  *//p' "$T/out")
expect 0 nokey "$CTL" --data "$D" --key "$WRITER2" users get "$U1"
expect 0 nokey "$CTL" --data "$D" --key "$WRITER3" users get "$U1"
# revoke: it stops working at once and leaves the default list
expect 0 c keys revoke "$WID"
has "$T/out" "^status  *revoked"
has "$T/out" "^revokedAt  *20"
expect 6 nokey "$CTL" --data "$D" --key "$WRITER3" users get "$U1"
expect 0 c --json keys list
hasnt "$T/out" "$WID"
expect 0 c --json keys list --all
has "$T/out" "\"id\":\"$WID\",\"name\":\"svc\",\"role\":\"writer\",\"tenantId\":\"$TA\",\"status\":\"revoked\""
expect 0 c keys revoke "$WID"
expect 4 c keys rotate "$WID"

# ---- offline commands while the daemon runs
expect 0 c stats --offline
has "$T/out" "users            3 (2 active)"
expect 0 c dump
[ "$(wc -l <"$T/out")" -eq 5 ] || fail "dump while running: $(wc -l <"$T/out") lines"
has "$T/out" "\"id\":\"$U2\".*\"active\":false"
expect 0 c verify
expect 0 c keys list --offline --all
has "$T/out" "4 of 4 keys"
expect 0 c --json keys show "$WID" --offline
has "$T/out" '"status":"revoked"'

# ---- watch: the change feed
expect 0 c --json watch --after 0 --count 3
has "$T/out" '^{"seq":1,"kind":"TENANT_CREATED"'
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "watch --count 3 printed $(wc -l <"$T/out") lines"
expect 0 c watch --after 1 --count 1
has "$T/out" "^2 TENANT_CREATED $TB tenant=$TB"
# From now on: the next change only (the watcher reads the latest seq first).
timeout 30 "$CTL" --data "$D" --key-file "$K" --json watch --count 1 >"$T/watch.out" 2>&1 &
WPID=$!
sleep 1
expect 0 c users update "$U1" --last-name Watched
wait "$WPID" || { cat "$T/watch.out" >&2; fail "watch exited $?"; }
has "$T/watch.out" '"kind":"USER_UPDATED"'
has "$T/watch.out" '"fields":{"id":"[^"]*","lastName":"Watched","updatedAt"'
# A reader of Beta sees Beta's events, nothing of Acme.
expect 0 c --json keys create --name feed-reader --role reader --tenant "$TB"
FEEDREADER=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$T/out")
expect 0 nokey "$CTL" --data "$D" --key "$FEEDREADER" --json watch --after 0 --count 2
has "$T/out" "\"tenantId\":\"$TB\""
hasnt "$T/out" "$TA"
expect 6 nokey "$CTL" --data "$D" watch --after 0 --count 1
has "$T/err" "unauthenticated"
expect 4 c watch --after 999999 --count 1
has "$T/err" "past the latest sequence"
expect 2 c watch --after x

# ---- help
expect 0 c users list --help
has "$T/out" "iLike"
expect 0 "$CTL" --help
has "$T/out" "Exit codes"

# ---- cursor paging: --after, and --all walking every page by cursor
i=0
while [ $i -lt 23 ]; do
    c users create --reference "page$i" --email "page$i@pages.io" --tenant-id "$TA" >/dev/null ||
        fail "users create page$i"
    i=$((i + 1))
done
P="--filter email~%@pages.io --order email:asc"
# shellcheck disable=SC2086
expect 0 c --json users list $P --limit 1000
has "$T/out" '^{"totalCount":23,"data":\[{"id":'
has "$T/out" '"pageInfo":{"hasNextPage":false,"endCursor":"[A-Za-z0-9_-]*"}}$'
cp "$T/out" "$T/big.json"
# every page of 4 by cursor prints the same object as the one big page
# shellcheck disable=SC2086
expect 0 c --json users list $P --all --limit 4
cmp -s "$T/out" "$T/big.json" || { cat "$T/out" "$T/big.json" >&2; fail "--all --json differs"; }
# shellcheck disable=SC2086
expect 0 c users list $P --all --limit 5
has "$T/out" "^23 of 23 users (every page, 5 by cursor)$"
[ "$(grep -c "@pages.io" "$T/out")" -eq 23 ] || fail "--all table: $(grep -c "@pages.io" "$T/out") rows"
# one page, then the next one after its cursor
# shellcheck disable=SC2086
expect 0 c --json users list $P --limit 5
has "$T/out" '"pageInfo":{"hasNextPage":true,"endCursor":"'
CUR=$(sed -n 's/.*"endCursor":"\([^"]*\)".*/\1/p' "$T/out")
[ -n "$CUR" ] || fail "no endCursor"
# shellcheck disable=SC2086
expect 0 c --json users list $P --limit 5 --after "$CUR"
# (bytewise: page0 page10 page11 page12 page13, then page14)
has "$T/out" '^{"totalCount":23,"data":\[{"id":"[^"]*","reference":"page14"'
hasnt "$T/out" '"email":"page13@pages.io"'
# shellcheck disable=SC2086
expect 0 c users list $P --limit 5
has "$T/out" "^5 of 23 users (offset 0)$"
has "$T/out" "^next page: --after $CUR$"
# the rest from the cursor on, every page
# shellcheck disable=SC2086
expect 0 c users list $P --all --limit 7 --after "$CUR"
has "$T/out" "^18 of 23 users (every page, 3 by cursor)$"
# refused: another order or filter, an offset, garbage, --all with --offset or --limit 0
expect 4 c users list --filter 'email~%@pages.io' --order email:desc --after "$CUR"
has "$T/err" "after belongs to another query"
expect 4 c --json users list --filter 'email~%@pages.io' --after "$CUR"
has "$T/err" '"field":"after"'
# shellcheck disable=SC2086
expect 4 c users list $P --after "$CUR" --offset 2
has "$T/err" "non-zero offset"
# shellcheck disable=SC2086
expect 4 c users list $P --after "not-a-cursor"
has "$T/err" "after is not a cursor"
# shellcheck disable=SC2086
expect 2 c users list $P --all --offset 3
has "$T/err" "start it with --after"
# shellcheck disable=SC2086
expect 2 c users list $P --all --limit 0
has "$T/err" "page size"
# a writer key walks its own tenant; an admin's cursor is not its query
expect 0 c keys create --name pager --role writer --tenant "$TA"
PAGER=$(sed -n 's/^secret  *//p' "$T/out")
# shellcheck disable=SC2086
expect 0 nokey "$CTL" --data "$D" --key "$PAGER" --json users list $P --all --limit 6
cmp -s "$T/out" "$T/big.json" && fail "a writer's cursors are the admin's"
has "$T/out" '^{"totalCount":23,'
# shellcheck disable=SC2086
expect 4 nokey "$CTL" --data "$D" --key "$PAGER" users list $P --after "$CUR"
has "$T/err" "another query"
# tenants: every page of one by cursor is the one big page
expect 0 c --json tenants list --order name:asc --limit 1000
cp "$T/out" "$T/big.json"
expect 0 c --json tenants list --order name:asc --all --limit 1
cmp -s "$T/out" "$T/big.json" || { cat "$T/out" "$T/big.json" >&2; fail "tenants --all differs"; }
expect 0 c tenants list --all --limit 1 --user-count
has "$T/out" "^2 of 2 tenants (every page, 2 by cursor)$"

# ---- the daemon stops cleanly; then the service is unavailable.
kill -TERM "$PID"
set +e
wait "$PID"
rc=$?
set -e
PID=
[ "$rc" -eq 0 ] || fail "roster-users exited $rc on SIGTERM"
expect 3 c health
has "$T/err" "cannot reach the service at ipc://$D/users.ipc"
expect 3 "$CTL" --connect tcp://127.0.0.1:22999 --json users get "$U1"
has "$T/err" '"code":"UNAVAILABLE"'
# a key made offline while the service is down
expect 0 c --json keys create --offline --name offline-admin --role admin --expires 2h
OFFLINE_ADMIN=$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' "$T/out")
[ -n "$OFFLINE_ADMIN" ] || fail "keys create --offline printed no secret"
# 270 users of 16 KB, loaded while the service is down: more than one
# reply (4 MiB) holds, for the --all check over tcp below
BLOB=$(head -c 16000 /dev/zero | tr '\0' x)
i=0
while [ $i -lt 270 ]; do
    printf '{"__typename":"UserModel","reference":"big%d","email":"big%d@big.io","tenantId":"%s","customData":{"blob":"%s"}}\n' \
        $i $i "$TB" "$BLOB"
    i=$((i + 1))
done >"$T/big.jsonl"
expect 0 c load <"$T/big.jsonl"

# start_daemon URL [options]: starts roster-users on $D, waits for health.
start_daemon() {
    url=$1; shift
    "$USERS" --data "$D" --listen "$url" "$@" >>"$T/daemon.log" 2>&1 &
    PID=$!
    i=0
    until nokey "$CTL" --connect "$url" $CONNECT_OPTS health >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 600 ] || fail "roster-users on $url did not answer health"
        kill -0 "$PID" 2>/dev/null || fail "roster-users on $url exited"
        sleep 0.05
    done
}
stop_daemon() {
    kill -TERM "$PID"
    set +e
    wait "$PID"
    rc=$?
    set -e
    PID=
    [ "$rc" -eq 0 ] || fail "roster-users exited $rc on SIGTERM"
}

# ---- over tcp, after a restart: the data and the keys are still there.
CONNECT_OPTS=
start_daemon tcp://127.0.0.1:22101
expect 0 "$CTL" --connect tcp://127.0.0.1:22101 --key-file "$K" --json users get "$U2"
has "$T/out" '"active":false'
has "$T/out" '"lastName":"Lee"'
# over tcp a key is always required; health alone is public
expect 0 nokey "$CTL" --connect tcp://127.0.0.1:22101 health
expect 6 nokey "$CTL" --connect tcp://127.0.0.1:22101 users get "$U2"
has "$T/err" "rosterctl: users get: unauthenticated: .*(no API key was given"
expect 6 nokey "$CTL" --connect tcp://127.0.0.1:22101 --key "$BAD" users get "$U2"
has "$T/err" "the key from --key is unknown"
expect 0 nokey "$CTL" --connect tcp://127.0.0.1:22101 --key "$OFFLINE_ADMIN" keys list
has "$T/out" "offline-admin"
# --all over pages the reply limit refuses: 1000 a page, then 500, then 250
B="--connect tcp://127.0.0.1:22101 --key-file $K"
# shellcheck disable=SC2086
expect 5 "$CTL" $B users list --filter 'email~%@big.io' --limit 1000
has "$T/err" "over the reply limit"
# shellcheck disable=SC2086
expect 0 "$CTL" $B --json users list --filter 'email~%@big.io' --all
has "$T/out" '^{"totalCount":270,'
[ "$(grep -o '"reference":"big' "$T/out" | wc -l)" -eq 270 ] || fail "--all over the reply limit"
# shellcheck disable=SC2086
expect 0 "$CTL" $B users list --filter 'email~%@big.io' --all
has "$T/out" "^270 of 270 users (every page, 2 by cursor)$"
# shellcheck disable=SC2086
expect 0 "$CTL" $B users list --filter 'email~%@big.io' --all --fields email
has "$T/out" "^270 of 270 users (every page, 1 by cursor)$"
stop_daemon

# ---- over tls+tcp with the CA and server name given.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj /CN=localhost -days 2 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
    fail "openssl could not make a test certificate"
CONNECT_OPTS="--tls-ca $T/cert.pem --tls-server-name localhost"
start_daemon tls+tcp://127.0.0.1:22102 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
expect 0 "$CTL" --connect tls+tcp://127.0.0.1:22102 --tls-ca "$T/cert.pem" \
    --tls-server-name localhost --key-file "$K" tenants get "$TB"
has "$T/out" "isDefault  true"
expect 4 "$CTL" --connect tls+tcp://127.0.0.1:22102 health
has "$T/err" "cannot open a client on tls+tcp://127.0.0.1:22102: --tls-ca"
stop_daemon
echo "ok"
