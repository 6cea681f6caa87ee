#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests and benchmarks of the
# PostgreSQL store backend: Debian's postgresql-15 server binaries, a data
# directory of its own, listening on 127.0.0.1 only, trust authentication
# for its one role `roster` (a superuser, so tests may create and drop
# databases), stopped and removed by `stop`.
#
#   scripts/pg-cluster.sh start DIR PORT   a new cluster in DIR (one left
#                                          there by an earlier run is
#                                          stopped and removed), started
#   scripts/pg-cluster.sh stop DIR         fast shutdown, then remove DIR
#   scripts/pg-cluster.sh url DIR PORT     prints the connection URL
#
# PostgreSQL refuses to run as root. When this script runs as root (CI
# does), the cluster belongs to the `postgres` system user that Debian's
# package creates, and every server command runs as that user; DIR's
# parent must then let that user in (the script makes DIR itself).
#
# fsync is off unless PG_FSYNC=on: a test cluster's data is thrown away,
# and the tests check Roster's transactions, not the disk (benchmarks set
# PG_FSYNC=on, so commits cost what they cost in service). The server's
# other settings are its defaults; synchronous_commit, which Roster relies
# on, stays on.
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)}
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "pg-cluster: PostgreSQL 15 server binaries not found (install postgresql-15)" >&2
    exit 2
fi

usage() {
    echo "usage: $0 start DIR PORT | stop DIR | url DIR PORT" >&2
    exit 2
}

# Runs a server command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage

case "$cmd" in
start)
    port=${3:-}
    [ -n "$port" ] || usage
    if [ -e "$dir" ]; then
        "$0" stop "$dir"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        chmod 700 "$dir"
    fi
    log=$(mktemp)
    as_owner "$PG_BIN/initdb" -D "$dir" -U roster --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 --no-sync >"$log" 2>&1 || {
        cat "$log" >&2
        rm -f "$log"
        exit 1
    }
    rm -f "$log"
    if [ "${PG_FSYNC:-off}" = on ]; then
        durability="-c fsync=on"
    else
        durability="-c fsync=off -c full_page_writes=off"
    fi
    # The socket goes in the data directory: nothing is shared with a
    # system cluster.
    as_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $durability -c max_connections=200" \
        start >/dev/null || {
        cat "$dir/server.log" >&2
        exit 1
    }
    # The database Roster's URL names; tests make more of their own.
    if ! as_owner "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U roster -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'roster'" | grep -q 1; then
        as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U roster roster
    fi
    ;;
stop)
    if [ -s "$dir/postmaster.pid" ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
url)
    port=${3:-}
    [ -n "$port" ] || usage
    echo "postgres://roster@127.0.0.1:$port/roster"
    ;;
*)
    usage
    ;;
esac
