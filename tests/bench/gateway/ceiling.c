/* The transport ceiling for the gateway benchmark: what the two-hop shape
 * (HTTP in, one nng req0/rep0 round trip over ipc, HTTP out) costs before
 * any GraphQL or store work.
 *
 *   ceiling echo URL        rep0 server answering every message with itself
 *   ceiling http PORT URL   nng HTTP server: POST /graphql forwards the body
 *                           to URL over req0 and returns the reply
 *
 * Both use pools of (context, aio) pairs that are recycled, never freed in
 * a callback. Built by run.sh: cc -O2 ceiling.c -lnng. */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POOL 256

static volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void die(const char *what, int rv)
{
    fprintf(stderr, "ceiling: %s: %s\n", what, nng_strerror(rv));
    exit(1);
}

/* ---------------------------------------------------------------- echo */

typedef struct echo_ctx {
    nng_ctx ctx;
    nng_aio *aio;
    int sending;
} echo_ctx;

static void echo_cb(void *arg)
{
    echo_ctx *e = arg;
    if (nng_aio_result(e->aio) != 0) {
        if (e->sending)
            nng_msg_free(nng_aio_get_msg(e->aio));
        e->sending = 0;
        nng_ctx_recv(e->ctx, e->aio);
        return;
    }
    if (e->sending) {
        e->sending = 0;
        nng_ctx_recv(e->ctx, e->aio);
        return;
    }
    e->sending = 1;
    nng_ctx_send(e->ctx, e->aio);
}

static int run_echo(const char *url)
{
    nng_socket s;
    int rv;
    if ((rv = nng_rep0_open(&s)) != 0)
        die("rep0", rv);
    nng_setopt_size(s, NNG_OPT_RECVMAXSZ, 4u << 20);
    if ((rv = nng_listen(s, url, NULL, 0)) != 0)
        die("listen", rv);
    static echo_ctx ctxs[POOL];
    for (int i = 0; i < POOL; i++) {
        if ((rv = nng_ctx_open(&ctxs[i].ctx, s)) != 0 ||
            (rv = nng_aio_alloc(&ctxs[i].aio, echo_cb, &ctxs[i])) != 0)
            die("ctx", rv);
        nng_ctx_recv(ctxs[i].ctx, ctxs[i].aio);
    }
    while (!stop_flag)
        pause();
    return 0;
}

/* ---------------------------------------------------------------- http */

typedef struct fwd {
    struct fwd *next;
    nng_ctx ctx;
    nng_aio *aio;
    nng_aio *http_aio;
    int phase; /* 0 sending, 1 receiving */
} fwd;

static nng_socket req_sock;
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static fwd *pool;

static void fwd_put(fwd *f)
{
    pthread_mutex_lock(&pool_mu);
    f->next = pool;
    pool = f;
    pthread_mutex_unlock(&pool_mu);
}

static void fwd_cb(void *arg);

static fwd *fwd_get(void)
{
    pthread_mutex_lock(&pool_mu);
    fwd *f = pool;
    if (f)
        pool = f->next;
    pthread_mutex_unlock(&pool_mu);
    if (f)
        return f;
    f = calloc(1, sizeof *f);
    if (f == NULL || nng_ctx_open(&f->ctx, req_sock) != 0 || nng_aio_alloc(&f->aio, fwd_cb, f) != 0)
        return NULL;
    return f;
}

static void fwd_cb(void *arg)
{
    fwd *f = arg;
    nng_aio *http = f->http_aio;
    int rv = nng_aio_result(f->aio);
    if (rv != 0) {
        if (f->phase == 0)
            nng_msg_free(nng_aio_get_msg(f->aio));
        fwd_put(f);
        nng_aio_finish(http, rv);
        return;
    }
    if (f->phase == 0) {
        f->phase = 1;
        nng_ctx_recv(f->ctx, f->aio);
        return;
    }
    nng_msg *m = nng_aio_get_msg(f->aio);
    fwd_put(f);
    nng_http_res *res;
    if ((rv = nng_http_res_alloc(&res)) != 0) {
        nng_msg_free(m);
        nng_aio_finish(http, rv);
        return;
    }
    nng_http_res_set_header(res, "Content-Type", "application/json");
    nng_http_res_copy_data(res, nng_msg_body(m), nng_msg_len(m));
    nng_msg_free(m);
    nng_aio_set_output(http, 0, res);
    nng_aio_finish(http, 0);
}

static void http_cb(nng_aio *aio)
{
    nng_http_req *req = nng_aio_get_input(aio, 0);
    void *body;
    size_t len;
    nng_http_req_get_data(req, &body, &len);
    fwd *f = fwd_get();
    nng_msg *m;
    if (f == NULL || nng_msg_alloc(&m, 0) != 0) {
        nng_aio_finish(aio, NNG_ENOMEM);
        return;
    }
    nng_msg_append(m, body, len);
    f->http_aio = aio;
    f->phase = 0;
    nng_aio_set_msg(f->aio, m);
    nng_ctx_send(f->ctx, f->aio);
}

static int run_http(const char *port, const char *url)
{
    int rv;
    if ((rv = nng_req0_open(&req_sock)) != 0)
        die("req0", rv);
    nng_setopt_size(req_sock, NNG_OPT_RECVMAXSZ, 4u << 20);
    if ((rv = nng_dial(req_sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
        die("dial", rv);
    char http_url[64];
    snprintf(http_url, sizeof http_url, "http://127.0.0.1:%s", port);
    nng_url *u;
    nng_http_server *srv;
    nng_http_handler *h;
    if ((rv = nng_url_parse(&u, http_url)) != 0 || (rv = nng_http_server_hold(&srv, u)) != 0 ||
        (rv = nng_http_handler_alloc(&h, "/graphql", http_cb)) != 0 ||
        (rv = nng_http_handler_set_method(h, "POST")) != 0 ||
        (rv = nng_http_server_add_handler(srv, h)) != 0 || (rv = nng_http_server_start(srv)) != 0)
        die("http", rv);
    while (!stop_flag)
        pause();
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    if (argc == 3 && strcmp(argv[1], "echo") == 0)
        return run_echo(argv[2]);
    if (argc == 4 && strcmp(argv[1], "http") == 0)
        return run_http(argv[2], argv[3]);
    fprintf(stderr, "usage: ceiling echo URL | ceiling http PORT URL\n");
    return 2;
}
