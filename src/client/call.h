/* One RPC call of the client library: a pooled (nng req0 context, aio)
 * pair that sends an encoded envelope, waits for the reply within the
 * call's deadline and decodes the reply body into the caller's structs or
 * streaming callbacks. Also holds the client handle those calls share. */
#ifndef ROSTER_CLIENT_CALL_H
#define ROSTER_CLIENT_CALL_H

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <stdatomic.h>

#include "keyfile.h"
#include "nng_error.h"
#include "nng_gate.h"
#include "nng_redial.h"
#include "pipe_set.h"
#include "roster_client.h"
#include "roster_methods.h"

typedef struct roster_call roster_call;

/* The handle behind roster_client: one req0 socket and a pool of calls.
 * Pool lists are guarded by mtx. Every nng_ctx_send/nng_ctx_recv goes
 * through `gate`, which close shuts before it closes the socket
 * (nng_gate.h says why). */
struct roster_client {
    nng_socket sock;
    roster_redialer redial; /* replaces the dialer (nng_redial.h) */
    nng_mtx *mtx;
    roster_nng_gate gate;
    atomic_uint_fast64_t retries;       /* idempotent calls sent again after a reset */
    atomic_uint_fast64_t silent_closed; /* silent connections closed (pipe_set.h) */
    roster_pipe_set pipes;   /* open connections, and whether they answer (nng_clock ms) */
    roster_call *free_calls; /* idle calls ready for reuse */
    roster_call *all_calls;  /* every call ever made, for close */
    uint32_t default_timeout_ms;
    char *url; /* the service's URL (owned), for the watch's default announcement address */
    bool closing;
    /* The key calls present when their options give none (options, key
     * file or ROSTER_KEY, read at open); wiped at close. */
    bool has_credential;
    char credential[ROSTER_KEYFILE_MAX + 1];
};

/* What a reply body decodes into; one kind per reply message. */
typedef enum roster_reply_kind {
    ROSTER_REPLY_USER,         /* User -> out: roster_v1_User */
    ROSTER_REPLY_TENANT,       /* Tenant -> out: roster_v1_Tenant */
    ROSTER_REPLY_HEALTH,       /* HealthResponse -> out: roster_v1_HealthResponse */
    ROSTER_REPLY_STATS,        /* StatsResponse -> out: roster_v1_StatsResponse */
    ROSTER_REPLY_USERS,        /* ListUsersResponse: array/cap/count or user_fn, total */
    ROSTER_REPLY_TENANTS,      /* ListTenantsResponse: array/cap/count or tenant_fn, total */
    ROSTER_REPLY_USER_BATCH,   /* BatchGetUsersResponse: n entries, found */
    ROSTER_REPLY_TENANT_BATCH, /* BatchGetTenantsResponse: n entries, found */
    ROSTER_REPLY_CHANGES, /* ListChangesResponse: change_fn per event, out: roster_changes_info */
    ROSTER_REPLY_BULK,    /* BulkWriteResponse: cap roster_v1_BulkResult in array, count */
    ROSTER_REPLY_MESSAGE, /* any other reply -> out: its nanopb struct, decoded whole */
} roster_reply_kind;

/* The nanopb binding of the method table (roster_methods.h): what the
 * client needs to call each method. Static data. */
typedef struct roster_client_method {
    const char *name;            /* gRPC form: "/roster.v1.UserService/GetUser" */
    const char *short_name;      /* "GetUser" */
    const pb_msgdesc_t *request; /* nanopb descriptor of the request message */
    const pb_msgdesc_t *reply;   /* nanopb descriptor of the reply message */
    roster_reply_kind kind;      /* what the reply body decodes into */
    bool retry_read;             /* an idempotent read: sent again once after a reset */
} roster_client_method;

/* The entry for `id`; static, NULL when id is out of range. */
const roster_client_method *roster_client_method_get(rpc_method_id id);

/* A call to make. Every pointer is borrowed: req until the start function
 * returns; the outputs and fn_arg until the call completes. Unused
 * outputs are NULL. */
typedef struct roster_call_spec {
    rpc_method_id method;
    const void *req;          /* the method's request message (nanopb struct) */
    void *out;                /* single-record replies */
    void *array;              /* list/batch convenience: roster_v1_User or _Tenant entries */
    size_t cap;               /* entries in array (batch: n ids) */
    size_t *count;            /* list: records stored */
    int64_t *total;           /* list: total_count */
    roster_v1_PageInfo *page; /* list: page_info */
    bool *found;              /* batch: n flags */
    roster_user_fn user_fn;
    roster_tenant_fn tenant_fn;
    roster_change_fn change_fn;
    void *fn_arg;
} roster_call_spec;

/* Runs a call and waits for it; decoding (and any streaming callback)
 * happens on the calling thread. st may be NULL. */
int roster_call_run(roster_status *st, roster_client *c, const roster_call_options *o,
                    const roster_call_spec *spec);

/* Starts a call; on ROSTER_E_OK `done(arg, err, st)` runs exactly once on
 * an nng thread after decoding. */
int roster_call_start(roster_client *c, const roster_call_options *o, const roster_call_spec *spec,
                      roster_done_fn done, void *arg);

/* How many calls this client has sent a second time because their
 * connection was reset before the reply (idempotent reads only). */
uint64_t roster_call_retries(roster_client *c);

/* How many connections this client has closed because they took calls and
 * answered none (a silent connection: pipe_set.h). */
uint64_t roster_call_silent_closes(roster_client *c);

/* How many times the client replaced its dialer after being without a
 * working connection too long (pipe_set.h, nng_redial.h). */
uint64_t roster_call_redials(roster_client *c);

/* Frees every pooled call of a client whose socket is already closed;
 * waits for their callbacks. Accepts NULL. */
void roster_call_pool_free(roster_client *c);

#endif
