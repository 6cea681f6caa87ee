#include "rpc_server.h"

#include "clock.h"
#include "roster_limits.h"
#include "log.h"
#include "nng_close.h"
#include "rpc_envelope.h"
#include "rpc_listener_guard.h"
#include "rpc_status.h"
#include "rpc_tls.h"
#include "rpc_wire_scan.h"

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Why the server is a fixed pool of recycled (context, aio) pairs.
 *
 * Each rpc_call owns one rep0 context and one aio for its whole life and
 * cycles receive -> dispatch -> send -> receive, every step started from
 * the completion of the previous one, so no thread waits for a request and
 * the number of pairs is the bound on requests in progress (back pressure:
 * a request waits in nng until a pair is free). The pairs are created at
 * start and freed only by rpc_server_free, on the caller's thread, after
 * the socket is closed: nng_aio_free, nng_aio_stop and nng_ctx_close wait
 * for the aio's callback, so calling them from inside it would deadlock
 * the nng task thread running it. A handler may answer from any thread
 * (the writer, the list pool): the reply only sets the state to ST_SEND
 * and starts the send; the send's completion reports the call to the
 * observer and posts the next receive. Stopping cancels the pairs waiting in receive, lets
 * the busy ones finish, and parks every pair in ST_STOPPED instead of
 * re-arming it; `replying` covers the window in which a handler thread is
 * still inside nng_ctx_send after its completion has already recycled the
 * pair. The per-call arena is reset on each cycle, keeping its first
 * block, so a warm pair serves an ordinary request without touching the
 * heap for scratch memory. */
enum call_state { ST_IDLE, ST_RECV, ST_BUSY, ST_SEND, ST_STOPPED };

struct rpc_call {
    rpc_server *srv;
    nng_ctx ctx;
    nng_aio *aio;
    roster_arena arena;
    enum call_state state; /* guarded by srv->mu */
    const rpc_method *method;
    const ProtobufCMessage *request;
    const char *credential;
    const char *request_id;
    nng_pipe pipe; /* the connection the request came on */
    int64_t start_ns;
    int64_t deadline_ns; /* 0 = none */
    int code;            /* status of the reply being sent */
    /* In-process calls (rpc_local_call) only: where the reply goes. */
    rpc_local_done_fn local_done;
    void *local_arg;
};

struct rpc_server {
    nng_socket sock;
    nng_listener listener; /* replaced by listener_restore, on the guard thread */
    bool open;
    rpc_server_options opts;
    char *url;                  /* owned copy of opts.url */
    nng_tls_config *tls;        /* tls+tcp:// only; one reference held */
    int ipc_mode;               /* ipc:// socket file permissions */
    rpc_listener_guard *guard;  /* NULL when the check is off */
    atomic_ulong restores;      /* listeners re-created */
    atomic_ulong pipes_added;   /* connections the socket has taken */
    atomic_ulong pipes_removed; /* connections nng has reclaimed */
    unsigned n_calls;
    rpc_call *calls;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    void (*on_stop)(void *arg); /* rpc_server_on_stop */
    void *on_stop_arg;
    unsigned stopped; /* calls in ST_STOPPED */
    atomic_uint in_flight;
    /* Threads inside call_send: a handler thread may still be in
     * nng_ctx_send when the send's completion has already recycled the
     * call, so stop and free wait for this to reach zero. */
    atomic_uint replying;
};

static void call_recv(rpc_call *c);

static void call_set_state(rpc_call *c, enum call_state st)
{
    pthread_mutex_lock(&c->srv->mu);
    c->state = st;
    pthread_mutex_unlock(&c->srv->mu);
}

static void local_finish(rpc_call *c, nng_msg *reply);

/* Hands the packed message to nng; the send completion recycles the call. */
static void call_send(rpc_call *c, nng_msg *msg, int code)
{
    rpc_server *s = c->srv;
    if (c->local_done != NULL) {
        c->code = code;
        local_finish(c, msg);
        return;
    }
    atomic_fetch_add(&s->replying, 1);
    c->code = code;
    call_set_state(c, ST_SEND);
    nng_aio_set_msg(c->aio, msg);
    nng_ctx_send(c->ctx, c->aio);
    atomic_fetch_sub(&s->replying, 1);
}

static void wait_replying(rpc_server *s)
{
    while (atomic_load(&s->replying) > 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Packs a status reply (no body) for `err`. */
static void call_send_status(rpc_call *c, int err, const roster_err_detail *detail)
{
    Roster__V1__RpcReply reply;
    rpc_status st;
    rpc_status_reply(&reply, &st, err, detail);
    size_t n = roster__v1__rpc_reply__get_packed_size(&reply);
    nng_msg *msg;
    if (nng_msg_alloc(&msg, n) != 0) {
        /* No memory for even a status: drop the request, keep serving. */
        roster_log(ROSTER_LOG_ERROR, "rpc_reply_failed", "reason=nomem");
        atomic_fetch_sub(&c->srv->in_flight, 1);
        call_recv(c);
        return;
    }
    roster__v1__rpc_reply__pack(&reply, nng_msg_body(msg));
    call_send(c, msg, reply.code);
}

/* OK reply: field 1 (code 0) then field 4 (body), the encoding protobuf-c
 * gives, with the body written straight into the message. */
static size_t varint_len(size_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

int rpc_reply_limit_fail(roster_err_detail *d, size_t body_len)
{
    return roster_fail(
        d, ROSTER_E_TOO_LARGE, ROSTER_REPLY_LIMIT_FIELD,
        "the reply would be about %zu bytes, over the reply limit of %u bytes; ask for "
        "fewer records (limit, ids) or fewer fields (field_mask)",
        body_len, (unsigned)ROSTER_MAX_REPLY_BODY);
}

/* A new OK reply message with room for `body_len` body bytes at *body.
 * On success *out is the caller's to send or free. A body over the reply
 * limit is ROSTER_E_TOO_LARGE: sent, it would pass the caller's receive
 * limit and nng would close the connection every call on it shares. */
static int ok_msg(nng_msg **out, uint8_t **body, size_t body_len)
{
    if (body_len > ROSTER_MAX_REPLY_BODY)
        return ROSTER_E_TOO_LARGE;
    size_t head = 2 + 1 + varint_len(body_len);
    nng_msg *msg;
    if (nng_msg_alloc(&msg, head + body_len) != 0)
        return ROSTER_E_NOMEM;
    uint8_t *p = nng_msg_body(msg);
    *p++ = 0x08; /* code, varint */
    *p++ = ROSTER_STATUS_OK;
    *p++ = 0x22; /* body, length-delimited */
    size_t v = body_len;
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    *body = p;
    *out = msg;
    return ROSTER_E_OK;
}

/* Answers a call whose OK reply of body_len bytes could not be made. */
static void call_send_failed(rpc_call *c, size_t body_len)
{
    if (body_len > ROSTER_MAX_REPLY_BODY) {
        roster_err_detail d;
        call_send_status(c, rpc_reply_limit_fail(&d, body_len), &d);
        return;
    }
    call_send_status(c, ROSTER_E_NOMEM, NULL);
}

void rpc_call_reply_fill(rpc_call *c, size_t len, rpc_body_fill_fn fill, void *arg)
{
    uint8_t *body;
    nng_msg *msg;
    if (ok_msg(&msg, &body, len) != ROSTER_E_OK) {
        call_send_failed(c, len);
        return;
    }
    fill(arg, body);
    call_send(c, msg, ROSTER_STATUS_OK);
}

static void pack_fill(void *arg, uint8_t *body)
{
    protobuf_c_message_pack(arg, body);
}

void rpc_call_reply_message(rpc_call *c, const ProtobufCMessage *reply)
{
    rpc_call_reply_fill(c, protobuf_c_message_get_packed_size(reply), pack_fill, (void *)reply);
}

/* The bytes to copy, for rpc_call_reply_fill. */
typedef struct span {
    const void *p;
    size_t len;
} span;

static void copy_fill(void *arg, uint8_t *body)
{
    const span *s = arg;
    if (s->len)
        memcpy(body, s->p, s->len);
}

void rpc_call_reply_bytes(rpc_call *c, const void *bytes, size_t len)
{
    span s = {bytes, len};
    rpc_call_reply_fill(c, len, copy_fill, &s);
}

void rpc_call_reply_error(rpc_call *c, int err, const roster_err_detail *detail)
{
    if (err == ROSTER_E_OK)
        err = ROSTER_E_INTERNAL;
    call_send_status(c, err, detail);
}

const rpc_method *rpc_call_method(const rpc_call *c)
{
    return c->method;
}
const ProtobufCMessage *rpc_call_request(const rpc_call *c)
{
    return c->request;
}
roster_arena *rpc_call_arena(rpc_call *c)
{
    return &c->arena;
}
const char *rpc_call_credential(const rpc_call *c)
{
    return c->credential;
}

const char *rpc_call_peer(char buf[RPC_PEER_TEXT_LEN], const rpc_call *c)
{
    nng_sockaddr sa;
    if (nng_pipe_get_addr(c->pipe, NNG_OPT_REMADDR, &sa) != 0) {
        snprintf(buf, RPC_PEER_TEXT_LEN, "unknown");
        return buf;
    }
    switch (sa.s_family) {
    case NNG_AF_IPC:
        snprintf(buf, RPC_PEER_TEXT_LEN, "ipc");
        break;
    case NNG_AF_INET: {
        const uint8_t *a = (const uint8_t *)&sa.s_in.sa_addr;
        uint16_t port = ntohs(sa.s_in.sa_port);
        snprintf(buf, RPC_PEER_TEXT_LEN, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], port);
        break;
    }
    case NNG_AF_INET6: {
        char h[INET6_ADDRSTRLEN];
        if (inet_ntop(AF_INET6, sa.s_in6.sa_addr, h, sizeof h) == NULL)
            snprintf(h, sizeof h, "?");
        snprintf(buf, RPC_PEER_TEXT_LEN, "[%s]:%u", h, ntohs(sa.s_in6.sa_port));
        break;
    }
    default:
        snprintf(buf, RPC_PEER_TEXT_LEN, "unknown");
        break;
    }
    return buf;
}
const char *rpc_call_request_id(const rpc_call *c)
{
    return c->request_id;
}

bool rpc_call_expired(const rpc_call *c)
{
    return c->deadline_ns != 0 && roster_mono_ns() >= c->deadline_ns;
}

int64_t rpc_call_deadline_ns(const rpc_call *c)
{
    return c->deadline_ns;
}

void rpc_server_on_stop(rpc_server *s, void (*fn)(void *arg), void *arg)
{
    pthread_mutex_lock(&s->mu);
    s->on_stop = fn;
    s->on_stop_arg = arg;
    pthread_mutex_unlock(&s->mu);
}

unsigned rpc_server_in_flight(const rpc_server *s)
{
    return atomic_load(&((rpc_server *)s)->in_flight);
}

/* Posts the next receive, or parks the call when the server is stopping. */
static void call_recv(rpc_call *c)
{
    rpc_server *s = c->srv;
    if (c->local_done != NULL) { /* dropped without a reply */
        local_finish(c, NULL);
        return;
    }
    roster_arena_reset(&c->arena);
    c->method = NULL;
    c->request = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        c->state = ST_STOPPED;
        s->stopped++;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    c->state = ST_RECV;
    pthread_mutex_unlock(&s->mu);
    nng_ctx_recv(c->ctx, c->aio);
}

/* Decodes the request envelope buf[0..len) (copied into the call's arena)
 * and hands the call to the handler, or answers it with a status. `owned`
 * (may be NULL) is the message holding buf, freed once decoded. */
static void call_dispatch_bytes(rpc_call *c, const void *buf, size_t len, nng_msg *owned)
{
    rpc_server *s = c->srv;
    roster_err_detail d = {{0}};
    Roster__V1__RpcRequest *env = NULL;
    c->start_ns = roster_mono_ns();
    c->deadline_ns = 0;
    c->credential = NULL;
    c->request_id = "";
    atomic_fetch_add(&s->in_flight, 1);
    call_set_state(c, ST_BUSY);

    /* The wire scans bound what unpacking may allocate before it does. */
    int err = rpc_wire_scan(&roster__v1__rpc_request__descriptor, buf, len, &d);
    if (err == ROSTER_E_OK)
        err = rpc_request_decode(&env, &c->arena, buf, len, &d);
    /* Decoding copied what the call needs: the message goes now, not after
     * the handler, so a big request does not stay held twice. */
    if (owned != NULL)
        nng_msg_free(owned);
    if (err) {
        call_send_status(c, err, &d);
        return;
    }
    if (env->context != NULL) {
        if (env->context->request_id != NULL)
            c->request_id = env->context->request_id;
        if (env->context->credential != NULL && env->context->credential[0] != '\0')
            c->credential = env->context->credential;
        if (env->context->has_timeout_ms && env->context->timeout_ms > 0)
            c->deadline_ns = c->start_ns + (int64_t)env->context->timeout_ms * 1000000;
    }
    c->method = rpc_method_find(env->method, strlen(env->method));
    if (c->method == NULL) {
        char q[160];
        roster_fail(&d, ROSTER_E_UNIMPLEMENTED, "method", "unknown method %s",
                    roster_log_quote(q, sizeof q, env->method));
        call_send_status(c, ROSTER_E_UNIMPLEMENTED, &d);
        return;
    }
    ProtobufCMessage *req = NULL;
    if (env->has_body)
        err = rpc_wire_scan(c->method->request, env->body.data, env->body.len, &d);
    if (err == ROSTER_E_OK)
        err = rpc_body_decode(&req, &c->arena, c->method->request,
                              env->has_body ? env->body.data : NULL,
                              env->has_body ? env->body.len : 0, &d);
    if (err) {
        call_send_status(c, err, &d);
        return;
    }
    c->request = req;
    if (roster_log_enabled(ROSTER_LOG_DEBUG)) {
        char q[96];
        roster_log(ROSTER_LOG_DEBUG, "rpc_request", "method=%s request_id=%s",
                   c->method->short_name, roster_log_quote(q, sizeof q, c->request_id));
    }
    s->opts.handler(s->opts.arg, c);
}

static void call_dispatch(rpc_call *c, nng_msg *msg)
{
    c->pipe = nng_msg_get_pipe(msg);
    call_dispatch_bytes(c, nng_msg_body(msg), nng_msg_len(msg), msg);
}

/* An in-process call: the call and a server of its own (no socket; its
 * lock, counters and options are what the dispatch path reads). */
typedef struct local_call {
    rpc_server srv;
    rpc_call call;
} local_call;

/* Frees an in-process call, then hands its reply (NULL: none) over:
 * nothing of the call is left once `done` runs, so a caller waiting for
 * it sees every allocation of the call released. */
static void local_finish(rpc_call *c, nng_msg *reply)
{
    local_call *l = (local_call *)(void *)((char *)c - offsetof(local_call, call));
    uint8_t *copy = NULL;
    size_t len = 0;
    if (reply != NULL) {
        len = nng_msg_len(reply);
        if ((copy = malloc(len ? len : 1)) != NULL)
            memcpy(copy, nng_msg_body(reply), len);
        else
            len = 0;
        nng_msg_free(reply);
        if (l->srv.opts.observer != NULL)
            l->srv.opts.observer(l->srv.opts.arg, c->method, c->code,
                                 roster_mono_ns() - c->start_ns);
    }
    rpc_local_done_fn done = c->local_done;
    void *arg = c->local_arg;
    roster_arena_free(&c->arena);
    pthread_mutex_destroy(&l->srv.mu);
    pthread_cond_destroy(&l->srv.cv);
    free(l);
    done(arg, copy, len);
}

int rpc_local_call(const rpc_server_options *opts, const void *buf, size_t len,
                   rpc_local_done_fn done, void *done_arg)
{
    local_call *l = calloc(1, sizeof *l);
    if (l == NULL)
        return ROSTER_E_NOMEM;
    l->srv.opts = *opts;
    l->srv.opts.url = NULL;
    pthread_mutex_init(&l->srv.mu, NULL);
    pthread_cond_init(&l->srv.cv, NULL);
    rpc_call *c = &l->call;
    c->srv = &l->srv;
    c->local_done = done;
    c->local_arg = done_arg;
    roster_arena_init(&c->arena, 8192, ROSTER_MAX_CALL_ARENA);
    call_dispatch_bytes(c, buf, len, NULL);
    return ROSTER_E_OK;
}

static void call_cb(void *arg)
{
    rpc_call *c = arg;
    rpc_server *s = c->srv;
    int rv = nng_aio_result(c->aio);
    if (c->state == ST_SEND) {
        if (rv != 0)
            nng_msg_free(nng_aio_get_msg(c->aio));
        if (s->opts.observer != NULL)
            s->opts.observer(s->opts.arg, c->method, c->code, roster_mono_ns() - c->start_ns);
        atomic_fetch_sub(&s->in_flight, 1);
        call_recv(c);
        return;
    }
    if (rv != 0) {
        if (rv != NNG_ECLOSED && rv != NNG_ECANCELED)
            roster_log(ROSTER_LOG_WARN, "rpc_recv_failed", "error=\"%s\"", nng_strerror(rv));
        if (rv == NNG_ECLOSED) {
            pthread_mutex_lock(&s->mu);
            c->state = ST_STOPPED;
            s->stopped++;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            return;
        }
        call_recv(c);
        return;
    }
    call_dispatch(c, nng_aio_get_msg(c->aio));
}

static int translate_listen_error(int rv, const char *url, roster_err_detail *d)
{
    int err = (rv == NNG_EADDRINUSE || rv == NNG_EADDRINVAL || rv == NNG_EPERM)
                  ? ROSTER_E_UNAVAILABLE
                  : ROSTER_E_INVALID_ARGUMENT;
    if (rv == NNG_ENOMEM)
        err = ROSTER_E_NOMEM;
    return roster_fail(d, err, "listen", "cannot listen on %s: %s", url, nng_strerror(rv));
}

/* Creates and starts a listener on s->url with the server's options:
 * RECVMAXSZ, the TLS configuration, the ipc socket file mode. */
static int listener_open(nng_listener *out, rpc_server *s, roster_err_detail *detail)
{
    nng_listener l;
    int rv;
    if ((rv = nng_listener_create(&l, s->sock, s->url)) != 0)
        return translate_listen_error(rv, s->url, detail);
    nng_listener_set_size(l, NNG_OPT_RECVMAXSZ, ROSTER_MAX_RPC_MESSAGE);
    if (s->tls != NULL) {
        if ((rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, s->tls)) != 0) {
            nng_listener_close(l);
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tlsCert",
                               "cannot apply TLS configuration: %s", nng_strerror(rv));
        }
    } else if (strncmp(s->url, "ipc://", 6) == 0) {
        if ((rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, s->ipc_mode)) != 0) {
            nng_listener_close(l);
            return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ipcMode",
                               "cannot set ipc socket mode %o: %s", (unsigned)s->ipc_mode,
                               nng_strerror(rv));
        }
    }
    if ((rv = nng_listener_start(l, 0)) != 0) {
        nng_listener_close(l);
        return translate_listen_error(rv, s->url, detail);
    }
    *out = l;
    return ROSTER_E_OK;
}

/* The guard's restore: closing a listener in nng 1.5.2 also closes the
 * connections it accepted (their req0 clients redial and resend what was
 * unanswered), so first give the calls in flight up to 500 ms to be
 * answered; a request whose reply went out is then never run twice. */
static int listener_restore(void *arg)
{
    rpc_server *s = arg;
    roster_err_detail d = {{0}};
    int64_t end = roster_mono_ns() + 500 * 1000000LL;
    while (atomic_load(&s->in_flight) > 0 && roster_mono_ns() < end) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    /* Clients whose connections the close drops redial within
     * milliseconds; one that reaches the old ipc socket before nng has
     * let go of it is left waiting for nng's 10-second handshake timeout.
     * Removing the socket file first makes such a dial fail at once
     * (ENOENT), and the client dials again once the new listener is up. */
    if (strncmp(s->url, "ipc://", 6) == 0)
        unlink(s->url + 6);
    nng_listener_close(s->listener);
    int err = ROSTER_E_UNAVAILABLE;
    /* The address is free again at once; retry briefly in case not. */
    for (int i = 0; i < 20; i++) {
        if ((err = listener_open(&s->listener, s, &d)) == ROSTER_E_OK)
            break;
        struct timespec ts = {0, 25 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (err == ROSTER_E_OK)
        atomic_fetch_add(&s->restores, 1);
    if (err != ROSTER_E_OK) {
        char q[300];
        roster_log(ROSTER_LOG_ERROR, "listen_failed", "listen=%s error=%s reason=%s", s->url,
                   roster_errname(err), roster_log_quote(q, sizeof q, d.message));
    }
    return err;
}

static void on_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    rpc_server *s = arg;
    if (ev == NNG_PIPE_EV_ADD_POST)
        atomic_fetch_add(&s->pipes_added, 1);
    else
        atomic_fetch_add(&s->pipes_removed, 1);
}

static uint64_t pipes_removed(void *arg)
{
    return atomic_load(&((rpc_server *)arg)->pipes_removed);
}

static uint64_t pipes_added(void *arg)
{
    return atomic_load(&((rpc_server *)arg)->pipes_added);
}

uint64_t rpc_server_listener_restores(const rpc_server *s)
{
    return s == NULL ? 0 : atomic_load(&((rpc_server *)s)->restores);
}

int rpc_server_start(rpc_server **out, const rpc_server_options *opts, roster_err_detail *detail)
{
    int err;
    int rv;
    if (opts == NULL || opts->url == NULL || opts->handler == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "listen", "no address to listen on");
    rpc_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ROSTER_E_NOMEM;
    s->opts = *opts;
    s->opts.url = NULL;
    s->opts.tls_cert = s->opts.tls_key = NULL;
    s->ipc_mode = opts->ipc_mode ? opts->ipc_mode : 0600;
    s->n_calls = opts->contexts ? opts->contexts : 64;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->replying, 0);
    atomic_init(&s->restores, 0);
    atomic_init(&s->pipes_added, 0);
    atomic_init(&s->pipes_removed, 0);
    if (opts->ipc_mode < 0 || opts->ipc_mode > 0777) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "ipcMode",
                          "ipc socket mode must be an octal mode from 0 to 0777, not %o",
                          (unsigned)opts->ipc_mode);
        goto fail;
    }
    if ((s->url = strdup(opts->url)) == NULL) {
        err = ROSTER_E_NOMEM;
        goto fail;
    }
    s->calls = calloc(s->n_calls, sizeof *s->calls);
    if (s->calls == NULL) {
        err = ROSTER_E_NOMEM;
        goto fail;
    }
    if ((rv = nng_rep0_open(&s->sock)) != 0) {
        err = roster_fail(detail, ROSTER_E_INTERNAL, "", "cannot open rep0 socket: %s",
                          nng_strerror(rv));
        goto fail;
    }
    s->open = true;
    nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, ROSTER_MAX_RPC_MESSAGE);
    if ((rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_POST, on_pipe_event, s)) != 0 ||
        (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, on_pipe_event, s)) != 0) {
        err = roster_fail(detail, ROSTER_E_INTERNAL, "", "cannot watch connections: %s",
                          nng_strerror(rv));
        goto fail;
    }
    if (strncmp(opts->url, "tls+", 4) == 0) {
        if (opts->tls_cert == NULL || opts->tls_key == NULL) {
            err =
                roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "tlsCert",
                            "%s needs a certificate and a key (--tls-cert, --tls-key)", opts->url);
            goto fail;
        }
        if ((err = rpc_tls_server_config(&s->tls, opts->tls_cert, opts->tls_key, detail)) != 0)
            goto fail;
    }
    for (unsigned i = 0; i < s->n_calls; i++) {
        rpc_call *c = &s->calls[i];
        c->srv = s;
        c->state = ST_IDLE;
        roster_arena_init(&c->arena, 8192, ROSTER_MAX_CALL_ARENA);
        if ((rv = nng_ctx_open(&c->ctx, s->sock)) != 0 ||
            (rv = nng_aio_alloc(&c->aio, call_cb, c)) != 0) {
            err = ROSTER_E_NOMEM;
            goto fail;
        }
    }
    if ((err = listener_open(&s->listener, s, detail)) != 0)
        goto fail;
    for (unsigned i = 0; i < s->n_calls; i++)
        call_recv(&s->calls[i]);
    if (opts->listener_check_ms > 0) {
        rpc_listener_guard_options go = {.url = s->url,
                                         .period_ms = opts->listener_check_ms,
                                         .timeout_ms = 0,
                                         .accepted = pipes_added,
                                         .removed = pipes_removed,
                                         .restore = listener_restore,
                                         .arg = s};
        if ((err = rpc_listener_guard_start(&s->guard, &go, detail)) != 0)
            goto fail;
    }
    *out = s;
    return ROSTER_E_OK;
fail:
    rpc_server_free(s);
    return err;
}

unsigned rpc_server_stop(rpc_server *s, unsigned grace_ms)
{
    if (s == NULL || !s->open)
        return 0;
    pthread_mutex_lock(&s->mu);
    void (*on_stop)(void *) = s->on_stop;
    void *on_stop_arg = s->on_stop_arg;
    pthread_mutex_unlock(&s->mu);
    if (on_stop)
        on_stop(on_stop_arg);
    rpc_listener_guard_free(s->guard);
    s->guard = NULL;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    int64_t end = roster_mono_ns() + (int64_t)grace_ms * 1000000;
    unsigned left = 0;
    for (;;) {
        unsigned idle_in_recv = 0;
        left = 0;
        for (unsigned i = 0; i < s->n_calls; i++) {
            rpc_call *c = &s->calls[i];
            if (c->state == ST_RECV) {
                idle_in_recv++;
                nng_aio_cancel(c->aio);
            } else if (c->state == ST_BUSY || c->state == ST_SEND) {
                left++;
            }
        }
        if (idle_in_recv == 0 && left == 0)
            break;
        if (roster_mono_ns() >= end)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    wait_replying(s);
    return left;
}

void rpc_server_free(rpc_server *s)
{
    if (s == NULL)
        return;
    bool stuck = rpc_listener_guard_reaper_stuck(s->guard);
    rpc_listener_guard_free(s->guard);
    s->guard = NULL;
    if (s->open) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_mutex_unlock(&s->mu);
        wait_replying(s);
        if (!roster_nng_close_bounded(s->sock, 2000)) {
            /* Everything stays allocated: nng may still reach it. Meant
             * for a process on its way out. */
            roster_log(ROSTER_LOG_ERROR, "socket_close_stuck",
                       "reason=\"nng_close did not return within 2 s (nng 1.5.2, upstream "
                       "#1813)\" reaper_stuck_seen=%s",
                       stuck ? "true" : "false");
            return;
        }
    }
    if (s->calls != NULL) {
        for (unsigned i = 0; i < s->n_calls; i++) {
            rpc_call *c = &s->calls[i];
            if (c->aio != NULL)
                nng_aio_free(c->aio);
            roster_arena_free(&c->arena);
        }
        free(s->calls);
    }
    if (s->tls != NULL)
        nng_tls_config_free(s->tls);
    free(s->url);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
