# Helpers shared by the rosterctl integration scripts (sourced once $T, the
# script's temporary directory, is set).
#   fail MSG          report and exit 1, with the daemon's last log lines
#                     when the script keeps one in $T/daemon.log
#   expect CODE CMD   run CMD with stdout and stderr in $T/out and $T/err,
#                     and fail unless it exits CODE
#   has FILE RE       fail unless FILE has a line matching RE
#   hasnt FILE RE     fail if FILE has a line matching RE
#   cleanup           stop the daemon whose pid is in $PID (when set) and
#                     remove $T: the EXIT trap of the scripts that run one
#   wait_health       wait (up to 30 s) until `c health` (the script's
#                     rosterctl with its key) answers, failing if the
#                     daemon in $PID exits first
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
cleanup() {
    if [ -n "${PID:-}" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
wait_health() {
    i=0
    until c health >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 600 ] || fail "roster-users did not answer health"
        kill -0 "$PID" 2>/dev/null || fail "roster-users exited"
        sleep 0.05
    done
}
