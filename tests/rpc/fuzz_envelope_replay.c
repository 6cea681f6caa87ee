/* Replays the envelope fuzz harness on seeds built here (a valid request
 * for every method, replies with and without violations) and on a fixed,
 * seeded series of their mutations: truncations, bit flips, byte
 * insertions and splices. Exit 0 when no input crashed. Usage:
 * fuzz_envelope_replay [MUTATIONS_PER_SEED] */
#include "rpc_envelope.h"
#include "rpc_method.h"
#include "rpc_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

#define MAX_SEEDS 32

int main(int argc, char **argv)
{
    long per_seed = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
    roster_arena a;
    roster_arena_init(&a, 0, 0);
    uint8_t *seeds[MAX_SEEDS];
    size_t lens[MAX_SEEDS];
    int n = 0;
    for (int i = 0; i < RPC_METHOD__COUNT; i++) {
        const rpc_method *m = rpc_method_get((rpc_method_id)i);
        /* A request body with its first string field set, when it has one. */
        ProtobufCMessage *body = roster_arena_alloc(&a, m->request->sizeof_message);
        protobuf_c_message_init(m->request, body);
        for (unsigned f = 0; f < m->request->n_fields; f++) {
            const ProtobufCFieldDescriptor *fd = &m->request->fields[f];
            if (fd->type == PROTOBUF_C_TYPE_STRING && fd->label != PROTOBUF_C_LABEL_REPEATED) {
                *(const char **)((char *)body + fd->offset) =
                    "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
                break;
            }
        }
        uint8_t *b;
        size_t bl;
        rpc_message_pack(&b, &bl, &a, body);
        Roster__V1__RpcRequest req;
        Roster__V1__CallContext ctx;
        rpc_request_init(&req, &ctx, m->name, b, bl, "seed", 1500,
                         i % 2 ? "0190a1b2-c3d4-7e5f-8a9b-000000000001" : NULL);
        rpc_message_pack(&seeds[n], &lens[n], &a, &req.base);
        n++;
    }
    roster_err_detail d;
    roster_fail(&d, ROSTER_E_INVALID_ARGUMENT, "email", "email is not an address");
    Roster__V1__RpcReply rep;
    rpc_status st;
    rpc_status_reply(&rep, &st, ROSTER_E_INVALID_ARGUMENT, &d);
    rpc_message_pack(&seeds[n], &lens[n], &a, &rep.base);
    n++;
    rpc_status_reply(&rep, &st, ROSTER_E_OK, NULL);
    rep.has_body = 1;
    rep.body.data = seeds[0];
    rep.body.len = lens[0];
    rpc_message_pack(&seeds[n], &lens[n], &a, &rep.base);
    n++;

    long runs = 0;
    uint8_t buf[4096];
    for (int s = 0; s < n; s++) {
        LLVMFuzzerTestOneInput(seeds[s], lens[s]);
        runs++;
        for (long k = 0; k < per_seed; k++) {
            size_t len = lens[s] < sizeof buf ? lens[s] : sizeof buf;
            memcpy(buf, seeds[s], len);
            int edits = 1 + (int)(next() % 4);
            for (int e = 0; e < edits && len > 0; e++) {
                switch (next() % 4) {
                case 0: /* truncate */
                    len = next() % len;
                    break;
                case 1: /* flip a bit */
                    buf[next() % len] ^= (uint8_t)(1u << (next() % 8));
                    break;
                case 2: /* set a byte to an interesting value */
                {
                    static const uint8_t v[] = {0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x1a, 0x22};
                    buf[next() % len] = v[next() % sizeof v];
                    break;
                }
                default: /* splice another seed's tail */
                {
                    int o = (int)(next() % (unsigned)n);
                    size_t at = next() % len;
                    size_t from = next() % lens[o];
                    size_t take = lens[o] - from;
                    if (at + take > sizeof buf)
                        take = sizeof buf - at;
                    memcpy(buf + at, seeds[o] + from, take);
                    len = at + take;
                    break;
                }
                }
            }
            LLVMFuzzerTestOneInput(buf, len);
            runs++;
        }
    }
    roster_arena_free(&a);
    printf("fuzz_envelope: %ld inputs, no crash\n", runs);
    return 0;
}
