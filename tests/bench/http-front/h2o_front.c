/* Prototype of the gateway's HTTP front on libh2o-evloop (Debian 12:
 * 2.2.5), for choosing the HTTP library by measurement (docs/http-front.md).
 *
 *   h2o_front PORT URL    POST /graphql: the body goes to URL over one nng
 *                         req0 round trip and the reply is the response
 *   h2o_front PORT -      POST /graphql answered with its own body (no RPC)
 *
 * Shape: LOOPS event-loop threads, each with its own listening socket
 * (SO_REUSEPORT), h2o context, req0 socket and pool of (context, aio)
 * pairs. A connection lives on the loop that accepted it; h2o is not
 * thread-safe, so an RPC completion (on an nng task thread) never touches
 * the request: it posts the call to its loop's h2o_multithread receiver
 * and the loop writes the response.
 *
 * Environment: FRONT_MAX_CONNS (per loop, default 10000; past it a
 * connection gets a 503 and is closed), FRONT_MAX_BODY (bytes, default
 * 1 MiB), FRONT_TIMEOUT_MS (h2o's http1 request timeout, default 10000).
 * SIGTERM/SIGINT: stop accepting, ask h2o to close keep-alive connections
 * after their current response, exit when none is left (at most 10 s). */
#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <h2o/multithread.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOOPS 2

typedef struct loop_thread loop_thread;
typedef struct req_guard req_guard;

/* One RPC in flight. `msg` is first so a received message is the call. */
typedef struct call {
    h2o_multithread_message_t msg;
    struct call *next; /* the loop's free list; touched on the loop only */
    loop_thread *t;
    nng_ctx ctx;
    nng_aio *aio;
    int receiving;
    int rv;
    nng_msg *reply;
    h2o_req_t *req; /* NULL once the request's memory is gone */
    req_guard *guard;
} call;

/* Lives in the request's pool: when h2o frees the request (the client went
 * away with the RPC in flight) it tells the call not to answer it. */
struct req_guard {
    call *c;
};

struct loop_thread {
    h2o_context_t ctx;
    h2o_evloop_t *loop;
    h2o_accept_ctx_t accept_ctx;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
    h2o_socket_t *listener;
    int listen_fd;
    nng_socket req;
    call *free_calls;
    size_t conns;
    pthread_t tid;
};

static h2o_globalconf_t config;
static loop_thread loops[LOOPS];
static const char *rpc_url; /* NULL: answer without the RPC */
static size_t max_conns = 10000;
/* Read by the loop threads: an atomic, not only a sig_atomic_t. */
static atomic_int stop_flag;

static void on_term(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, 1);
}

static void respond(h2o_req_t *req, const void *body, size_t len)
{
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_send_inline(req, body, len);
}

static void guard_dispose(void *p)
{
    req_guard *g = p;
    if (g->c != NULL)
        g->c->req = NULL;
}

/* nng task thread: post the receive after the send, hand the result to the
 * loop after the receive. Nothing here touches h2o state but the
 * thread-safe multithread queue. */
static void call_cb(void *arg)
{
    call *c = arg;
    int rv = nng_aio_result(c->aio);
    if (!c->receiving && rv == 0) {
        c->receiving = 1;
        nng_ctx_recv(c->ctx, c->aio);
        return;
    }
    if (!c->receiving)
        nng_msg_free(nng_aio_get_msg(c->aio));
    c->rv = rv;
    c->reply = rv == 0 ? nng_aio_get_msg(c->aio) : NULL;
    nng_aio_set_msg(c->aio, NULL);
    h2o_multithread_send_message(&c->t->receiver, &c->msg);
}

static call *call_get(loop_thread *t)
{
    call *c = t->free_calls;
    if (c != NULL) {
        t->free_calls = c->next;
        return c;
    }
    if ((c = calloc(1, sizeof *c)) == NULL)
        return NULL;
    c->t = t;
    if (nng_ctx_open(&c->ctx, t->req) != 0 || nng_aio_alloc(&c->aio, call_cb, c) != 0) {
        free(c); /* prototype: a half-made pair is leaked, not reused */
        return NULL;
    }
    nng_aio_set_timeout(c->aio, 5000);
    return c;
}

/* Loop thread: every completed call posted since the last wake-up. */
static void on_replies(h2o_multithread_receiver_t *r, h2o_linklist_t *messages)
{
    loop_thread *t = H2O_STRUCT_FROM_MEMBER(loop_thread, receiver, r);
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        call *c = H2O_STRUCT_FROM_MEMBER(call, msg, m);
        if (c->req != NULL) {
            c->guard->c = NULL;
            if (c->rv == 0)
                respond(c->req, nng_msg_body(c->reply), nng_msg_len(c->reply));
            else
                h2o_send_error_502(c->req, "Bad Gateway", nng_strerror(c->rv), 0);
        }
        nng_msg_free(c->reply);
        c->reply = NULL;
        c->req = NULL;
        c->next = t->free_calls;
        t->free_calls = c;
    }
}

static int on_graphql(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST")))
        return -1; /* next handler: 404 */
    /* h2o 2.2 calls the handler once the whole body is in req->entity
     * (content-length or chunked), bounded by max_request_entity_size. */
    if (rpc_url == NULL) {
        respond(req, req->entity.base, req->entity.len);
        return 0;
    }
    loop_thread *t = H2O_STRUCT_FROM_MEMBER(loop_thread, ctx, req->conn->ctx);
    call *c = call_get(t);
    nng_msg *m;
    if (c == NULL || nng_msg_alloc(&m, req->entity.len) != 0) {
        if (c != NULL) {
            c->next = t->free_calls;
            t->free_calls = c;
        }
        h2o_send_error_503(req, "Service Unavailable", "no memory", 0);
        return 0;
    }
    if (req->entity.len != 0)
        memcpy(nng_msg_body(m), req->entity.base, req->entity.len);
    req_guard *g = h2o_mem_alloc_shared(&req->pool, sizeof *g, guard_dispose);
    g->c = c;
    c->guard = g;
    c->req = req;
    c->receiving = 0;
    nng_aio_set_msg(c->aio, m);
    nng_ctx_send(c->ctx, c->aio);
    return 0;
}

static void on_conn_close(void *data)
{
    loop_thread *t = data;
    t->conns--;
}

static void on_refused_written(h2o_socket_t *sock, const char *err)
{
    (void)err;
    h2o_socket_close(sock);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    loop_thread *t = listener->data;
    if (err != NULL)
        return;
    /* Accept what is waiting, a bounded number per wake-up. */
    for (int i = 0; i < 16; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            return;
        if (t->conns >= max_conns) {
            /* The connection cap is ours to enforce: h2o's library has
             * none. A short 503 before closing tells the client why. */
            static const char refuse[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                                         "Retry-After: 1\r\nContent-Length: 0\r\n\r\n";
            h2o_iovec_t buf = h2o_iovec_init(refuse, sizeof refuse - 1);
            h2o_socket_write(sock, &buf, 1, on_refused_written);
            continue;
        }
        t->conns++;
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = t;
        h2o_accept(&t->accept_ctx, sock);
    }
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4096) != 0) {
        perror("h2o_front: listen");
        exit(1);
    }
    return fd;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *loop_main(void *arg)
{
    loop_thread *t = arg;
    t->loop = h2o_evloop_create();
    h2o_context_init(&t->ctx, t->loop, &config);
    t->accept_ctx.ctx = &t->ctx;
    t->accept_ctx.hosts = config.hosts;
    t->queue = h2o_multithread_create_queue(t->loop);
    h2o_multithread_register_receiver(t->queue, &t->receiver, on_replies);
    t->listener = h2o_evloop_socket_create(t->loop, t->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    t->listener->data = t;
    h2o_socket_read_start(t->listener, on_accept);
    while (!atomic_load(&stop_flag))
        h2o_evloop_run(t->loop, 100);

    /* Drain: no new connections; keep-alive connections close after the
     * response in progress; requests waiting on an RPC are answered. */
    h2o_socket_read_stop(t->listener);
    h2o_socket_close(t->listener);
    h2o_context_request_shutdown(&t->ctx);
    uint64_t end = now_ms() + 10000;
    while (t->conns != 0 && now_ms() < end)
        h2o_evloop_run(t->loop, 50);
    fprintf(stderr, "h2o_front: loop %ld drained, %zu connections left\n", (long)(t - loops),
            t->conns);
    return NULL;
}

static size_t env_size(const char *name, size_t dflt)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? (size_t)strtoull(v, NULL, 10) : dflt;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: h2o_front PORT URL|-\n");
        return 2;
    }
    int port = atoi(argv[1]);
    rpc_url = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
    max_conns = env_size("FRONT_MAX_CONNS", 10000);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);

    h2o_config_init(&config);
    config.max_request_entity_size = env_size("FRONT_MAX_BODY", 1u << 20);
    config.http1.req_timeout = env_size("FRONT_TIMEOUT_MS", 10000);
    h2o_hostconf_t *host =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/graphql", 0);
    h2o_handler_t *h = h2o_create_handler(path, sizeof *h);
    h->on_req = on_graphql;

    for (int i = 0; i < LOOPS; i++) {
        loop_thread *t = &loops[i];
        t->listen_fd = listen_on(port);
        if (rpc_url != NULL) {
            int rv;
            if ((rv = nng_req0_open(&t->req)) != 0 ||
                (rv = nng_socket_set_size(t->req, NNG_OPT_RECVMAXSZ, 4u << 20)) != 0 ||
                (rv = nng_dial(t->req, rpc_url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
                fprintf(stderr, "h2o_front: nng: %s\n", nng_strerror(rv));
                return 1;
            }
        }
        pthread_create(&t->tid, NULL, loop_main, t);
    }
    for (int i = 0; i < LOOPS; i++)
        pthread_join(loops[i].tid, NULL);
    return 0;
}
