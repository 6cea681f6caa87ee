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
#   scripts/pg-cluster.sh standby DIR PRIMARY_PORT PORT
#                                          a hot standby of the cluster on
#                                          PRIMARY_PORT in DIR (a base
#                                          backup streaming its WAL), started
#   scripts/pg-cluster.sh crash DIR        immediate shutdown (no
#                                          checkpoint, as a crash), DIR kept
#   scripts/pg-cluster.sh promote DIR      the standby in DIR becomes a
#                                          primary
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
    echo "usage: $0 start DIR PORT | stop DIR | url DIR PORT |" \
        "standby DIR PRIMARY_PORT PORT | crash DIR | promote DIR" >&2
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

# A fresh empty DIR (an earlier cluster there stopped and removed) that
# the cluster's owner may use; prints its absolute path.
fresh_dir() {
    if [ -e "$1" ]; then
        "$0" stop "$1"
    fi
    mkdir -p "$1"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$1"
        chmod 700 "$1"
    fi
    (cd "$1" && pwd)
}

if [ "${PG_FSYNC:-off}" = on ]; then
    durability="-c fsync=on"
else
    durability="-c fsync=off -c full_page_writes=off"
fi

# Starts the cluster in DIR on PORT; the socket goes in the data directory:
# nothing is shared with a system cluster.
run_server() {
    as_owner "$PG_BIN/pg_ctl" -D "$1" -l "$1/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $2 -k $1 $durability -c max_connections=200" \
        start >/dev/null || {
        cat "$1/server.log" >&2
        exit 1
    }
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage

case "$cmd" in
start)
    port=${3:-}
    [ -n "$port" ] || usage
    dir=$(fresh_dir "$dir")
    log=$(mktemp)
    as_owner "$PG_BIN/initdb" -D "$dir" -U roster --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 --no-sync >"$log" 2>&1 || {
        cat "$log" >&2
        rm -f "$log"
        exit 1
    }
    rm -f "$log"
    run_server "$dir" "$port"
    # The database Roster's URL names; tests make more of their own.
    if ! as_owner "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U roster -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'roster'" | grep -q 1; then
        as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U roster roster
    fi
    ;;
standby)
    primary=${3:-}
    port=${4:-}
    [ -n "$primary" ] && [ -n "$port" ] || usage
    dir=$(fresh_dir "$dir")
    # -R writes the standby's connection to the primary (initdb's trust
    # rules admit replication from 127.0.0.1).
    log=$(mktemp)
    as_owner "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary" -U roster -D "$dir" -R \
        -X stream -c fast --no-sync >"$log" 2>&1 || {
        cat "$log" >&2
        rm -f "$log"
        exit 1
    }
    rm -f "$log"
    run_server "$dir" "$port"
    ;;
crash)
    as_owner "$PG_BIN/pg_ctl" -D "$dir" -m immediate -w -t 60 stop >/dev/null
    ;;
promote)
    as_owner "$PG_BIN/pg_ctl" -D "$dir" -w -t 60 promote >/dev/null
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
