#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cors.h"
#include "error.h"
#include "host_allow.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"

#define MAX_ROUTES        16
#define KEEP_BODY_CAP     (64u * 1024u) /* larger body buffers are released after use */
#define KEEP_URI_CAP      1024u         /* larger target copies too */
#define DEFAULT_MAX_CONNS 10000u
#define FD_RESERVE        64u /* descriptors kept for nng, logs and files */
#define FREE_WAIT_NS      (5LL * 1000 * 1000 * 1000)

#define CT_JSON "application/json; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"

/* Where a request is in the access handler's calls. */
enum stage {
    ST_HEADERS, /* the next call is the first: headers read, no body yet */
    ST_BODY,    /* body pieces arrive; a call without data ends the body */
    ST_ROUTED,  /* the route has it; the next call queues the answer */
};

/* Who is done with the answer, between the route's call and the queue. */
enum phase {
    PH_IDLE,      /* no route has the request */
    PH_ROUTE,     /* the route has it and the worker is still in its call */
    PH_SUSPENDED, /* the connection is suspended until gw_req_respond */
    PH_ANSWERED,  /* r->res holds the answer */
};

struct gw_req {
    gw_req *next_free;
    gw_http *http;
    gw_loop *loop;            /* the loop that owns the connection */
    gw_loop_item resume_item; /* an answer from another thread, handed to it */
    struct MHD_Connection *conn;
    const gw_route *route;
    const char *method; /* libmicrohttpd's, valid until the request ends */
    char *uri;          /* the request target as sent */
    size_t uri_cap;
    char *body;
    size_t body_len;
    size_t body_cap;
    size_t dropped;              /* bytes of a body past max_body, read and dropped */
    unsigned long long declared; /* Content-Length when it is over max_body, else 0 */
    int too_big;
    int64_t start_ns;
    enum stage stage;
    atomic_int phase;
    struct MHD_Response *res; /* the answer, until queued */
    unsigned status;
    gw_cors_answer cors; /* headers added to the answer (borrowed from the request) */
    char peer[64];
};

struct gw_http {
    /* One libmicrohttpd daemon per event loop (external epoll mode), all on
     * one listening socket: each loop owns the connections it accepts. */
    struct MHD_Daemon **daemons;
    unsigned n_daemons;
    int listen_fd;
    gw_hosts hosts;
    size_t max_body;
    atomic_int port; /* from the URL before the start; read back when it was 0 */
    unsigned max_conns;
    unsigned header_timeout_s;
    unsigned idle_timeout_s;
    atomic_int draining;
    atomic_uint conns;       /* open connections */
    atomic_long outstanding; /* requests handed to routes and not yet answered */
    gw_route routes[MAX_ROUTES];
    size_t n_routes;
    pthread_mutex_t pool_mu; /* guards all, n_all, cap_all */
    gw_req **all;            /* every request object ever made, for the final free */
    size_t n_all;
    size_t cap_all;
};

/* socket_context of a connection accepted past the cap. */
static char over_cap;

/* ------------------------------------------------------------ request pool */

/* A request is taken (with its request line) and given back (when
 * libmicrohttpd is done with it) on the worker thread that owns its
 * connection, so each worker keeps its own free list and the request path
 * takes no lock; h->pool_mu guards only the registry of objects, touched
 * when a new one is made. A worker thread serves one server all its life;
 * tl_owner says which. */
static __thread gw_http *tl_owner;
static __thread gw_req *tl_free;

static gw_req *pool_get(gw_http *h)
{
    if (tl_owner == h && tl_free != NULL) {
        gw_req *r = tl_free;
        tl_free = r->next_free;
        return r;
    }
    pthread_mutex_lock(&h->pool_mu);
    if (h->n_all == h->cap_all) {
        size_t nc = h->cap_all ? h->cap_all * 2 : 64;
        gw_req **na = realloc(h->all, nc * sizeof *na);
        if (na == NULL) {
            pthread_mutex_unlock(&h->pool_mu);
            return NULL;
        }
        h->all = na;
        h->cap_all = nc;
    }
    gw_req *r = calloc(1, sizeof *r);
    if (r == NULL) {
        pthread_mutex_unlock(&h->pool_mu);
        return NULL;
    }
    r->http = h;
    h->all[h->n_all++] = r;
    pthread_mutex_unlock(&h->pool_mu);
    return r;
}

static void pool_put(gw_req *r)
{
    if (r->body_cap > KEEP_BODY_CAP) {
        free(r->body);
        r->body = NULL;
        r->body_cap = 0;
    }
    if (r->uri_cap > KEEP_URI_CAP) {
        free(r->uri);
        r->uri = NULL;
        r->uri_cap = 0;
    }
    if (r->res != NULL)
        MHD_destroy_response(r->res);
    r->res = NULL;
    r->body_len = 0;
    r->dropped = 0;
    r->declared = 0;
    r->too_big = 0;
    r->cors.n_headers = 0;
    r->conn = NULL;
    r->route = NULL;
    r->method = NULL;
    r->peer[0] = '\0';
    atomic_store(&r->phase, PH_IDLE);
    if (tl_owner != r->http) {
        tl_owner = r->http;
        tl_free = NULL;
    }
    r->next_free = tl_free;
    tl_free = r;
}

/* ------------------------------------------------------------ accessors */

const char *gw_req_method(const gw_req *r)
{
    return r->method;
}

const char *gw_req_uri(const gw_req *r)
{
    return r->uri;
}

const char *gw_req_header(const gw_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void gw_req_body(const char **body, size_t *len, const gw_req *r)
{
    *body = r->body_len ? r->body : NULL;
    *len = r->body_len;
}

int64_t gw_req_start_ns(const gw_req *r)
{
    return r->start_ns;
}

const char *gw_req_peer(gw_req *r)
{
    if (r->peer[0] != '\0')
        return r->peer;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
    char ip[INET6_ADDRSTRLEN] = "";
    if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(r->peer, sizeof r->peer, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(r->peer, sizeof r->peer, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else {
        snprintf(r->peer, sizeof r->peer, "unknown");
    }
    return r->peer;
}

/* ------------------------------------------------------------ answers */

/* Builds the answer; any thread (no connection is touched). NULL when out
 * of memory. */
static struct MHD_Response *build(const gw_req *r, const char *content_type, const char *body,
                                  size_t len, const char *const *extra, size_t n_extra)
{
    struct MHD_Response *res = MHD_create_response_from_buffer(
        len, len ? (void *)body : (void *)"", len ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (res == NULL)
        return NULL;
    int ok = 1;
    if (content_type != NULL)
        ok &= MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) == MHD_YES;
    for (size_t i = 0; i < n_extra; i++)
        ok &= MHD_add_response_header(res, extra[2 * i], extra[2 * i + 1]) == MHD_YES;
    /* Added, not replaced: Vary may already name Accept. */
    for (size_t i = 0; i < r->cors.n_headers; i++)
        ok &= MHD_add_response_header(res, r->cors.headers[2 * i], r->cors.headers[2 * i + 1]) ==
              MHD_YES;
    if (atomic_load(&r->http->draining))
        MHD_add_response_header(res, MHD_HTTP_HEADER_CONNECTION, "close");
    if (!ok) {
        MHD_destroy_response(res);
        return NULL;
    }
    return res;
}

/* Queues r's answer on its connection; on the connection's worker only. */
static enum MHD_Result queue(gw_req *r)
{
    struct MHD_Response *res = r->res;
    r->res = NULL;
    if (res == NULL)
        return MHD_NO; /* out of memory while answering: close */
    enum MHD_Result ok = MHD_queue_response(r->conn, r->status, res);
    MHD_destroy_response(res);
    return ok;
}

static void resume_on_loop(gw_loop_item *it)
{
    gw_req *r = (gw_req *)(void *)((char *)it - offsetof(gw_req, resume_item));
    MHD_resume_connection(r->conn);
}

void gw_req_respond(gw_req *r, uint16_t status, const char *content_type, const char *body,
                    size_t len, const char *const *extra, size_t n_extra)
{
    gw_http *h = r->http;
    r->res = build(r, content_type, body, len, extra, n_extra);
    r->status = status;
    gw_metrics_http_status(status);
    int expect = PH_ROUTE;
    if (atomic_compare_exchange_strong(&r->phase, &expect, PH_ANSWERED)) {
        /* The worker is still in the route's call and queues it. */
        atomic_fetch_sub(&h->outstanding, 1);
        return;
    }
    /* PH_SUSPENDED: wake the connection; its loop queues the answer. The
     * resume is made on the owning loop: libmicrohttpd's external mode
     * does not wake the loop for a resume made on another thread (r stays
     * valid until the answer is sent, after the resume). */
    atomic_store(&r->phase, PH_ANSWERED);
    if (r->loop != NULL && gw_loop_current() != r->loop) {
        r->resume_item.fn = resume_on_loop;
        gw_loop_post(r->loop, &r->resume_item);
    } else {
        MHD_resume_connection(r->conn);
    }
    atomic_fetch_sub(&h->outstanding, 1); /* after the resume: gw_http_free waits for it */
}

/* Answers from the worker, in a handler call (no route involved). */
static enum MHD_Result answer_now(gw_req *r, uint16_t status, const char *content_type,
                                  const char *body, size_t len, const char *const *extra,
                                  size_t n_extra)
{
    r->res = build(r, content_type, body, len, extra, n_extra);
    r->status = status;
    gw_metrics_http_status(status);
    r->stage = ST_ROUTED;
    return queue(r);
}

/* Answers a request that has no body once libmicrohttpd has read its end:
 * an answer queued from the headers' call would close the connection. */
static enum MHD_Result answer_after_body(gw_req *r, uint16_t status, const char *content_type,
                                         const char *body, size_t len)
{
    r->res = build(r, content_type, body, len, NULL, 0);
    r->status = status;
    gw_metrics_http_status(status);
    r->stage = ST_BODY;
    return r->res != NULL ? MHD_YES : MHD_NO;
}

/* A JSON error answer with Connection: close (and Retry-After when
 * retry). */
static enum MHD_Result refuse(gw_req *r, uint16_t status, const char *msg, int retry)
{
    char body[512];
    int n = snprintf(body, sizeof body, "{\"errors\":[{\"message\":\"%s\"}]}", msg);
    const char *hdr[] = {"Connection", "close", "Retry-After", "1"};
    return answer_now(r, status, CT_JSON, body, n > 0 ? (size_t)n : 0, hdr, retry ? 2 : 1);
}

/* 413 with Connection: close, naming the declared length if there was one. */
static enum MHD_Result refuse_too_big(gw_req *r)
{
    char msg[128];
    if (r->declared > 0)
        snprintf(msg, sizeof msg, "request body of %llu bytes is larger than the %zu allowed",
                 r->declared, r->http->max_body);
    else
        snprintf(msg, sizeof msg, "request body is larger than the %zu allowed", r->http->max_body);
    return refuse(r, 413, msg, 0);
}

/* After the route's call, or when the connection is resumed: queue the
 * answer if there is one, else suspend until gw_req_respond resumes it. */
static enum MHD_Result queue_or_wait(gw_req *r)
{
    if (atomic_load(&r->phase) == PH_ANSWERED)
        return queue(r);
    MHD_suspend_connection(r->conn);
    int expect = PH_ROUTE;
    if (!atomic_compare_exchange_strong(&r->phase, &expect, PH_SUSPENDED))
        MHD_resume_connection(r->conn); /* answered in between: it did not resume */
    return MHD_YES;
}

/* ------------------------------------------------------------ handler */

static const gw_route *route_for(const gw_http *h, const char *uri)
{
    size_t len = strcspn(uri, "?#");
    for (size_t i = 0; i < h->n_routes; i++) {
        const char *p = h->routes[i].path;
        if (strlen(p) == len && memcmp(p, uri, len) == 0)
            return &h->routes[i];
    }
    for (size_t i = 0; i < h->n_routes; i++) {
        const char *p = h->routes[i].path;
        size_t pl = strlen(p);
        if (h->routes[i].tree && pl < len && memcmp(p, uri, pl) == 0 &&
            (uri[pl] == '/' || (pl > 0 && p[pl - 1] == '/')))
            return &h->routes[i];
    }
    return NULL;
}

/* Counts the headers named like the one looked for; differ is set when
 * their values are not all the same. */
typedef struct header_count {
    const char *name;
    const char *first;
    unsigned n;
    int differ;
} header_count;

static enum MHD_Result count_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    header_count *c = cls;
    if (key == NULL || strcasecmp(key, c->name) != 0)
        return MHD_YES;
    if (c->n++ == 0)
        c->first = value;
    else if (value == NULL || c->first == NULL || strcmp(value, c->first) != 0)
        c->differ = 1;
    return MHD_YES;
}

static header_count count_header(const gw_req *r, const char *name)
{
    header_count c = {.name = name};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_one, &c);
    return c;
}

static enum MHD_Result on_headers(gw_req *r)
{
    gw_http *h = r->http;
    const char *host = gw_req_header(r, MHD_HTTP_HEADER_HOST);
    if (!gw_hosts_allowed(&h->hosts, host, atomic_load(&h->port))) {
        char q[300], path[200];
        snprintf(path, sizeof path, "%.*s", (int)strcspn(r->uri, "?"), r->uri);
        roster_log(ROSTER_LOG_WARN, "host_refused", "host=%s path=%s peer=%s",
                   roster_log_quote(q, 100, host ? host : "(none)"),
                   roster_log_quote(q + 100, 200, path), gw_req_peer(r));
        const char *hdr[] = {"Connection", "close"};
        static const char msg[] = "misdirected request: this gateway does not serve that Host\n";
        return answer_now(r, 421, CT_TEXT, msg, sizeof msg - 1, hdr, 1);
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci != NULL && ci->socket_context == &over_cap)
        return refuse(r, 503, "the gateway is at its connection limit; retry shortly", 1);

    const gw_route *rt = route_for(h, r->uri);
    if (rt != NULL && rt->cors != NULL) {
        gw_cors_answer ca;
        gw_cors_decide(&ca, rt->cors, r->method, gw_req_header(r, "Origin"),
                       gw_req_header(r, "Access-Control-Request-Method"),
                       gw_req_header(r, "Access-Control-Request-Headers"));
        r->cors = ca;
        if (ca.preflight) {
            /* A preflight has no body; if one was announced, the answer is
             * sent without reading it and the connection closed. */
            const char *hdr[] = {"Connection", "close"};
            const char *cl = gw_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
            int body = (cl != NULL && strcmp(cl, "0") != 0) ||
                       gw_req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
            static const char refused[] = "cross-origin request not allowed\n";
            int granted = ca.status == 204;
            if (body)
                return answer_now(r, ca.status, granted ? NULL : CT_TEXT, granted ? NULL : refused,
                                  granted ? 0 : sizeof refused - 1, hdr, 1);
            return answer_after_body(r, ca.status, granted ? NULL : CT_TEXT,
                                     granted ? NULL : refused, granted ? 0 : sizeof refused - 1);
        }
    }
    if (atomic_load(&h->draining))
        return refuse(r, 503, "the gateway is shutting down", 1);

    /* Request smuggling (RFC 9112 6.3): a message with both framings, or
     * whose framing headers repeat (libmicrohttpd would read the first),
     * is refused before any of its body is read, and the connection
     * closed. */
    const char *te = gw_req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *cl = gw_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (te != NULL && cl != NULL)
        return refuse(r, 400, "Transfer-Encoding and Content-Length together are not allowed", 0);
    if (te != NULL && count_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING).n > 1)
        return refuse(r, 400, "Transfer-Encoding is given more than once", 0);
    if (cl != NULL && count_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH).differ)
        return refuse(r, 400, "Content-Length is given more than once with different values", 0);
    if (te != NULL && strcasecmp(te, "chunked") != 0)
        return refuse(r, 501, "only the chunked transfer coding is supported", 0);
    if (cl != NULL) {
        /* libmicrohttpd has checked that it is a number. */
        unsigned long long len = strtoull(cl, NULL, 10);
        if (len > h->max_body) {
            /* Refused from the headers (and the connection closed) when
             * the client waits for "100 Continue" or the body is larger
             * than what is read and dropped; otherwise the body is read
             * and dropped first, so a client still sending it sees the
             * answer rather than a reset. */
            const char *ex = gw_req_header(r, MHD_HTTP_HEADER_EXPECT);
            r->too_big = 1;
            r->declared = len;
            if ((ex != NULL && strcasecmp(ex, "100-continue") == 0) || len > 2 * h->max_body)
                return refuse_too_big(r);
            r->route = rt;
            r->stage = ST_BODY;
            return MHD_YES;
        }
        if (len > r->body_cap) {
            char *nb = realloc(r->body, (size_t)len);
            if (nb == NULL)
                return refuse(r, 503, "out of memory", 1);
            r->body = nb;
            r->body_cap = (size_t)len;
        }
    }
    r->route = rt;
    r->stage = ST_BODY;
    return MHD_YES; /* "100 Continue" goes out now if the client waits for it */
}

static enum MHD_Result on_body(gw_req *r, const char *data, size_t n)
{
    size_t max = r->http->max_body;
    if (r->too_big || n > max - r->body_len) {
        /* Past the limit: the rest is read and dropped, up to twice the
         * limit in all; then the connection is closed unanswered. */
        r->too_big = 1;
        r->dropped += n;
        return r->body_len + r->dropped > 2 * max ? MHD_NO : MHD_YES;
    }
    if (r->body_len + n > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 1024;
        while (cap < r->body_len + n)
            cap *= 2;
        if (cap > max)
            cap = max;
        char *nb = realloc(r->body, cap);
        if (nb == NULL)
            return MHD_NO;
        r->body = nb;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    return MHD_YES;
}

static enum MHD_Result on_complete_body(gw_req *r)
{
    gw_http *h = r->http;
    if (r->res != NULL) { /* decided from the headers (answer_after_body) */
        r->stage = ST_ROUTED;
        return queue(r);
    }
    if (r->too_big)
        return refuse_too_big(r);
    /* Counted before the draining flag is read: gw_http_drain sets the
     * flag before its caller reads the count, so a request is either
     * refused here or waited for (both sequentially consistent). */
    atomic_fetch_add(&h->outstanding, 1);
    if (atomic_load(&h->draining)) {
        atomic_fetch_sub(&h->outstanding, 1);
        return refuse(r, 503, "the gateway is shutting down", 1);
    }
    if (r->route == NULL) {
        atomic_fetch_sub(&h->outstanding, 1);
        static const char msg[] = "not found\n";
        return answer_now(r, 404, CT_TEXT, msg, sizeof msg - 1, NULL, 0);
    }
    r->stage = ST_ROUTED;
    atomic_store(&r->phase, PH_ROUTE);
    r->route->fn(r, r->route->ud);
    return queue_or_wait(r);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)conn; /* r->conn, set with the request line */
    (void)url;
    (void)version;
    gw_req *r = *con_cls;
    if (r == NULL)
        return MHD_NO; /* no request object (out of memory): close */
    switch (r->stage) {
    case ST_HEADERS:
        r->method = method;
        return on_headers(r);
    case ST_BODY:
        if (*upload_data_size != 0) {
            size_t n = *upload_data_size;
            *upload_data_size = 0;
            return on_body(r, upload_data, n);
        }
        return on_complete_body(r);
    case ST_ROUTED:
        return queue_or_wait(r);
    }
    return MHD_NO;
}

/* ------------------------------------------------------------ daemon callbacks */

/* The request line has been read: a request object for it, with a copy of
 * the target as sent (libmicrohttpd splits and decodes its own). */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *conn)
{
    gw_http *h = cls;
    gw_req *r = pool_get(h);
    if (r == NULL)
        return NULL;
    size_t len = strlen(uri);
    if (len + 1 > r->uri_cap) {
        char *nu = realloc(r->uri, len + 1);
        if (nu == NULL) {
            pool_put(r);
            return NULL;
        }
        r->uri = nu;
        r->uri_cap = len + 1;
    }
    memcpy(r->uri, uri, len + 1);
    r->conn = conn;
    r->loop = gw_loop_current();
    r->start_ns = roster_mono_ns();
    r->stage = ST_HEADERS;
    atomic_store(&r->phase, PH_IDLE);
    if (h->header_timeout_s != h->idle_timeout_s)
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, h->header_timeout_s);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    gw_http *h = cls;
    gw_req *r = *con_cls;
    *con_cls = NULL;
    if (r != NULL)
        pool_put(r);
    /* The connection waits for its next request: the idle timeout. */
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && h->header_timeout_s != h->idle_timeout_s)
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, h->idle_timeout_s);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    gw_http *h = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&h->conns, 1);
        return;
    }
    if (atomic_fetch_add(&h->conns, 1) >= h->max_conns)
        *socket_context = &over_cap;
    /* Until its first request line, a new connection is reading a request. */
    if (h->header_timeout_s != h->idle_timeout_s)
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, h->header_timeout_s);
}

static void on_library_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512], q[600];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n <= 0)
        return;
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        msg[--len] = '\0';
    roster_log(ROSTER_LOG_INFO, "http_library", "message=%s", roster_log_quote(q, sizeof q, msg));
}

/* ------------------------------------------------------------ start and stop */

/* The cap in force: at most what the descriptor limit leaves once the
 * listener's slack and FD_RESERVE are kept (the soft limit is raised to
 * the hard one first). */
static unsigned fit_conns(unsigned want, unsigned *slack)
{
    struct rlimit rl;
    *slack = want / 8 > 16 ? want / 8 : 16;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    rlim_t need = (rlim_t)want + *slack + FD_RESERVE;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return want;
    rlim_t room = rl.rlim_cur > FD_RESERVE + 32 ? rl.rlim_cur - FD_RESERVE : 32;
    unsigned cap = (unsigned)(room * 8 / 9);
    *slack = (unsigned)room - cap;
    roster_log(ROSTER_LOG_WARN, "connection_cap_lowered",
               "wanted=%u cap=%u nofile=%llu message=\"the descriptor limit (ulimit -n) is too "
               "low for the connection cap\"",
               want, cap, (unsigned long long)rl.rlim_cur);
    return cap;
}

/* The listen address of an http://host:port URL; *v6 set for IPv6. */
static int listen_addr(struct sockaddr_storage *out, int *v6, const char *listen_url,
                       roster_err_detail *detail)
{
    nng_url *u = NULL;
    int rv = nng_url_parse(&u, listen_url);
    if (rv != 0 || strcmp(u->u_scheme, "http") != 0) {
        nng_url_free(u);
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "listen",
                           "cannot parse listen URL \"%s\": %s", listen_url,
                           rv ? nng_strerror(rv) : "not http://host:port");
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    const char *host = u->u_hostname[0] ? u->u_hostname : NULL;
    int g = getaddrinfo(host, u->u_port[0] ? u->u_port : "80", &hints, &ai);
    nng_url_free(u);
    if (g != 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "listen",
                           "cannot resolve the listen URL \"%s\": %s", listen_url, gai_strerror(g));
    memset(out, 0, sizeof *out);
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    *v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    return ROSTER_E_OK;
}

/* A listening TCP socket on `sa`, non-blocking (every loop's daemon
 * accepts from it); -1 with errno set. */
static int listen_socket(const struct sockaddr_storage *sa, int v6)
{
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (const struct sockaddr *)sa, len) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The loop's turn: libmicrohttpd reads, writes, accepts, resumes and
 * times out what is ready on this loop's daemon. */
static int64_t http_turn(void *ud, unsigned index)
{
    gw_http *h = ud;
    if (index >= h->n_daemons)
        return -1;
    struct MHD_Daemon *d = h->daemons[index];
    MHD_run(d);
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(d, &ms) != MHD_YES)
        return -1;
    return ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}

static void free_objects(gw_http *h)
{
    for (size_t i = 0; i < h->n_all; i++) {
        free(h->all[i]->body);
        free(h->all[i]->uri);
        free(h->all[i]);
    }
    free(h->all);
    free(h->daemons);
    pthread_mutex_destroy(&h->pool_mu);
    free(h);
}

int gw_http_start(gw_http **out, const gw_http_params *p, const gw_route *routes, size_t n_routes,
                  gw_loops *loops, roster_err_detail *detail)
{
    int rc;
    if (n_routes > MAX_ROUTES)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "routes", "more than %d routes",
                           MAX_ROUTES);
    struct sockaddr_storage sa;
    int v6 = 0;
    if ((rc = listen_addr(&sa, &v6, p->listen_url, detail)) != ROSTER_E_OK)
        return rc;
    gw_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return roster_fail(detail, ROSTER_E_NOMEM, "", "out of memory");
    pthread_mutex_init(&h->pool_mu, NULL);
    h->listen_fd = -1;
    h->max_body = p->max_body;
    h->header_timeout_s = p->header_timeout_s ? p->header_timeout_s : 10;
    h->idle_timeout_s = p->idle_timeout_s ? p->idle_timeout_s : 60;
    {
        nng_url *u = NULL;
        if (nng_url_parse(&u, p->listen_url) == 0)
            rc = gw_hosts_init(&h->hosts, p->allowed_hosts, u->u_hostname, detail);
        nng_url_free(u);
        if (rc != ROSTER_E_OK)
            goto fail;
    }
    memcpy(h->routes, routes, n_routes * sizeof *routes);
    h->n_routes = n_routes;
    unsigned slack = 0;
    h->max_conns = fit_conns(p->max_conns ? p->max_conns : DEFAULT_MAX_CONNS, &slack);
    size_t mem = p->conn_memory ? p->conn_memory : GW_HTTP_CONN_MEMORY_DEFAULT;

    h->listen_fd = listen_socket(&sa, v6);
    if (h->listen_fd < 0) {
        rc = roster_fail(detail, ROSTER_E_IO, "listen", "cannot listen on \"%s\": %s",
                         p->listen_url, strerror(errno));
        goto fail;
    }
    {
        struct sockaddr_storage bound;
        socklen_t bl = sizeof bound;
        int port = 0;
        if (getsockname(h->listen_fd, (struct sockaddr *)&bound, &bl) == 0)
            port = ntohs(bound.ss_family == AF_INET6
                             ? ((const struct sockaddr_in6 *)(const void *)&bound)->sin6_port
                             : ((const struct sockaddr_in *)(const void *)&bound)->sin_port);
        atomic_store(&h->port, port);
    }
    h->n_daemons = gw_loops_count(loops);
    h->daemons = calloc(h->n_daemons, sizeof *h->daemons);
    if (h->daemons == NULL) {
        rc = roster_fail(detail, ROSTER_E_NOMEM, "", "out of memory");
        goto fail;
    }
    /* No polling thread: each loop runs its daemon (http_turn). */
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_library_log, NULL},
        {MHD_OPTION_LISTEN_SOCKET, h->listen_fd, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)(h->max_conns + slack), NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)mem, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)h->idle_timeout_s, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_request_line, h},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, h},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, h},
        {MHD_OPTION_END, 0, NULL},
    };
    for (unsigned i = 0; i < h->n_daemons; i++) {
        h->daemons[i] = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h, MHD_OPTION_ARRAY, opts,
                                         MHD_OPTION_END);
        const union MHD_DaemonInfo *di =
            h->daemons[i] ? MHD_get_daemon_info(h->daemons[i], MHD_DAEMON_INFO_EPOLL_FD) : NULL;
        if (di == NULL || gw_loops_watch(loops, i, di->epoll_fd) != ROSTER_E_OK) {
            rc = roster_fail(detail, ROSTER_E_IO, "listen",
                             "cannot serve \"%s\": the HTTP library did not start", p->listen_url);
            goto fail;
        }
    }
    if ((rc = gw_loops_add_turn(loops, http_turn, h)) != ROSTER_E_OK) {
        roster_fail(detail, rc, "loops", "no room for the HTTP server's turn");
        goto fail;
    }
    *out = h;
    return ROSTER_E_OK;
fail:
    for (unsigned i = 0; h->daemons && i < h->n_daemons; i++)
        if (h->daemons[i] != NULL) {
            MHD_quiesce_daemon(h->daemons[i]);
            MHD_stop_daemon(h->daemons[i]);
        }
    if (h->listen_fd >= 0)
        close(h->listen_fd);
    free_objects(h);
    return rc;
}

int gw_http_port(const gw_http *h)
{
    return atomic_load(&h->port);
}

unsigned gw_http_max_conns(const gw_http *h)
{
    return h->max_conns;
}

void gw_http_drain(gw_http *h)
{
    if (h)
        atomic_store(&h->draining, 1);
}

int64_t gw_http_inflight(const gw_http *h)
{
    return h ? (int64_t)atomic_load(&h->outstanding) : 0;
}

void gw_http_free(gw_http *h)
{
    if (h == NULL)
        return;
    atomic_store(&h->draining, 1);
    for (unsigned i = 0; i < h->n_daemons; i++)
        MHD_quiesce_daemon(h->daemons[i]);
    close(h->listen_fd);
    /* libmicrohttpd aborts the process when stopped with a connection
     * suspended and not resumed: wait for every route to answer. */
    int64_t until = roster_mono_ns() + FREE_WAIT_NS;
    while (atomic_load(&h->outstanding) > 0 && roster_mono_ns() < until) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    long left = atomic_load(&h->outstanding);
    if (left > 0) {
        /* Leaving the daemons in place beats aborting; the process exits. */
        roster_log(ROSTER_LOG_ERROR, "http_stop_skipped", "unanswered=%ld", left);
        return;
    }
    for (unsigned i = 0; i < h->n_daemons; i++)
        MHD_stop_daemon(h->daemons[i]);
    free_objects(h);
}
