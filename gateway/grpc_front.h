/* The gateway's gRPC front: gRPC over HTTP/2 (cleartext, or TLS with a
 * certificate and key) in front of roster-users.
 *
 * Served:
 * - /roster.v1.UserService/<Method> for every unary method of
 *   ROSTER_METHOD_MAP: the request message's bytes go to roster-users as
 *   they are (never decoded and encoded again) with the caller's
 *   `authorization: Bearer <key>` metadata as the call's credential, checked
 *   as for GraphQL (gw_auth); the reply's bytes come back. The service's
 *   status and message become grpc-status and grpc-message, and
 *   grpc-status-details-bin carries them as google.rpc.Status with a
 *   BadRequest listing the field violations when there are any
 *   (grpc_status_details.h). The call's
 *   deadline (grpc-timeout) is the RPC's deadline.
 * - /roster.v1.UserService/WatchChanges, the server stream (the SHAPE
 *   column of ROSTER_METHOD_MAP): ListChanges pages from the request's
 *   `after` with the caller's key, each Change sent as the bytes the
 *   service sent, then new events as roster-users announces commits (or
 *   every changes_poll_ms); the cursor is each page's next_after, so there
 *   is no gap and no duplicate, and a page is asked for only once the
 *   previous one has left (memory bounded by one page per stream).
 * - /grpc.health.v1.Health/Check and Watch, for "" and
 *   "roster.v1.UserService": SERVING while roster-users answers a Health
 *   RPC within a second (as /readyz). No key needed.
 * - /grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo, when
 *   gw_grpc_options.reflect is set. No key needed.
 * - Any other method: UNIMPLEMENTED at once.
 *
 * This header is the whole interface the rest of the gateway sees; the
 * implementation (grpc_core.c) is the gRPC C core (Debian 12's libgrpc
 * 1.51), so another HTTP/2 implementation can replace it behind the same
 * six functions. */
#ifndef ROSTER_GW_GRPC_FRONT_H
#define ROSTER_GW_GRPC_FRONT_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "error.h"
#include "upstream.h"

typedef struct gw_grpc gw_grpc;

/* Answers one ServerReflectionRequest (`request`, request_len bytes,
 * borrowed for the call) with one ServerReflectionResponse: ROSTER_E_OK
 * with *out malloc'd (the caller frees it), or an error: the stream then
 * ends INVALID_ARGUMENT for ROSTER_E_PROTOCOL (not a request), INTERNAL
 * otherwise. grpc_reflection_answer (grpc_reflection.h) is one. */
typedef int (*gw_grpc_reflect_fn)(uint8_t **out, size_t *out_len, const uint8_t *request,
                                  size_t request_len);

typedef struct gw_grpc_options {
    const char *listen;         /* host:port (port 0: any free port); borrowed for gw_grpc_start */
    const char *tls_cert;       /* PEM certificate chain file; NULL or "": cleartext */
    const char *tls_key;        /* PEM private key file, with tls_cert */
    size_t max_message;         /* largest request message; larger: RESOURCE_EXHAUSTED */
    uint32_t timeout_ms;        /* deadline of a call whose client sets none */
    uint32_t max_calls;         /* unary calls in flight; more: RESOURCE_EXHAUSTED */
    uint32_t max_streams;       /* open server streams (Health/Watch); more: RESOURCE_EXHAUSTED */
    gw_upstream *up;            /* borrowed; outlives the front */
    gw_auth *auth;              /* borrowed; outlives the front */
    gw_grpc_reflect_fn reflect; /* NULL: reflection answered UNIMPLEMENTED */
    /* WatchChanges: roster-users' address (`upstream_url`) and its commit
     * announcements' (`changes_url`: its --changes-listen; NULL or "" =
     * beside an ipc:// upstream_url, none for tcp://; "off" = none). With
     * no announcements a caught-up stream asks every changes_poll_ms (0 =
     * 1000). Both strings borrowed for gw_grpc_start. */
    const char *upstream_url;
    const char *changes_url;
    uint32_t changes_poll_ms;
} gw_grpc_options;

/* Listens on o->listen and starts the front's completion-queue thread.
 * ROSTER_E_OK with *out owned by the caller until gw_grpc_free;
 * ROSTER_E_INVALID_ARGUMENT (bad address, unreadable TLS files, port in
 * use) or ROSTER_E_NOMEM with `detail` (may be NULL) saying why. `o` is
 * borrowed for the call (the pointers it holds as documented above). */
int gw_grpc_start(gw_grpc **out, const gw_grpc_options *o, roster_err_detail *detail);

/* The port listened on. */
int gw_grpc_port(const gw_grpc *g);

/* Stops accepting calls and ends open streams (UNAVAILABLE); calls in
 * flight go on. Accepts NULL. */
void gw_grpc_drain(gw_grpc *g);

/* Calls accepted and not yet finished, streams left out (gw_grpc_drain
 * ends the server streams; a reflection stream lasts as long as its client
 * keeps it open, until gw_grpc_cancel). */
int64_t gw_grpc_inflight(const gw_grpc *g);

/* Cancels every call left and stops starting upstream calls (a call that
 * would start one ends UNAVAILABLE); returns once no upstream call is
 * being started, so the upstream may then be freed. Accepts NULL. */
void gw_grpc_cancel(gw_grpc *g);

/* gw_grpc_cancel, then waits for the upstream calls in flight to come back
 * (free the upstream first, which fails them, or let their deadlines
 * pass), stops the thread and frees everything. Accepts NULL. */
void gw_grpc_free(gw_grpc *g);

#endif
