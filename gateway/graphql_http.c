#include "graphql_http.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "graphiql.h"
#include "log.h"
#include "metrics.h"
#include "request_params.h"
#include "status_map.h"

#define CT_GRAPHQL "application/graphql-response+json; charset=utf-8"
#define CT_JSON    "application/json; charset=utf-8"

struct gw_graphql {
    gw_graphql_params p;
    gql_limits limits;
    atomic_int_fast64_t inflight;
};

/* One GraphQL request between admission and its answer. */
typedef struct gw_exec {
    gw_graphql *g;
    gw_req *req;
    int graphql_media; /* answer in application/graphql-response+json */
    gw_op_label op;
    gw_exec_ctx ctx;
    gw_key key; /* the caller's key; wiped when the request ends */
} gw_exec;

int gw_graphql_new(gw_graphql **out, const gw_graphql_params *p)
{
    gw_graphql *g = calloc(1, sizeof *g);
    if (g == NULL)
        return ROSTER_E_NOMEM;
    g->p = *p;
    g->limits = p->limits ? *p->limits : gql_limits_default();
    g->p.limits = &g->limits;
    *out = g;
    return ROSTER_E_OK;
}

void gw_graphql_free(gw_graphql *g)
{
    free(g);
}

int64_t gw_graphql_inflight(const gw_graphql *g)
{
    return (int64_t)atomic_load(&((gw_graphql *)g)->inflight);
}

/* ------------------------------------------------------------ answers */

static void finish(gw_exec *x, uint16_t status, const char *body, size_t len, gw_outcome outcome,
                   const char *const *extra, size_t n_extra)
{
    gw_graphql *g = x->g;
    int64_t ns = roster_mono_ns() - gw_req_start_ns(x->req);
    gw_req_respond(x->req, status, x->graphql_media ? CT_GRAPHQL : CT_JSON, body, len, extra,
                   n_extra);
    gw_metrics_request(x->op, outcome, ns);
    gw_metrics_inflight_add(-1);
    atomic_fetch_sub(&g->inflight, 1);
    if (status >= 500)
        roster_log(ROSTER_LOG_WARN, "request", "status=%u op=%s outcome=%s us=%lld", status,
                   gw_op_label_name(x->op), gw_outcome_name(outcome), (long long)(ns / 1000));
    else if (roster_log_enabled(ROSTER_LOG_DEBUG))
        roster_log(ROSTER_LOG_DEBUG, "request", "status=%u op=%s outcome=%s us=%lld", status,
                   gw_op_label_name(x->op), gw_outcome_name(outcome), (long long)(ns / 1000));
    gw_key_wipe(&x->key);
    free(x);
}

/* Answers with one request error {"errors":[{message, extensions}]}. */
static void fail_request(gw_exec *x, uint16_t status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_request(gw_exec *x, uint16_t status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t mlen = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    gql_buf b;
    gql_jw w;
    gql_buf_init(&b);
    gql_jw_init(&w, &b, 0);
    gql_jw_object_begin(&w);
    gql_jw_keyz(&w, "errors");
    gql_jw_array_begin(&w);
    gql_jw_object_begin(&w);
    gql_jw_keyz(&w, "message");
    gql_jw_string(&w, msg, mlen);
    gql_jw_keyz(&w, "extensions");
    gql_jw_object_begin(&w);
    gql_jw_keyz(&w, "code");
    gql_jw_stringz(&w, code);
    gw_error_ext(&w, code, msg, mlen, NULL);
    gql_jw_object_end(&w);
    gql_jw_object_end(&w);
    gql_jw_array_end(&w);
    gql_jw_object_end(&w);
    const char *hdr[4];
    size_t nh = 0;
    if (status == 405) {
        hdr[0] = "Allow";
        hdr[1] = x->op == GW_OP_MUTATION ? "POST" : "GET, POST";
        nh = 1;
    } else if (status == 503) {
        hdr[0] = "Retry-After";
        hdr[1] = "1";
        nh = 1;
    } else if (status == 401) {
        hdr[0] = "WWW-Authenticate";
        hdr[1] = "Bearer realm=\"roster\"";
        nh = 1;
    }
    gw_outcome outcome = status == 503 ? GW_OUT_REJECTED : GW_OUT_REQUEST_ERROR;
    if (gql_buf_status(&b) != ROSTER_E_OK)
        finish(x, 500, "", 0, outcome, NULL, 0);
    else
        finish(x, status, b.data, b.len, outcome, hdr, nh);
    gql_buf_free(&b);
}

/* Answers with the engine's error list (parse, validation, operation). */
static void fail_errors(gw_exec *x, const gql_errors *errs)
{
    gql_buf b;
    gql_jw w;
    gql_buf_init(&b);
    gql_jw_init(&w, &b, 0);
    gql_errors_write_response(&w, errs, gw_error_ext, NULL);
    uint16_t status = x->graphql_media ? 400 : 200;
    if (gql_buf_status(&b) != ROSTER_E_OK)
        finish(x, 500, "", 0, GW_OUT_REQUEST_ERROR, NULL, 0);
    else
        finish(x, status, b.data, b.len, GW_OUT_REQUEST_ERROR, NULL, 0);
    gql_buf_free(&b);
}

static void on_complete(gql_response *resp, void *ud)
{
    gw_exec *x = ud;
    if (resp->nomem || resp->body == NULL) {
        free(resp->body);
        fail_request(x, 500, "INTERNAL_SERVER_ERROR", "out of memory while answering");
        return;
    }
    uint16_t status = 200;
    gw_outcome outcome = resp->n_errors ? GW_OUT_FIELD_ERRORS : GW_OUT_OK;
    if (resp->request_error) {
        status = x->graphql_media ? 400 : 200;
        outcome = GW_OUT_REQUEST_ERROR;
    }
    finish(x, status, resp->body, resp->len, outcome, NULL, 0);
    free(resp->body);
}

/* ------------------------------------------------------------ the route */

/* Reads, prepares and executes the request once its key is verified. */
static void run(gw_exec *x)
{
    gw_graphql *g = x->g;
    gw_req *r = x->req;
    const char *method = gw_req_method(r);
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!is_get && strcmp(method, "POST") != 0) {
        fail_request(x, 405, "BAD_REQUEST", "method %.16s is not allowed: use GET or POST", method);
        return;
    }
    gw_params p = {0};
    roster_err_detail d = {{0}};
    const char *body = NULL;
    size_t body_len = 0;
    gw_req_body(&body, &body_len, r);
    int st = is_get ? gw_params_from_get(&p, gw_req_uri(r), &d)
                    : gw_params_from_post(&p, gw_req_header(r, "Content-Type"), body, body_len, &d);
    if (st != 0) {
        fail_request(x, (uint16_t)st, st == 503 ? "UNAVAILABLE" : "BAD_REQUEST", "%s", d.message);
        gw_params_free(&p);
        return;
    }

    gql_errors errs;
    gql_errors_init(&errs);
    gql_document *doc = NULL;
    int rc = g->p.cache ? gql_cache_get(&doc, &errs, g->p.cache, p.query, p.query_len)
                        : gql_prepare(&doc, &errs, g->p.schema, p.query, p.query_len, g->p.limits);
    if (rc == ROSTER_E_NOMEM) {
        fail_request(x, 503, "UNAVAILABLE", "out of memory while parsing the document");
        goto done;
    }
    if (rc != ROSTER_E_OK) {
        fail_errors(x, &errs);
        goto done;
    }
    gql_op_type type;
    if (gql_operation_type(&type, &errs, doc, p.op_name, p.op_name_len) != ROSTER_E_OK) {
        fail_errors(x, &errs);
        goto done;
    }
    x->op = type == GQL_OP_MUTATION ? GW_OP_MUTATION : GW_OP_QUERY;
    if (is_get && type != GQL_OP_QUERY) {
        fail_request(x, 405, "BAD_REQUEST", "mutations cannot be sent with GET: use POST");
        goto done;
    }
    gql_exec_params ep = {
        .schema = g->p.schema,
        .doc = doc,
        .operation_name = p.op_name,
        .operation_name_len = p.op_name_len,
        .variables = p.variables,
        .resolvers = gw_resolvers_table(g->p.resolvers),
        .context = &x->ctx,
        .complete = on_complete,
        .complete_ud = x,
        .error_ext = gw_error_ext,
    };
    rc = gql_execute(&ep);
    if (rc != ROSTER_E_OK)
        fail_request(x, rc == ROSTER_E_NOMEM ? 503 : 500, "INTERNAL_SERVER_ERROR",
                     "the operation could not be started");
done:
    gql_document_free(doc);
    gql_errors_free(&errs);
    gw_params_free(&p);
}

/* gw_auth_cb: the key's verdict. */
static void authed(int err, bool admin, const char *message, void *ud)
{
    (void)admin;
    gw_exec *x = ud;
    roster_err_detail d = {{0}};
    switch (err) {
    case ROSTER_E_OK:
        if (gw_key_check_basic(&x->key, gw_req_header(x->req, "roq-platform-server-authorization"),
                               &d) != ROSTER_E_OK) {
            gw_auth_log_failure(d.field, &x->key, gw_req_uri(x->req), gw_req_peer(x->req), NULL);
            fail_request(x, 401, "UNAUTHENTICATED", "%s", d.message);
            return;
        }
        run(x);
        return;
    case ROSTER_E_UNAUTHENTICATED:
        gw_auth_log_failure("rejected", &x->key, gw_req_uri(x->req), gw_req_peer(x->req), message);
        fail_request(x, 401, "UNAUTHENTICATED", "the API key is not valid");
        return;
    case ROSTER_E_UNAVAILABLE:
        fail_request(x, 503, "UNAVAILABLE",
                     "the user service is unavailable, so the API key cannot be verified");
        return;
    case ROSTER_E_DEADLINE_EXCEEDED:
        fail_request(x, 504, "DEADLINE_EXCEEDED",
                     "the user service did not verify the API key within the deadline");
        return;
    default:
        fail_request(x, 500, "INTERNAL_SERVER_ERROR", "internal error");
    }
}

void gw_graphql_route(gw_req *r, void *ud)
{
    gw_graphql *g = ud;
    if (gw_graphiql_page_wanted(gw_req_method(r), gw_req_uri(r), gw_req_header(r, "Accept"))) {
        gw_static_answer page;
        gw_graphiql_page(&page);
        gw_static_answer_send(r, &page);
        return;
    }
    gw_exec *x = calloc(1, sizeof *x);
    if (x == NULL) {
        gw_req_respond(r, 503, CT_JSON, "{\"errors\":[{\"message\":\"out of memory\"}]}", 40, NULL,
                       0);
        return;
    }
    x->g = g;
    x->req = r;
    x->op = GW_OP_UNKNOWN;
    gw_metrics_inflight_add(1);
    int64_t now = atomic_fetch_add(&g->inflight, 1);

    int neg = gw_negotiate(gw_req_header(r, "Accept"));
    x->graphql_media = neg == 1;
    if (neg < 0) {
        fail_request(x, 406, "BAD_REQUEST",
                     "Accept allows neither application/graphql-response+json nor "
                     "application/json");
        return;
    }
    if (now >= (int64_t)g->p.max_inflight) {
        fail_request(x, 503, "UNAVAILABLE",
                     "the gateway is at its limit of %u concurrent "
                     "requests; retry shortly",
                     g->p.max_inflight);
        return;
    }
    roster_err_detail d = {{0}};
    if (gw_key_from_header(&x->key, gw_key_header(r), &d) != ROSTER_E_OK) {
        gw_metrics_auth(GW_AUTH_REJECTED);
        gw_auth_log_failure(d.field, NULL, gw_req_uri(r), gw_req_peer(r), NULL);
        fail_request(x, 401, "UNAUTHENTICATED", "%s", d.message);
        return;
    }
    x->ctx.resolvers = g->p.resolvers;
    x->ctx.deadline_ns = gw_req_start_ns(r) + (int64_t)g->p.timeout_ms * 1000000;
    x->ctx.credential = x->key.text;
    gw_auth_check(g->p.auth, &x->key, x->ctx.deadline_ns, authed, x);
}
