#!/usr/bin/env bash
# Instructions the gateway's resolvers and translation spend per request,
# counted by callgrind (exact and unaffected by other load on the machine,
# unlike wall-clock benchmarks).
#   tests/gateway/callgrind/callgrind.sh BUILD_DIR [N]
# BUILD_DIR holds roster-users and roster-gateway (a RelWithDebInfo build,
# so functions have names). For each workload of drive.mjs (MODES, default
# "user page filter update") it runs roster-gateway under callgrind for N
# requests (default 300) and prints, per request, the inclusive instruction
# count of every function in gateway/resolvers.c and gateway/translate.c
# (gw_resolvers_new and the plan builders run once at start; their count is
# divided by N too).
# Needs valgrind and node; uses loopback port PORT (default 23391).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build=$1 n=${2:-300} port=${PORT:-23391}
work=$(mktemp -d /tmp/roster-gw-cg.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
wait_http() {
    for _ in $(seq 1 600); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
    echo "no answer from $1" >&2
    return 1
}
gateway() { # extra command words before the binary
    "$@" "$build/gateway/roster-gateway" --listen "http://127.0.0.1:$port" \
        --upstream "ipc://$work/users.ipc" --log-level warn 2>>"$work/gateway.log" &
    gw=$!
    wait_http "http://127.0.0.1:$port/healthz"
}

"$build/src/users/roster-users" --data "$work" --listen "ipc://$work/users.ipc" 2>"$work/users.log" &
pids+=($!)
for _ in $(seq 1 200); do [ -S "$work/users.ipc" ] && break; sleep 0.05; done
gateway env
node "$here/drive.mjs" "http://127.0.0.1:$port/graphql" seed 60 "$work/ids.txt"
kill -TERM "$gw"; wait "$gw" || true

for mode in ${MODES:-user page filter update}; do
    gateway valgrind --tool=callgrind --callgrind-out-file="$work/$mode.cg"
    node "$here/drive.mjs" "http://127.0.0.1:$port/graphql" "$mode" "$n" "$work/ids.txt" >&2
    kill -TERM "$gw"; wait "$gw" || true
    echo "## $mode: Ir per request, inclusive"
    callgrind_annotate --inclusive=yes --threshold=100 "$work/$mode.cg" 2>/dev/null |
        grep -E 'gateway/(resolvers|translate)\.c:' |
        awk -v n="$n" '{ gsub(",", "", $1); f = "";
                         for (i = 2; i <= NF; i++) if ($i ~ /gateway\/(resolvers|translate)\.c:/) f = $i;
                         sub(/.*gateway\//, "", f);
                         if (f != "" && !seen[f]++) printf "%10d  %s\n", $1 / n, f }' |
        sort -k2
done
