/* Prometheus metrics of the gateway: counters and histograms updated with
 * atomics from any thread, rendered in the text exposition format. One
 * process-wide instance (gw_metrics_global), zero-initialised. */
#ifndef ROSTER_GW_METRICS_H
#define ROSTER_GW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "batcher.h"
#include "gql_json.h"
#include "roster_methods.h"

/* Operation type of a GraphQL request, as a label. */
typedef enum gw_op_label {
    GW_OP_QUERY,
    GW_OP_MUTATION,
    GW_OP_UNKNOWN, /* the request failed before an operation was chosen */
    GW_OP__COUNT
} gw_op_label;

/* How a request ended, as a label. */
typedef enum gw_outcome {
    GW_OUT_OK,            /* data, no errors */
    GW_OUT_FIELD_ERRORS,  /* data with errors */
    GW_OUT_REQUEST_ERROR, /* bad HTTP/GraphQL request: no data */
    GW_OUT_REJECTED,      /* over a limit (413, 503 busy) */
    GW_OUT__COUNT
} gw_outcome;

/* How a credential check at the gateway ended, as a label. */
typedef enum gw_auth_result {
    GW_AUTH_CACHE_HIT, /* verified within the cache's lifetime */
    GW_AUTH_VERIFIED,  /* the service verified the key just now */
    GW_AUTH_REJECTED,  /* missing, malformed or refused by the service */
    GW_AUTH_ERROR,     /* the service could not say (unavailable, timeout) */
    GW_AUTH__COUNT
} gw_auth_result;

/* Label values ("query", "field_errors"); static, never NULL. */
const char *gw_op_label_name(gw_op_label op);
const char *gw_outcome_name(gw_outcome outcome);

#define GW_HIST_BUCKETS 14

/* Records one finished GraphQL request that took `ns` nanoseconds. */
void gw_metrics_request(gw_op_label op, gw_outcome outcome, int64_t ns);

/* In-flight gauge: +1 when a GraphQL request is admitted, -1 when it ends. */
void gw_metrics_inflight_add(int delta);

/* Current in-flight GraphQL requests. */
int64_t gw_metrics_inflight(void);

/* Records one upstream call of `method` with gRPC status `status`
 * (ROSTER_STATUS_OK, or an error labelled by its name; numbers outside the
 * status table count as UNKNOWN) taking `ns`. Methods are labelled by
 * their short name ("GetUser"). */
void gw_metrics_rpc(rpc_method_id method, int status, int64_t ns);

/* Counts one batch RPC of `kind` sent by the cross-request batcher,
 * carrying `lookups` lookups (more than one: they shared the RPC). */
void gw_metrics_batch(gw_lookup_kind kind, size_t lookups);

/* Counts one lookup of `kind` sent again alone after its batch (its own
 * single RPC): a failed shared batch, or a root lookup not found. */
void gw_metrics_batch_resend(gw_lookup_kind kind);

/* Counts one credential check. */
void gw_metrics_auth(gw_auth_result result);

/* Counts HTTP responses by status class for non-GraphQL endpoints too. */
void gw_metrics_http_status(int status);

/* Renders every metric in Prometheus text format into b. `ready` is the
 * last readiness result (1/0) and `doc_cache_*` the document cache's
 * counters. */
void gw_metrics_render(gql_buf *b, int ready, uint64_t doc_cache_hits, uint64_t doc_cache_misses);

#endif
