/* Prometheus metrics of the gateway: counters and histograms updated with
 * atomics from any thread, rendered in the text exposition format. One
 * process-wide instance (gw_metrics_global), zero-initialised. */
#ifndef ROSTER_GW_METRICS_H
#define ROSTER_GW_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "gql_json.h"

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

/* Upstream RPC methods, as a label (index into gw_rpc_method_names). */
typedef enum gw_rpc_method {
    GW_RPC_CREATE_USER,
    GW_RPC_UPDATE_USER,
    GW_RPC_GET_USER,
    GW_RPC_BATCH_GET_USERS,
    GW_RPC_LIST_USERS,
    GW_RPC_CREATE_TENANT,
    GW_RPC_UPDATE_TENANT,
    GW_RPC_GET_TENANT,
    GW_RPC_BATCH_GET_TENANTS,
    GW_RPC_LIST_TENANTS,
    GW_RPC_HEALTH,
    GW_RPC__COUNT
} gw_rpc_method;

/* Label values ("query", "field_errors"); static, never NULL. */
const char *gw_op_label_name(gw_op_label op);
const char *gw_outcome_name(gw_outcome outcome);

/* "CreateUser", ...; static. */
extern const char *const gw_rpc_method_names[GW_RPC__COUNT];

#define GW_HIST_BUCKETS 14

/* Records one finished GraphQL request that took `ns` nanoseconds. */
void gw_metrics_request(gw_op_label op, gw_outcome outcome, int64_t ns);

/* In-flight gauge: +1 when a GraphQL request is admitted, -1 when it ends. */
void gw_metrics_inflight_add(int delta);

/* Current in-flight GraphQL requests. */
int64_t gw_metrics_inflight(void);

/* Records one upstream call of `method` with gRPC status `status` (0 = OK,
 * other values count as errors, labelled by name) taking `ns`. */
void gw_metrics_rpc(gw_rpc_method method, int status, int64_t ns);

/* Counts HTTP responses by status class for non-GraphQL endpoints too. */
void gw_metrics_http_status(int status);

/* Renders every metric in Prometheus text format into b. `ready` is the
 * last readiness result (1/0) and `doc_cache_*` the document cache's
 * counters. */
void gw_metrics_render(gql_buf *b, int ready, uint64_t doc_cache_hits, uint64_t doc_cache_misses);

#endif
