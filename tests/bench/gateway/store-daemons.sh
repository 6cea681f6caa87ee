# Sourced by the gateway benchmarks that run on a data directory made by
# storebench (bigstore.sh, merge-lanes.sh): a temporary work directory
# cleaned up at exit, and roster-users plus roster-gateway started on the
# store. Bash; the caller has `set -euo pipefail`.

# bench_workdir PREFIX: makes $work (/tmp/PREFIX.<random>) and the $pids
# list; at exit every pid is sent SIGTERM and waited for, and $work goes.
bench_workdir() {
    work="$(mktemp -d "/tmp/$1.XXXXXX")"
    pids=()
    trap bench_cleanup EXIT INT TERM
}

bench_cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}

# bench_start_on_store STORE USERS_BIN GATEWAY_BIN PORT [ARG...]: starts
# USERS_BIN on STORE (listening on $work/users.ipc, with the customData
# indexes storebench declares, plan:string and seats:integer, so none is
# dropped, and ARGs) and GATEWAY_BIN on loopback PORT in front of it.
# The first run on a store mints an admin key into STORE.admin.key
# (beside the directory); later runs use it. Sets $key and $url.
bench_start_on_store() {
    local store=$1 users_bin=$2 gateway_bin=$3 port=$4
    shift 4
    local keyfile="${store%/}.admin.key"
    local init=(--init-admin-key "$keyfile")
    [ -s "$keyfile" ] && init=()
    "$users_bin" --data "$store" --listen "ipc://$work/users.ipc" --map-size 64G \
        --custom-index plan:string --custom-index seats:integer "$@" \
        "${init[@]}" --log-level warn 2>"$work/users.log" &
    pids+=($!)
    for _ in $(seq 1 600); do [ -S "$work/users.ipc" ] && break; sleep 0.1; done
    [ -S "$work/users.ipc" ] || { cat "$work/users.log" >&2; exit 1; }
    for _ in $(seq 1 50); do [ -s "$keyfile" ] && break; sleep 0.1; done
    if [ ! -s "$keyfile" ]; then
        echo "the store already holds API keys and $keyfile is missing: use a store made by storebench" >&2
        exit 1
    fi
    key=$(cat "$keyfile")
    "$gateway_bin" --listen "http://127.0.0.1:$port" --upstream "ipc://$work/users.ipc" \
        --timeout-ms 60000 --log-level warn 2>"$work/gateway.log" &
    pids+=($!)
    for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
    url="http://127.0.0.1:$port/graphql"
}
