/* Cross-request batching of lookups by id: concurrent GraphQL requests
 * that look up users or tenants by id share one BatchGetUsers or
 * BatchGetTenants RPC.
 *
 * Only lookups of one kind with the same credential text and the same
 * field mask share an RPC (one "group"): roster-users authorizes every
 * call by its credential, so a batch never carries two credentials.
 *
 * Flush rule (adaptive, no timer): a lookup is sent at once, as a batch
 * of its own, while its group has fewer than `max_in_flight` batches in
 * flight; otherwise it joins the group's queue. The queue is sent as one
 * batch when a batch of the group completes, or at once when it reaches
 * `batch_max` ids. Idle, nothing waits; under load, lookups that arrive
 * during one round trip leave together on the next.
 *
 * Deferred (`defer`, a batcher owned by one event loop): a lookup that
 * would be sent at once joins the queue instead, and gw_batcher_flush,
 * called at the end of each loop iteration, sends every queue whose group
 * has room in flight, so the lookups of one iteration leave together.
 *
 * Deadlines: a batch is sent with the earliest deadline of its lookups
 * (so no lookup in it waits past its own); a lookup queues only behind
 * batches that end by its own deadline (within 1 ms), else it is sent at
 * once, alone; and a queued lookup whose deadline has passed when its
 * batch leaves fails DEADLINE_EXCEEDED without being sent.
 * A failed batch is reported to each lookup with `shared` set when it
 * carried other lookups; the caller then sends its own request alone, so
 * a failure caused by one request (or a batch deadline earlier than its
 * own) never becomes another request's answer.
 *
 * Memory: at most `max_queued` ids wait per kind; a lookup past that is
 * sent at once, alone. A group lives while it has lookups queued or in
 * flight.
 *
 * Threads: every function may be called from any thread, including from
 * inside a gw_lookup_cb or an RPC completion. One mutex per kind guards
 * the groups; it is never held while sending or calling back. */
#ifndef ROSTER_GW_BATCHER_H
#define ROSTER_GW_BATCHER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster_methods.h"
#include "upstream.h"

typedef struct gw_batcher gw_batcher;

/* What a lookup asks for, and the batch RPC that serves it. */
typedef enum gw_lookup_kind {
    GW_LOOKUP_USER,         /* BatchGetUsers */
    GW_LOOKUP_TENANT,       /* BatchGetTenants */
    GW_LOOKUP_TENANT_COUNT, /* BatchGetTenants with include_user_count */
    GW_LOOKUP__COUNT
} gw_lookup_kind;

/* The kind's metric label ("user", "tenant", "tenant_count"); static. */
const char *gw_lookup_kind_name(gw_lookup_kind kind);

/* One record of a batch reply, answering one id: its serialized User or
 * Tenant message (borrowed for the callback only), or found false when the
 * id names no record the credential may see. */
typedef struct gw_batch_item {
    const uint8_t *bytes;
    size_t len;
    bool found;
} gw_batch_item;

typedef struct gw_lookup gw_lookup;

/* Called exactly once per gw_batcher_get, from the calling thread or an
 * RPC completion. On success `failed` is NULL and items has one entry per
 * id of the lookup, in order. Otherwise `failed` is the reply of the RPC
 * (or of the expiry check) and `shared` is true when that RPC carried
 * other lookups too. Everything is borrowed for the call. */
typedef void (*gw_lookup_cb)(gw_lookup *l, const gw_rpc_reply *failed, bool shared,
                             const gw_batch_item *items);

/* A lookup, allocated by the caller and owned by it; the batcher uses it
 * (and everything it points to) from gw_batcher_get until the callback. */
struct gw_lookup {
    gw_lookup_kind kind;
    uint64_t mask;          /* the field mask sent (FIELD_MASK_ALL: every field) */
    const char *credential; /* API key or token text; NULL = keyless */
    int64_t deadline_ns;    /* monotonic; 0 = none */
    const char *const *ids; /* n_ids ids (UUID text) */
    size_t n_ids;
    gw_lookup_cb cb;
    void *ud;
    /* The batcher's, not set by the caller. */
    gw_lookup *next;
    size_t first; /* index of ids[0] in its batch */
};

/* How a batch RPC is sent: gw_upstream_call's contract (the reply goes to
 * cb exactly once; req is borrowed for the call). */
typedef void (*gw_batch_send_fn)(void *send_ud, rpc_method_id method, const ProtobufCMessage *req,
                                 int64_t deadline_ns, const char *credential, gw_rpc_cb cb,
                                 void *ud);

typedef struct gw_batcher_options {
    uint32_t batch_max;     /* most ids in one batch RPC (1..ROSTER_MAX_BATCH) */
    uint32_t max_queued;    /* most ids waiting per kind (at least batch_max) */
    uint32_t max_in_flight; /* batches of one group sent before lookups queue (>= 1) */
    bool defer;             /* queue until gw_batcher_flush (above) */
} gw_batcher_options;

/* The defaults: batch_max ROSTER_MAX_BATCH, max_queued 8 * that,
 * max_in_flight 1, not deferred. */
gw_batcher_options gw_batcher_defaults(void);

/* A batcher sending through send(send_ud, ...) (send_ud borrowed, must
 * outlive the batcher). ROSTER_E_OK with *out (free with
 * gw_batcher_free), ROSTER_E_INVALID_ARGUMENT for options out of range,
 * or ROSTER_E_NOMEM. */
int gw_batcher_new(gw_batcher **out, const gw_batcher_options *opts, gw_batch_send_fn send,
                   void *send_ud);

/* Frees the batcher. No lookup may be outstanding. Accepts NULL. */
void gw_batcher_free(gw_batcher *b);

/* Looks up l->ids (1..batch_max of them; more are sent alone) as the
 * flush rule above says; the answer goes to l->cb. Never blocks on I/O. */
void gw_batcher_get(gw_batcher *b, gw_lookup *l);

/* Sends every queued lookup whose group has fewer than max_in_flight
 * batches in flight. Any thread. */
void gw_batcher_flush(gw_batcher *b);

/* Stops deferring and flushes: for a loop's batcher once the loops are
 * stopped and nothing flushes it any more. Not concurrently with
 * gw_batcher_get or gw_batcher_flush. */
void gw_batcher_undefer(gw_batcher *b);

/* Splits a BatchGetUsersResponse or BatchGetTenantsResponse body (`body`,
 * `len`, borrowed) into its n records: items[i] answers the i-th id
 * (items has n entries, written only on success; their bytes point into
 * body). ROSTER_E_OK, or ROSTER_E_INTERNAL when the body does not hold
 * exactly n well-formed records and found flags. */
int gw_batch_split(gw_batch_item *items, size_t n, const uint8_t *body, size_t len);

#endif
