#!/usr/bin/env bash
# Optimized build (what runs in production and what the benchmarks use).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DROSTER_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)"
