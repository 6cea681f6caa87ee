/* gw_grpc on the gRPC C core (libgrpc 1.51).
 *
 * One completion queue and one thread own the server. Every method is
 * requested unregistered (grpc_server_request_call), so an unknown method
 * is answered UNIMPLEMENTED at once instead of waiting for the client to
 * give up. A call is a `gcall`; each batch it starts carries one of its
 * tags and one reference, and the work between batches (an auth check, an
 * upstream RPC) holds one more. Upstream replies arrive on nng's threads
 * and start their batches from there: grpc_call_start_batch may be called
 * from any thread as long as calls on one grpc_call are serialised (the
 * core's THREAD SAFETY note), which the call's mutex does.
 *
 * Sends go through one queue per call: at most one send batch is
 * outstanding (the core allows one of each op at a time); the status is
 * sent with the last message, or alone once the queue is empty. A
 * RECV_CLOSE_ON_SERVER batch, started at accept, says when the call is
 * over; when the client cancelled (or the deadline passed) the call is
 * marked dead and nothing more is sent. */
#include "grpc_front.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "feed_url.h"
#include "grpc_status_details.h"
#include "log.h"
#include "metrics.h"
#include "roster_methods.h"
#include "rpc_wire_scan.h"

/* Calls requested from the core ahead of arrivals. */
#define PENDING_REQUESTS 16
/* How long the thread sleeps in the queue between health ticks. */
#define TICK_MS 250
/* Health probe: a Health RPC within this time means SERVING. */
#define PROBE_TIMEOUT_NS (1000LL * 1000 * 1000)
#define PROBE_EVERY_NS   (1000LL * 1000 * 1000)
/* How often the queue's thread looks for WatchChanges streams whose poll
 * time came (announcements wake them at once). */
#define KICK_NS (50LL * 1000 * 1000)

#define HEALTH_CHECK   "/grpc.health.v1.Health/Check"
#define HEALTH_WATCH   "/grpc.health.v1.Health/Watch"
#define REFLECTION     "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
#define SERVICE_PREFIX "/" ROSTER_SERVICE_NAME "/"
#define SHUTTING_DOWN  "the gateway is shutting down"

/* grpc.health.v1.HealthCheckResponse.ServingStatus */
enum { HS_UNKNOWN = 0, HS_SERVING = 1, HS_NOT_SERVING = 2, HS_SERVICE_UNKNOWN = 3 };

typedef struct gcall gcall;

typedef struct gtag {
    void (*fn)(gcall *c, bool ok);
    gcall *c;
} gtag;

typedef struct outmsg {
    grpc_byte_buffer *bb;
    struct outmsg *next;
} outmsg;

typedef enum {
    K_UNARY,
    K_WATCH_CHANGES,
    K_HEALTH_CHECK,
    K_HEALTH_WATCH,
    K_REFLECTION,
    K_UNKNOWN
} call_kind;

/* A WatchChanges stream between pages: waiting for an announcement or the
 * poll time, a ListChanges in flight, or a page being sent with more to
 * ask for once the send queue is empty. */
typedef enum { C_NONE, C_WAIT, C_FETCHING, C_DRAIN } changes_state;

struct gcall {
    gw_grpc *g;
    grpc_call *call;
    grpc_call_details details;
    grpc_metadata_array md;
    gtag t_accept, t_recv, t_send, t_close;
    atomic_int refs;
    pthread_mutex_t mu; /* start_batch and everything below */
    call_kind kind;
    rpc_method_id method;
    int64_t deadline_ns;
    grpc_byte_buffer *recv_buf;
    int cancelled_flag; /* written by the core for RECV_CLOSE_ON_SERVER */
    bool dead;          /* over: nothing more is sent */
    bool closed;        /* the close batch completed */
    bool initial_sent;
    bool sending;
    bool status_started;
    bool finish_pending;
    outmsg *head, *tail;
    outmsg *in_flight;
    /* The status, kept alive until its batch completes. */
    grpc_status_code status;
    grpc_slice status_msg;
    grpc_metadata trailer;
    size_t n_trailers;
    /* A unary call's request bytes and key. */
    uint8_t *body;
    size_t body_len;
    gw_key key;
    bool keyless;
    /* Health/Watch: the last status queued; link in the watchers list. */
    int watch_sent;
    bool watching;
    gcall *watch_next;
    /* WatchChanges (under mu): the feed cursor, the state, when to ask
     * again without an announcement, the announcement count when the last
     * ListChanges left; link in the changers list (under g->mu). */
    uint64_t cursor;
    changes_state cstate;
    int64_t next_poll_ns;
    uint64_t gen_at_fetch;
    bool changing;
    gcall *changes_next;
    bool counted_stream;
    bool counted_unary;
    /* The list of live calls (under g->mu). */
    gcall *prev, *next;
};

struct gw_grpc {
    gw_grpc_options o;
    grpc_server *server;
    grpc_completion_queue *cq;
    pthread_t thread;
    bool thread_started;
    int port;
    gtag t_shutdown;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool shutdown_started;
    bool shutdown_done; /* the server's shutdown tag arrived */
    bool draining;
    gcall *live;
    atomic_int_fast64_t inflight;
    atomic_uint unary;
    atomic_uint streams;
    /* Health: the last probe's verdict, and the Watch streams. */
    atomic_int health;
    bool probe_in_flight; /* under mu */
    int64_t probe_at_ns;  /* under mu */
    gcall *watchers;      /* under mu */
    /* Upstream calls being started, and whether more may start (under
     * mu): gw_grpc_cancel closes the gate before the upstream is freed. */
    int up_users;
    bool up_closed;
    /* WatchChanges streams (under mu), and the feed announcements that
     * wake them: a thread receiving on a sub0 socket dialled to
     * roster-users' --changes-listen; each message bumps feed_gen. */
    gcall *changers;
    size_t n_changers;
    atomic_uint_fast64_t feed_gen;
    nng_socket feed;
    bool feed_open;
    atomic_bool feed_stop;
    pthread_t feed_thread;
    bool feed_thread_started;
};

static void changes_after_send(gcall *c);

/* Enters the upstream gate: false when the upstream is closing. */
static bool up_enter(gw_grpc *g)
{
    pthread_mutex_lock(&g->mu);
    bool open = !g->up_closed;
    if (open)
        g->up_users++;
    pthread_mutex_unlock(&g->mu);
    return open;
}

static void up_leave(gw_grpc *g)
{
    pthread_mutex_lock(&g->mu);
    if (--g->up_users == 0)
        pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* ------------------------------------------------------------ references */

static void call_ref(gcall *c)
{
    atomic_fetch_add(&c->refs, 1);
}

static void outmsg_free(outmsg *m)
{
    if (m == NULL)
        return;
    grpc_byte_buffer_destroy(m->bb);
    free(m);
}

static void call_destroy(gcall *c)
{
    gw_grpc *g = c->g;
    if (c->call != NULL)
        grpc_call_unref(c->call);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    if (c->recv_buf != NULL)
        grpc_byte_buffer_destroy(c->recv_buf);
    for (outmsg *m = c->head; m != NULL;) {
        outmsg *n = m->next;
        outmsg_free(m);
        m = n;
    }
    outmsg_free(c->in_flight);
    grpc_slice_unref(c->status_msg);
    if (c->n_trailers)
        grpc_slice_unref(c->trailer.value);
    free(c->body);
    gw_key_wipe(&c->key);
    if (c->counted_unary)
        atomic_fetch_sub(&g->unary, 1);
    if (c->counted_stream)
        atomic_fetch_sub(&g->streams, 1);
    pthread_mutex_destroy(&c->mu);
    bool accepted = c->call != NULL;
    pthread_mutex_lock(&g->mu);
    if (accepted) {
        if (c->prev)
            c->prev->next = c->next;
        else if (g->live == c)
            g->live = c->next;
        if (c->next)
            c->next->prev = c->prev;
        atomic_fetch_sub(&g->inflight, 1);
    }
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    free(c);
}

static void call_unref(gcall *c)
{
    if (atomic_fetch_sub(&c->refs, 1) == 1)
        call_destroy(c);
}

/* ------------------------------------------------------------ sending */

static int64_t mono_deadline(gpr_timespec d, uint32_t default_ms)
{
    int64_t now = roster_mono_ns();
    if (gpr_time_cmp(d, gpr_inf_future(d.clock_type)) == 0)
        return now + (int64_t)default_ms * 1000000;
    gpr_timespec left = gpr_time_sub(d, gpr_now(d.clock_type));
    int64_t ns = (int64_t)left.tv_sec * 1000000000 + left.tv_nsec;
    if (ns < 0)
        ns = 0;
    return now + ns;
}

/* Frees the messages queued and not yet handed to the core. c->mu held. */
static void drop_queue_locked(gcall *c)
{
    for (outmsg *m = c->head; m != NULL;) {
        outmsg *n = m->next;
        outmsg_free(m);
        m = n;
    }
    c->head = c->tail = NULL;
}

/* Starts the next send batch when none is outstanding: the head of the
 * queue, with the status when it is the last message and the call is
 * finishing, or the status alone. c->mu held. */
static void pump_locked(gcall *c)
{
    if (c->sending || c->status_started)
        return;
    if (c->dead) {
        drop_queue_locked(c);
        return;
    }
    if (c->head == NULL && !c->finish_pending)
        return;
    grpc_op ops[3];
    size_t n = 0;
    memset(ops, 0, sizeof ops);
    if (!c->initial_sent) {
        ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[n].data.send_initial_metadata.count = 0;
        n++;
        c->initial_sent = true;
    }
    if (c->head != NULL) {
        outmsg *m = c->head;
        c->head = m->next;
        if (c->head == NULL)
            c->tail = NULL;
        m->next = NULL;
        c->in_flight = m;
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = m->bb;
        n++;
    }
    if (c->finish_pending && c->head == NULL) {
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = c->status;
        ops[n].data.send_status_from_server.status_details = &c->status_msg;
        ops[n].data.send_status_from_server.trailing_metadata_count = c->n_trailers;
        ops[n].data.send_status_from_server.trailing_metadata = c->n_trailers ? &c->trailer : NULL;
        n++;
        c->status_started = true;
    }
    c->sending = true;
    call_ref(c);
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->t_send, NULL);
    if (e != GRPC_CALL_OK) {
        roster_log(ROSTER_LOG_ERROR, "grpc_batch_error", "op=send error=%d", (int)e);
        c->sending = false;
        c->dead = true;
        outmsg_free(c->in_flight);
        c->in_flight = NULL;
        atomic_fetch_sub(&c->refs, 1); /* the caller holds another */
    }
}

static void on_send(gcall *c, bool ok)
{
    pthread_mutex_lock(&c->mu);
    c->sending = false;
    outmsg_free(c->in_flight);
    c->in_flight = NULL;
    if (!ok)
        c->dead = true;
    pump_locked(c);
    pthread_mutex_unlock(&c->mu);
    if (c->kind == K_WATCH_CHANGES)
        changes_after_send(c);
    call_unref(c);
}

/* Queues one message (`data`, borrowed for the call). c->mu held. */
static void send_locked(gcall *c, const uint8_t *data, size_t len)
{
    if (c->dead || c->finish_pending)
        return;
    outmsg *m = malloc(sizeof *m);
    if (m == NULL) {
        c->dead = true;
        grpc_call_cancel_with_status(c->call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory",
                                     NULL);
        return;
    }
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)data, len);
    m->bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    m->next = NULL;
    if (c->tail)
        c->tail->next = m;
    else
        c->head = m;
    c->tail = m;
    pump_locked(c);
}

/* Ends the call with `code` and `msg` (borrowed for the call), and the
 * grpc-status-details-bin trailer when `details` is set (borrowed).
 * c->mu held. */
static void finish_locked(gcall *c, grpc_status_code code, const char *msg, const uint8_t *details,
                          size_t details_len)
{
    if (c->finish_pending)
        return;
    c->finish_pending = true;
    c->status = code;
    grpc_slice_unref(c->status_msg);
    c->status_msg = grpc_slice_from_copied_string(msg ? msg : "");
    if (details != NULL && details_len > 0) {
        c->trailer.key = grpc_slice_from_static_string("grpc-status-details-bin");
        c->trailer.value = grpc_slice_from_copied_buffer((const char *)details, details_len);
        c->n_trailers = 1;
    }
    pump_locked(c);
}

static void finish(gcall *c, grpc_status_code code, const char *msg)
{
    pthread_mutex_lock(&c->mu);
    finish_locked(c, code, msg, NULL, 0);
    pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------ receiving */

/* Starts a RECV_MESSAGE batch into c->recv_buf. */
static void start_recv(gcall *c, void (*fn)(gcall *, bool))
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &c->recv_buf;
    c->t_recv.fn = fn;
    call_ref(c);
    pthread_mutex_lock(&c->mu);
    grpc_call_error e = grpc_call_start_batch(c->call, &op, 1, &c->t_recv, NULL);
    pthread_mutex_unlock(&c->mu);
    if (e != GRPC_CALL_OK) {
        roster_log(ROSTER_LOG_ERROR, "grpc_batch_error", "op=recv error=%d", (int)e);
        finish(c, GRPC_STATUS_INTERNAL, "cannot receive the request");
        call_unref(c);
    }
}

/* Takes c->recv_buf's bytes into *out (malloc'd; NULL with length 0 for
 * an empty message). False when out of memory. */
static bool take_message(uint8_t **out, size_t *len, gcall *c)
{
    grpc_byte_buffer_reader r;
    *out = NULL;
    *len = 0;
    if (!grpc_byte_buffer_reader_init(&r, c->recv_buf))
        return false;
    grpc_slice s = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    grpc_byte_buffer_destroy(c->recv_buf);
    c->recv_buf = NULL;
    size_t n = GRPC_SLICE_LENGTH(s);
    bool ok = true;
    if (n > 0) {
        *out = malloc(n);
        if (*out == NULL)
            ok = false;
        else
            memcpy(*out, GRPC_SLICE_START_PTR(s), n);
        *len = n;
    }
    grpc_slice_unref(s);
    return ok;
}

/* ------------------------------------------------------------ unary calls */

static grpc_status_code to_grpc(int roster_status)
{
    if (roster_status < 0 || roster_status > 16)
        return GRPC_STATUS_UNKNOWN;
    return (grpc_status_code)roster_status;
}

/* gw_rpc_cb: the service's answer, on an nng thread (or inside the call
 * when it could not be sent). */
static void unary_replied(const gw_rpc_reply *r, void *ud)
{
    gcall *c = ud;
    uint8_t *details = NULL;
    size_t details_len = 0;
    if (r->status != ROSTER_STATUS_OK &&
        grpc_status_details_encode(&details, &details_len, r->status, r->message, r->n_violations,
                                   r->violation_fields, r->violation_descriptions) != ROSTER_E_OK) {
        details = NULL;
        details_len = 0;
    }
    pthread_mutex_lock(&c->mu);
    if (r->status == ROSTER_STATUS_OK)
        send_locked(c, r->body, r->body_len);
    finish_locked(c, to_grpc(r->status), r->status == ROSTER_STATUS_OK ? "" : r->message, details,
                  details_len);
    pthread_mutex_unlock(&c->mu);
    free(details);
    call_unref(c);
}

static void forward(gcall *c)
{
    gw_grpc *g = c->g;
    if (!up_enter(g)) {
        finish(c, GRPC_STATUS_UNAVAILABLE, SHUTTING_DOWN);
        call_unref(c);
        return;
    }
    gw_upstream_call_bytes(g->o.up, c->method, c->body, c->body_len, c->deadline_ns,
                           c->keyless ? NULL : c->key.text, unary_replied, c);
    up_leave(g);
}

/* ------------------------------------------------------------ WatchChanges */

/* Events asked for per ListChanges of a WatchChanges stream. */
#define CHANGES_PAGE 500
/* Wait before asking again after a failure that may pass. */
#define CHANGES_RETRY_NS (200LL * 1000 * 1000)

static void changes_fetch(gcall *c);

/* Ends a stream that could not go on (c->mu not held). */
static void changes_end(gcall *c, grpc_status_code code, const char *msg)
{
    finish(c, code, msg);
}

/* gw_rpc_cb of a stream's ListChanges: the page's Change messages are sent
 * as they came (each one the bytes of field 1 of ListChangesResponse),
 * and the cursor moves to the page's next_after. */
static void changes_replied(const gw_rpc_reply *r, void *ud)
{
    gcall *c = ud;
    gw_grpc *g = c->g;
    bool fetch_now = false;
    pthread_mutex_lock(&c->mu);
    if (c->dead || c->finish_pending) {
        c->cstate = C_NONE;
        pthread_mutex_unlock(&c->mu);
        call_unref(c);
        return;
    }
    int64_t now = roster_mono_ns();
    if (r->status == ROSTER_STATUS_UNAVAILABLE || r->status == ROSTER_STATUS_DEADLINE_EXCEEDED) {
        /* The service restarts or is slow: ask again shortly. */
        c->cstate = C_WAIT;
        c->next_poll_ns = now + CHANGES_RETRY_NS;
        pthread_mutex_unlock(&c->mu);
        call_unref(c);
        return;
    }
    if (r->status != ROSTER_STATUS_OK) {
        uint8_t *details = NULL;
        size_t details_len = 0;
        if (grpc_status_details_encode(&details, &details_len, r->status, r->message,
                                       r->n_violations, r->violation_fields,
                                       r->violation_descriptions) != ROSTER_E_OK)
            details = NULL;
        c->cstate = C_NONE;
        finish_locked(c, to_grpc(r->status), r->message, details, details ? details_len : 0);
        pthread_mutex_unlock(&c->mu);
        free(details);
        call_unref(c);
        return;
    }
    /* One pass over ListChangesResponse: changes (1) go out as they are,
     * latest_seq (3) and next_after (4) are kept. */
    const uint8_t *p = r->body, *end = r->body + r->body_len;
    uint64_t next_after = c->cursor, latest = 0;
    bool bad = false;
    while (!bad && p < end) {
        uint64_t key, v;
        if (!rpc_wire_varint(&key, &p, end)) {
            bad = true;
        } else if ((key & 7) == 0) {
            if (!rpc_wire_varint(&v, &p, end))
                bad = true;
            else if (key >> 3 == 3)
                latest = v;
            else if (key >> 3 == 4)
                next_after = v;
        } else if ((key & 7) == 2) {
            if (!rpc_wire_varint(&v, &p, end) || v > (uint64_t)(end - p))
                bad = true;
            else if (key >> 3 == 1)
                send_locked(c, p, (size_t)v);
            if (!bad)
                p += v;
        } else if ((key & 7) == 1 && end - p >= 8) {
            p += 8;
        } else if ((key & 7) == 5 && end - p >= 4) {
            p += 4;
        } else {
            bad = true;
        }
    }
    if (bad) {
        c->cstate = C_NONE;
        finish_locked(c, GRPC_STATUS_INTERNAL,
                      "the user service's ListChanges reply cannot be read", NULL, 0);
        pthread_mutex_unlock(&c->mu);
        call_unref(c);
        return;
    }
    if (next_after > c->cursor)
        c->cursor = next_after;
    if (c->cursor < latest || atomic_load(&g->feed_gen) != c->gen_at_fetch) {
        /* More is there: ask once this page has left. */
        c->cstate = C_DRAIN;
        if (!c->sending && c->head == NULL) {
            c->cstate = C_FETCHING;
            fetch_now = true;
        }
    } else {
        c->cstate = C_WAIT;
        c->next_poll_ns = now + (int64_t)g->o.changes_poll_ms * 1000000;
    }
    pthread_mutex_unlock(&c->mu);
    if (fetch_now)
        changes_fetch(c); /* takes over this reference */
    else
        call_unref(c);
}

/* Sends the next ListChanges of a stream whose state is C_FETCHING. The
 * caller passes one reference on to the call. */
static void changes_fetch(gcall *c)
{
    gw_grpc *g = c->g;
    uint8_t req[24];
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    uint64_t after = c->cursor;
    c->gen_at_fetch = atomic_load(&g->feed_gen);
    pthread_mutex_unlock(&c->mu);
    req[n++] = 0x08; /* ListChangesRequest.after */
    for (uint64_t v = after;; v >>= 7) {
        if (v < 0x80) {
            req[n++] = (uint8_t)v;
            break;
        }
        req[n++] = (uint8_t)(v | 0x80);
    }
    req[n++] = 0x10; /* limit */
    for (uint64_t v = CHANGES_PAGE;; v >>= 7) {
        if (v < 0x80) {
            req[n++] = (uint8_t)v;
            break;
        }
        req[n++] = (uint8_t)(v | 0x80);
    }
    if (!up_enter(g)) {
        changes_end(c, GRPC_STATUS_UNAVAILABLE, SHUTTING_DOWN);
        call_unref(c);
        return;
    }
    gw_upstream_call_bytes(g->o.up, RPC_LIST_CHANGES, req, n,
                           roster_mono_ns() + (int64_t)g->o.timeout_ms * 1000000, c->key.text,
                           changes_replied, c);
    up_leave(g);
}

/* Asks again for every waiting stream that an announcement or its poll
 * time says should. Any thread but one holding a call's or g's lock. */
static void changes_kick(gw_grpc *g)
{
    pthread_mutex_lock(&g->mu);
    if (g->n_changers == 0 || g->up_closed) {
        pthread_mutex_unlock(&g->mu);
        return;
    }
    gcall **due = malloc(g->n_changers * sizeof *due);
    size_t n = 0;
    uint64_t gen = atomic_load(&g->feed_gen);
    int64_t now = roster_mono_ns();
    for (gcall *c = g->changers; c != NULL && due != NULL; c = c->changes_next) {
        pthread_mutex_lock(&c->mu);
        if (c->cstate == C_WAIT && !c->dead && (gen != c->gen_at_fetch || now >= c->next_poll_ns)) {
            c->cstate = C_FETCHING;
            call_ref(c);
            due[n++] = c;
        }
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&g->mu);
    for (size_t i = 0; i < n; i++)
        changes_fetch(due[i]);
    free(due);
}

/* After a send completed: a stream with more to ask for asks once its
 * queue is empty. c->mu not held; a reference held. */
static void changes_after_send(gcall *c)
{
    bool fetch = false;
    pthread_mutex_lock(&c->mu);
    if (c->cstate == C_DRAIN && !c->sending && c->head == NULL && !c->dead && !c->finish_pending) {
        c->cstate = C_FETCHING;
        fetch = true;
        call_ref(c);
    }
    pthread_mutex_unlock(&c->mu);
    if (fetch)
        changes_fetch(c);
}

/* The key is valid: the stream starts at the request's `after`. The
 * dispatch reference stays with the stream until it closes. */
static void changes_begin(gcall *c)
{
    gw_grpc *g = c->g;
    uint64_t after = 0;
    const uint8_t *p = c->body, *end = c->body + c->body_len;
    while (p < end) {
        uint64_t key, v;
        if (!rpc_wire_varint(&key, &p, end) || (key & 7) != 0 || !rpc_wire_varint(&v, &p, end)) {
            changes_end(c, GRPC_STATUS_INVALID_ARGUMENT,
                        "the WatchChangesRequest cannot be read (after is its only field)");
            call_unref(c);
            return;
        }
        if (key >> 3 == 1)
            after = v;
    }
    pthread_mutex_lock(&g->mu);
    pthread_mutex_lock(&c->mu);
    bool gone = c->dead || c->closed || g->draining;
    if (!gone) {
        c->cursor = after;
        c->cstate = C_FETCHING;
        c->changing = true;
        c->changes_next = g->changers;
        g->changers = c;
        g->n_changers++;
    }
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_unlock(&g->mu);
    if (gone) {
        changes_end(c, GRPC_STATUS_UNAVAILABLE, SHUTTING_DOWN);
        call_unref(c);
        return;
    }
    call_ref(c);
    changes_fetch(c);
}

/* Takes a stream off the changers list (it is over) and drops the
 * stream's reference. */
static void unchange(gcall *c)
{
    gw_grpc *g = c->g;
    bool was = false;
    pthread_mutex_lock(&g->mu);
    for (gcall **p = &g->changers; *p != NULL; p = &(*p)->changes_next) {
        if (*p == c) {
            *p = c->changes_next;
            g->n_changers--;
            was = true;
            break;
        }
    }
    c->changing = false;
    pthread_mutex_unlock(&g->mu);
    if (was)
        call_unref(c);
}

static void proceed(gcall *c)
{
    if (c->kind == K_WATCH_CHANGES)
        changes_begin(c);
    else
        forward(c);
}

/* Logs a refused credential with the client's address. */
static void log_refused(gcall *c, const char *reason, const gw_key *key, const char *message)
{
    char *peer = grpc_call_get_peer(c->call);
    gw_auth_log_failure(reason, key, "grpc", peer, message);
    gpr_free(peer);
}

/* gw_auth_cb: the key's verdict (as for GraphQL). */
static void authed(int err, bool admin, const char *message, void *ud)
{
    (void)admin;
    gcall *c = ud;
    switch (err) {
    case ROSTER_E_OK:
        proceed(c);
        return;
    case ROSTER_E_UNAUTHENTICATED:
        log_refused(c, "rejected", &c->key, message);
        finish(c, GRPC_STATUS_UNAUTHENTICATED, "the API key is not valid");
        break;
    case ROSTER_E_UNAVAILABLE:
        finish(c, GRPC_STATUS_UNAVAILABLE,
               "the user service is unavailable, so the API key cannot be verified");
        break;
    case ROSTER_E_DEADLINE_EXCEEDED:
        finish(c, GRPC_STATUS_DEADLINE_EXCEEDED,
               "the user service did not verify the API key within the deadline");
        break;
    default:
        finish(c, GRPC_STATUS_INTERNAL, "internal error");
    }
    call_unref(c);
}

/* The value of metadata `key` (borrowed from c->md), NUL-terminated into
 * buf (cut to cap - 1 bytes); NULL when absent. */
static const char *metadata(char *buf, size_t cap, const gcall *c, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i < c->md.count; i++) {
        const grpc_metadata *m = &c->md.metadata[i];
        if (GRPC_SLICE_LENGTH(m->key) != klen ||
            memcmp(GRPC_SLICE_START_PTR(m->key), key, klen) != 0)
            continue;
        /* A value too long for any credential is cut: it then reads as
         * malformed, not as absent. */
        size_t n = GRPC_SLICE_LENGTH(m->value);
        if (n >= cap)
            n = cap - 1;
        memcpy(buf, GRPC_SLICE_START_PTR(m->value), n);
        buf[n] = '\0';
        return buf;
    }
    return NULL;
}

static const roster_auth_level method_auth[] = {
#define X_AUTH(id, M, Rq, rqs, Rp, rps, access, repeat, auth, shape) ROSTER_METHOD_AUTH(auth),
    ROSTER_METHOD_MAP(X_AUTH)
#undef X_AUTH
};

static void unary_received(gcall *c, bool ok)
{
    gw_grpc *g = c->g;
    if (!ok || c->recv_buf == NULL) {
        /* Cancelled, or refused by the core (a message past the limit is
         * answered RESOURCE_EXHAUSTED by it); this status is then not
         * sent. */
        finish(c, GRPC_STATUS_INTERNAL, "the call carries no request message");
        call_unref(c);
        call_unref(c); /* the dispatch reference */
        return;
    }
    if (!take_message(&c->body, &c->body_len, c)) {
        finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
        call_unref(c);
        call_unref(c);
        return;
    }
    call_unref(c); /* the receive's reference; the dispatch one goes on */
    char *hdr = malloc(ROSTER_JWT_MAX_LEN + 64);
    const char *authz = hdr ? metadata(hdr, ROSTER_JWT_MAX_LEN + 64, c, "authorization") : NULL;
    if (authz == NULL && method_auth[c->method] == ROSTER_AUTH_PUBLIC) {
        free(hdr);
        c->keyless = true;
        proceed(c);
        return;
    }
    roster_err_detail d = {{0}};
    int rc = gw_key_from_header(&c->key, authz, &d);
    if (hdr)
        roster_secure_wipe(hdr, ROSTER_JWT_MAX_LEN + 64);
    free(hdr);
    if (rc != ROSTER_E_OK) {
        gw_metrics_auth(GW_AUTH_REJECTED);
        log_refused(c, d.field, NULL, NULL);
        finish(c, GRPC_STATUS_UNAUTHENTICATED,
               authz == NULL ? "an API key is required: send authorization: Bearer <key> metadata"
                             : d.message);
        call_unref(c);
        return;
    }
    if (!up_enter(g)) {
        finish(c, GRPC_STATUS_UNAVAILABLE, SHUTTING_DOWN);
        call_unref(c);
        return;
    }
    gw_auth_check(g->o.auth, &c->key, c->deadline_ns, authed, c);
    up_leave(g);
}

/* ------------------------------------------------------------ health */

static void health_reply(gcall *c, int st)
{
    uint8_t msg[2] = {0x08, (uint8_t)st};
    pthread_mutex_lock(&c->mu);
    send_locked(c, msg, sizeof msg);
    c->watch_sent = st;
    pthread_mutex_unlock(&c->mu);
}

/* The service named by a HealthCheckRequest (field 1) into buf; false
 * when the message cannot be read. */
static bool health_service(char *buf, size_t cap, const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    buf[0] = '\0';
    while (p < end) {
        rpc_wire_field f;
        if (!rpc_wire_next(&f, &p, end))
            return false;
        if (f.number == 1 && f.wire_type == 2) {
            if (f.len >= cap)
                return false;
            memcpy(buf, f.body, f.len);
            buf[f.len] = '\0';
        }
    }
    return true;
}

static bool service_known(const char *s)
{
    return s[0] == '\0' || strcmp(s, ROSTER_SERVICE_NAME) == 0;
}

/* Queues the current status on every watcher that has not seen it.
 * Called with g->mu held. */
static void notify_watchers_locked(gw_grpc *g)
{
    int st = atomic_load(&g->health);
    if (st == HS_UNKNOWN)
        return;
    for (gcall *w = g->watchers; w != NULL; w = w->watch_next) {
        pthread_mutex_lock(&w->mu);
        if (w->watch_sent != st && w->watch_sent != HS_SERVICE_UNKNOWN) {
            /* A client that does not read keeps at most one status
             * queued behind the one being sent: the newest. */
            drop_queue_locked(w);
            uint8_t msg[2] = {0x08, (uint8_t)st};
            send_locked(w, msg, sizeof msg);
            w->watch_sent = st;
        }
        pthread_mutex_unlock(&w->mu);
    }
}

static void probe_done(const gw_rpc_reply *r, void *ud)
{
    gw_grpc *g = ud;
    atomic_store(&g->health, r->status == ROSTER_STATUS_OK ? HS_SERVING : HS_NOT_SERVING);
    pthread_mutex_lock(&g->mu);
    g->probe_in_flight = false;
    notify_watchers_locked(g);
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Starts a Health RPC unless one is in flight or the front is stopping. */
static void probe(gw_grpc *g)
{
    pthread_mutex_lock(&g->mu);
    if (g->probe_in_flight || g->draining) {
        pthread_mutex_unlock(&g->mu);
        return;
    }
    if (g->up_closed) {
        pthread_mutex_unlock(&g->mu);
        return;
    }
    g->probe_in_flight = true;
    g->probe_at_ns = roster_mono_ns();
    g->up_users++;
    pthread_mutex_unlock(&g->mu);
    static const uint8_t empty[1];
    gw_upstream_call_bytes(g->o.up, RPC_HEALTH, empty, 0, roster_mono_ns() + PROBE_TIMEOUT_NS, NULL,
                           probe_done, g);
    up_leave(g);
}

static void check_replied(const gw_rpc_reply *r, void *ud)
{
    gcall *c = ud;
    int st = r->status == ROSTER_STATUS_OK ? HS_SERVING : HS_NOT_SERVING;
    atomic_store(&c->g->health, st);
    health_reply(c, st);
    finish(c, GRPC_STATUS_OK, "");
    call_unref(c);
}

/* The service a Check or Watch names, read from the received message
 * into `service`. False when the call was ended instead (no message, or
 * one that cannot be read): the receive's and the dispatch references
 * are then dropped; otherwise only the receive's. */
static bool health_request(char *service, size_t cap, gcall *c, bool ok)
{
    uint8_t *body = NULL;
    size_t len = 0;
    if (!ok || c->recv_buf == NULL || !take_message(&body, &len, c)) {
        finish(c, GRPC_STATUS_INTERNAL, "the call carries no request message");
        call_unref(c);
        call_unref(c);
        return false;
    }
    call_unref(c);
    bool read = health_service(service, cap, body, len);
    free(body);
    if (!read) {
        finish(c, GRPC_STATUS_INVALID_ARGUMENT, "the HealthCheckRequest cannot be read");
        call_unref(c);
    }
    return read;
}

static void health_check_received(gcall *c, bool ok)
{
    char service[256];
    if (!health_request(service, sizeof service, c, ok))
        return;
    if (!service_known(service)) {
        finish(c, GRPC_STATUS_NOT_FOUND, "unknown service");
        call_unref(c);
        return;
    }
    int64_t deadline = roster_mono_ns() + PROBE_TIMEOUT_NS;
    if (c->deadline_ns < deadline)
        deadline = c->deadline_ns;
    if (!up_enter(c->g)) {
        finish(c, GRPC_STATUS_UNAVAILABLE, SHUTTING_DOWN);
        call_unref(c);
        return;
    }
    static const uint8_t empty[1];
    gw_upstream_call_bytes(c->g->o.up, RPC_HEALTH, empty, 0, deadline, NULL, check_replied, c);
    up_leave(c->g);
}

static void health_watch_received(gcall *c, bool ok)
{
    gw_grpc *g = c->g;
    char service[256];
    if (!health_request(service, sizeof service, c, ok))
        return;
    /* The dispatch reference stays with the stream until it closes. */
    pthread_mutex_lock(&g->mu);
    if (g->draining) {
        pthread_mutex_unlock(&g->mu);
        finish(c, GRPC_STATUS_UNAVAILABLE, SHUTTING_DOWN);
        call_unref(c);
        return;
    }
    pthread_mutex_lock(&c->mu);
    bool gone = c->dead || c->closed;
    pthread_mutex_unlock(&c->mu);
    if (gone) {
        pthread_mutex_unlock(&g->mu);
        call_unref(c);
        return;
    }
    c->watching = true;
    c->watch_next = g->watchers;
    g->watchers = c;
    if (!service_known(service)) {
        pthread_mutex_lock(&c->mu);
        uint8_t msg[2] = {0x08, HS_SERVICE_UNKNOWN};
        send_locked(c, msg, sizeof msg);
        c->watch_sent = HS_SERVICE_UNKNOWN;
        pthread_mutex_unlock(&c->mu);
    } else {
        c->watch_sent = -1;
        notify_watchers_locked(g);
    }
    pthread_mutex_unlock(&g->mu);
    probe(g);
}

/* Takes a watcher off the list (its stream is over) and drops the
 * stream's reference. */
static void unwatch(gcall *c)
{
    gw_grpc *g = c->g;
    bool was = false;
    pthread_mutex_lock(&g->mu);
    for (gcall **p = &g->watchers; *p != NULL; p = &(*p)->watch_next) {
        if (*p == c) {
            *p = c->watch_next;
            was = true;
            break;
        }
    }
    c->watching = false;
    pthread_mutex_unlock(&g->mu);
    if (was)
        call_unref(c);
}

/* ------------------------------------------------------------ reflection */

static void reflection_received(gcall *c, bool ok)
{
    gw_grpc *g = c->g;
    if (!ok || c->recv_buf == NULL) {
        /* The client closed its side: every request was answered. */
        finish(c, ok ? GRPC_STATUS_OK : GRPC_STATUS_CANCELLED, "");
        call_unref(c);
        call_unref(c);
        return;
    }
    uint8_t *body = NULL, *ans = NULL;
    size_t len = 0, ans_len = 0;
    int rc =
        take_message(&body, &len, c) ? g->o.reflect(&ans, &ans_len, body, len) : ROSTER_E_NOMEM;
    if (rc != ROSTER_E_OK) {
        free(body);
        if (rc == ROSTER_E_PROTOCOL)
            finish(c, GRPC_STATUS_INVALID_ARGUMENT, "the message is not a ServerReflectionRequest");
        else
            finish(c, GRPC_STATUS_INTERNAL, "cannot answer the reflection request");
        call_unref(c);
        call_unref(c);
        return;
    }
    free(body);
    pthread_mutex_lock(&c->mu);
    send_locked(c, ans, ans_len);
    pthread_mutex_unlock(&c->mu);
    free(ans);
    call_unref(c);
    start_recv(c, reflection_received);
}

/* ------------------------------------------------------------ dispatch */

static void on_close(gcall *c, bool ok)
{
    (void)ok;
    pthread_mutex_lock(&c->mu);
    c->closed = true;
    if (c->cancelled_flag)
        c->dead = true;
    /* A stream ends with its call: nothing more to send. */
    if (c->kind == K_HEALTH_WATCH || c->kind == K_WATCH_CHANGES)
        c->dead = true;
    pthread_mutex_unlock(&c->mu);
    if (c->kind == K_HEALTH_WATCH)
        unwatch(c);
    if (c->kind == K_WATCH_CHANGES)
        unchange(c);
    call_unref(c);
}

static void request_one(gw_grpc *g);

static bool method_is(const grpc_slice *m, const char *name)
{
    size_t n = strlen(name);
    return GRPC_SLICE_LENGTH(*m) == n && memcmp(GRPC_SLICE_START_PTR(*m), name, n) == 0;
}

static const bool method_streams[] = {
#define X_STREAMS(id, M, Rq, rqs, Rp, rps, access, repeat, auth, shape)                            \
    ROSTER_METHOD_STREAMS(shape),
    ROSTER_METHOD_MAP(X_STREAMS)
#undef X_STREAMS
};

static const char *const method_names[] = {
#define X_NAME(id, M, ...) #M,
    ROSTER_METHOD_MAP(X_NAME)
#undef X_NAME
};

static void classify(gcall *c)
{
    const grpc_slice *m = &c->details.method;
    size_t n = GRPC_SLICE_LENGTH(*m);
    const char *p = (const char *)GRPC_SLICE_START_PTR(*m);
    size_t plen = strlen(SERVICE_PREFIX);
    c->kind = K_UNKNOWN;
    if (n > plen && memcmp(p, SERVICE_PREFIX, plen) == 0) {
        for (int i = 0; i < RPC_METHOD__COUNT; i++) {
            size_t ml = strlen(method_names[i]);
            if (n - plen == ml && memcmp(p + plen, method_names[i], ml) == 0) {
                c->kind = method_streams[i] ? K_WATCH_CHANGES : K_UNARY;
                c->method = (rpc_method_id)i;
                return;
            }
        }
        return;
    }
    if (method_is(m, HEALTH_CHECK))
        c->kind = K_HEALTH_CHECK;
    else if (method_is(m, HEALTH_WATCH))
        c->kind = K_HEALTH_WATCH;
    else if (method_is(m, REFLECTION) && c->g->o.reflect != NULL)
        c->kind = K_REFLECTION;
}

static void on_accept(gcall *c, bool ok)
{
    gw_grpc *g = c->g;
    if (!ok) {
        /* The server is shutting down: the request is withdrawn. */
        grpc_call_details_destroy(&c->details);
        grpc_metadata_array_destroy(&c->md);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return;
    }
    pthread_mutex_lock(&g->mu);
    c->next = g->live;
    if (g->live)
        g->live->prev = c;
    g->live = c;
    atomic_fetch_add(&g->inflight, 1);
    bool draining = g->draining;
    pthread_mutex_unlock(&g->mu);
    if (!draining)
        request_one(g);
    c->deadline_ns = mono_deadline(c->details.deadline, g->o.timeout_ms);

    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->cancelled_flag;
    call_ref(c);
    pthread_mutex_lock(&c->mu);
    grpc_call_error e = grpc_call_start_batch(c->call, &op, 1, &c->t_close, NULL);
    pthread_mutex_unlock(&c->mu);
    if (e != GRPC_CALL_OK) {
        roster_log(ROSTER_LOG_ERROR, "grpc_batch_error", "op=close error=%d", (int)e);
        call_unref(c);
        call_unref(c);
        return;
    }

    classify(c);
    switch (c->kind) {
    case K_UNARY:
        if (atomic_fetch_add(&g->unary, 1) >= g->o.max_calls) {
            atomic_fetch_sub(&g->unary, 1);
            finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED,
                   "the gateway is at its limit of concurrent gRPC calls; retry shortly");
            call_unref(c);
            return;
        }
        c->counted_unary = true;
        start_recv(c, unary_received);
        return;
    case K_HEALTH_CHECK:
        start_recv(c, health_check_received);
        return;
    case K_WATCH_CHANGES:
    case K_HEALTH_WATCH:
    case K_REFLECTION:
        if (atomic_fetch_add(&g->streams, 1) >= g->o.max_streams) {
            atomic_fetch_sub(&g->streams, 1);
            finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED,
                   "the gateway is at its limit of open gRPC streams");
            call_unref(c);
            return;
        }
        c->counted_stream = true;
        start_recv(c, c->kind == K_WATCH_CHANGES  ? unary_received
                      : c->kind == K_HEALTH_WATCH ? health_watch_received
                                                  : reflection_received);
        return;
    case K_UNKNOWN: {
        char msg[300];
        int n = (int)GRPC_SLICE_LENGTH(c->details.method);
        snprintf(msg, sizeof msg, "unknown method %.*s", n > 200 ? 200 : n,
                 (const char *)GRPC_SLICE_START_PTR(c->details.method));
        finish(c, GRPC_STATUS_UNIMPLEMENTED, msg);
        call_unref(c);
        return;
    }
    }
}

/* Asks the core for the next call. */
static void request_one(gw_grpc *g)
{
    gcall *c = calloc(1, sizeof *c);
    if (c == NULL) {
        roster_log(ROSTER_LOG_ERROR, "grpc_error", "error=\"out of memory\"");
        return;
    }
    c->g = g;
    atomic_init(&c->refs, 1);
    pthread_mutex_init(&c->mu, NULL);
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    c->status_msg = grpc_empty_slice();
    c->t_accept = (gtag){on_accept, c};
    c->t_send = (gtag){on_send, c};
    c->t_close = (gtag){on_close, c};
    c->t_recv.c = c;
    grpc_call_error e = grpc_server_request_call(g->server, &c->call, &c->details, &c->md, g->cq,
                                                 g->cq, &c->t_accept);
    if (e != GRPC_CALL_OK) {
        roster_log(ROSTER_LOG_ERROR, "grpc_error", "error=\"cannot request a call\" code=%d",
                   (int)e);
        grpc_call_details_destroy(&c->details);
        grpc_metadata_array_destroy(&c->md);
        pthread_mutex_destroy(&c->mu);
        free(c);
    }
}

static void on_shutdown(gcall *c, bool ok)
{
    (void)c;
    (void)ok;
}

static void *cq_thread(void *arg)
{
    gw_grpc *g = arg;
    int64_t kicked_ns = 0;
    for (;;) {
        gpr_timespec until =
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(TICK_MS, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(g->cq, until, NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE) {
            gtag *t = ev.tag;
            if (t == &g->t_shutdown) {
                pthread_mutex_lock(&g->mu);
                g->shutdown_done = true;
                pthread_cond_broadcast(&g->cv);
                pthread_mutex_unlock(&g->mu);
                continue;
            }
            t->fn(t->c, ev.success != 0);
        }
        /* Watchers get changes: one probe a second while any watch. */
        pthread_mutex_lock(&g->mu);
        bool due = g->watchers != NULL && !g->probe_in_flight && !g->draining &&
                   roster_mono_ns() - g->probe_at_ns >= PROBE_EVERY_NS;
        pthread_mutex_unlock(&g->mu);
        if (due)
            probe(g);
        /* WatchChanges streams whose poll time came. */
        int64_t now = roster_mono_ns();
        if (now - kicked_ns >= KICK_NS) {
            kicked_ns = now;
            changes_kick(g);
        }
    }
    return NULL;
}

/* Receives roster-users' commit announcements; each wakes the waiting
 * WatchChanges streams. A plain thread blocking in nng_recvmsg (with a
 * timeout, to see feed_stop), never an nng callback. */
static void *feed_thread(void *arg)
{
    gw_grpc *g = arg;
    while (!atomic_load(&g->feed_stop)) {
        nng_msg *m = NULL;
        int rv = nng_recvmsg(g->feed, &m, 0);
        if (rv == 0) {
            nng_msg_free(m);
            atomic_fetch_add(&g->feed_gen, 1);
            changes_kick(g);
        } else if (rv != NNG_ETIMEDOUT) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* Dials the announcement address: o->changes_url, else the one beside an
 * ipc:// upstream; none (polling only) for "off" or a tcp:// upstream
 * without one. */
static int feed_open(gw_grpc *g, const gw_grpc_options *o, roster_err_detail *detail)
{
    char url[1100];
    if (o->changes_url != NULL && strcmp(o->changes_url, "off") == 0)
        return ROSTER_E_OK;
    if (o->changes_url != NULL && o->changes_url[0] != '\0')
        snprintf(url, sizeof url, "%s", o->changes_url);
    else if (o->upstream_url == NULL ||
             roster_feed_url(url, sizeof url, o->upstream_url) != ROSTER_E_OK)
        return ROSTER_E_OK;
    int rv;
    if ((rv = nng_sub0_open(&g->feed)) != 0)
        return roster_fail(detail, ROSTER_E_NOMEM, "", "cannot open the feed socket: %s",
                           nng_strerror(rv));
    g->feed_open = true;
    if ((rv = nng_socket_set(g->feed, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0 ||
        (rv = nng_socket_set_ms(g->feed, NNG_OPT_RECVTIMEO, 200)) != 0 ||
        (rv = nng_socket_set_ms(g->feed, NNG_OPT_RECONNMINT, 20)) != 0 ||
        (rv = nng_socket_set_ms(g->feed, NNG_OPT_RECONNMAXT, 500)) != 0 ||
        (rv = nng_dial(g->feed, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "upstream-changes",
                           "cannot dial the change announcements at %s: %s", url, nng_strerror(rv));
    if (pthread_create(&g->feed_thread, NULL, feed_thread, g) != 0)
        return roster_fail(detail, ROSTER_E_NOMEM, "", "cannot start the feed thread");
    g->feed_thread_started = true;
    return ROSTER_E_OK;
}

/* ------------------------------------------------------------ lifecycle */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 16384;
            if (cap > 1024 * 1024)
                break;
            char *nb = realloc(buf, cap);
            if (nb == NULL)
                break;
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) {
            fclose(f);
            buf[n] = '\0';
            return buf;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

static int make_credentials(grpc_server_credentials **out, const gw_grpc_options *o,
                            roster_err_detail *detail)
{
    bool tls = o->tls_cert != NULL && o->tls_cert[0] != '\0';
    if (!tls) {
        *out = grpc_insecure_server_credentials_create();
        return *out ? ROSTER_E_OK : ROSTER_E_NOMEM;
    }
    char *cert = read_file(o->tls_cert);
    char *key = o->tls_key ? read_file(o->tls_key) : NULL;
    int err = ROSTER_E_OK;
    if (cert == NULL)
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "grpc-tls-cert",
                          "cannot read the certificate file %s", o->tls_cert);
    else if (key == NULL)
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "grpc-tls-key",
                          "cannot read the private key file %s", o->tls_key ? o->tls_key : "");
    if (err == ROSTER_E_OK) {
        grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
        *out = grpc_ssl_server_credentials_create_ex(
            NULL, &pair, 1, GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, NULL);
        if (*out == NULL)
            err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "grpc-tls-cert",
                              "the certificate or key cannot be used");
    }
    if (key != NULL)
        roster_secure_wipe(key, strlen(key));
    free(key);
    free(cert);
    return err;
}

/* The core's own log lines (errors it meets, such as a port in use) as
 * logfmt lines like the gateway's. */
static void core_log(gpr_log_func_args *a)
{
    char qm[1100], qf[300];
    roster_log(a->severity == GPR_LOG_SEVERITY_ERROR  ? ROSTER_LOG_WARN
               : a->severity == GPR_LOG_SEVERITY_INFO ? ROSTER_LOG_INFO
                                                      : ROSTER_LOG_DEBUG,
               "grpc_core", "file=%s line=%d message=%s",
               roster_log_quote(qf, sizeof qf, a->file ? a->file : ""), a->line,
               roster_log_quote(qm, sizeof qm, a->message ? a->message : ""));
}

int gw_grpc_start(gw_grpc **out, const gw_grpc_options *o, roster_err_detail *detail)
{
    gw_grpc *g = calloc(1, sizeof *g);
    if (g == NULL)
        return roster_fail(detail, ROSTER_E_NOMEM, "", "out of memory");
    g->o = *o;
    g->o.listen = NULL;
    g->o.tls_cert = g->o.tls_key = NULL;
    g->o.upstream_url = g->o.changes_url = NULL;
    if (g->o.changes_poll_ms == 0)
        g->o.changes_poll_ms = 1000;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->t_shutdown = (gtag){on_shutdown, NULL};
    gpr_set_log_function(core_log);
    grpc_init();
    int err = ROSTER_E_OK;
    grpc_server_credentials *creds = NULL;
    grpc_arg args[3];
    memset(args, 0, sizeof args);
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = o->max_message > INT32_MAX ? INT32_MAX : (int)o->max_message;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
    args[1].value.integer = -1;
    /* The core sets SO_REUSEPORT by default: a second gateway on the same
     * port would then share it silently instead of failing to start. */
    args[2].type = GRPC_ARG_INTEGER;
    args[2].key = GRPC_ARG_ALLOW_REUSEPORT;
    args[2].value.integer = 0;
    grpc_channel_args ca = {.num_args = 3, .args = args};
    g->server = grpc_server_create(&ca, NULL);
    g->cq = grpc_completion_queue_create_for_next(NULL);
    if (g->server == NULL || g->cq == NULL) {
        err = roster_fail(detail, ROSTER_E_NOMEM, "", "cannot create the gRPC server");
        goto fail;
    }
    grpc_server_register_completion_queue(g->server, g->cq, NULL);
    if ((err = make_credentials(&creds, o, detail)) != ROSTER_E_OK)
        goto fail;
    g->port = grpc_server_add_http2_port(g->server, o->listen, creds);
    grpc_server_credentials_release(creds);
    if (g->port <= 0) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "grpc-listen",
                          "cannot listen on %s (host:port, free port)", o->listen);
        goto fail;
    }
    if ((err = feed_open(g, o, detail)) != ROSTER_E_OK)
        goto fail;
    grpc_server_start(g->server);
    for (int i = 0; i < PENDING_REQUESTS; i++)
        request_one(g);
    if (pthread_create(&g->thread, NULL, cq_thread, g) != 0) {
        err = roster_fail(detail, ROSTER_E_NOMEM, "", "cannot start the gRPC thread");
        goto fail;
    }
    g->thread_started = true;
    *out = g;
    return ROSTER_E_OK;
fail:
    gw_grpc_free(g);
    return err;
}

int gw_grpc_port(const gw_grpc *g)
{
    return g->port;
}

int64_t gw_grpc_inflight(const gw_grpc *g)
{
    gw_grpc *m = (gw_grpc *)g;
    return atomic_load(&m->inflight) - (int64_t)atomic_load(&m->streams);
}

static void feed_close(gw_grpc *g)
{
    if (g->feed_thread_started) {
        atomic_store(&g->feed_stop, true);
        pthread_join(g->feed_thread, NULL);
        g->feed_thread_started = false;
    }
    if (g->feed_open) {
        nng_close(g->feed);
        g->feed_open = false;
    }
}

static void start_shutdown(gw_grpc *g)
{
    pthread_mutex_lock(&g->mu);
    bool first = !g->shutdown_started;
    g->shutdown_started = true;
    g->draining = true;
    pthread_mutex_unlock(&g->mu);
    if (first && g->server != NULL)
        grpc_server_shutdown_and_notify(g->server, g->cq, &g->t_shutdown);
}

void gw_grpc_drain(gw_grpc *g)
{
    if (g == NULL)
        return;
    start_shutdown(g);
    /* Streams never end on their own: end them now. */
    pthread_mutex_lock(&g->mu);
    for (gcall *w = g->watchers; w != NULL; w = w->watch_next) {
        pthread_mutex_lock(&w->mu);
        finish_locked(w, GRPC_STATUS_UNAVAILABLE, SHUTTING_DOWN, NULL, 0);
        pthread_mutex_unlock(&w->mu);
    }
    for (gcall *w = g->changers; w != NULL; w = w->changes_next) {
        pthread_mutex_lock(&w->mu);
        finish_locked(w, GRPC_STATUS_UNAVAILABLE, SHUTTING_DOWN, NULL, 0);
        pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

void gw_grpc_cancel(gw_grpc *g)
{
    if (g == NULL || g->server == NULL)
        return;
    gw_grpc_drain(g);
    grpc_server_cancel_all_calls(g->server);
    pthread_mutex_lock(&g->mu);
    g->up_closed = true;
    while (g->up_users > 0)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    feed_close(g);
}

void gw_grpc_free(gw_grpc *g)
{
    if (g == NULL)
        return;
    if (g->thread_started) {
        gw_grpc_cancel(g);
        pthread_mutex_lock(&g->mu);
        while (!g->shutdown_done || g->live != NULL || g->probe_in_flight)
            pthread_cond_wait(&g->cv, &g->mu);
        pthread_mutex_unlock(&g->mu);
        grpc_server_destroy(g->server);
        g->server = NULL;
        grpc_completion_queue_shutdown(g->cq);
        pthread_join(g->thread, NULL);
    } else if (g->server != NULL && g->cq != NULL) {
        /* Never started serving: drain the queue here. */
        start_shutdown(g);
        grpc_server_cancel_all_calls(g->server);
        for (;;) {
            grpc_event ev =
                grpc_completion_queue_next(g->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
            if (ev.type != GRPC_OP_COMPLETE)
                break;
            gtag *t = ev.tag;
            if (t == &g->t_shutdown)
                break;
            t->fn(t->c, ev.success != 0);
        }
        grpc_server_destroy(g->server);
        g->server = NULL;
        grpc_completion_queue_shutdown(g->cq);
        while (grpc_completion_queue_next(g->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
               GRPC_QUEUE_SHUTDOWN) {
        }
    }
    feed_close(g);
    if (g->server != NULL)
        grpc_server_destroy(g->server);
    if (g->cq != NULL)
        grpc_completion_queue_destroy(g->cq);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
    grpc_shutdown();
}
