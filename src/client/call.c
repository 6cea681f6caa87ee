#include "call.h"

#include <nng/protocol/reqrep0/req.h>
#include <pb_decode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "nng_redial.h"
#include "record.h"

enum { PHASE_IDLE, PHASE_SEND, PHASE_RECV };

/* What each reply message decodes into (the Reply column of the table). */
#define REPLY_KIND_User                    ROSTER_REPLY_USER
#define REPLY_KIND_Tenant                  ROSTER_REPLY_TENANT
#define REPLY_KIND_HealthResponse          ROSTER_REPLY_HEALTH
#define REPLY_KIND_StatsResponse           ROSTER_REPLY_STATS
#define REPLY_KIND_ListUsersResponse       ROSTER_REPLY_USERS
#define REPLY_KIND_ListTenantsResponse     ROSTER_REPLY_TENANTS
#define REPLY_KIND_BatchGetUsersResponse   ROSTER_REPLY_USER_BATCH
#define REPLY_KIND_BatchGetTenantsResponse ROSTER_REPLY_TENANT_BATCH
#define REPLY_KIND_ApiKey                  ROSTER_REPLY_MESSAGE
#define REPLY_KIND_KeySecret               ROSTER_REPLY_MESSAGE
#define REPLY_KIND_ListKeysResponse        ROSTER_REPLY_MESSAGE
#define REPLY_KIND_AccessToken             ROSTER_REPLY_MESSAGE
#define REPLY_KIND_Environment             ROSTER_REPLY_MESSAGE
#define REPLY_KIND_ListChangesResponse     ROSTER_REPLY_CHANGES
#define REPLY_KIND_DeleteUserResponse      ROSTER_REPLY_MESSAGE
#define REPLY_KIND_DeleteTenantResponse    ROSTER_REPLY_MESSAGE
#define REPLY_KIND_BulkWriteResponse       ROSTER_REPLY_BULK
/* WatchChanges' stream message; roster-users answers the method
 * UNIMPLEMENTED over nng (the client follows the feed with ListChanges). */
#define REPLY_KIND_Change ROSTER_REPLY_MESSAGE

/* The nanopb binding of ROSTER_METHOD_MAP (roster_methods.h). */
static const roster_client_method methods[RPC_METHOD__COUNT] = {
#define CLIENT_METHOD_ROW(id, Method, Request, request_snake, Reply, reply_snake, access, repeat,  \
                          auth, shape)                                                             \
    [RPC_##id] = {ROSTER_METHOD_PATH(Method),                                                      \
                  #Method,                                                                         \
                  roster_v1_##Request##_fields,                                                    \
                  roster_v1_##Reply##_fields,                                                      \
                  REPLY_KIND_##Reply,                                                              \
                  !ROSTER_METHOD_WRITES(access) && ROSTER_METHOD_IDEMPOTENT(repeat)},
    ROSTER_METHOD_MAP(CLIENT_METHOD_ROW)
#undef CLIENT_METHOD_ROW
};

const roster_client_method *roster_client_method_get(rpc_method_id id)
{
    if ((int)id < 0 || id >= RPC_METHOD__COUNT)
        return NULL;
    return &methods[id];
}

/* Why calls are pooled. Each roster_call is one req0 context with its aio
 * and its decode scratch (a User is about 20 KiB). They are made on first need and never
 * freed while the client is open: a finished call goes back to the free
 * list (last in, first out, so the warmest is reused) before its `done`
 * runs, and roster_call_pool_free releases them all after the socket has
 * closed. Freeing one from its own aio callback would deadlock (nng's
 * nng_aio_free and nng_ctx_close wait for that callback), and reuse is
 * what keeps the request path free of heap allocation. */
struct roster_call {
    roster_client *client;
    roster_call *next_free;
    roster_call *next_all;
    nng_ctx ctx;
    nng_aio *aio;
    int phase;
    bool sync;
    nng_time deadline;
    nng_time sent;   /* when the request last went out (posted, until its send completes) */
    nng_msg *resend; /* idempotent methods: a copy of the request for one retry */
    roster_call_spec spec;
    const roster_client_method *method; /* spec.method's entry */
    size_t index;                       /* records decoded so far */
    size_t nfound;                      /* found flags decoded so far */
    bool stopped;                       /* a streaming callback asked to stop */
    const char *decode_error;
    roster_done_fn done;
    void *done_arg;
    roster_status st;
    union {
        roster_v1_User user;
        roster_v1_Tenant tenant;
        roster_v1_HealthResponse health;
        roster_v1_StatsResponse stats;
        roster_v1_Change change;
    } scratch;
};

static void status_local(roster_status *st, int err, const char *why)
{
    st->err = err;
    st->code = -1;
    st->violation_count = 0;
    st->violations_total = 0;
    if (why != NULL)
        snprintf(st->message, sizeof st->message, "%s: %s", roster_strerror(err), why);
    else
        snprintf(st->message, sizeof st->message, "%s", roster_strerror(err));
}

static void call_cb(void *arg);
static void note_silence(roster_call *k);
static void redial_if_due(roster_client *c);

static void call_free(roster_call *k)
{
    if (k == NULL)
        return;
    if (k->aio != NULL)
        nng_aio_free(k->aio);
    nng_ctx_close(k->ctx);
    free(k);
}

static int call_new(roster_call **out, roster_client *c)
{
    int rv;
    roster_call *k = calloc(1, sizeof *k);
    if (k == NULL)
        return ROSTER_E_NOMEM;
    k->client = c;
    k->ctx = (nng_ctx)NNG_CTX_INITIALIZER;
    if ((rv = nng_ctx_open(&k->ctx, c->sock)) != 0)
        goto fail;
    /* A write must not be sent twice: no automatic resend. */
    if ((rv = nng_ctx_set_ms(k->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0)
        goto fail;
    if ((rv = nng_aio_alloc(&k->aio, call_cb, k)) != 0)
        goto fail;
    *out = k;
    return ROSTER_E_OK;
fail:
    call_free(k);
    return roster_err_from_nng(rv);
}

static int call_acquire(roster_call **out, roster_client *c)
{
    roster_call *k = NULL;
    int err;
    nng_mtx_lock(c->mtx);
    if (c->closing) {
        nng_mtx_unlock(c->mtx);
        return ROSTER_E_CLOSED;
    }
    if ((k = c->free_calls) != NULL) {
        c->free_calls = k->next_free;
        nng_mtx_unlock(c->mtx);
        *out = k;
        return ROSTER_E_OK;
    }
    nng_mtx_unlock(c->mtx);
    if ((err = call_new(&k, c)) != ROSTER_E_OK)
        return err;
    nng_mtx_lock(c->mtx);
    k->next_all = c->all_calls;
    c->all_calls = k;
    nng_mtx_unlock(c->mtx);
    *out = k;
    return ROSTER_E_OK;
}

static void call_release(roster_call *k)
{
    roster_client *c = k->client;
    k->phase = PHASE_IDLE;
    nng_mtx_lock(c->mtx);
    k->next_free = c->free_calls;
    c->free_calls = k;
    nng_mtx_unlock(c->mtx);
}

void roster_call_pool_free(roster_client *c)
{
    if (c == NULL)
        return;
    roster_call *k = c->all_calls;
    while (k != NULL) {
        roster_call *next = k->next_all;
        nng_aio_stop(k->aio);
        nng_msg_free(k->resend);
        call_free(k);
        k = next;
    }
    c->all_calls = NULL;
    c->free_calls = NULL;
}

/* ------------------------------------------------------------ reply bodies */

static bool decode_user_item(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    roster_call *k = *arg;
    const roster_call_spec *s = &k->spec;
    size_t i = k->index;
    bool batch = k->method->kind == ROSTER_REPLY_USER_BATCH;
    roster_v1_User *u = &k->scratch.user;

    if ((batch || s->user_fn == NULL) && i >= s->cap) {
        k->decode_error = batch ? "more records than requested ids" : "more records than fit";
        return false;
    }
    if (s->user_fn == NULL)
        u = &((roster_v1_User *)s->array)[i];
    if (!roster_record_decode_user(u, stream))
        return false;
    k->index++;
    if (s->user_fn != NULL && s->user_fn(s->fn_arg, i, u) != 0) {
        k->stopped = true;
        return false;
    }
    return true;
}

static bool decode_tenant_item(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    roster_call *k = *arg;
    const roster_call_spec *s = &k->spec;
    size_t i = k->index;
    bool batch = k->method->kind == ROSTER_REPLY_TENANT_BATCH;
    roster_v1_Tenant *t = &k->scratch.tenant;

    if ((batch || s->tenant_fn == NULL) && i >= s->cap) {
        k->decode_error = batch ? "more records than requested ids" : "more records than fit";
        return false;
    }
    if (s->tenant_fn == NULL)
        t = &((roster_v1_Tenant *)s->array)[i];
    if (!roster_record_decode_tenant(t, stream))
        return false;
    k->index++;
    if (s->tenant_fn != NULL && s->tenant_fn(s->fn_arg, i, t) != 0) {
        k->stopped = true;
        return false;
    }
    return true;
}

static bool decode_change_item(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    roster_call *k = *arg;
    roster_v1_Change *ch = &k->scratch.change;
    if (!pb_decode(stream, roster_v1_Change_fields, ch))
        return false;
    k->index++;
    if (k->spec.change_fn != NULL && k->spec.change_fn(k->spec.fn_arg, ch) != 0) {
        k->stopped = true;
        return false;
    }
    return true;
}

static bool decode_bulk_item(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    roster_call *k = *arg;
    const roster_call_spec *s = &k->spec;
    if (k->index >= s->cap) {
        k->decode_error = "more results than operations sent";
        return false;
    }
    roster_v1_BulkResult *r = &((roster_v1_BulkResult *)s->array)[k->index];
    if (!pb_decode(stream, roster_v1_BulkResult_fields, r))
        return false;
    k->index++;
    return true;
}

static bool decode_found(pb_istream_t *stream, const pb_field_t *field, void **arg)
{
    (void)field;
    roster_call *k = *arg;
    bool v = false;
    if (!pb_decode_bool(stream, &v))
        return false;
    if (k->nfound >= k->spec.cap) {
        k->decode_error = "more found flags than requested ids";
        return false;
    }
    if (k->spec.found != NULL)
        k->spec.found[k->nfound] = v;
    k->nfound++;
    return true;
}

static int decode_body(roster_call *k, const uint8_t *body, size_t len)
{
    const roster_call_spec *s = &k->spec;
    const roster_client_method *m = k->method;
    pb_istream_t is = pb_istream_from_buffer(body, len);
    bool ok = false;
    bool has_total = false;
    int64_t total = 0;
    roster_v1_PageInfo page = roster_v1_PageInfo_init_zero;

    k->index = 0;
    k->nfound = 0;
    k->stopped = false;
    k->decode_error = NULL;
    switch (m->kind) {
    case ROSTER_REPLY_USER:
        ok = roster_record_decode_user(&k->scratch.user, &is);
        if (ok)
            roster_record_copy_user(s->out, &k->scratch.user);
        break;
    case ROSTER_REPLY_TENANT:
        ok = roster_record_decode_tenant(&k->scratch.tenant, &is);
        if (ok)
            roster_record_copy_tenant(s->out, &k->scratch.tenant);
        break;
    case ROSTER_REPLY_HEALTH:
        ok = pb_decode(&is, m->reply, &k->scratch.health);
        if (ok)
            memcpy(s->out, &k->scratch.health, sizeof k->scratch.health);
        break;
    case ROSTER_REPLY_STATS:
        ok = pb_decode(&is, m->reply, &k->scratch.stats);
        if (ok)
            memcpy(s->out, &k->scratch.stats, sizeof k->scratch.stats);
        break;
    case ROSTER_REPLY_MESSAGE:
        ok = pb_decode(&is, m->reply, s->out);
        break;
    case ROSTER_REPLY_USERS: {
        roster_v1_ListUsersResponse r = roster_v1_ListUsersResponse_init_zero;
        r.users.funcs.decode = decode_user_item;
        r.users.arg = k;
        ok = pb_decode(&is, m->reply, &r);
        has_total = r.has_total_count;
        total = r.total_count;
        if (r.has_page_info)
            page = r.page_info;
        break;
    }
    case ROSTER_REPLY_TENANTS: {
        roster_v1_ListTenantsResponse r = roster_v1_ListTenantsResponse_init_zero;
        r.tenants.funcs.decode = decode_tenant_item;
        r.tenants.arg = k;
        ok = pb_decode(&is, m->reply, &r);
        has_total = r.has_total_count;
        total = r.total_count;
        if (r.has_page_info)
            page = r.page_info;
        break;
    }
    case ROSTER_REPLY_CHANGES: {
        roster_v1_ListChangesResponse r = roster_v1_ListChangesResponse_init_zero;
        r.changes.funcs.decode = decode_change_item;
        r.changes.arg = k;
        ok = pb_decode(&is, m->reply, &r);
        if (ok && s->out != NULL) {
            roster_changes_info *info = s->out;
            info->oldest_seq = r.oldest_seq;
            info->latest_seq = r.latest_seq;
            info->next_after = r.next_after;
            info->count = k->index;
        }
        break;
    }
    case ROSTER_REPLY_BULK: {
        roster_v1_BulkWriteResponse r = roster_v1_BulkWriteResponse_init_zero;
        r.results.funcs.decode = decode_bulk_item;
        r.results.arg = k;
        ok = pb_decode(&is, m->reply, &r);
        if (ok && k->index != s->cap) {
            k->decode_error = "not one result per operation sent";
            ok = false;
        }
        if (ok && s->count != NULL)
            *s->count = k->index;
        break;
    }
    case ROSTER_REPLY_USER_BATCH: {
        roster_v1_BatchGetUsersResponse r = roster_v1_BatchGetUsersResponse_init_zero;
        r.users.funcs.decode = decode_user_item;
        r.users.arg = k;
        r.found.funcs.decode = decode_found;
        r.found.arg = k;
        ok = pb_decode(&is, m->reply, &r);
        break;
    }
    case ROSTER_REPLY_TENANT_BATCH: {
        roster_v1_BatchGetTenantsResponse r = roster_v1_BatchGetTenantsResponse_init_zero;
        r.tenants.funcs.decode = decode_tenant_item;
        r.tenants.arg = k;
        r.found.funcs.decode = decode_found;
        r.found.arg = k;
        ok = pb_decode(&is, m->reply, &r);
        break;
    }
    }
    if (!ok) {
        if (k->stopped) {
            status_local(&k->st, ROSTER_E_CANCELLED, "stopped by the record callback");
            return ROSTER_E_CANCELLED;
        }
        if (k->decode_error != NULL &&
            (m->kind == ROSTER_REPLY_USERS || m->kind == ROSTER_REPLY_TENANTS)) {
            status_local(&k->st, ROSTER_E_TOO_LARGE, "reply holds more records than the array");
            return ROSTER_E_TOO_LARGE;
        }
        status_local(&k->st, ROSTER_E_PROTOCOL,
                     k->decode_error != NULL ? k->decode_error : PB_GET_ERROR(&is));
        return ROSTER_E_PROTOCOL;
    }
    if (m->kind == ROSTER_REPLY_USER_BATCH || m->kind == ROSTER_REPLY_TENANT_BATCH) {
        if (k->index != s->cap || k->nfound != s->cap) {
            status_local(&k->st, ROSTER_E_PROTOCOL, "batch reply does not answer every id");
            return ROSTER_E_PROTOCOL;
        }
    }
    if (s->count != NULL)
        *s->count = k->index;
    if (s->total != NULL)
        *s->total = has_total ? total : 0;
    if (s->page != NULL)
        *s->page = page;
    return ROSTER_E_OK;
}

/* Decodes the reply message (consumed) into the call's status and outputs. */
static int decode_reply(roster_call *k, nng_msg *m)
{
    const uint8_t *body = NULL;
    size_t len = 0;
    int err = roster_envelope_decode(&body, &len, &k->st, nng_msg_body(m), nng_msg_len(m));
    if (err == ROSTER_E_OK && k->st.err == ROSTER_E_OK)
        err = decode_body(k, body, len);
    else if (err == ROSTER_E_OK)
        err = k->st.err;
    nng_msg_free(m);
    k->st.err = err;
    return err;
}

/* ------------------------------------------------------------ the aio state machine */

static void copy_status(roster_status *dst, const roster_status *src)
{
    if (dst == NULL)
        return;
    dst->err = src->err;
    dst->code = src->code;
    memcpy(dst->message, src->message, sizeof dst->message);
    dst->violation_count = src->violation_count;
    dst->violations_total = src->violations_total;
    memcpy(dst->violations, src->violations, src->violation_count * sizeof dst->violations[0]);
}

/* Why the exchange is shaped this way (nng 1.5.2). A call is a send and
 * then a receive on the call's req0 context. Every nng_ctx_send and
 * nng_ctx_recv goes through the client's gate, so that close never frees
 * the socket under a thread still inside one of them (nng_gate.h). A
 * synchronous call does both on the calling thread, waiting on the aio in
 * between (its callback does nothing), so no nng thread ever posts for
 * it. An asynchronous call posts the receive from the send's completion
 * and, for one retry, the send again from the receive's; through the
 * gate, neither is posted once the client is closing.
 *
 * Retry: the contexts have nng's resend timer off, and req0 then fails a
 * request whose connection closed before its reply with NNG_ECONNRESET
 * (a service restart, or roster-users re-creating its listener). An
 * idempotent read (READ and IDEMPOTENT in roster_methods.h) keeps a copy
 * of its request and sends it once more when that happens and its
 * deadline has time left; a timeout or an error reply is never retried.
 * A write (RevokeKey too, idempotent as it is) is never sent twice: it
 * ends UNAVAILABLE, saying that its outcome is unknown. */

/* Ends an asynchronous call: decodes the reply (consumed) and runs done. */
static void call_finish(roster_call *k, int err, nng_msg *reply)
{
    nng_msg_free(k->resend);
    k->resend = NULL;
    if (reply != NULL)
        err = decode_reply(k, reply);
    k->st.err = err;
    /* The slot goes back to the pool before `done` runs, so a call that
     * `done` starts reuses this warm (context, aio) pair; the status is
     * handed over on the stack. */
    roster_status st;
    copy_status(&st, &k->st);
    roster_done_fn done = k->done;
    void *done_arg = k->done_arg;
    call_release(k);
    done(done_arg, err, &st);
}

/* The code for a failed nng operation: CLOSED once the client is closing
 * (nng reports the connection reset then), else the translated code. */
static int failure(roster_call *k, int rv)
{
    roster_client *c = k->client;
    nng_mtx_lock(c->mtx);
    bool closing = c->closing;
    nng_mtx_unlock(c->mtx);
    return closing ? ROSTER_E_CLOSED : roster_err_from_nng(rv);
}

static nng_duration remaining_ms(const roster_call *k)
{
    nng_time now = nng_clock();
    return now >= k->deadline ? 1 : (nng_duration)(k->deadline - now);
}

/* Posts a send (or a receive) on the call's context through the gate:
 * ROSTER_E_CLOSED, with nothing posted, once the client is closing. */
static int ctx_post(roster_call *k, bool send)
{
    roster_client *c = k->client;
    if (!roster_nng_gate_enter(&c->gate)) {
        status_local(&k->st, ROSTER_E_CLOSED, "the client was closed");
        return ROSTER_E_CLOSED;
    }
    if (send)
        nng_ctx_send(k->ctx, k->aio);
    else
        nng_ctx_recv(k->ctx, k->aio);
    roster_nng_gate_leave(&c->gate);
    return ROSTER_E_OK;
}

/* Starts sending `m` (consumed) within the call's deadline. */
static int send_start(roster_call *k, nng_msg *m)
{
    k->phase = PHASE_SEND;
    k->sent = nng_clock(); /* until the send completes: when it was posted */
    nng_aio_set_msg(k->aio, m);
    nng_aio_set_timeout(k->aio, remaining_ms(k));
    int err = ctx_post(k, true);
    if (err != ROSTER_E_OK) {
        nng_aio_set_msg(k->aio, NULL);
        nng_msg_free(m);
    }
    return err;
}

/* After the send completed with `rv`: starts the receive, or says why not. */
static int recv_start(roster_call *k, int rv)
{
    if (rv != 0) {
        nng_msg_free(nng_aio_get_msg(k->aio));
        nng_aio_set_msg(k->aio, NULL);
        /* A send that waits out its deadline while connections are open:
         * req0 hands a request only to a pipe whose previous send has
         * finished, so a connection whose transport send never finishes
         * holds every later request back. That is a silent connection too
         * (pipe_set.h), seen before anything reached it. */
        if (rv == NNG_ETIMEDOUT && roster_pipe_set_count(&k->client->pipes) > 0)
            note_silence(k);
        redial_if_due(k->client);
        int err = failure(k, rv);
        status_local(&k->st, err,
                     err == ROSTER_E_DEADLINE_EXCEEDED ? "no connection to the service in time"
                                                       : nng_strerror(rv));
        return err;
    }
    if (nng_clock() >= k->deadline) {
        status_local(&k->st, ROSTER_E_DEADLINE_EXCEEDED, "timeout spent before the reply");
        return ROSTER_E_DEADLINE_EXCEEDED;
    }
    k->phase = PHASE_RECV;
    k->sent = nng_clock();
    nng_aio_set_timeout(k->aio, remaining_ms(k));
    return ctx_post(k, false);
}

/* The request to send again after the receive failed with `rv`: the kept
 * copy, once, when the connection was reset and time is left; else NULL. */
static nng_msg *retry_take(roster_call *k, int rv)
{
    if (rv != NNG_ECONNRESET || k->resend == NULL || nng_clock() >= k->deadline)
        return NULL;
    nng_msg *m = k->resend;
    k->resend = NULL;
    atomic_fetch_add(&k->client->retries, 1);
    return m;
}

/* The receive ended with `rv`: keeps the client's view of whether its
 * connection answers (pipe_set.h). When calls show it silent, closes it so
 * that nng dials again; calls waiting on it end as on any reset.
 * nng_pipe_close does not block and may be called from a completion; the
 * gate keeps it off a closing socket. */
static void note_silence(roster_call *k)
{
    roster_client *c = k->client;
    uint32_t ids[4];
    size_t n =
        roster_pipe_set_unanswered(&c->pipes, (int64_t)k->sent, (int64_t)nng_clock(), ids, 4);
    if (n == 0 || !roster_nng_gate_enter(&c->gate))
        return;
    for (size_t i = 0; i < n; i++) {
        nng_pipe p = NNG_PIPE_INITIALIZER;
        p.id = ids[i];
        if (nng_pipe_close(p) == 0)
            atomic_fetch_add(&c->silent_closed, 1);
    }
    roster_nng_gate_leave(&c->gate);
}

/* A call failed for want of a working connection: when the client has
 * been without one too long (pipe_set.h), replaces its dialer, for nng may
 * never dial again with the old one (on a thread of its own: nng_redial.h
 * says why). */
static void redial_if_due(roster_client *c)
{
    if (roster_pipe_set_redial_due(&c->pipes, (int64_t)nng_clock()))
        roster_redialer_start(&c->redial);
}

static void note_reply(roster_call *k, int rv)
{
    if (rv == 0)
        roster_pipe_set_replied(&k->client->pipes, (int64_t)nng_clock());
    else if (rv == NNG_ETIMEDOUT)
        note_silence(k);
    if (rv != 0)
        redial_if_due(k->client);
}

/* The receive failed with `rv` and is not retried: the call's code. */
static int recv_failed(roster_call *k, int rv)
{
    int err = failure(k, rv);
    const char *why = nng_strerror(rv);
    if (err == ROSTER_E_DEADLINE_EXCEEDED)
        why = "no reply in time";
    else if (err == ROSTER_E_CLOSED)
        why = "the client was closed";
    else if (rv == NNG_ECONNRESET && !k->method->retry_read)
        why = "connection lost before the reply: the outcome of this write is unknown";
    else if (rv == NNG_ECONNRESET)
        why = "connection lost before the reply";
    status_local(&k->st, err, why);
    return err;
}

static void call_cb(void *arg)
{
    roster_call *k = arg;
    if (k->sync)
        return; /* the calling thread waits on the aio and goes on itself */
    int rv = nng_aio_result(k->aio);
    int err;
    if (k->phase == PHASE_SEND) {
        if ((err = recv_start(k, rv)) != ROSTER_E_OK)
            call_finish(k, err, NULL);
        return;
    }
    note_reply(k, rv);
    if (rv == 0) {
        nng_msg *m = nng_aio_get_msg(k->aio);
        nng_aio_set_msg(k->aio, NULL);
        call_finish(k, ROSTER_E_OK, m);
        return;
    }
    nng_msg *again = retry_take(k, rv);
    if (again == NULL)
        call_finish(k, recv_failed(k, rv), NULL);
    else if ((err = send_start(k, again)) != ROSTER_E_OK)
        call_finish(k, err, NULL);
}

/* A synchronous exchange on the calling thread; on ROSTER_E_OK the reply
 * is in *reply (the caller frees it). Consumes `m`. */
static int exchange_sync(nng_msg **reply, roster_call *k, nng_msg *m)
{
    for (;;) {
        int err = send_start(k, m);
        if (err != ROSTER_E_OK)
            return err;
        nng_aio_wait(k->aio);
        if ((err = recv_start(k, nng_aio_result(k->aio))) != ROSTER_E_OK)
            return err;
        nng_aio_wait(k->aio);
        int rv = nng_aio_result(k->aio);
        note_reply(k, rv);
        if (rv == 0) {
            *reply = nng_aio_get_msg(k->aio);
            nng_aio_set_msg(k->aio, NULL);
            return ROSTER_E_OK;
        }
        if ((m = retry_take(k, rv)) == NULL)
            return recv_failed(k, rv);
    }
}

/* Encodes the call's envelope into *out and resets the call's state. */
static int call_prepare(nng_msg **out, roster_call *k, const roster_call_options *o,
                        const roster_call_spec *spec)
{
    nng_msg *m = NULL;
    roster_call_options keyed;
    uint32_t timeout =
        o != NULL && o->timeout_ms != 0 ? o->timeout_ms : k->client->default_timeout_ms;
    /* The client's key unless the call names one. */
    if (k->client->has_credential && (o == NULL || o->credential == NULL)) {
        if (o != NULL)
            keyed = *o;
        else
            memset(&keyed, 0, sizeof keyed);
        keyed.credential = k->client->credential;
        o = &keyed;
    }
    const roster_client_method *method = roster_client_method_get(spec->method);
    if (method == NULL) {
        status_local(&k->st, ROSTER_E_INVALID_ARGUMENT, "unknown method");
        return ROSTER_E_INVALID_ARGUMENT;
    }
    int err = roster_envelope_encode(&m, method->name, method->request, spec->req, o, timeout);
    if (err != ROSTER_E_OK) {
        status_local(&k->st, err,
                     err == ROSTER_E_TOO_LARGE ? "request over the message size limit"
                                               : "request does not encode");
        return err;
    }
    /* The copy a retry sends; without memory for it the call just goes
     * without the retry. */
    k->resend = NULL;
    if (method->retry_read && nng_msg_dup(&k->resend, m) != 0)
        k->resend = NULL;
    k->spec = *spec;
    k->spec.req = NULL;
    k->method = method;
    k->deadline = nng_clock() + timeout;
    k->st.err = ROSTER_E_OK;
    k->st.code = -1;
    k->st.message[0] = '\0';
    k->st.violation_count = k->st.violations_total = 0;
    *out = m;
    return ROSTER_E_OK;
}

int roster_call_run(roster_status *st, roster_client *c, const roster_call_options *o,
                    const roster_call_spec *spec)
{
    roster_call *k = NULL;
    nng_msg *m = NULL;
    nng_msg *reply = NULL;
    int err;
    if (c == NULL || spec == NULL) {
        if (st != NULL)
            status_local(st, ROSTER_E_INVALID_ARGUMENT, "client is NULL");
        return ROSTER_E_INVALID_ARGUMENT;
    }
    if ((err = call_acquire(&k, c)) != ROSTER_E_OK) {
        if (st != NULL)
            status_local(st, err, NULL);
        return err;
    }
    k->sync = true;
    if ((err = call_prepare(&m, k, o, spec)) != ROSTER_E_OK)
        goto done;
    if ((err = exchange_sync(&reply, k, m)) == ROSTER_E_OK)
        err = decode_reply(k, reply);
done:
    nng_msg_free(k->resend);
    k->resend = NULL;
    k->st.err = err;
    copy_status(st, &k->st);
    call_release(k);
    return err;
}

int roster_call_start(roster_client *c, const roster_call_options *o, const roster_call_spec *spec,
                      roster_done_fn done, void *arg)
{
    roster_call *k = NULL;
    nng_msg *m = NULL;
    int err;
    if (c == NULL || spec == NULL || done == NULL)
        return ROSTER_E_INVALID_ARGUMENT;
    if ((err = call_acquire(&k, c)) != ROSTER_E_OK)
        return err;
    k->sync = false;
    k->done = done;
    k->done_arg = arg;
    if ((err = call_prepare(&m, k, o, spec)) == ROSTER_E_OK)
        err = send_start(k, m);
    if (err != ROSTER_E_OK) {
        nng_msg_free(k->resend);
        k->resend = NULL;
        call_release(k);
    }
    return err;
}

uint64_t roster_call_retries(roster_client *c)
{
    return c == NULL ? 0 : atomic_load(&c->retries);
}

uint64_t roster_call_silent_closes(roster_client *c)
{
    return c == NULL ? 0 : atomic_load(&c->silent_closed);
}

uint64_t roster_call_redials(roster_client *c)
{
    return c == NULL ? 0 : roster_redialer_count(&c->redial);
}
