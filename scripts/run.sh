#!/usr/bin/env bash
# Builds Roster optimized and runs both daemons in the foreground on a local
# data directory: roster-users (the store, over ipc) and roster-gateway
# (GraphQL over HTTP). Ctrl-C stops both.
# Every call needs an API key (keyless ipc callers are refused: roster-users
# runs without --allow-keyless-ipc). On the first run roster-users mints an
# admin key into <data>/admin.key (mode 0600); the message below says how
# to use it.
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
key="$data/admin.key"

pids=()
stop() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT INT TERM

# --init-admin-key writes the key only while the store holds none; later
# runs keep using the file the first one wrote.
"$bin/src/users/roster-users" --data "$data" --listen "$rpc" --init-admin-key "$key" &
pids+=($!)
"$bin/gateway/roster-gateway" --listen "$http" --upstream "$rpc" &
pids+=($!)

for _ in $(seq 50); do [ -s "$key" ] && break; sleep 0.1; done
if [ -s "$key" ]; then
    keynote="  API key:  $key (admin)"
else
    keynote="  API key:  none in $key: the store already had keys when it was first
            started; mint one with: rosterctl --data $data keys create --offline --name admin --role admin"
fi

cat <<MSG

Roster is running.
  GraphQL:  $http/graphql
  RPC:      $rpc
$keynote
Try:
  export ROSTER_KEY=\$(cat $key)
  curl -s $http/graphql -H "Authorization: Bearer \$ROSTER_KEY" \\
    -H 'content-type: application/json' \\
    -d '{"query":"{ users { totalCount data { id email } } }"}'
  $bin/tools/rosterctl/rosterctl --data $data users list   # reads ROSTER_KEY
Press Ctrl-C to stop both daemons.

MSG
wait -n "${pids[@]}"
