#include "rpc_client.h"

#include "arena.h"
#include "clock.h"
#include "log.h"
#include "nng_close.h"
#include "nng_gate.h"
#include "nng_redial.h"
#include "roster_limits.h"
#include "pipe_set.h"
#include "rpc_envelope.h"
#include "rpc_tls.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A disconnected client fails calls quickly after this long without any
 * connection (before that, calls wait for the dial in progress). */
#define UNAVAILABLE_AFTER_NS (1000 * 1000000LL)
/* How long a call waits for a connection once there has been none for
 * UNAVAILABLE_AFTER_NS. */
#define NO_CONNECTION_WAIT_MS 100
/* How long a retry waits for a connection to come back before the call
 * ends UNAVAILABLE (within its deadline): a service that restarts or
 * re-creates its listener is back well within it, one that stopped is
 * not waited for until the deadline. */
#define RETRY_CONNECT_MS 2000
/* Extra wait beyond the deadline sent to the service, so that the
 * service's own DEADLINE_EXCEEDED reply (it stops work at the deadline)
 * arrives before the local timer fires. */
#define DEADLINE_GRACE_MS 50
/* The longest a close waits for nng_close (nng_close.h). */
#define CLOSE_BOUND_MS 2000

enum slot_state { SL_FREE, SL_SEND, SL_RECV, SL_FAIL };

typedef struct slot slot;
struct slot {
    rpc_client *cl;
    nng_ctx ctx;
    nng_aio *aio;
    /* Separate aio for failing a call without sending it: nng 1.5's
     * nng_sleep_aio leaves its aio marked as sleeping, so a later timeout on
     * that aio would complete with success instead of NNG_ETIMEDOUT. */
    nng_aio *fail_aio;
    nng_msg *resend; /* idempotent methods: a copy of the request for one retry */
    roster_arena arena;
    slot *next_free;
    enum slot_state state;
    const rpc_method *method;
    bool keep_bytes; /* the reply body is handed over as bytes, not unpacked */
    rpc_client_cb cb;
    void *arg;
    int64_t start_ns;
    int64_t end_ns;  /* local deadline */
    int64_t sent_ms; /* when the request last went out (roster_mono_ns in ms) */
    int fail_err;
    const char *fail_msg;
};

struct rpc_client {
    nng_socket sock;
    roster_redialer redial;
    bool open;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot *free_list;
    slot **all;
    size_t n_all, cap_all;
    unsigned busy;
    bool closing;
    /* Every nng_ctx_send/recv goes through it; close shuts it before
     * closing the socket (nng_gate.h says why). */
    roster_nng_gate gate;
    atomic_ullong retries;         /* idempotent calls sent again after a reset */
    atomic_ullong silent_closed;   /* silent connections closed (pipe_set.h) */
    roster_pipe_set pipes;         /* open connections (counted by id: pipe_set.h) */
    _Atomic int64_t down_since_ns; /* when the last connection went (or open) */
    uint32_t default_timeout_ms;
    char *credential; /* sent when a call gives none; owned, wiped at close */
    atomic_ullong seq;
};

static void slot_cb(void *arg);
static void slot_fail_cb(void *arg);

static int slot_new(slot **out, rpc_client *cl)
{
    slot *s = calloc(1, sizeof *s);
    if (s == NULL)
        return ROSTER_E_NOMEM;
    s->cl = cl;
    roster_arena_init(&s->arena, 4096, 0);
    if (nng_ctx_open(&s->ctx, cl->sock) != 0 || nng_aio_alloc(&s->aio, slot_cb, s) != 0 ||
        nng_aio_alloc(&s->fail_aio, slot_fail_cb, s) != 0) {
        nng_aio_free(s->aio);
        nng_aio_free(s->fail_aio);
        free(s);
        return ROSTER_E_NOMEM;
    }
    *out = s;
    return ROSTER_E_OK;
}

/* Takes a free slot (making one if none), under cl->mu. */
static int slot_take(slot **out, rpc_client *cl)
{
    int err = ROSTER_E_OK;
    pthread_mutex_lock(&cl->mu);
    if (cl->closing) {
        err = ROSTER_E_CLOSED;
        goto done;
    }
    slot *s = cl->free_list;
    if (s != NULL) {
        cl->free_list = s->next_free;
    } else {
        if (cl->n_all == cl->cap_all) {
            size_t cap = cl->cap_all ? cl->cap_all * 2 : 64;
            slot **all = realloc(cl->all, cap * sizeof *all);
            if (all == NULL) {
                err = ROSTER_E_NOMEM;
                goto done;
            }
            cl->all = all;
            cl->cap_all = cap;
        }
        if ((err = slot_new(&s, cl)) != 0)
            goto done;
        cl->all[cl->n_all++] = s;
    }
    cl->busy++;
    *out = s;
done:
    pthread_mutex_unlock(&cl->mu);
    return err;
}

static void slot_release(slot *s)
{
    rpc_client *cl = s->cl;
    roster_arena_reset(&s->arena);
    pthread_mutex_lock(&cl->mu);
    s->state = SL_FREE;
    s->next_free = cl->free_list;
    cl->free_list = s;
    cl->busy--;
    if (cl->busy == 0)
        pthread_cond_broadcast(&cl->cv);
    pthread_mutex_unlock(&cl->mu);
}

static void slot_finish(slot *s, rpc_result *res)
{
    nng_msg_free(s->resend);
    s->resend = NULL;
    res->method = s->method;
    res->err = roster_err_from_status(res->code);
    if (res->message == NULL)
        res->message = "";
    res->elapsed_ns = roster_mono_ns() - s->start_ns;
    s->cb(s->arg, res);
    slot_release(s);
}

static void slot_fail(slot *s, int err, const char *message)
{
    rpc_result res = {0};
    res.code = roster_err_to_status(err);
    res.message = message;
    slot_finish(s, &res);
}

/* Maps an nng failure of a call in flight to a status. */
static void slot_fail_nng(slot *s, int rv)
{
    rpc_client *cl = s->cl;
    if (rv == NNG_ETIMEDOUT) {
        if (roster_pipe_set_count(&cl->pipes) == 0)
            slot_fail(s, ROSTER_E_UNAVAILABLE, "service unavailable: no connection");
        else
            slot_fail(s, ROSTER_E_DEADLINE_EXCEEDED, "deadline exceeded: no reply in time");
    } else if (rv == NNG_ECLOSED) {
        slot_fail(s, ROSTER_E_UNAVAILABLE, "client closed");
    } else if (rv == NNG_ECONNRESET && (s->method == NULL || s->method->writes)) {
        slot_fail(s, ROSTER_E_UNAVAILABLE,
                  "service unavailable: connection lost before the reply; the outcome of this "
                  "write is unknown");
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "service unavailable: %s", nng_strerror(rv));
        slot_fail(s, ROSTER_E_UNAVAILABLE, msg);
    }
}

static int64_t now_ms(void)
{
    return roster_mono_ns() / 1000000;
}

/* A call got no reply in time: when the calls so far show the connection
 * silent (pipe_set.h), closes it so that nng dials again; the calls
 * waiting on it end as on any reset. nng_pipe_close does not block and
 * may be called from a completion; the gate keeps it off a closing
 * socket. */
static void close_if_silent(slot *s)
{
    rpc_client *cl = s->cl;
    uint32_t ids[4];
    size_t n = roster_pipe_set_unanswered(&cl->pipes, s->sent_ms, now_ms(), ids, 4);
    if (n == 0 || !roster_nng_gate_enter(&cl->gate))
        return;
    for (size_t i = 0; i < n; i++) {
        nng_pipe p = NNG_PIPE_INITIALIZER;
        p.id = ids[i];
        if (nng_pipe_close(p) == 0)
            atomic_fetch_add(&cl->silent_closed, 1);
    }
    roster_nng_gate_leave(&cl->gate);
    roster_log(ROSTER_LOG_WARN, "upstream_silent_connection",
               "closed=%zu reason=\"calls unanswered for %d ms with no reply at all; dialling "
               "again (nng 1.5.2, upstream #1518)\"",
               n, ROSTER_PIPE_SET_SILENCE_MS);
}

/* A call failed for want of a working connection: when the client has
 * been without one too long (pipe_set.h), replaces its dialer, for nng may
 * never dial again with the old one (on a thread of its own: nng_redial.h
 * says why). */
static void redial_if_due(rpc_client *cl)
{
    if (!roster_pipe_set_redial_due(&cl->pipes, now_ms()) || !roster_redialer_start(&cl->redial))
        return;
    roster_log(ROSTER_LOG_WARN, "upstream_redial",
               "reason=\"no working connection for %d ms; dialling with a new dialer (nng 1.5.2 "
               "may never redial a lost one)\"",
               ROSTER_PIPE_SET_REDIAL_MS);
}

static nng_duration remaining_ms(const slot *s)
{
    int64_t left = s->end_ns - roster_mono_ns();
    if (left <= 0)
        return 1;
    return (nng_duration)((left + 999999) / 1000000);
}

/* Posts a send (or a receive) on the slot's context through the client's
 * gate: false, with nothing posted, once the client is closing. A send
 * completion posts the receive and a failed receive may post the send
 * again (below), both on nng's threads; the gate keeps close from freeing
 * the socket under them (nng_gate.h). nng finishes aios on its task
 * threads, never inside nng_ctx_send/recv, so the gate never waits on a
 * callback. */
static bool slot_post(slot *s, bool send)
{
    if (!roster_nng_gate_enter(&s->cl->gate))
        return false;
    if (send)
        nng_ctx_send(s->ctx, s->aio);
    else
        nng_ctx_recv(s->ctx, s->aio);
    roster_nng_gate_leave(&s->cl->gate);
    return true;
}

/* Sends `msg` (consumed), waiting for a connection at most `wait_ms` and
 * never past the slot's deadline; false when closing. */
static bool slot_send(slot *s, nng_msg *msg, nng_duration wait_ms)
{
    nng_duration left = remaining_ms(s);
    s->state = SL_SEND;
    s->sent_ms = now_ms(); /* until the send completes: when it was posted */
    nng_aio_set_msg(s->aio, msg);
    nng_aio_set_timeout(s->aio, wait_ms < left ? wait_ms : left);
    if (slot_post(s, true))
        return true;
    nng_aio_set_msg(s->aio, NULL);
    nng_msg_free(msg);
    return false;
}

/* The request to send again after the receive failed with `rv`: the kept
 * copy, once, when the connection was reset before the reply (req0 with
 * its resend timer off reports NNG_ECONNRESET) and the deadline has time
 * left; else NULL. Timeouts and error replies are never retried. */
static nng_msg *slot_retry_take(slot *s, int rv)
{
    if (rv != NNG_ECONNRESET || s->resend == NULL || roster_mono_ns() >= s->end_ns)
        return NULL;
    nng_msg *m = s->resend;
    s->resend = NULL;
    atomic_fetch_add(&s->cl->retries, 1);
    return m;
}

static void slot_cb(void *arg)
{
    slot *s = arg;
    int rv = nng_aio_result(s->aio);
    switch (s->state) {
    case SL_SEND:
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(s->aio));
            nng_aio_set_msg(s->aio, NULL);
            redial_if_due(s->cl);
            /* Connections open but none took the request in time: req0
             * waits for a pipe whose previous send has finished, which a
             * connection nothing reads may never do (pipe_set.h). */
            if (rv == NNG_ETIMEDOUT && roster_pipe_set_count(&s->cl->pipes) > 0)
                close_if_silent(s);
            if (rv == NNG_ETIMEDOUT && roster_mono_ns() < s->end_ns)
                slot_fail(s, ROSTER_E_UNAVAILABLE, "service unavailable: no connection");
            else
                slot_fail_nng(s, rv);
            return;
        }
        s->state = SL_RECV;
        s->sent_ms = now_ms();
        nng_aio_set_timeout(s->aio, remaining_ms(s));
        if (!slot_post(s, false))
            slot_fail(s, ROSTER_E_UNAVAILABLE, "client closed");
        return;
    case SL_RECV: {
        if (rv == NNG_ETIMEDOUT)
            close_if_silent(s);
        if (rv != 0) {
            redial_if_due(s->cl);
            nng_msg *again = slot_retry_take(s, rv);
            if (again == NULL)
                slot_fail_nng(s, rv);
            else if (!slot_send(s, again, RETRY_CONNECT_MS))
                slot_fail(s, ROSTER_E_UNAVAILABLE, "client closed");
            return;
        }
        roster_pipe_set_replied(&s->cl->pipes, now_ms());
        nng_msg *msg = nng_aio_get_msg(s->aio);
        nng_aio_set_msg(s->aio, NULL);
        Roster__V1__RpcReply *reply = NULL;
        roster_err_detail d = {{0}};
        int err = rpc_reply_decode(&reply, &s->arena, nng_msg_body(msg), nng_msg_len(msg), &d);
        nng_msg_free(msg);
        if (err) {
            slot_fail(s, ROSTER_E_INTERNAL, d.message);
            return;
        }
        rpc_result res = {0};
        res.code = reply->code;
        res.message = reply->message;
        res.n_violations = reply->n_violations;
        res.violations = reply->violations;
        if (reply->code == ROSTER_STATUS_OK && reply->has_body) {
            res.body = reply->body.data;
            res.body_len = reply->body.len;
        }
        if (reply->code == ROSTER_STATUS_OK && s->method != NULL && !s->keep_bytes) {
            ProtobufCMessage *m = NULL;
            if (rpc_body_decode(&m, &s->arena, s->method->reply, res.body, res.body_len, &d)) {
                slot_fail(s, ROSTER_E_INTERNAL, d.message);
                return;
            }
            res.reply = m;
        }
        slot_finish(s, &res);
        return;
    }
    case SL_FREE:
    case SL_FAIL:
        return;
    }
}

static void slot_fail_cb(void *arg)
{
    slot *s = arg;
    slot_fail(s, s->fail_err, s->fail_msg);
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    rpc_client *cl = arg;
    uint32_t id = (uint32_t)nng_pipe_id(p);
    if (ev == NNG_PIPE_EV_ADD_POST) {
        roster_pipe_set_added(&cl->pipes, id, now_ms());
    } else if (ev == NNG_PIPE_EV_REM_POST) {
        if (roster_pipe_set_removed(&cl->pipes, id, now_ms()) == 0)
            atomic_store(&cl->down_since_ns, roster_mono_ns());
    }
}

int rpc_client_open(rpc_client **out, const char *url, const rpc_client_options *opts,
                    roster_err_detail *detail)
{
    rpc_client_options o = {0};
    if (opts != NULL)
        o = *opts;
    int err;
    int rv;
    nng_dialer dialer;
    nng_tls_config *tls = NULL;
    if (url == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "url", "no service address");
    rpc_client *cl = calloc(1, sizeof *cl);
    if (cl == NULL)
        return ROSTER_E_NOMEM;
    pthread_mutex_init(&cl->mu, NULL);
    pthread_cond_init(&cl->cv, NULL);
    roster_nng_gate_init(&cl->gate);
    atomic_init(&cl->retries, 0);
    atomic_init(&cl->silent_closed, 0);
    roster_pipe_set_init(&cl->pipes);
    atomic_init(&cl->down_since_ns, roster_mono_ns());
    atomic_init(&cl->seq, 0);
    cl->default_timeout_ms = o.default_timeout_ms ? o.default_timeout_ms : 30000;
    if (o.credential != NULL && (cl->credential = strdup(o.credential)) == NULL) {
        err = ROSTER_E_NOMEM;
        goto fail;
    }
    if ((rv = nng_req0_open(&cl->sock)) != 0) {
        err = ROSTER_E_NOMEM;
        goto fail;
    }
    cl->open = true;
    nng_socket_set_size(cl->sock, NNG_OPT_RECVMAXSZ, ROSTER_MAX_REPLY);
    nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMINT, o.reconnect_min_ms ? o.reconnect_min_ms : 50);
    nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMAXT, o.reconnect_max_ms ? o.reconnect_max_ms : 1000);
    /* A request is resent only when its connection drops (handled by req0
     * itself); never merely because the service is slow, since writes are
     * not idempotent. */
    nng_socket_set_ms(cl->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    nng_pipe_notify(cl->sock, NNG_PIPE_EV_ADD_POST, pipe_event, cl);
    nng_pipe_notify(cl->sock, NNG_PIPE_EV_REM_POST, pipe_event, cl);
    if ((rv = nng_dialer_create(&dialer, cl->sock, url)) != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "url", "cannot dial %s: %s", url,
                          nng_strerror(rv));
        goto fail;
    }
    if (strncmp(url, "tls+", 4) == 0) {
        if ((err = rpc_tls_client_config(&tls, o.tls_ca_file, o.tls_server_name, detail)) != 0)
            goto fail;
        rv = nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, tls);
        nng_tls_config_free(tls);
        if (rv != 0) {
            err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "url",
                              "cannot apply TLS configuration: %s", nng_strerror(rv));
            goto fail;
        }
    }
    roster_redialer_init(&cl->redial, cl->sock, dialer, &cl->gate);
    if ((rv = nng_dialer_start(dialer, NNG_FLAG_NONBLOCK)) != 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "url", "cannot dial %s: %s", url,
                          nng_strerror(rv));
        goto fail;
    }
    unsigned n = o.contexts ? o.contexts : 64;
    for (unsigned i = 0; i < n; i++) {
        slot *s;
        if ((err = slot_take(&s, cl)) != 0)
            goto fail;
        slot_release(s);
    }
    *out = cl;
    return ROSTER_E_OK;
fail:
    rpc_client_close(cl);
    return err;
}

void rpc_client_close(rpc_client *cl)
{
    if (cl == NULL)
        return;
    pthread_mutex_lock(&cl->mu);
    cl->closing = true;
    pthread_mutex_unlock(&cl->mu);
    roster_nng_gate_close(&cl->gate);
    /* nng 1.5.2's reaper may be stuck for good (docs/client.md): then the
     * socket is left open, and the client with it, since nng may still
     * reach its slots and its pipe set. */
    if (cl->open && !roster_nng_close_bounded(cl->sock, CLOSE_BOUND_MS))
        return;
    pthread_mutex_lock(&cl->mu);
    while (cl->busy > 0)
        pthread_cond_wait(&cl->cv, &cl->mu);
    pthread_mutex_unlock(&cl->mu);
    for (size_t i = 0; i < cl->n_all; i++) {
        nng_aio_free(cl->all[i]->aio);
        nng_aio_free(cl->all[i]->fail_aio);
        roster_arena_free(&cl->all[i]->arena);
        free(cl->all[i]);
    }
    free(cl->all);
    pthread_mutex_destroy(&cl->mu);
    pthread_cond_destroy(&cl->cv);
    roster_nng_gate_destroy(&cl->gate);
    roster_pipe_set_fini(&cl->pipes);
    if (cl->credential != NULL) {
        memset(cl->credential, 0, strlen(cl->credential));
        free(cl->credential);
    }
    free(cl);
}

bool rpc_client_connected(const rpc_client *c)
{
    return roster_pipe_set_count(&((rpc_client *)c)->pipes) > 0;
}

uint64_t rpc_client_retries(const rpc_client *c)
{
    return c == NULL ? 0 : atomic_load(&((rpc_client *)c)->retries);
}

uint64_t rpc_client_silent_closes(const rpc_client *c)
{
    return c == NULL ? 0 : atomic_load(&((rpc_client *)c)->silent_closed);
}

uint64_t rpc_client_redials(const rpc_client *c)
{
    return c == NULL ? 0 : roster_redialer_count(&c->redial);
}

/* Starts the exchange for a packed request in `msg` (ownership passes). */
static void slot_start(slot *s, nng_msg *msg, uint32_t timeout_ms)
{
    rpc_client *cl = s->cl;
    s->start_ns = roster_mono_ns();
    s->end_ns = s->start_ns + ((int64_t)timeout_ms + DEADLINE_GRACE_MS) * 1000000;
    /* Without a connection for a while, a call waits only briefly for
     * one, so callers learn at once that the service is down. It is
     * still sent: should nng have a connection the count missed, the
     * call goes through and the client cannot stay stuck refusing. */
    nng_duration wait = remaining_ms(s);
    if (roster_pipe_set_count(&cl->pipes) == 0 &&
        s->start_ns - atomic_load(&cl->down_since_ns) > UNAVAILABLE_AFTER_NS &&
        wait > NO_CONNECTION_WAIT_MS)
        wait = NO_CONNECTION_WAIT_MS;
    /* An idempotent read keeps a copy for one retry (without memory for it,
     * the call goes without); writes, RevokeKey included, never do. */
    s->resend = NULL;
    if (s->method != NULL && !s->method->writes && s->method->idempotent &&
        nng_msg_dup(&s->resend, msg) != 0)
        s->resend = NULL;
    if (!slot_send(s, msg, wait)) {
        /* Closing since the slot was taken: fail it on the fail aio, so
         * the callback still runs on an nng thread, never in the call. */
        nng_msg_free(s->resend);
        s->resend = NULL;
        s->state = SL_FAIL;
        s->fail_err = ROSTER_E_UNAVAILABLE;
        s->fail_msg = "client closed";
        nng_sleep_aio(0, s->fail_aio);
    }
}

static int call_common(rpc_client *cl, const rpc_method *m, const char *method_name,
                       const void *body, size_t body_len, uint32_t timeout_ms,
                       const char *credential, const char *request_id, bool keep_bytes,
                       rpc_client_cb cb, void *arg)
{
    if (cl == NULL || cb == NULL || method_name == NULL)
        return ROSTER_E_INVALID_ARGUMENT;
    if (body_len > ROSTER_MAX_RPC_MESSAGE)
        return ROSTER_E_TOO_LARGE;
    if (timeout_ms == 0)
        timeout_ms = cl->default_timeout_ms;
    if (credential == NULL)
        credential = cl->credential;
    char rid[48];
    if (request_id == NULL) {
        snprintf(rid, sizeof rid, "%ld-%llu", (long)getpid(),
                 (unsigned long long)atomic_fetch_add(&cl->seq, 1) + 1);
        request_id = rid;
    }
    Roster__V1__RpcRequest env;
    Roster__V1__CallContext ctx;
    rpc_request_init(&env, &ctx, method_name, body, body_len, request_id, timeout_ms, credential);
    size_t n = roster__v1__rpc_request__get_packed_size(&env);
    if (n > ROSTER_MAX_RPC_MESSAGE)
        return ROSTER_E_TOO_LARGE;
    nng_msg *msg;
    if (nng_msg_alloc(&msg, n) != 0)
        return ROSTER_E_NOMEM;
    roster__v1__rpc_request__pack(&env, nng_msg_body(msg));
    slot *s;
    int err = slot_take(&s, cl);
    if (err) {
        nng_msg_free(msg);
        return err;
    }
    s->method = m;
    s->keep_bytes = keep_bytes;
    s->cb = cb;
    s->arg = arg;
    slot_start(s, msg, timeout_ms);
    return ROSTER_E_OK;
}

int rpc_client_call(rpc_client *c, rpc_method_id method, const ProtobufCMessage *request,
                    uint32_t timeout_ms, const char *credential, rpc_client_cb cb, void *arg)
{
    const rpc_method *m = rpc_method_get(method);
    if (m == NULL || request == NULL || request->descriptor != m->request)
        return ROSTER_E_INVALID_ARGUMENT;
    size_t n = protobuf_c_message_get_packed_size(request);
    if (n > ROSTER_MAX_RPC_MESSAGE)
        return ROSTER_E_TOO_LARGE;
    uint8_t stackbuf[1024];
    uint8_t *buf = n <= sizeof stackbuf ? stackbuf : malloc(n);
    if (buf == NULL)
        return ROSTER_E_NOMEM;
    protobuf_c_message_pack(request, buf);
    int err = call_common(c, m, m->name, buf, n, timeout_ms, credential, NULL, false, cb, arg);
    if (buf != stackbuf)
        free(buf);
    return err;
}

int rpc_client_call_raw(rpc_client *c, const char *method_name, const void *body, size_t body_len,
                        uint32_t timeout_ms, const char *credential, const char *request_id,
                        rpc_client_cb cb, void *arg)
{
    const rpc_method *m =
        method_name != NULL ? rpc_method_find(method_name, strlen(method_name)) : NULL;
    return call_common(c, m, method_name, body, body_len, timeout_ms, credential, request_id, false,
                       cb, arg);
}

int rpc_client_call_bytes(rpc_client *c, rpc_method_id method, const void *body, size_t body_len,
                          uint32_t timeout_ms, const char *credential, rpc_client_cb cb, void *arg)
{
    const rpc_method *m = rpc_method_get(method);
    if (m == NULL)
        return ROSTER_E_INVALID_ARGUMENT;
    return call_common(c, m, m->name, body, body_len, timeout_ms, credential, NULL, true, cb, arg);
}

int rpc_client_send_bytes(rpc_client *cl, const void *bytes, size_t len, uint32_t timeout_ms,
                          rpc_client_cb cb, void *arg)
{
    if (cl == NULL || cb == NULL)
        return ROSTER_E_INVALID_ARGUMENT;
    if (timeout_ms == 0)
        timeout_ms = cl->default_timeout_ms;
    nng_msg *msg;
    if (nng_msg_alloc(&msg, len) != 0)
        return ROSTER_E_NOMEM;
    if (len)
        memcpy(nng_msg_body(msg), bytes, len);
    slot *s;
    int err = slot_take(&s, cl);
    if (err) {
        nng_msg_free(msg);
        return err;
    }
    s->method = NULL;
    s->cb = cb;
    s->arg = arg;
    slot_start(s, msg, timeout_ms);
    return ROSTER_E_OK;
}

typedef struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int err;
    rpc_client_cb fn;
    void *arg;
} sync_wait;

static void sync_cb(void *arg, const rpc_result *res)
{
    sync_wait *w = arg;
    if (w->fn != NULL)
        w->fn(w->arg, res);
    pthread_mutex_lock(&w->mu);
    w->err = res->err;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int rpc_client_call_sync(rpc_client *c, rpc_method_id method, const ProtobufCMessage *request,
                         uint32_t timeout_ms, const char *credential, rpc_client_cb fn, void *arg)
{
    sync_wait w = {.done = false, .fn = fn, .arg = arg};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int err = rpc_client_call(c, method, request, timeout_ms, credential, sync_cb, &w);
    if (err == ROSTER_E_OK) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        err = w.err;
    }
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return err;
}
