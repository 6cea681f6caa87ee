#!/usr/bin/env bash
# Checks the systemd units and the sysusers.d entry offline, without a
# running systemd: `systemd-analyze verify` (syntax, directives, the
# binaries they start), `systemd-analyze security --offline=yes` (the
# exposure score stays under a threshold), the hardening directives
# docs/operations.md promises, that neither daemon nor a library it loads
# needs writable and executable memory, and `systemd-sysusers --dry-run` on
# an empty root.
# Usage: verify_units.sh UNIT_DIR SYSUSERS_CONF USERS_BIN GATEWAY_BIN
# (UNIT_DIR holds the configured units; the binaries stand in for the
# installed ones, which verify requires to exist.)
set -euo pipefail
unit_dir=$1 sysusers_conf=$2 users_bin=$3 gateway_bin=$4
analyze=${SYSTEMD_ANALYZE:-systemd-analyze}
sysusers=${SYSTEMD_SYSUSERS:-systemd-sysusers}
# Exposure in tenths, as --threshold takes it: 20 is 2.0 ("OK"); both
# units score 1.6 with systemd 252.
threshold=20

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
    echo "FAIL: $*"
    fail=1
}

sed "s#^ExecStart=.*/roster-users#ExecStart=$users_bin#" "$unit_dir/roster-users.service" \
    >"$tmp/roster-users.service"
sed "s#^ExecStart=.*/roster-gateway#ExecStart=$gateway_bin#" "$unit_dir/roster-gateway.service" \
    >"$tmp/roster-gateway.service"
grep -q "^ExecStart=$users_bin\$" "$tmp/roster-users.service" || bad "roster-users.service: no ExecStart"
grep -q "^ExecStart=$gateway_bin\$" "$tmp/roster-gateway.service" || bad "roster-gateway.service: no ExecStart"

# verify: errors fail it (exit status); warnings about our units (unknown
# keys, bad values) are printed without failing it, so they fail here. It
# may warn about other units of the machine; those are shown only.
set +e
out=$(cd "$tmp" && "$analyze" verify --man=no roster-users.service roster-gateway.service 2>&1)
rc=$?
set -e
[ -z "$out" ] || printf 'systemd-analyze verify:\n%s\n' "$out"
[ $rc -eq 0 ] || bad "systemd-analyze verify exited $rc"
if grep -q roster <<<"$out"; then bad "systemd-analyze verify reported problems in the units"; fi

for u in roster-users roster-gateway; do
    set +e
    sec=$("$analyze" security --offline=yes --threshold=$threshold "$tmp/$u.service" 2>&1)
    rc=$?
    set -e
    grep 'Overall exposure level' <<<"$sec" || true
    [ $rc -eq 0 ] || bad "$u.service: exposure over $((threshold / 10)).$((threshold % 10)):"$'\n'"$sec"
done

# The settings docs/operations.md explains, one by one.
required=(
    "User=roster" "Group=roster" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes"
    "NoNewPrivileges=yes" "PrivateDevices=yes" "ProtectKernelTunables=yes"
    "ProtectKernelModules=yes" "ProtectKernelLogs=yes" "ProtectControlGroups=yes"
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" "RestrictNamespaces=yes"
    "LockPersonality=yes" "MemoryDenyWriteExecute=yes" "SystemCallFilter=@system-service"
    "CapabilityBoundingSet=" "UMask=0077" "Restart=on-failure" "KillSignal=SIGTERM"
)
for u in roster-users roster-gateway; do
    for d in "${required[@]}"; do
        grep -qxF "$d" "$tmp/$u.service" || bad "$u.service lacks $d"
    done
    grep -q '^LimitNOFILE=[0-9]' "$tmp/$u.service" || bad "$u.service lacks LimitNOFILE"
    # Both daemons log and ignore SIGHUP: nothing to reload.
    if grep -q '^ExecReload=' "$tmp/$u.service"; then bad "$u.service has ExecReload"; fi
done
grep -qxF "StateDirectory=roster" "$tmp/roster-users.service" || bad "roster-users: StateDirectory"
grep -qxF "RuntimeDirectory=roster" "$tmp/roster-users.service" || bad "roster-users: RuntimeDirectory"
grep -qxF "Wants=roster-users.service" "$tmp/roster-gateway.service" || bad "gateway: Wants="
grep -q '^After=roster-users.service' "$tmp/roster-gateway.service" || bad "gateway: After="
grep -qxF "InaccessiblePaths=-/var/lib/roster" "$tmp/roster-gateway.service" ||
    bad "gateway: InaccessiblePaths"
# TimeoutStopSec above each daemon's drain: the gateway's --drain-ms
# default (10 s), roster-users' 500 ms of list work plus 2 s for nng's close.
stop_users=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$tmp/roster-users.service")
stop_gw=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$tmp/roster-gateway.service")
[ "${stop_users:-0}" -gt 3 ] || bad "roster-users: TimeoutStopSec=${stop_users:-none} is not above 3 s"
[ "${stop_gw:-0}" -gt 10 ] || bad "roster-gateway: TimeoutStopSec=${stop_gw:-none} is not above 10 s"

# MemoryDenyWriteExecute=yes: a binary or library that asks for an
# executable stack (GNU_STACK RWE) or has text relocations would need
# writable and executable memory, and fail to start under it.
for bin in "$users_bin" "$gateway_bin"; do
    for f in "$bin" $(ldd "$bin" | awk '/=> \//{print $3}'); do
        stack=$(readelf -lW "$f" | awk '$1 == "GNU_STACK" {print $7}')
        [ "$stack" = RW ] || bad "$f: GNU_STACK ${stack:-missing} (executable stack)"
        if readelf -dW "$f" | grep -q TEXTREL; then bad "$f: text relocations"; fi
    done
done

mkdir "$tmp/root"
set +e
out=$("$sysusers" --dry-run --root="$tmp/root" "$sysusers_conf" 2>&1)
rc=$?
set -e
echo "$out"
[ $rc -eq 0 ] || bad "systemd-sysusers --dry-run exited $rc"
grep -q "Creating user 'roster'" <<<"$out" || bad "sysusers.d entry does not create the roster user"
grep -q "Creating group 'roster'" <<<"$out" || bad "sysusers.d entry does not create the roster group"

if [ $fail -ne 0 ]; then
    echo "1 failed"
    exit 1
fi
echo "unit files: ok"
