#include "http_server.h"

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "cors.h"
#include "error.h"
#include "log.h"
#include "metrics.h"

#define MAX_ROUTES    16
#define MAX_HOSTS     32
#define HOST_NAME_CAP 256
#define KEEP_BODY_CAP (64u * 1024u) /* larger body buffers are released after use */

typedef struct route_ctx {
    gw_http *http;
    gw_route route;
} route_ctx;

struct gw_req {
    gw_req *next_free;
    gw_http *http;
    route_ctx *route;
    nng_aio *http_aio; /* the server's handler aio; finished by gw_req_respond */
    nng_http_req *req; /* borrowed from the server until answered */
    nng_http_conn *conn;
    nng_aio *rx_aio; /* owned: reads the body; lives as long as the pool */
    char *body;
    size_t body_len;
    size_t body_cap;
    int64_t start_ns;
    int continuing;      /* rx_aio is writing "100 Continue" before the body */
    gw_cors_answer cors; /* headers added to the answer (borrowed from req) */
};

/* An allowed Host: the name (lower case, IPv6 in brackets) and the port it
 * must carry, or -1 for "none or the port being served". */
typedef struct host_entry {
    char name[HOST_NAME_CAP];
    int port;
} host_entry;

struct gw_http {
    nng_http_server *server;
    host_entry hosts[MAX_HOSTS];
    size_t n_hosts;
    nng_url *url;
    size_t max_body;
    int port;
    atomic_int draining;
    route_ctx routes[MAX_ROUTES + 1]; /* the last one answers every other path */
    size_t n_routes;
    pthread_mutex_t pool_mu;
    gw_req *free_list;
    gw_req **all; /* every request object ever made, for the final free */
    size_t n_all;
    size_t cap_all;
};

static int from_nng(int rv)
{
    switch (rv) {
    case 0:
        return ROSTER_E_OK;
    case NNG_ENOMEM:
        return ROSTER_E_NOMEM;
    case NNG_EINVAL:
    case NNG_EADDRINVAL:
    case NNG_ENOTSUP:
        return ROSTER_E_INVALID_ARGUMENT;
    case NNG_ETIMEDOUT:
        return ROSTER_E_DEADLINE_EXCEEDED;
    case NNG_ECLOSED:
        return ROSTER_E_CLOSED;
    default:
        return ROSTER_E_IO;
    }
}

static void rx_done(void *arg);

/* Splits "host", "host:port", "[v6]" or "[v6]:port" (len bytes at s) into
 * a lower-case name and a port (-1 when absent). 0 when malformed. */
static int host_split(host_entry *out, const char *s, size_t len)
{
    size_t name_len = len;
    const char *port = NULL;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return 0;
        name_len = (size_t)(close - s) + 1;
        if (name_len < len) {
            if (s[name_len] != ':')
                return 0;
            port = s + name_len + 1;
        }
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon != NULL) {
            name_len = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (name_len == 0 || name_len >= HOST_NAME_CAP)
        return 0;
    int p = -1;
    if (port != NULL) {
        size_t plen = len - (size_t)(port - s);
        if (plen == 0 || plen > 5)
            return 0;
        p = 0;
        for (size_t i = 0; i < plen; i++) {
            if (port[i] < '0' || port[i] > '9')
                return 0;
            p = p * 10 + (port[i] - '0');
        }
        if (p > 65535)
            return 0;
    }
    for (size_t i = 0; i < name_len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f)
            return 0;
        out->name[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out->name[name_len] = '\0';
    out->port = p;
    return 1;
}

static int hosts_add(gw_http *h, const char *s, size_t len)
{
    if (h->n_hosts == MAX_HOSTS || !host_split(&h->hosts[h->n_hosts], s, len))
        return 0;
    h->n_hosts++;
    return 1;
}

static int hosts_init(gw_http *h, const char *allowed, roster_err_detail *detail)
{
    if (allowed != NULL && allowed[0] != '\0') {
        const char *p = allowed;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (!hosts_add(h, p, len))
                return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "allowed-hosts",
                                   "allowed hosts \"%s\": \"%.*s\" is not host or host:port, or "
                                   "there are more than %d",
                                   allowed, (int)len, p, MAX_HOSTS);
            if (comma == NULL)
                break;
            p = comma + 1;
        }
        return ROSTER_E_OK;
    }
    const char *lh = h->url->u_hostname;
    if (lh != NULL && lh[0] != '\0') {
        char b[HOST_NAME_CAP];
        int n = snprintf(b, sizeof b, strchr(lh, ':') && lh[0] != '[' ? "[%s]" : "%s", lh);
        if (n > 0 && (size_t)n < sizeof b)
            hosts_add(h, b, (size_t)n);
    }
    static const char *const local[] = {"localhost", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        hosts_add(h, local[i], strlen(local[i]));
    return ROSTER_E_OK;
}

static int host_allowed(const gw_http *h, const char *host)
{
    host_entry e;
    if (host == NULL || !host_split(&e, host, strlen(host)))
        return 0;
    for (size_t i = 0; i < h->n_hosts; i++) {
        const host_entry *a = &h->hosts[i];
        if (strcmp(a->name, e.name) != 0)
            continue;
        if (a->port == -1 ? (e.port == -1 || e.port == h->port) : e.port == a->port)
            return 1;
    }
    return 0;
}

static gw_req *pool_get(gw_http *h)
{
    pthread_mutex_lock(&h->pool_mu);
    gw_req *r = h->free_list;
    if (r) {
        h->free_list = r->next_free;
        pthread_mutex_unlock(&h->pool_mu);
        return r;
    }
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
    r = calloc(1, sizeof *r);
    if (r == NULL || nng_aio_alloc(&r->rx_aio, rx_done, r) != 0) {
        free(r);
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
    gw_http *h = r->http;
    if (r->body_cap > KEEP_BODY_CAP) {
        free(r->body);
        r->body = NULL;
        r->body_cap = 0;
    }
    r->body_len = 0;
    r->continuing = 0;
    r->cors.n_headers = 0;
    r->req = NULL;
    r->conn = NULL;
    r->http_aio = NULL;
    r->route = NULL;
    pthread_mutex_lock(&h->pool_mu);
    r->next_free = h->free_list;
    h->free_list = r;
    pthread_mutex_unlock(&h->pool_mu);
}

const char *gw_req_method(const gw_req *r)
{
    return nng_http_req_get_method(r->req);
}

const char *gw_req_uri(const gw_req *r)
{
    return nng_http_req_get_uri(r->req);
}

const char *gw_req_header(const gw_req *r, const char *name)
{
    return nng_http_req_get_header(r->req, name);
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

void gw_req_respond(gw_req *r, uint16_t status, const char *content_type, const char *body,
                    size_t len, const char *const *extra, size_t n_extra)
{
    nng_aio *aio = r->http_aio;
    nng_http_res *res = NULL;
    int rv = nng_http_res_alloc(&res);
    if (rv == 0)
        rv = nng_http_res_set_status(res, status);
    if (rv == 0 && status == 421) /* nng 1.5.2 has no phrase for it */
        rv = nng_http_res_set_reason(res, "Misdirected Request");
    if (rv == 0 && content_type)
        rv = nng_http_res_set_header(res, "Content-Type", content_type);
    for (size_t i = 0; rv == 0 && i < n_extra; i++)
        rv = nng_http_res_set_header(res, extra[2 * i], extra[2 * i + 1]);
    /* Added, not set: Vary may already name Accept. */
    for (size_t i = 0; rv == 0 && i < r->cors.n_headers; i++)
        rv = nng_http_res_add_header(res, r->cors.headers[2 * i], r->cors.headers[2 * i + 1]);
    if (rv == 0 && atomic_load(&r->http->draining))
        rv = nng_http_res_set_header(res, "Connection", "close");
    /* nng cannot copy 0 bytes (it allocates them); an empty body needs
     * Content-Length: 0, except on a 204, which must not carry one
     * (RFC 9110 8.6). nng itself sends a HEAD answer without its body. */
    if (rv == 0 && len > 0)
        rv = nng_http_res_copy_data(res, body, len);
    else if (rv == 0 && status != 204)
        rv = nng_http_res_set_header(res, "Content-Length", "0");
    gw_metrics_http_status(status);
    pool_put(r);
    if (rv != 0) {
        nng_http_res_free(res);
        nng_aio_finish(aio, rv); /* the server closes the connection */
        return;
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

static void respond_text(gw_req *r, uint16_t status, const char *msg, int close)
{
    char body[512];
    int n = snprintf(body, sizeof body, "{\"errors\":[{\"message\":\"%s\"}]}", msg);
    const char *hdr[] = {"Connection", "close"};
    gw_req_respond(r, status, "application/json; charset=utf-8", body, n > 0 ? (size_t)n : 0, hdr,
                   close ? 1 : 0);
}

static void not_found(gw_req *r, void *ud)
{
    (void)ud;
    static const char msg[] = "not found\n";
    gw_req_respond(r, 404, "text/plain; charset=utf-8", msg, sizeof msg - 1, NULL, 0);
}

static void dispatch(gw_req *r)
{
    if (atomic_load(&r->http->draining)) {
        const char *hdr[] = {"Retry-After", "1"};
        char body[] = "{\"errors\":[{\"message\":\"the gateway is shutting down\"}]}";
        gw_req_respond(r, 503, "application/json; charset=utf-8", body, sizeof body - 1, hdr, 1);
        return;
    }
    r->route->route.fn(r, r->route->route.ud);
}

static void read_body(gw_req *r)
{
    nng_iov iov = {.iov_buf = r->body, .iov_len = r->body_len};
    nng_aio_set_iov(r->rx_aio, 1, &iov);
    nng_aio_set_timeout(r->rx_aio, 30000);
    nng_http_conn_read_all(r->conn, r->rx_aio);
}

static char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static void rx_done(void *arg)
{
    gw_req *r = arg;
    int rv = nng_aio_result(r->rx_aio);
    if (rv != 0) {
        nng_aio *aio = r->http_aio;
        pool_put(r);
        nng_aio_finish(aio, rv);
        return;
    }
    if (r->continuing) {
        r->continuing = 0;
        read_body(r);
        return;
    }
    dispatch(r);
}

static void handle(nng_aio *aio)
{
    nng_http_req *req = nng_aio_get_input(aio, 0);
    nng_http_handler *hh = nng_aio_get_input(aio, 1);
    nng_http_conn *conn = nng_aio_get_input(aio, 2);
    route_ctx *rc = nng_http_handler_get_data(hh);
    gw_req *r = pool_get(rc->http);
    if (r == NULL) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    r->start_ns = roster_mono_ns();
    r->route = rc;
    r->http_aio = aio;
    r->req = req;
    r->conn = conn;
    r->body_len = 0;
    r->cors.n_headers = 0;

    const char *host = nng_http_req_get_header(req, "Host");
    if (!host_allowed(rc->http, host)) {
        char q[300];
        roster_log(ROSTER_LOG_WARN, "host_refused", "host=%s path=%s",
                   roster_log_quote(q, 100, host ? host : "(none)"),
                   roster_log_quote(q + 100, 200, rc->route.path));
        const char *hdr[] = {"Connection", "close"};
        static const char msg[] = "misdirected request: this gateway does not serve that Host\n";
        gw_req_respond(r, 421, "text/plain; charset=utf-8", msg, sizeof msg - 1, hdr, 1);
        return;
    }

    if (rc->route.cors != NULL) {
        gw_cors_answer ca;
        gw_cors_decide(&ca, rc->route.cors, nng_http_req_get_method(req),
                       nng_http_req_get_header(req, "Origin"),
                       nng_http_req_get_header(req, "Access-Control-Request-Method"),
                       nng_http_req_get_header(req, "Access-Control-Request-Headers"));
        if (ca.preflight) {
            /* A preflight has no body; if one was sent, close rather than
             * read it as the next request. */
            const char *hdr[] = {"Connection", "close"};
            const char *cl = nng_http_req_get_header(req, "Content-Length");
            int body = (cl != NULL && strcmp(cl, "0") != 0) ||
                       nng_http_req_get_header(req, "Transfer-Encoding") != NULL;
            r->cors = ca;
            static const char refused[] = "cross-origin request not allowed\n";
            if (ca.status == 204)
                gw_req_respond(r, 204, NULL, NULL, 0, hdr, body ? 1 : 0);
            else
                gw_req_respond(r, ca.status, "text/plain; charset=utf-8", refused,
                               sizeof refused - 1, hdr, body ? 1 : 0);
            return;
        }
        r->cors = ca;
    }

    const char *te = nng_http_req_get_header(req, "Transfer-Encoding");
    if (te != NULL) {
        respond_text(r, 411, "chunked request bodies are not supported: send Content-Length", 1);
        return;
    }
    const char *cl = nng_http_req_get_header(req, "Content-Length");
    if (cl == NULL) {
        dispatch(r);
        return;
    }
    char *end = NULL;
    unsigned long long len = strtoull(cl, &end, 10);
    if (end == cl || *end != '\0' || cl[0] == '-') {
        respond_text(r, 400, "Content-Length is not a number", 1);
        return;
    }
    if (len > rc->http->max_body) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body of %llu bytes is larger than the %zu allowed", len,
                 rc->http->max_body);
        respond_text(r, 413, msg, 1);
        return;
    }
    if (len == 0) {
        dispatch(r);
        return;
    }
    if (r->body_cap < len) {
        char *nb = realloc(r->body, (size_t)len);
        if (nb == NULL) {
            respond_text(r, 503, "out of memory", 1);
            return;
        }
        r->body = nb;
        r->body_cap = (size_t)len;
    }
    r->body_len = (size_t)len;
    const char *expect = nng_http_req_get_header(req, "Expect");
    if (expect != NULL && strcasecmp(expect, "100-continue") == 0) {
        /* The client waits for this before sending the body (curl does
         * for bodies over 1 KiB). */
        r->continuing = 1;
        nng_iov iov = {.iov_buf = continue_line, .iov_len = sizeof continue_line - 1};
        nng_aio_set_iov(r->rx_aio, 1, &iov);
        nng_aio_set_timeout(r->rx_aio, 30000);
        nng_http_conn_write_all(conn, r->rx_aio);
        return;
    }
    read_body(r);
}

int gw_http_start(gw_http **out, const char *listen_url, const char *allowed_hosts, size_t max_body,
                  const gw_route *routes, size_t n_routes, roster_err_detail *detail)
{
    int rc = ROSTER_E_OK;
    int rv;
    if (n_routes > MAX_ROUTES)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "routes", "more than %d routes",
                           MAX_ROUTES);
    gw_http *h = calloc(1, sizeof *h);
    if (h == NULL)
        return roster_fail(detail, ROSTER_E_NOMEM, "", "out of memory");
    pthread_mutex_init(&h->pool_mu, NULL);
    h->max_body = max_body;
    if ((rv = nng_url_parse(&h->url, listen_url)) != 0) {
        rc = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "listen",
                         "cannot parse listen URL \"%s\": %s", listen_url, nng_strerror(rv));
        goto fail;
    }
    if ((rc = hosts_init(h, allowed_hosts, detail)) != ROSTER_E_OK)
        goto fail;
    if ((rv = nng_http_server_hold(&h->server, h->url)) != 0) {
        rc = roster_fail(detail, from_nng(rv), "listen", "cannot create HTTP server for \"%s\": %s",
                         listen_url, nng_strerror(rv));
        goto fail;
    }
    /* Every other path goes to a tree handler at "/" answering 404, so the
     * Host check runs on every path (nng prefers exact paths to trees). */
    for (size_t i = 0; i <= n_routes; i++) {
        nng_http_handler *hh = NULL;
        gw_route rt = i < n_routes ? routes[i] : (gw_route){.path = "/", .fn = not_found};
        h->routes[i].http = h;
        h->routes[i].route = rt;
        if ((rv = nng_http_handler_alloc(&hh, rt.path, handle)) != 0 ||
            (rv = nng_http_handler_set_method(hh, NULL)) != 0 ||
            (rv = nng_http_handler_collect_body(hh, false, 0)) != 0 ||
            (rv = nng_http_handler_set_data(hh, &h->routes[i], NULL)) != 0 ||
            ((i == n_routes || rt.tree) && (rv = nng_http_handler_set_tree(hh)) != 0) ||
            (rv = nng_http_server_add_handler(h->server, hh)) != 0) {
            nng_http_handler_free(hh);
            rc = roster_fail(detail, from_nng(rv), "routes", "cannot add HTTP handler %s: %s",
                             rt.path, nng_strerror(rv));
            goto fail;
        }
        h->n_routes++;
    }
    if ((rv = nng_http_server_start(h->server)) != 0) {
        rc = roster_fail(detail, ROSTER_E_IO, "listen", "cannot listen on \"%s\": %s", listen_url,
                         nng_strerror(rv));
        goto fail;
    }
    nng_sockaddr sa;
    if (nng_http_server_get_addr(h->server, &sa) == 0 && sa.s_family == NNG_AF_INET)
        h->port = ntohs(sa.s_in.sa_port);
    else
        h->port = atoi(h->url->u_port);
    *out = h;
    return ROSTER_E_OK;
fail:
    if (h->server)
        nng_http_server_release(h->server);
    nng_url_free(h->url);
    pthread_mutex_destroy(&h->pool_mu);
    free(h);
    return rc;
}

int gw_http_port(const gw_http *h)
{
    return h->port;
}

void gw_http_drain(gw_http *h)
{
    if (h)
        atomic_store(&h->draining, 1);
}

void gw_http_free(gw_http *h)
{
    if (h == NULL)
        return;
    nng_http_server_stop(h->server);
    nng_http_server_release(h->server);
    for (size_t i = 0; i < h->n_all; i++) {
        nng_aio_free(h->all[i]->rx_aio);
        free(h->all[i]->body);
        free(h->all[i]);
    }
    free(h->all);
    nng_url_free(h->url);
    pthread_mutex_destroy(&h->pool_mu);
    free(h);
}
