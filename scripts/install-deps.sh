#!/usr/bin/env bash
# Installs every Debian 12 package Roster needs to build, test and benchmark.
# Idempotent; run as root (or with sudo available).
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
    libnanopb-dev nanopb
    libnng-dev liblmdb-dev lmdb-utils libjansson-dev libssl-dev check libunistring-dev
    clang libclang-rt-14-dev
    nodejs npm curl openssl
)
bench_packages=(wrk nginx-light hyperfine libh2o-evloop-dev libmicrohttpd-dev)

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
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${trimmed[@]}"
fi
