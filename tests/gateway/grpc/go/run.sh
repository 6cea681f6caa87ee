#!/usr/bin/env bash
# Builds or runs the Go gRPC client test (roster_grpc_test.go) with Debian's
# Go packages only, offline: GOPATH mode (GO111MODULE=off) over
# /usr/share/gocode, where golang-google-grpc-dev, golang-google-protobuf-dev,
# golang-github-golang-protobuf-1-5-dev and golang-google-genproto-dev put
# their sources. The stubs are generated from proto/roster.proto by protoc
# with protoc-gen-go and protoc-gen-go-grpc into OUT (never committed).
#   run.sh build OUT   generate the stubs and compile OUT/roster_grpc.test
#   run.sh test OUT    run it (needs ROSTER_USERS_BIN, ROSTER_GATEWAY_BIN,
#                      GW_TEST_PORT)
set -euo pipefail
mode=${1:?usage: run.sh build|test OUT}
out=$(mkdir -p "${2:?usage: run.sh build|test OUT}" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
proto=$(cd "$here/../../../../proto" && pwd)

case "$mode" in
build)
    export GO111MODULE=off GOPROXY=off GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/gocache"
    gen="$out/gopath/src/roster/v1/rosterpb"
    rm -rf "$gen"
    mkdir -p "$gen"
    protoc --proto_path="$proto" \
        --go_out="$gen" --go_opt=paths=source_relative --go_opt=Mroster.proto=roster/v1/rosterpb \
        --go-grpc_out="$gen" --go-grpc_opt=paths=source_relative \
        --go-grpc_opt=Mroster.proto=roster/v1/rosterpb \
        roster.proto
    cd "$here"
    go vet .
    go test -c -o "$out/roster_grpc.test" .
    ;;
test)
    exec "$out/roster_grpc.test" -test.v -test.timeout 50s
    ;;
*)
    echo "run.sh: unknown mode $mode (build or test)" >&2
    exit 2
    ;;
esac
