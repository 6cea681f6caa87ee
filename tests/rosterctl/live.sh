#!/bin/sh
# rosterctl live commands against a real roster-users on a temporary data
# directory (default ipc address derived from --data), plus the offline
# commands while the daemon runs and the unavailable path.
#   live.sh ROSTERCTL ROSTER_USERS
set -eu
CTL=$1
USERS=$2
T=$(mktemp -d)
D=$T/data
PID=
cleanup() {
    if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; [ -f "$T/daemon.log" ] && tail -n 20 "$T/daemon.log" >&2; exit 1; }
expect() {
    want=$1; shift
    set +e
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    set -e
    [ "$got" = "$want" ] || { cat "$T/out" "$T/err" >&2; fail "exit $got, wanted $want: $*"; }
}
has() { grep -q -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks: $2"; }; }
hasnt() { if grep -q -- "$2" "$1"; then cat "$1" >&2; fail "$1 has: $2"; fi; }
idof() { sed -n 's/^{"id":"\([^"]*\)".*/\1/p' "$T/out"; }
c() { "$CTL" --data "$D" "$@"; }

mkdir -p "$D"
"$USERS" --data "$D" --allow-keyless-ipc >"$T/daemon.log" 2>&1 &
PID=$!
i=0
until c health >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "roster-users did not answer health"
    kill -0 "$PID" 2>/dev/null || fail "roster-users exited"
    sleep 0.05
done

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

# ---- offline commands while the daemon runs
expect 0 c stats --offline
has "$T/out" "users            3 (2 active)"
expect 0 c dump
[ "$(wc -l <"$T/out")" -eq 5 ] || fail "dump while running: $(wc -l <"$T/out") lines"
has "$T/out" "\"id\":\"$U2\".*\"active\":false"
expect 0 c verify

# ---- help
expect 0 c users list --help
has "$T/out" "iLike"
expect 0 "$CTL" --help
has "$T/out" "Exit codes"

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

# start_daemon URL [options]: starts roster-users on $D, waits for health.
start_daemon() {
    url=$1; shift
    "$USERS" --data "$D" --listen "$url" "$@" >>"$T/daemon.log" 2>&1 &
    PID=$!
    i=0
    until "$CTL" --connect "$url" $CONNECT_OPTS health >/dev/null 2>&1; do
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

# ---- over tcp, after a restart: the data is still there. A key is
# required over tcp: the daemon mints the first admin key.
CONNECT_OPTS=
start_daemon tcp://127.0.0.1:22101 --init-admin-key "$T/admin.key"
ROSTER_KEY=$(cat "$T/admin.key")
export ROSTER_KEY
expect 0 "$CTL" --connect tcp://127.0.0.1:22101 --json users get "$U2"
has "$T/out" '"active":false'
has "$T/out" '"lastName":"Lee"'
stop_daemon

# ---- over tls+tcp with the CA and server name given.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj /CN=localhost -days 2 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null ||
    fail "openssl could not make a test certificate"
CONNECT_OPTS="--tls-ca $T/cert.pem --tls-server-name localhost"
start_daemon tls+tcp://127.0.0.1:22102 --tls-cert "$T/cert.pem" --tls-key "$T/key.pem"
expect 0 "$CTL" --connect tls+tcp://127.0.0.1:22102 --tls-ca "$T/cert.pem" \
    --tls-server-name localhost tenants get "$TB"
has "$T/out" "isDefault  true"
expect 4 "$CTL" --connect tls+tcp://127.0.0.1:22102 health
has "$T/err" "cannot open a client on tls+tcp://127.0.0.1:22102: --tls-ca"
stop_daemon
echo "ok"
