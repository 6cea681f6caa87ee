#include "graphql_http.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "metrics.h"
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

/* ------------------------------------------------------------ negotiation */

/* Quality the Accept header gives `type` ("application/json"): the q of the
 * most specific matching range, 0 when none matches. *exact is set when a
 * range names the type itself. */
static double accept_quality(const char *accept, const char *type, int *exact)
{
    double best_q = 0;
    int best_spec = -1;
    *exact = 0;
    const char *slash = strchr(type, '/');
    size_t major_len = (size_t)(slash - type);
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t rlen = (size_t)(p - start);
        double q = 1.0;
        while (*p && *p != ',') {
            if (*p == ';') {
                p++;
                while (*p == ' ' || *p == '\t')
                    p++;
                if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                    q = strtod(p + 2, NULL);
                    if (q < 0 || q > 1)
                        q = 0;
                }
                continue;
            }
            p++;
        }
        int spec = -1;
        if (rlen == strlen(type) && strncasecmp(start, type, rlen) == 0)
            spec = 2;
        else if (rlen == major_len + 2 && strncasecmp(start, type, major_len + 1) == 0 &&
                 start[major_len + 1] == '*')
            spec = 1;
        else if (rlen == 3 && strncmp(start, "*/*", 3) == 0)
            spec = 0;
        if (spec > best_spec) {
            best_spec = spec;
            best_q = q;
        }
    }
    *exact = best_spec == 2;
    return best_spec < 0 ? 0 : best_q;
}

/* 1: graphql-response+json, 0: application/json, -1: neither acceptable. */
static int negotiate(const char *accept)
{
    if (accept == NULL || *accept == '\0')
        return 0;
    int gr_exact, js_exact;
    double gr = accept_quality(accept, "application/graphql-response+json", &gr_exact);
    double js = accept_quality(accept, "application/json", &js_exact);
    if (gr <= 0 && js <= 0)
        return -1;
    if (gr > js)
        return 1;
    if (js > gr)
        return 0;
    return gr_exact && !js_exact ? 1 : 0;
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
        roster_log(ROSTER_LOG_WARN, "request", "status=%u op=%d us=%lld", status, (int)x->op,
                   (long long)(ns / 1000));
    else if (roster_log_enabled(ROSTER_LOG_DEBUG))
        roster_log(ROSTER_LOG_DEBUG, "request", "status=%u op=%d us=%lld", status, (int)x->op,
                   (long long)(ns / 1000));
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

/* ------------------------------------------------------------ request parsing */

typedef struct gw_params {
    json_t *root;       /* POST body (owned) */
    json_t *variables;  /* object or NULL (borrowed from root, or owned for GET) */
    json_t *owned_vars; /* GET variables (owned) */
    const char *query;
    size_t query_len;
    const char *op_name; /* NULL: none */
    size_t op_name_len;
    char *get_buf; /* decoded GET parameters (owned) */
} gw_params;

static void params_free(gw_params *p)
{
    json_decref(p->root);
    json_decref(p->owned_vars);
    free(p->get_buf);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* URL-decodes [s, s+n) into dst (at least n+1 bytes); returns the length or
 * -1 on a malformed escape. */
static long url_decode(char *dst, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            dst[o++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval((unsigned char)s[i + 1]);
            int l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            dst[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            dst[o++] = s[i];
        }
    }
    dst[o] = '\0';
    return (long)o;
}

/* Checks that s is valid UTF-8 without NUL bytes. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned min;
        if ((c & 0xe0) == 0xc0) {
            k = 1;
            c &= 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2;
            c &= 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3;
            c &= 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + k >= n)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (s[i + j] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Reads GET parameters. Returns 0 or an HTTP status with msg filled. */
static int parse_get(gw_params *p, const char *uri, char *msg, size_t cap)
{
    const char *qs = strchr(uri, '?');
    if (qs == NULL) {
        snprintf(msg, cap, "a GET request needs a query parameter: /graphql?query=...");
        return 400;
    }
    qs++;
    size_t qlen = strlen(qs);
    p->get_buf = malloc(qlen + 1);
    if (p->get_buf == NULL) {
        snprintf(msg, cap, "out of memory");
        return 503;
    }
    char *out = p->get_buf;
    const char *vars = NULL, *ext = NULL;
    size_t vars_len = 0, ext_len = 0;
    int have_query = 0, have_op = 0;
    const char *s = qs;
    while (*s) {
        const char *amp = strchr(s, '&');
        size_t plen = amp ? (size_t)(amp - s) : strlen(s);
        const char *eq = memchr(s, '=', plen);
        size_t klen = eq ? (size_t)(eq - s) : plen;
        const char *v = eq ? eq + 1 : s + plen;
        size_t vlen = eq ? plen - klen - 1 : 0;
        char key[32];
        long kd = -1;
        if (klen < sizeof key)
            kd = url_decode(key, s, klen);
        long vd = url_decode(out, v, vlen);
        if (vd < 0 || (klen < sizeof key && kd < 0)) {
            snprintf(msg, cap, "malformed percent-encoding in the query string");
            return 400;
        }
        if (!utf8_valid((const unsigned char *)out, (size_t)vd)) {
            snprintf(msg, cap, "query string parameters must be UTF-8 text");
            return 400;
        }
        int dup = 0;
        if (kd >= 0 && strcmp(key, "query") == 0) {
            dup = have_query++;
            p->query = out;
            p->query_len = (size_t)vd;
        } else if (kd >= 0 && strcmp(key, "operationName") == 0) {
            dup = have_op++;
            p->op_name = vd ? out : NULL;
            p->op_name_len = (size_t)vd;
        } else if (kd >= 0 && strcmp(key, "variables") == 0) {
            dup = vars != NULL;
            vars = out;
            vars_len = (size_t)vd;
        } else if (kd >= 0 && strcmp(key, "extensions") == 0) {
            dup = ext != NULL;
            ext = out;
            ext_len = (size_t)vd;
        }
        if (dup) {
            snprintf(msg, cap, "the %s parameter is given more than once", key);
            return 400;
        }
        out += vd + 1;
        s += plen;
        if (*s == '&')
            s++;
    }
    if (!have_query) {
        snprintf(msg, cap, "a GET request needs a query parameter: /graphql?query=...");
        return 400;
    }
    json_error_t jerr;
    if (vars && vars_len) {
        p->owned_vars = json_loadb(vars, vars_len, 0, &jerr);
        if (p->owned_vars == NULL) {
            snprintf(msg, cap, "the variables parameter is not valid JSON: %s", jerr.text);
            return 400;
        }
        if (json_is_null(p->owned_vars)) {
            json_decref(p->owned_vars);
            p->owned_vars = NULL;
        } else if (!json_is_object(p->owned_vars)) {
            snprintf(msg, cap, "the variables parameter must be a JSON object");
            return 400;
        }
        p->variables = p->owned_vars;
    }
    if (ext && ext_len) {
        json_t *e = json_loadb(ext, ext_len, 0, &jerr);
        int ok = e && (json_is_object(e) || json_is_null(e));
        json_decref(e);
        if (!ok) {
            snprintf(msg, cap, "the extensions parameter must be a JSON object");
            return 400;
        }
    }
    return 0;
}

/* Media type of a Content-Type header is application/json with a UTF-8
 * charset or none. */
static int content_type_ok(const char *ct)
{
    if (ct == NULL)
        return 0;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (!(n == 16 && strncasecmp(ct, "application/json", 16) == 0))
        return 0;
    const char *cs = strcasestr(ct, "charset=");
    if (cs == NULL)
        return 1;
    cs += 8;
    if (*cs == '"')
        cs++;
    return strncasecmp(cs, "utf-8", 5) == 0 || strncasecmp(cs, "utf8", 4) == 0;
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Reads a POST body. Returns 0 or an HTTP status with msg filled. */
static int parse_post(gw_params *p, gw_req *r, char *msg, size_t cap)
{
    const char *ct = gw_req_header(r, "Content-Type");
    if (!content_type_ok(ct)) {
        snprintf(msg, cap, "Content-Type must be application/json (UTF-8), not \"%.100s\"",
                 ct ? ct : "(none)");
        return 415;
    }
    size_t len = 0;
    const char *body = gw_req_body(r, &len);
    if (len == 0) {
        snprintf(msg, cap, "the request body is empty: send {\"query\": \"...\"}");
        return 400;
    }
    json_error_t jerr;
    p->root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (p->root == NULL) {
        snprintf(msg, cap, "the request body is not valid JSON: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
        return 400;
    }
    if (!json_is_object(p->root)) {
        snprintf(msg, cap, "the request body must be a JSON object, not %s", json_kind(p->root));
        return 400;
    }
    json_t *q = json_object_get(p->root, "query");
    if (q == NULL || json_is_null(q)) {
        snprintf(msg, cap, "the request body has no \"query\" string");
        return 400;
    }
    if (!json_is_string(q)) {
        snprintf(msg, cap, "\"query\" must be a string, not %s", json_kind(q));
        return 400;
    }
    p->query = json_string_value(q);
    p->query_len = json_string_length(q);
    json_t *op = json_object_get(p->root, "operationName");
    if (op && !json_is_null(op)) {
        if (!json_is_string(op)) {
            snprintf(msg, cap, "\"operationName\" must be a string or null, not %s", json_kind(op));
            return 400;
        }
        if (json_string_length(op) > 0) {
            p->op_name = json_string_value(op);
            p->op_name_len = json_string_length(op);
        }
    }
    json_t *v = json_object_get(p->root, "variables");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) {
            snprintf(msg, cap, "\"variables\" must be an object or null, not %s", json_kind(v));
            return 400;
        }
        p->variables = v;
    }
    json_t *e = json_object_get(p->root, "extensions");
    if (e && !json_is_null(e) && !json_is_object(e)) {
        snprintf(msg, cap, "\"extensions\" must be an object or null, not %s", json_kind(e));
        return 400;
    }
    return 0;
}

/* ------------------------------------------------------------ the route */

void gw_graphql_route(gw_req *r, void *ud)
{
    gw_graphql *g = ud;
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

    int neg = negotiate(gw_req_header(r, "Accept"));
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
    const char *method = gw_req_method(r);
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!is_get && strcmp(method, "POST") != 0) {
        fail_request(x, 405, "BAD_REQUEST", "method %.16s is not allowed: use GET or POST", method);
        return;
    }
    gw_params p = {0};
    char msg[400];
    int st =
        is_get ? parse_get(&p, gw_req_uri(r), msg, sizeof msg) : parse_post(&p, r, msg, sizeof msg);
    if (st != 0) {
        fail_request(x, (uint16_t)st, st == 503 ? "UNAVAILABLE" : "BAD_REQUEST", "%s", msg);
        params_free(&p);
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
    x->ctx.resolvers = g->p.resolvers;
    x->ctx.deadline_ns = gw_req_start_ns(r) + (int64_t)g->p.timeout_ms * 1000000;
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
    params_free(&p);
}
