/* Prototype of the gateway's HTTP front on libmicrohttpd (Debian 12:
 * 0.9.75), for choosing the HTTP library by measurement (docs/http-front.md).
 *
 *   mhd_front PORT URL    POST /graphql: the body goes to URL over one nng
 *                         req0 round trip and the reply is the response
 *   mhd_front PORT -      POST /graphql answered with its own body (no RPC)
 *
 * Shape: MHD's internal epoll with a pool of WORKERS threads; a connection
 * stays on the worker that accepted it. Once the body is read the
 * connection is suspended and the body sent over req0; the RPC completion
 * (an nng task thread) stores the reply and resumes the connection, and
 * MHD calls the handler again on the connection's own worker, which queues
 * the response. Each worker has its own req0 socket and pool of (context,
 * aio) pairs, made on first use (thread-local), so the pool needs no lock.
 *
 * Environment: FRONT_MAX_CONNS (MHD's connection limit, default 20000),
 * FRONT_MAX_BODY (bytes, default 1 MiB; larger gets 413),
 * FRONT_TIMEOUT_MS (MHD's connection timeout, whole seconds, default
 * 10000), FRONT_MEM_LIMIT (MHD's per-connection memory pool, which holds
 * the request line, the headers and the read buffer; default 32 KiB).
 * SIGTERM/SIGINT: stop listening (MHD_quiesce_daemon), answer the requests
 * in flight with Connection: close, then stop (at most 10 s). */
#include <microhttpd.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 2

typedef struct worker worker;

/* One RPC in flight; belongs to the worker whose pool it came from. */
typedef struct call {
    struct call *next;
    worker *w;
    nng_ctx ctx;
    nng_aio *aio;
    int receiving;
    struct request *r;
} call;

struct worker {
    nng_socket req;
    call *free_calls;
};

enum { R_READING, R_WAITING, R_DONE };

/* Per request (MHD's con_cls), from the headers to the completed response. */
typedef struct request {
    struct MHD_Connection *conn;
    char *body;
    size_t len, cap;
    int state;
    int too_big;
    int rv;
    nng_msg *reply;
    call *c;
} request;

static const char *rpc_url; /* NULL: answer without the RPC */
static size_t max_body = 1u << 20;
static volatile sig_atomic_t stop_flag;
static atomic_int stopping;
static atomic_int inflight;
static __thread worker *self;

static void on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const void *body,
                              size_t len, const char *type)
{
    struct MHD_Response *res =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (res == NULL)
        return MHD_NO;
    MHD_add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (atomic_load(&stopping))
        MHD_add_response_header(res, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(conn, status, res);
    MHD_destroy_response(res);
    return ok;
}

/* nng task thread: post the receive after the send; after the receive,
 * keep the result and resume the connection (MHD_resume_connection may be
 * called from any thread). The request is not touched again here. */
static void call_cb(void *arg)
{
    call *c = arg;
    request *r = c->r;
    int rv = nng_aio_result(c->aio);
    if (!c->receiving && rv == 0) {
        c->receiving = 1;
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    if (!c->receiving)
        nng_msg_free(nng_aio_get_msg(c->aio));
    r->rv = rv;
    r->reply = rv == 0 ? nng_aio_get_msg(c->aio) : NULL;
    nng_aio_set_msg(c->aio, NULL);
    r->state = R_DONE;
    MHD_resume_connection(r->conn);
}

static worker *worker_self(void)
{
    if (self != NULL)
        return self;
    worker *w = calloc(1, sizeof *w);
    int rv;
    if (w == NULL)
        return NULL;
    if ((rv = nng_req0_open(&w->req)) != 0 ||
        (rv = nng_socket_set_size(w->req, NNG_OPT_RECVMAXSZ, 4u << 20)) != 0 ||
        (rv = nng_dial(w->req, rpc_url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
        fprintf(stderr, "mhd_front: nng: %s\n", nng_strerror(rv));
        exit(1);
    }
    return self = w;
}

static call *call_get(worker *w)
{
    call *c = w->free_calls;
    if (c != NULL) {
        w->free_calls = c->next;
        return c;
    }
    if ((c = calloc(1, sizeof *c)) == NULL)
        return NULL;
    c->w = w;
    if (nng_ctx_open(&c->ctx, w->req) != 0 || nng_aio_alloc(&c->aio, call_cb, c) != 0) {
        free(c); /* prototype: a half-made pair is leaked, not reused */
        return NULL;
    }
    nng_aio_set_timeout(c->aio, 5000);
    return c;
}

static enum MHD_Result start_rpc(request *r)
{
    worker *w = worker_self();
    call *c = w != NULL ? call_get(w) : NULL;
    nng_msg *m;
    if (c == NULL || nng_msg_alloc(&m, r->len) != 0) {
        if (c != NULL) {
            c->next = w->free_calls;
            w->free_calls = c;
        }
        return answer(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no memory\n", 10, "text/plain");
    }
    if (r->len != 0)
        memcpy(nng_msg_body(m), r->body, r->len);
    c->r = r;
    c->receiving = 0;
    r->c = c;
    r->state = R_WAITING;
    MHD_suspend_connection(r->conn);
    nng_aio_set_msg(c->aio, m);
    nng_ctx_send(c->ctx, c->aio);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    request *r = *con_cls;
    if (r == NULL) {
        /* Headers read. What we answer now is sent without reading the
         * body (and without "100 Continue" when the client expects one). */
        if (strcmp(url, "/graphql") != 0)
            return answer(conn, MHD_HTTP_NOT_FOUND, "not found\n", 10, "text/plain");
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only\n", 10, "text/plain");
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL && strtoull(cl, NULL, 10) > max_body)
            return answer(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n", 15, "text/plain");
        if ((r = calloc(1, sizeof *r)) == NULL)
            return MHD_NO;
        r->conn = conn;
        *con_cls = r;
        atomic_fetch_add(&inflight, 1);
        return MHD_YES;
    }
    if (r->state == R_READING && *upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_big || r->len + n > max_body) {
            /* A chunked body gives no length up front: count it here. */
            r->too_big = 1;
            return MHD_YES;
        }
        if (r->len + n > r->cap) {
            size_t cap = r->cap ? r->cap : 1024;
            while (cap < r->len + n)
                cap *= 2;
            char *b = realloc(r->body, cap);
            if (b == NULL)
                return MHD_NO;
            r->body = b;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        return MHD_YES;
    }
    if (r->state == R_READING) {
        if (r->too_big)
            return answer(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n", 15, "text/plain");
        if (rpc_url == NULL)
            return answer(conn, MHD_HTTP_OK, r->body, r->len, "application/json");
        return start_rpc(r);
    }
    if (r->state == R_DONE) {
        /* Resumed on this connection's worker: the reply is here. */
        call *c = r->c;
        enum MHD_Result ok;
        if (r->rv == 0)
            ok = answer(conn, MHD_HTTP_OK, nng_msg_body(r->reply), nng_msg_len(r->reply),
                        "application/json");
        else
            ok = answer(conn, MHD_HTTP_BAD_GATEWAY, "upstream failed\n", 16, "text/plain");
        nng_msg_free(r->reply);
        r->reply = NULL;
        r->c = NULL;
        c->next = c->w->free_calls;
        c->w->free_calls = c;
        return ok;
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request *r = *con_cls;
    if (r == NULL)
        return;
    free(r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&inflight, 1);
}

static size_t env_size(const char *name, size_t dflt)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? (size_t)strtoull(v, NULL, 10) : dflt;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mhd_front PORT URL|-\n");
        return 2;
    }
    uint16_t port = (uint16_t)atoi(argv[1]);
    rpc_url = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
    max_body = env_size("FRONT_MAX_BODY", 1u << 20);
    unsigned timeout_s = (unsigned)((env_size("FRONT_TIMEOUT_MS", 10000) + 999) / 1000);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);

    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ERROR_LOG,
        port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)WORKERS, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)env_size("FRONT_MAX_CONNS", 20000), MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        env_size("FRONT_MEM_LIMIT", 32u << 10), MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "mhd_front: cannot start on port %u\n", port);
        return 1;
    }
    while (!stop_flag)
        pause();

    /* Drain: stop listening; requests in flight are answered (with
     * Connection: close); idle keep-alive connections are closed by
     * MHD_stop_daemon. */
    atomic_store(&stopping, 1);
    int lfd = MHD_quiesce_daemon(d);
    if (lfd >= 0)
        close(lfd);
    uint64_t end = now_ms() + 10000;
    while (atomic_load(&inflight) != 0 && now_ms() < end)
        usleep(10000);
    fprintf(stderr, "mhd_front: drained, %d requests left\n", atomic_load(&inflight));
    MHD_stop_daemon(d);
    return 0;
}
