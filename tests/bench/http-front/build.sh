#!/usr/bin/env bash
# Builds the HTTP front prototypes (not part of the CMake build):
#   tests/bench/http-front/build.sh [OUTDIR]      (default build/http-front)
# Needs the Debian packages libh2o-evloop-dev, libmicrohttpd-dev, libnng-dev
# and libssl-dev (scripts/install-deps.sh --bench); installs nothing.
# Builds h2o_front, mhd_front and the nng references (ceiling: echo and the
# nng HTTP forwarder) with gcc -O2 -Wall -Wextra -Werror.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
out="${1:-$root/build/http-front}"
mkdir -p "$out"
flags=(-O2 -Wall -Wextra -Werror)
# libh2o-evloop.pc gives no -DH2O_USE_LIBUV=0; h2o_front.c defines it.
gcc "${flags[@]}" -o "$out/h2o_front" "$here/h2o_front.c" \
    $(pkg-config --cflags --libs libh2o-evloop) -lnng -lssl -lcrypto -lpthread
gcc "${flags[@]}" -o "$out/mhd_front" "$here/mhd_front.c" \
    $(pkg-config --cflags --libs libmicrohttpd) -lnng -lpthread
gcc "${flags[@]}" -o "$out/ceiling" "$root/tests/bench/gateway/ceiling.c" -lnng -lpthread
gcc "${flags[@]}" -o "$out/idle_conns" "$here/idle_conns.c"
echo "$out"
