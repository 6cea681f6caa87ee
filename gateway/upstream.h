/* The gateway's connection to roster-users: asynchronous RPCs over nng
 * req0 (envelope RpcRequest/RpcReply from roster.proto) with a per-call
 * deadline, and a readiness probe (the Health method). */
#ifndef ROSTER_GW_UPSTREAM_H
#define ROSTER_GW_UPSTREAM_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "roster_methods.h"

typedef struct gw_upstream gw_upstream;

/* What an RPC returned. Everything is borrowed for the duration of the
 * callback only. */
typedef struct gw_rpc_reply {
    int status;            /* gRPC status (ROSTER_STATUS_*) */
    const char *message;   /* NUL-terminated, never NULL */
    const char *field;     /* first violation's field, or NULL */
    const char *violation; /* its description, or NULL */
    size_t n_violations;
    const char *const *violation_fields; /* n_violations entries */
    const char *const *violation_descriptions;
    const uint8_t *body; /* serialized reply message when status is ROSTER_STATUS_OK */
    size_t body_len;
} gw_rpc_reply;

/* Called exactly once per gw_upstream_call: when the call fails before
 * anything is sent, from inside gw_upstream_call; otherwise, for a call
 * made on an event loop (loop.h), on that loop's thread (the reply is
 * handed back through its inbox), and for any other caller on an nng
 * thread. */
typedef void (*gw_rpc_cb)(const gw_rpc_reply *reply, void *ud);

/* Options for tls+tcp:// (both borrowed for gw_upstream_new, NULL or ""
 * for none): the CA file the service's certificate must chain to (none:
 * encrypted but not authenticated) and the name it must carry (none: the
 * URL's host). */
typedef struct gw_upstream_tls {
    const char *ca_file;
    const char *server_name;
} gw_upstream_tls;

/* Dials `url` (borrowed for the call) with `sockets` req0 sockets (1..16,
 * calls spread round robin) and `contexts` contexts in all, created up
 * front (more are added on demand). Dialling is non-blocking and
 * reconnects in the background. ROSTER_E_OK with *out owned by the caller
 * until gw_upstream_free, or ROSTER_E_INVALID_ARGUMENT (bad URL or socket
 * count) / ROSTER_E_NOMEM, with `detail` (may be NULL) saying why. */
int gw_upstream_new(gw_upstream **out, const char *url, uint32_t contexts, uint32_t sockets,
                    const gw_upstream_tls *tls, roster_err_detail *detail);

/* Closes the socket and frees everything. No call may be outstanding.
 * Accepts NULL. */
void gw_upstream_free(gw_upstream *u);

/* Sends `req` (packed now; the caller keeps it) to `method` with a deadline
 * at monotonic time deadline_ns (0 = none) and the caller's API key text
 * `credential` as the call's credential (NULL = keyless; borrowed for the
 * call, copied into the request). The reply goes to cb. Never blocks. */
void gw_upstream_call(gw_upstream *u, rpc_method_id method, const ProtobufCMessage *req,
                      int64_t deadline_ns, const char *credential, gw_rpc_cb cb, void *ud);

/* gw_upstream_call with the request already serialized: `body`
 * (borrowed for the call only) is sent as it is, never decoded, and the
 * reply's body comes back as bytes (gw_rpc_reply.body). For forwarding
 * (the gRPC front). Never blocks. */
void gw_upstream_call_bytes(gw_upstream *u, rpc_method_id method, const uint8_t *body,
                            size_t body_len, int64_t deadline_ns, const char *credential,
                            gw_rpc_cb cb, void *ud);

/* gw_upstream_call with the upstream as a void pointer (`u`, a
 * gw_upstream *), for callers that take a send function (gw_batcher). */
void gw_upstream_send(void *u, rpc_method_id method, const ProtobufCMessage *req,
                      int64_t deadline_ns, const char *credential, gw_rpc_cb cb, void *ud);

#endif
