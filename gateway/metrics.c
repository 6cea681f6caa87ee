#include "metrics.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "loop.h"
#include "rpc_method.h"

static const char *const op_names[GW_OP__COUNT] = {"query", "mutation", "unknown"};
static const char *const outcome_names[GW_OUT__COUNT] = {"ok", "field_errors", "request_error",
                                                         "rejected"};
static const char *const auth_names[GW_AUTH__COUNT] = {"cache_hit", "verified", "rejected",
                                                       "error"};

const char *gw_op_label_name(gw_op_label op)
{
    return (unsigned)op < GW_OP__COUNT ? op_names[op] : "unknown";
}

const char *gw_outcome_name(gw_outcome outcome)
{
    return (unsigned)outcome < GW_OUT__COUNT ? outcome_names[outcome] : "unknown";
}

/* Upper bounds in seconds; the last bucket is +Inf. */
static const double bounds[GW_HIST_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                               0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   5.0};

typedef struct hist {
    atomic_uint_fast64_t buckets[GW_HIST_BUCKETS + 1]; /* non-cumulative; last = +Inf */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_ns;
} hist;

static struct {
    atomic_uint_fast64_t requests[GW_OP__COUNT][GW_OUT__COUNT];
    hist latency;
    atomic_int_fast64_t inflight;
    hist rpc_latency[RPC_METHOD__COUNT];
    atomic_uint_fast64_t rpc_status[RPC_METHOD__COUNT][ROSTER_STATUS__COUNT];
    atomic_uint_fast64_t http[6]; /* by status class 1xx..5xx */
    atomic_uint_fast64_t auth[GW_AUTH__COUNT];
    atomic_uint_fast64_t batches[GW_LOOKUP__COUNT];
    atomic_uint_fast64_t batch_lookups[GW_LOOKUP__COUNT];
    atomic_uint_fast64_t batched_lookups[GW_LOOKUP__COUNT]; /* in batches of 2 or more */
    atomic_uint_fast64_t batch_resends[GW_LOOKUP__COUNT];
} m;

static void hist_observe(hist *h, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    double s = (double)ns / 1e9;
    int i = 0;
    while (i < GW_HIST_BUCKETS && s > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)ns, memory_order_relaxed);
}

void gw_metrics_request(gw_op_label op, gw_outcome outcome, int64_t ns)
{
    if ((unsigned)op >= GW_OP__COUNT || (unsigned)outcome >= GW_OUT__COUNT)
        return;
    atomic_fetch_add_explicit(&m.requests[op][outcome], 1, memory_order_relaxed);
    hist_observe(&m.latency, ns);
}

void gw_metrics_inflight_add(int delta)
{
    atomic_fetch_add_explicit(&m.inflight, delta, memory_order_relaxed);
}

int64_t gw_metrics_inflight(void)
{
    return (int64_t)atomic_load_explicit(&m.inflight, memory_order_relaxed);
}

void gw_metrics_rpc(rpc_method_id method, int status, int64_t ns)
{
    if ((unsigned)method >= RPC_METHOD__COUNT)
        return;
    if (!roster_status_valid(status))
        status = ROSTER_STATUS_UNKNOWN;
    atomic_fetch_add_explicit(&m.rpc_status[method][status], 1, memory_order_relaxed);
    hist_observe(&m.rpc_latency[method], ns);
}

void gw_metrics_batch(gw_lookup_kind kind, size_t lookups)
{
    if ((unsigned)kind >= GW_LOOKUP__COUNT)
        return;
    atomic_fetch_add_explicit(&m.batches[kind], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.batch_lookups[kind], lookups, memory_order_relaxed);
    if (lookups > 1)
        atomic_fetch_add_explicit(&m.batched_lookups[kind], lookups, memory_order_relaxed);
}

void gw_metrics_batch_resend(gw_lookup_kind kind)
{
    if ((unsigned)kind < GW_LOOKUP__COUNT)
        atomic_fetch_add_explicit(&m.batch_resends[kind], 1, memory_order_relaxed);
}

void gw_metrics_auth(gw_auth_result result)
{
    if ((unsigned)result < GW_AUTH__COUNT)
        atomic_fetch_add_explicit(&m.auth[result], 1, memory_order_relaxed);
}

void gw_metrics_http_status(int status)
{
    int cls = status / 100;
    if (cls < 1 || cls > 5)
        cls = 0;
    atomic_fetch_add_explicit(&m.http[cls], 1, memory_order_relaxed);
}

static void put(gql_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void put(gql_buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        gql_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* The method label: its short name from the method table ("GetUser"). */
static const char *method_label(int i)
{
    return rpc_method_get((rpc_method_id)i)->short_name;
}

static void hist_render(gql_buf *b, const char *name, const char *labels, hist *h)
{
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (int i = 0; i <= GW_HIST_BUCKETS; i++) {
        cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < GW_HIST_BUCKETS)
            put(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i],
                (unsigned long long)cum);
        else
            put(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
    }
    const char *lb = labels[0] ? "{" : "";
    const char *rb = labels[0] ? "}" : "";
    put(b, "%s_sum%s%s%s %.9f\n", name, lb, labels, rb,
        (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9);
    put(b, "%s_count%s%s%s %llu\n", name, lb, labels, rb,
        (unsigned long long)atomic_load_explicit(&h->count, memory_order_relaxed));
}

/* One sample per (method, status) seen so far; with_ok false leaves OK out. */
static void rpc_status_render(gql_buf *b, const char *name, bool with_ok)
{
    for (int i = 0; i < RPC_METHOD__COUNT; i++)
        for (int s = 0; s < ROSTER_STATUS__COUNT; s++) {
            uint64_t v = atomic_load_explicit(&m.rpc_status[i][s], memory_order_relaxed);
            if (v == 0 || (!with_ok && s == ROSTER_STATUS_OK))
                continue;
            put(b, "%s{method=\"%s\",status=\"%s\"} %llu\n", name, method_label(i),
                roster_status_name(s), (unsigned long long)v);
        }
}

/* One counter family with a sample per lookup kind. */
static void kind_render(gql_buf *b, const char *name, const char *help, atomic_uint_fast64_t *v)
{
    put(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (int k = 0; k < GW_LOOKUP__COUNT; k++)
        put(b, "%s{kind=\"%s\"} %llu\n", name, gw_lookup_kind_name((gw_lookup_kind)k),
            (unsigned long long)atomic_load_explicit(&v[k], memory_order_relaxed));
}

void gw_metrics_render(gql_buf *b, int ready, uint64_t doc_cache_hits, uint64_t doc_cache_misses)
{
    put(b, "# HELP roster_gateway_requests_total GraphQL requests by operation type and "
           "outcome.\n# TYPE roster_gateway_requests_total counter\n");
    for (int o = 0; o < GW_OP__COUNT; o++)
        for (int r = 0; r < GW_OUT__COUNT; r++)
            put(b, "roster_gateway_requests_total{operation=\"%s\",outcome=\"%s\"} %llu\n",
                op_names[o], outcome_names[r],
                (unsigned long long)atomic_load_explicit(&m.requests[o][r], memory_order_relaxed));
    put(b, "# HELP roster_gateway_request_duration_seconds Time from a GraphQL request's "
           "arrival to its response.\n# TYPE roster_gateway_request_duration_seconds "
           "histogram\n");
    hist_render(b, "roster_gateway_request_duration_seconds", "", &m.latency);
    put(b,
        "# HELP roster_gateway_requests_in_flight GraphQL requests being served.\n"
        "# TYPE roster_gateway_requests_in_flight gauge\nroster_gateway_requests_in_flight "
        "%lld\n",
        (long long)gw_metrics_inflight());
    put(b, "# HELP roster_gateway_http_responses_total HTTP responses by status class.\n"
           "# TYPE roster_gateway_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        put(b, "roster_gateway_http_responses_total{class=\"%dxx\"} %llu\n", c,
            (unsigned long long)atomic_load_explicit(&m.http[c], memory_order_relaxed));
    put(b, "# HELP roster_gateway_upstream_rpc_duration_seconds Upstream RPC round trips by "
           "method.\n# TYPE roster_gateway_upstream_rpc_duration_seconds histogram\n");
    for (int i = 0; i < RPC_METHOD__COUNT; i++) {
        if (atomic_load_explicit(&m.rpc_latency[i].count, memory_order_relaxed) == 0)
            continue;
        char labels[64];
        snprintf(labels, sizeof labels, "method=\"%s\"", method_label(i));
        hist_render(b, "roster_gateway_upstream_rpc_duration_seconds", labels, &m.rpc_latency[i]);
    }
    /* Each family's samples are one group after its HELP and TYPE lines,
     * as the text format requires: the calls, then the errors among them. */
    put(b, "# HELP roster_gateway_upstream_rpc_total Upstream RPCs by method and status.\n"
           "# TYPE roster_gateway_upstream_rpc_total counter\n");
    rpc_status_render(b, "roster_gateway_upstream_rpc_total", true);
    put(b, "# HELP roster_gateway_upstream_rpc_errors_total Upstream RPCs that did not "
           "return OK, by method and status.\n# TYPE roster_gateway_upstream_rpc_errors_total "
           "counter\n");
    rpc_status_render(b, "roster_gateway_upstream_rpc_errors_total", false);
    kind_render(b, "roster_gateway_upstream_batches_total",
                "Batch RPCs sent by the cross-request batcher, by lookup kind.", m.batches);
    kind_render(b, "roster_gateway_upstream_batch_lookups_total",
                "Lookups sent in the cross-request batcher's RPCs, by kind.", m.batch_lookups);
    kind_render(b, "roster_gateway_upstream_batched_lookups_total",
                "Lookups that shared their batch RPC with other lookups, by kind.",
                m.batched_lookups);
    kind_render(b, "roster_gateway_upstream_batch_resends_total",
                "Lookups sent again alone after their batch (a failed shared batch, or a "
                "record not found), by kind.",
                m.batch_resends);
    put(b,
        "# HELP roster_gateway_upstream_ready 1 when the user service answered the last "
        "health check.\n# TYPE roster_gateway_upstream_ready gauge\n"
        "roster_gateway_upstream_ready %d\n",
        ready ? 1 : 0);
    put(b, "# HELP roster_gateway_auth_total API key checks by result.\n"
           "# TYPE roster_gateway_auth_total counter\n");
    for (int i = 0; i < GW_AUTH__COUNT; i++)
        put(b, "roster_gateway_auth_total{result=\"%s\"} %llu\n", auth_names[i],
            (unsigned long long)atomic_load_explicit(&m.auth[i], memory_order_relaxed));
    put(b,
        "# HELP roster_gateway_document_cache_total Parsed-document cache lookups.\n"
        "# TYPE roster_gateway_document_cache_total counter\n"
        "roster_gateway_document_cache_total{result=\"hit\"} %llu\n"
        "roster_gateway_document_cache_total{result=\"miss\"} %llu\n",
        (unsigned long long)doc_cache_hits, (unsigned long long)doc_cache_misses);
    put(b,
        "# HELP roster_gateway_loop_wakeups_total Event loop iterations woken by work handed "
        "back from other threads (RPC replies).\n"
        "# TYPE roster_gateway_loop_wakeups_total counter\n"
        "roster_gateway_loop_wakeups_total %llu\n"
        "# HELP roster_gateway_loop_handbacks_total Pieces of work handed back to the event "
        "loops (RPC replies); more than one per wake-up means they were merged.\n"
        "# TYPE roster_gateway_loop_handbacks_total counter\n"
        "roster_gateway_loop_handbacks_total %llu\n",
        (unsigned long long)gw_loop_inbox_wakeups(), (unsigned long long)gw_loop_inbox_items());
}
