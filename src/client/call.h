/* One RPC call of the client library: a pooled (nng req0 context, aio)
 * pair that sends an encoded envelope, waits for the reply within the
 * call's deadline and decodes the reply body into the caller's structs or
 * streaming callbacks. Also holds the client handle those calls share. */
#ifndef ROSTER_CLIENT_CALL_H
#define ROSTER_CLIENT_CALL_H

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "roster_client.h"

typedef struct roster_call roster_call;

/* The handle behind roster_client: one req0 socket and a pool of calls.
 * Pool lists are guarded by mtx. */
struct roster_client {
    nng_socket sock;
    nng_dialer dialer;
    nng_mtx *mtx;
    roster_call *free_calls; /* idle calls ready for reuse */
    roster_call *all_calls;  /* every call ever made, for close */
    uint32_t default_timeout_ms;
    bool closing;
};

/* What a reply body decodes into. */
typedef enum roster_reply_kind {
    ROSTER_REPLY_USER,         /* out: roster_v1_User */
    ROSTER_REPLY_TENANT,       /* out: roster_v1_Tenant */
    ROSTER_REPLY_HEALTH,       /* out: roster_v1_HealthResponse */
    ROSTER_REPLY_STATS,        /* out: roster_v1_StatsResponse */
    ROSTER_REPLY_USERS,        /* ListUsersResponse: array/cap/count or user_fn, total */
    ROSTER_REPLY_TENANTS,      /* ListTenantsResponse: array/cap/count or tenant_fn, total */
    ROSTER_REPLY_USER_BATCH,   /* BatchGetUsersResponse: n entries, found */
    ROSTER_REPLY_TENANT_BATCH, /* BatchGetTenantsResponse: n entries, found */
} roster_reply_kind;

/* A call to make. Every pointer is borrowed: method/req_fields/req until
 * the start function returns; the outputs and fn_arg until the call
 * completes. Unused outputs are NULL. */
typedef struct roster_call_spec {
    const char *method; /* "/roster.v1.UserService/GetUser" */
    const pb_msgdesc_t *req_fields;
    const void *req;
    roster_reply_kind kind;
    void *out;      /* single-record replies */
    void *array;    /* list/batch convenience: roster_v1_User or _Tenant entries */
    size_t cap;     /* entries in array (batch: n ids) */
    size_t *count;  /* list: records stored */
    int64_t *total; /* list: total_count */
    bool *found;    /* batch: n flags */
    roster_user_fn user_fn;
    roster_tenant_fn tenant_fn;
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

/* Frees every pooled call of a client whose socket is already closed;
 * waits for their callbacks. Accepts NULL. */
void roster_call_pool_free(roster_client *c);

/* Translates an NNG_* code into a ROSTER_E_* code. */
int roster_err_from_nng(int rv);

#endif
