/* The service's decode path for one request, repeated: the wire scans
 * (rpc_wire_scan on the envelope and the body, which also refuses strings
 * holding a NUL) and unpacking both into a per-call arena, as rpc_server's
 * dispatch runs them.
 * For instruction counts under callgrind (docs/bench/rpc.md):
 *   rpc-decode-bench batch|create ITERATIONS [--no-scan] */
#include "arena.h"
#include "roster_limits.h"
#include "rpc_envelope.h"
#include "rpc_method.h"
#include "rpc_wire_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Packs the request envelope for `body` of method `m` into *out. */
static size_t envelope(uint8_t **out, roster_arena *a, rpc_method_id m,
                       const ProtobufCMessage *body)
{
    uint8_t *b;
    size_t n;
    if (rpc_message_pack(&b, &n, a, body) != ROSTER_E_OK)
        exit(1);
    Roster__V1__RpcRequest req;
    Roster__V1__CallContext ctx;
    rpc_request_init(
        &req, &ctx, rpc_method_get(m)->name, b, n, "bench-1", 5000,
        "rstr_0123456789abcdef0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    if (rpc_message_pack(out, &n, a, &req.base) != ROSTER_E_OK)
        exit(1);
    return n;
}

static int decode(roster_arena *a, const uint8_t *buf, size_t len, int scan)
{
    roster_err_detail d;
    Roster__V1__RpcRequest *env;
    if (scan && rpc_wire_scan(&roster__v1__rpc_request__descriptor, buf, len, &d) != ROSTER_E_OK)
        return 1;
    if (rpc_request_decode(&env, a, buf, len, &d) != ROSTER_E_OK)
        return 1;
    const rpc_method *m = rpc_method_find(env->method, strlen(env->method));
    ProtobufCMessage *body;
    if (scan && rpc_wire_scan(m->request, env->body.data, env->body.len, &d) != ROSTER_E_OK)
        return 1;
    return rpc_body_decode(&body, a, m->request, env->body.data, env->body.len, &d) != ROSTER_E_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s batch|create ITERATIONS [--no-scan]\n", argv[0]);
        return 2;
    }
    int scan = !(argc > 3 && strcmp(argv[3], "--no-scan") == 0);
    long iterations = atol(argv[2]);
    roster_arena setup;
    roster_arena_init(&setup, 0, 0);
    uint8_t *buf;
    size_t len;
    if (strcmp(argv[1], "batch") == 0) {
        static char ids[100][37];
        char *p[100];
        for (int i = 0; i < 100; i++) {
            snprintf(ids[i], sizeof ids[i], "0190a1b2-c3d4-7e5f-8a9b-%012d", i);
            p[i] = ids[i];
        }
        Roster__V1__BatchGetUsersRequest r = ROSTER__V1__BATCH_GET_USERS_REQUEST__INIT;
        r.ids = p;
        r.n_ids = 100;
        len = envelope(&buf, &setup, RPC_BATCH_GET_USERS, &r.base);
    } else {
        Roster__V1__CreateUserRequest r = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        r.reference = "ref-12345";
        r.email = "ada.lovelace@example.com";
        r.first_name = "Ada";
        r.last_name = "Lovelace";
        r.phone = "+441234567890";
        r.locale = "en-GB";
        r.timezone = "Europe/London";
        r.custom_data = "{\"plan\":\"pro\",\"seats\":12}";
        len = envelope(&buf, &setup, RPC_CREATE_USER, &r.base);
    }
    roster_arena a;
    roster_arena_init(&a, 8192, ROSTER_MAX_CALL_ARENA);
    for (long i = 0; i < iterations; i++) {
        if (decode(&a, buf, len, scan) != 0) {
            fprintf(stderr, "decode failed\n");
            return 1;
        }
        roster_arena_reset(&a);
    }
    printf("%s: %zu-byte request, %ld decodes, scan %s\n", argv[1], len, iterations,
           scan ? "on" : "off");
    roster_arena_free(&a);
    roster_arena_free(&setup);
    return 0;
}
