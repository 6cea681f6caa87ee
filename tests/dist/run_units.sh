#!/usr/bin/env bash
# Runs both daemons the way their systemd units do, without systemd: the
# units' Environment= lines (then their example EnvironmentFile=s), their
# ExecStart= commands, UMask=, a clean environment and / as the working
# directory, with a temporary directory standing in for /var/lib/roster
# (StateDirectory=, mode 0700) and /run/roster (RuntimeDirectory=, mode
# 0750), and the gateway on a test port. Checks that roster-users mints the
# first admin key (mode 0600), that the gateway answers /healthz, /readyz
# and a query with that key, that both stop on SIGTERM with exit 0 well
# within TimeoutStopSec (gateway first, as systemd orders the stop), that
# nothing in the data directory is readable by others, and that a second
# start with the same command keeps the key file and serves.
# Usage: run_units.sh UNIT_DIR ENV_DIR USERS_BIN GATEWAY_BIN PORT
set -euo pipefail
unit_dir=$1 env_dir=$2 users_bin=$3 gateway_bin=$4 port=$5

tmp=$(mktemp -d)
state=$tmp/var/lib/roster
run=$tmp/run/roster
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$tmp"/*.log; do
        [ -e "$f" ] && { echo "--- $f"; cat "$f"; }
    done
    echo "1 failed"
    exit 1
}

# The unit's value of KEY (the last one), or empty.
unit_value() { sed -n "s/^$2=//p" "$unit_dir/$1.service" | tail -n 1; }

# The environment the unit gives its process: Environment= lines, then the
# variables of its example EnvironmentFile (comments and blank lines only
# in the shipped examples), paths mapped into the temporary root.
unit_env() {
    local unit=$1 envfile=$2
    {
        sed -n 's/^Environment=//p' "$unit_dir/$unit.service"
        grep -v '^[[:space:]]*\(#\|$\)' "$env_dir/$envfile" || true
    } | sed -e "s#/var/lib/roster#$state#g" -e "s#/run/roster#$run#g" \
        -e "s#127\.0\.0\.1:8080#127.0.0.1:$port#g"
}

# ExecStart= with the installed binary's directory mapped to the build's.
unit_exec() {
    local unit=$1 bin=$2
    unit_value "$unit" ExecStart | sed "s#^[^ ]*/$(basename "$bin")#$bin#"
}

# Starts a unit's command as systemd would; sets $started to its pid.
start_unit() {
    local unit=$1 envfile=$2 bin=$3 log=$4
    local -a env
    mapfile -t env < <(unit_env "$unit" "$envfile")
    local -a cmd
    read -r -a cmd <<<"$(unit_exec "$unit" "$bin")"
    local umask_value
    umask_value=$(unit_value "$unit" UMask)
    # Sanitizer settings of the test build pass through; nothing else does.
    (cd / && umask "$umask_value" && exec env -i PATH=/usr/bin:/bin \
        ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${LSAN_OPTIONS:+LSAN_OPTIONS=$LSAN_OPTIONS} \
        ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} "${env[@]}" "${cmd[@]}") 2>"$log" &
    started=$!
    pids+=("$started")
}

# Sends SIGTERM (the units' KillSignal) and waits; fails past the unit's
# TimeoutStopSec or on a non-zero exit. Prints the milliseconds taken.
stop_unit() {
    local unit=$1 pid=$2
    local limit=$(($(unit_value "$unit" TimeoutStopSec) * 1000))
    [ "$(unit_value "$unit" KillSignal)" = SIGTERM ] || fail "$unit: KillSignal is not SIGTERM"
    local t0=$(date +%s%3N)
    kill -TERM "$pid"
    # Until it has exited (a zombie, state Z, until `wait` reaps it below).
    while [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
        [ $(($(date +%s%3N) - t0)) -lt "$limit" ] || fail "$unit still running ${limit} ms after SIGTERM"
        sleep 0.05
    done
    local rc=0
    wait "$pid" || rc=$?
    local ms=$(($(date +%s%3N) - t0))
    [ $rc -eq 0 ] || fail "$unit exited $rc after SIGTERM"
    echo "$unit: stopped by SIGTERM in $ms ms (exit 0; TimeoutStopSec ${limit} ms)"
}

wait_for() {
    local what=$1 cond=$2
    for _ in $(seq 300); do
        if eval "$cond"; then return 0; fi
        sleep 0.05
    done
    fail "timed out waiting for $what"
}

http_code() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }

# systemd makes these before ExecStart, owned by the service's user.
mkdir -p -m 0700 "$state"
mkdir -p "$(dirname "$run")"
mkdir -m "$(unit_value roster-users RuntimeDirectoryMode)" "$run"
[ "$(unit_value roster-users StateDirectoryMode)" = 0700 ] || fail "StateDirectoryMode is not 0700"

start_unit roster-users users.env "$users_bin" "$tmp/users.log"
users=$started
wait_for "the first admin key" '[ -s "$state/admin.key" ]'
wait_for "the ipc socket" '[ -S "$run/users.ipc" ]'
[ "$(stat -c %a "$state/admin.key")" = 600 ] || fail "admin.key mode $(stat -c %a "$state/admin.key")"
[ "$(stat -c %a "$run/users.ipc")" = 600 ] || fail "users.ipc mode $(stat -c %a "$run/users.ipc")"
key=$(cat "$state/admin.key")

start_unit roster-gateway gateway.env "$gateway_bin" "$tmp/gateway.log"
gateway=$started
url=http://127.0.0.1:$port
wait_for "/healthz 200" '[ "$(http_code "$url/healthz")" = 200 ]'
wait_for "/readyz 200" '[ "$(http_code "$url/readyz")" = 200 ]'
body=$(curl -s "$url/graphql" -H "authorization: Bearer $key" -H 'content-type: application/json' \
    -d '{"query":"mutation { createTenant(tenant: {name: \"units\"}) { id name } }"}')
grep -q '"name":"units"' <<<"$body" || fail "createTenant through the gateway: $body"
echo "roster-gateway: /healthz, /readyz and a query with the first admin key answered"

stop_unit roster-gateway "$gateway"
stop_unit roster-users "$users"
grep -q 'event=init_admin_key ' "$tmp/users.log" || fail "no event=init_admin_key"

others=$(find "$state" -perm /077 ! -type d -printf '%m %p\n')
dirs=$(find "$state" -perm /077 -type d -printf '%m %p\n')
[ -z "$others$dirs" ] || fail "readable by group or others under the data directory:"$'\n'"$others$dirs"

# Restart: the same command with the key file in place starts and serves.
start_unit roster-users users.env "$users_bin" "$tmp/users2.log"
users=$started
wait_for "the ipc socket after a restart" '[ -S "$run/users.ipc" ]'
wait_for "event=init_admin_key_skipped" 'grep -q event=init_admin_key_skipped "$tmp/users2.log"'
[ "$(cat "$state/admin.key")" = "$key" ] || fail "admin.key changed on restart"
start_unit roster-gateway gateway.env "$gateway_bin" "$tmp/gateway2.log"
gateway=$started
wait_for "/readyz 200 after a restart" '[ "$(http_code "$url/readyz")" = 200 ]'
body=$(curl -s "$url/graphql" -H "authorization: Bearer $key" -H 'content-type: application/json' \
    -d '{"query":"{ tenants { totalCount } }"}')
grep -q '"totalCount":1' <<<"$body" || fail "tenants after a restart: $body"
stop_unit roster-gateway "$gateway"
stop_unit roster-users "$users"
echo "1 passed, 0 failed"
