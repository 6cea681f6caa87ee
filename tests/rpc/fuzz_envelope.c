/* Fuzz harness for the RPC envelope and body decoders: whatever the bytes,
 * decoding either fails with ROSTER_E_PROTOCOL or yields messages that pack
 * again without fault. Built as a libFuzzer target with -DROSTER_FUZZ=ON (clang), and
 * always as a replay program (fuzz_envelope_replay.c) that runs seeds and
 * their mutations under the build's sanitizers. */
#include "arena.h"
#include "rpc_envelope.h"
#include "rpc_method.h"
#include "rpc_wire_scan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    roster_arena a;
    roster_arena_init(&a, 0, 64u << 20);
    roster_err_detail d;
    Roster__V1__RpcRequest *req = NULL;
    int scan = rpc_wire_scan(&roster__v1__rpc_request__descriptor, data, size, &d);
    if (scan != ROSTER_E_OK && scan != ROSTER_E_INVALID_ARGUMENT)
        abort();
    int err = rpc_request_decode(&req, &a, data, size, &d);
    if (err == ROSTER_E_OK) {
        const rpc_method *m = rpc_method_find(req->method, strlen(req->method));
        if (m != NULL) {
            ProtobufCMessage *body = NULL;
            scan = rpc_wire_scan(m->request, req->has_body ? req->body.data : NULL,
                                 req->has_body ? req->body.len : 0, &d);
            if (scan != ROSTER_E_OK && scan != ROSTER_E_INVALID_ARGUMENT)
                abort();
            if (rpc_body_decode(&body, &a, m->request, req->has_body ? req->body.data : NULL,
                                req->has_body ? req->body.len : 0, &d) == ROSTER_E_OK) {
                uint8_t *buf;
                size_t len;
                if (rpc_message_pack(&buf, &len, &a, body) != ROSTER_E_OK)
                    abort();
            }
        }
        uint8_t *buf;
        size_t len;
        if (rpc_message_pack(&buf, &len, &a, &req->base) == ROSTER_E_OK) {
            /* protobuf-c keeps unknown fields, including ones numbered 0
             * that it will not read back, so a repacked envelope may not
             * decode; when it does, the method survives. */
            Roster__V1__RpcRequest *again = NULL;
            if (rpc_request_decode(&again, &a, buf, len, &d) == ROSTER_E_OK &&
                strcmp(again->method, req->method) != 0)
                abort();
        }
    } else if (err != ROSTER_E_PROTOCOL && err != ROSTER_E_NOMEM) {
        abort();
    }
    Roster__V1__RpcReply *rep = NULL;
    err = rpc_reply_decode(&rep, &a, data, size, &d);
    if (err != ROSTER_E_OK && err != ROSTER_E_PROTOCOL && err != ROSTER_E_NOMEM)
        abort();
    roster_arena_free(&a);
    return 0;
}
