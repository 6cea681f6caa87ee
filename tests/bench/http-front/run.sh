#!/usr/bin/env bash
# HTTP front prototypes against nginx and today's nng HTTP server, in one
# run (measures, never fails on time). Installs nothing: needs wrk,
# nginx-light, libh2o-evloop-dev, libmicrohttpd-dev, libnng-dev
# (scripts/install-deps.sh --bench).
#
#   tests/bench/http-front/run.sh      ROUNDS=5 DUR=5 IDLE=5000 by default
#
# Servers, each answering POST /graphql with a body of the gateway's
# user(id) request size (loopback ports 23401-23406):
#   nng        tests/bench/gateway/ceiling.c: nng HTTP -> req0 over ipc -> echo
#   h2o        h2o_front.c, 2 loops, one req0 round trip to the same echo
#   h2o-plain  h2o_front.c answering with the body itself (no RPC)
#   mhd        mhd_front.c, epoll + 2 pool threads, one req0 round trip
#   mhd-plain  mhd_front.c answering with the body itself (no RPC)
#   nginx      nginx-light, 2 workers, a static body of the same size
# Each round runs wrk (2 threads, 5 s) once per server at 32 and at 256
# connections, the servers in order (interleaved: A B C ... A B C ...).
# Per run: req/s, p50, p99, the server's context switches per request (all
# its threads, /proc/PID/task/*/status) and CPU per request
# (/proc/PID/stat); the echo's too for the RPC servers; RSS in the middle of
# the 256-connection runs. Then each server's RSS with IDLE idle keep-alive
# connections (idle_conns.c). Prints Markdown tables of medians; the raw
# rows are kept in $OUT (default build/http-front/results.txt).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cd "$root"

ROUNDS=${ROUNDS:-5}
DUR=${DUR:-5}
IDLE=${IDLE:-5000}
CONNS=${CONNS:-"32 256"}
bin="$root/build/http-front"
OUT=${OUT:-$bin/results.txt}
"$here/build.sh" "$bin" >/dev/null

ulimit -n "$(ulimit -Hn)"
work="$(mktemp -d /tmp/roster-http-front.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM
KEEP=${KEEP:-}

wait_port() { # port
    for _ in $(seq 1 200); do
        curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$1/graphql" && return 0
        sleep 0.05
    done
    echo "no answer on port $1" >&2
    return 1
}

# The gateway's user(id) request body (gql.lua's "user" mode, one id).
echo "0190a7c4-6a1e-7b3c-9f00-3c1d2e4f5a6b" >"$work/ids.txt"
body='{"query":"query U($id: ID!) { user(id: $id) { id email firstName lastName createdAt active } }","variables":{"id":"0190a7c4-6a1e-7b3c-9f00-3c1d2e4f5a6b"}}'

echo_url="ipc://$work/echo.ipc"
"$bin/ceiling" echo "$echo_url" &
echo_pid=$!
pids+=($echo_pid)
for _ in $(seq 1 100); do [ -S "$work/echo.ipc" ] && break; sleep 0.05; done

declare -A pid
declare -A port=([nng]=23401 [h2o]=23402 [h2o-plain]=23403 [mhd]=23404 [mhd-plain]=23405 [nginx]=23406)
launch() { # name: runs in a background subshell, which becomes the server
    case $1 in
    nng) exec "$bin/ceiling" http 23401 "$echo_url" ;;
    h2o) exec "$bin/h2o_front" 23402 "$echo_url" ;;
    h2o-plain) exec "$bin/h2o_front" 23403 - ;;
    mhd) exec "$bin/mhd_front" 23404 "$echo_url" ;;
    mhd-plain) exec "$bin/mhd_front" 23405 - ;;
    nginx) exec nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" ;;
    esac
}
start() { # name
    launch "$1" 2>>"$work/$1.log" &
    pid[$1]=$!
    pids+=($!)
}

mkdir -p "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 20000; }
http {
    # nginx reads \$ as a variable: the body's \$id is written \${dollar}id.
    geo \$dollar { default "\$"; }
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:23406;
        location / {
            default_type application/json;
            return 200 '${body//\$/\${dollar\}}';
        }
    }
}
CONF
servers=(nng h2o h2o-plain mhd mhd-plain nginx)
for s in "${servers[@]}"; do start "$s"; done
for s in "${servers[@]}"; do wait_port "${port[$s]}"; done
for s in "${servers[@]}"; do
    got=$(curl -s -X POST -H 'content-type: application/json' -d "$body" "http://127.0.0.1:${port[$s]}/graphql")
    [ "$got" = "$body" ] || { echo "$s answered '$got'" >&2; exit 1; }
done

# The processes that make up a server (nginx: master and workers).
procs() { # name
    if [ "$1" = nginx ]; then echo "${pid[nginx]} $(pgrep -P "${pid[nginx]}" | tr '\n' ' ')"; else echo "${pid[$1]}"; fi
}
# Context switches (voluntary nonvoluntary) over every thread of the processes.
csw() {
    local v=0 n=0 p t
    for p in "$@"; do
        for t in /proc/"$p"/task/*/status; do
            read -r a b < <(awk '/^voluntary_ctxt/ {v=$2} /^nonvoluntary_ctxt/ {n=$2} END {print v, n}' "$t" 2>/dev/null || echo "0 0")
            v=$((v + a)) n=$((n + b))
        done
    done
    echo "$v $n"
}
cpu_ticks() { local s=0 p; for p in "$@"; do s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $s; }
rss_kb() { local s=0 p; for p in "$@"; do s=$((s + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done; echo $s; }
hz=$(getconf CLK_TCK)

: >"$OUT"
echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg) ROUNDS=$ROUNDS DUR=$DUR" >>"$OUT"
echo "# round conns server rps p50_us p99_us errors vcsw_per_req ivcsw_per_req cpu_us_per_req echo_vcsw_per_req echo_cpu_us_per_req rss_kb" >>"$OUT"
for r in $(seq 1 "$ROUNDS"); do # ROUNDS=0: only the idle measurement
    echo "round $r/$ROUNDS, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    for c in $CONNS; do
        for s in "${servers[@]}"; do
            ps_=($(procs "$s"))
            read -r v0 n0 < <(csw "${ps_[@]}")
            read -r ev0 _ < <(csw "$echo_pid")
            t0=$(cpu_ticks "${ps_[@]}") et0=$(cpu_ticks "$echo_pid")
            wrk -t2 -c"$c" -d"${DUR}s" -s "$root/tests/bench/gateway/gql.lua" \
                "http://127.0.0.1:${port[$s]}/graphql" -- user "$work/ids.txt" x "" >"$work/wrk.out" &
            wpid=$!
            sleep $((DUR / 2))
            rss=$(rss_kb "${ps_[@]}")
            wait $wpid
            read -r v1 n1 < <(csw "${ps_[@]}")
            read -r ev1 _ < <(csw "$echo_pid")
            t1=$(cpu_ticks "${ps_[@]}") et1=$(cpu_ticks "$echo_pid")
            res=$(sed -n 's/^RESULT //p' "$work/wrk.out")
            python3 - "$r" "$c" "$s" "$res" "$((v1 - v0))" "$((n1 - n0))" "$((t1 - t0))" \
                "$((ev1 - ev0))" "$((et1 - et0))" "$hz" "$rss" >>"$OUT" <<'PY'
import json, sys
r, c, s, res, dv, dn, dt, edv, edt, hz, rss = sys.argv[1:]
j = json.loads(res)
n = max(j["requests"], 1)
us = lambda ticks: int(ticks) * 1e6 / int(hz) / n
rpc = s in ("nng", "h2o", "mhd")
print(r, c, s, round(j["rps"]), j["p50_us"], j["p99_us"], j["socket_errors"] + j["non2xx"],
      "%.2f" % (int(dv) / n), "%.2f" % (int(dn) / n), "%.1f" % us(dt),
      "%.2f" % (int(edv) / n) if rpc else "-", "%.1f" % us(edt) if rpc else "-", rss)
PY
            tail -1 "$OUT" >&2
        done
    done
done
echo "# end $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT"

# Memory per idle keep-alive connection, on a freshly started server (the
# load runs leave freed memory in the heap) with an echo of its own (a
# restarted front dialing the echo the stopped ones had used once stalled;
# nng 1.5.2's ipc listener bug #1518 is a candidate cause): RSS
# after 100 requests on 100 connections, then with IDLE connections open
# and idle.
echo "# idle server base_kb with_idle_kb opened failed per_conn_bytes" >>"$OUT"
for s in "${servers[@]}"; do
    kill -TERM "${pid[$s]}"
    wait "${pid[$s]}" 2>/dev/null || true
    echo_url="ipc://$work/echo-$s.ipc"
    "$bin/ceiling" echo "$echo_url" &
    pids+=($!)
    for _ in $(seq 1 100); do [ -S "$work/echo-$s.ipc" ] && break; sleep 0.05; done
    start "$s"
    wait_port "${port[$s]}"
    "$bin/idle_conns" "${port[$s]}" 100 0 >/dev/null
    sleep 0.5
    ps_=($(procs "$s"))
    base=$(rss_kb "${ps_[@]}")
    "$bin/idle_conns" "${port[$s]}" "$IDLE" 4 >"$work/idle.out" &
    ipid=$!
    for _ in $(seq 1 1800); do grep -q '^open' "$work/idle.out" && break; sleep 0.1; done
    sleep 0.5
    with=$(rss_kb "${ps_[@]}")
    read -r opened failed < <(awk '/^open/ {print $2, $4}' "$work/idle.out")
    wait $ipid || true
    echo "idle $s $base $with ${opened:-0} ${failed:--} $(((with - base) * 1024 / (${opened:-0} > 0 ? opened : 1)))" | tee -a "$OUT" >&2
done

python3 - "$OUT" <<'PY'
import statistics as st, sys
rows, idle, head = [], [], []
for line in open(sys.argv[1]):
    f = line.split()
    if line.startswith("#"):
        head.append(line.strip())
    elif f[0] == "idle":
        idle.append(f[1:])
    else:
        rows.append(f)
names = []
for f in rows:
    if f[2] not in names:
        names.append(f[2])
med = lambda xs: st.median(float(x) for x in xs)
print(head[0].lstrip("# "), "/", next((h for h in head if h.startswith("# end")), "").lstrip("# "))
for c in sorted({int(f[1]) for f in rows}):
    print(f"\n{c} connections, median of {max(int(f[0]) for f in rows)} rounds:\n")
    hdr = "| server | req/s | vs nginx | p50 ms | p99 ms | errors | ctx switches/req (vol + invol) | CPU µs/req | echo ctx sw/req | echo CPU µs/req |"
    if c == 256:
        hdr += " RSS MB |"
    print(hdr)
    print("|---|" + "---:|" * (hdr.count("|") - 2))
    ng = med(f[3] for f in rows if f[2] == "nginx" and int(f[1]) == c)
    for n in names:
        g = [f for f in rows if f[2] == n and int(f[1]) == c]
        if not g:
            continue
        m = lambda i: med(f[i] for f in g)
        line = (f"| {n} | {m(3):.0f} | {m(3) / ng:.2f} | {m(4) / 1000:.2f} | {m(5) / 1000:.2f} | "
                f"{sum(int(f[6]) for f in g)} | {m(7):.2f} + {m(8):.2f} | {m(9):.1f} | "
                + (f"{m(10):.2f} | {m(11):.1f} |" if g[0][10] != "-" else "- | - |"))
        if c == 256:
            line += f" {m(12) / 1024:.1f} |"
        print(line)
if idle:
    print(f"\nIdle keep-alive connections:\n")
    print("| server | RSS before MB | RSS with idle MB | connections open | failed | bytes per idle connection |")
    print("|---|---:|---:|---:|---:|---:|")
    for f in idle:
        print(f"| {f[0]} | {int(f[1]) / 1024:.1f} | {int(f[2]) / 1024:.1f} | {f[3]} | {f[4]} | {f[5]} |")
PY
