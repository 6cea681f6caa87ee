#!/usr/bin/env bash
# Installs every Debian 12 package Roster needs to build, test and benchmark
# (systemd for systemd-analyze and prometheus for promtool: the tests check
# the unit files and the gateway's /metrics with them; chromium and
# chromium-driver for the GraphiQL page's test in a headless browser;
# bsdutils, essential in Debian, for util-linux's script, which runs
# rosterctl on a pseudo-terminal in its progress test; libgrpc-dev, the
# gRPC C core the gateway's gRPC front is built on; grpc-proto and
# libprotobuf-dev for the .proto files of gRPC's reflection and health
# services and of google.protobuf, which the gateway's gRPC front is built
# from; Go, grpc-go, the protobuf Go runtimes, genproto and the Go protoc
# plugins for the Go client test, tests/gateway/grpc/go: its
# golang-github-golang-protobuf-1-5-dev replaces the 1.3 API package;
# libpq-dev for the PostgreSQL store backend and postgresql-15 for the
# throwaway clusters its tests start with scripts/pg-cluster.sh: the
# package's own cluster is kept from starting, like prometheus).
# Idempotent; run as root (or with sudo available).
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev grpc-proto
    libnanopb-dev nanopb
    libnng-dev liblmdb-dev lmdb-utils libjansson-dev libmicrohttpd-dev libssl-dev check
    libunistring-dev libcsv-dev
    libpq-dev postgresql-15
    libgrpc-dev
    clang libclang-rt-14-dev
    nodejs npm curl openssl
    golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev
    golang-google-genproto-dev protoc-gen-go protoc-gen-go-grpc
    systemd prometheus bsdutils
    chromium chromium-driver
)
bench_packages=(wrk nginx-light hyperfine libh2o-evloop-dev)

want=("${packages[@]}")
if [ "${1:-}" = "--bench" ]; then
    want+=("${bench_packages[@]}")
fi

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node and npm may come from outside Debian's packages; accept what is on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs/}")
    missing=("${missing[@]/npm/}")
fi
trimmed=()
for p in "${missing[@]}"; do [ -n "$p" ] && trimmed+=("$p"); done

if [ ${#trimmed[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    # The tests need only promtool from the prometheus package, never its
    # server: without systemd running, the package's postinst would start
    # the server from /etc/init.d. A policy-rc.d that refuses every start
    # (the one Debian's container images ship, or a temporary one) keeps
    # it stopped; the server is also kept from starting at boot.
    policy=/usr/sbin/policy-rc.d
    made_policy=""
    if [[ " ${trimmed[*]} " == *" prometheus "* || " ${trimmed[*]} " == *" postgresql-15 "* ]] &&
        [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod 0755 "$policy"
        made_policy=1
    fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${trimmed[@]}"
    [ -z "$made_policy" ] || $SUDO rm -f "$policy"
    if [[ " ${trimmed[*]} " == *" prometheus "* ]]; then
        $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
        $SUDO systemctl disable prometheus.service >/dev/null 2>&1 || true
    fi
    if [[ " ${trimmed[*]} " == *" postgresql-15 "* ]]; then
        $SUDO update-rc.d postgresql disable >/dev/null 2>&1 || true
        $SUDO systemctl disable postgresql.service >/dev/null 2>&1 || true
    fi
fi
