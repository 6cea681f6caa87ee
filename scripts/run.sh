#!/usr/bin/env bash
# Builds Roster optimized and runs both daemons in the foreground on a local
# data directory: roster-users (the store, over ipc) and roster-gateway
# (GraphQL over HTTP). Ctrl-C stops both.
#   ROSTER_DATA   data directory            (default ./data)
#   ROSTER_HTTP   gateway listen address    (default http://127.0.0.1:8080)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-release.sh

data="${ROSTER_DATA:-./data}"
http="${ROSTER_HTTP:-http://127.0.0.1:8080}"
bin=build/release
mkdir -p "$data"
rpc="ipc://$(cd "$data" && pwd)/users.ipc"

pids=()
stop() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT INT TERM

"$bin/src/users/roster-users" --data "$data" --listen "$rpc" &
pids+=($!)
"$bin/gateway/roster-gateway" --listen "$http" --upstream "$rpc" &
pids+=($!)

cat <<MSG

Roster is running.
  GraphQL:  $http/graphql
  RPC:      $rpc
Try:
  curl -s $http/graphql -H 'content-type: application/json' \\
    -d '{"query":"{ users { totalCount data { id email } } }"}'
Press Ctrl-C to stop both daemons.

MSG
wait -n "${pids[@]}"
