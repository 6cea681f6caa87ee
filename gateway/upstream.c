#include "upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "loop.h"
#include "metrics.h"
#include "rpc_client.h"

#include <stdatomic.h>

#define MAX_CLIENTS 16

/* Several req0 sockets, used round robin: nng serialises every send of one
 * socket on the socket's lock, which several threads then queue on. */
struct gw_upstream {
    rpc_client *clients[MAX_CLIENTS];
    unsigned n_clients;
    atomic_uint next;
};

#define MAX_VIOLATIONS 16

/* One call. Made on a loop, its reply is copied here on the nng thread
 * and the call is posted back to that loop, which runs the callback. */
typedef struct up_call {
    gw_loop_item item; /* first: the posted item is the call */
    rpc_method_id method;
    gw_rpc_cb cb;
    void *ud;
    gw_loop *loop; /* NULL: called back on the nng thread */
    /* The reply, for the loop: strings and body point into `copy`. */
    int status;
    int64_t elapsed_ns;
    const char *message;
    size_t n_violations;
    const char *vf[MAX_VIOLATIONS];
    const char *vd[MAX_VIOLATIONS];
    const uint8_t *body;
    size_t body_len;
    char *copy;
} up_call;

int gw_upstream_new(gw_upstream **out, const char *url, uint32_t contexts, uint32_t sockets,
                    const gw_upstream_tls *tls, roster_err_detail *detail)
{
    int err;
    if (sockets == 0 || sockets > MAX_CLIENTS)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "rpc-sockets",
                           "upstream sockets must be between 1 and %d", MAX_CLIENTS);
    gw_upstream *u = calloc(1, sizeof *u);
    if (u == NULL)
        return roster_fail(detail, ROSTER_E_NOMEM, "", "out of memory");
    rpc_client_options o = {.contexts = (contexts + sockets - 1) / sockets,
                            .reconnect_min_ms = 20,
                            .reconnect_max_ms = 500};
    if (tls != NULL) {
        o.tls_ca_file = tls->ca_file && tls->ca_file[0] ? tls->ca_file : NULL;
        o.tls_server_name = tls->server_name && tls->server_name[0] ? tls->server_name : NULL;
    }
    for (uint32_t i = 0; i < sockets; i++) {
        roster_err_detail d = {{0}};
        if ((err = rpc_client_open(&u->clients[i], url, &o, &d)) != ROSTER_E_OK) {
            roster_fail(detail, err, "upstream", "cannot use upstream \"%s\": %s%s%s", url,
                        d.message[0] ? d.message : roster_strerror(err), d.field[0] ? " " : "",
                        d.field);
            goto fail;
        }
        u->n_clients++;
    }
    *out = u;
    return ROSTER_E_OK;
fail:
    gw_upstream_free(u);
    return err;
}

void gw_upstream_free(gw_upstream *u)
{
    if (u == NULL)
        return;
    for (unsigned i = 0; i < u->n_clients; i++)
        rpc_client_close(u->clients[i]);
    free(u);
}

/* Hands the reply (which may point into uc) to the caller: counts it,
 * calls back, frees the call. */
static void deliver(up_call *uc, const gw_rpc_reply *r, int64_t elapsed_ns)
{
    gw_metrics_rpc(uc->method, r->status, elapsed_ns);
    uc->cb(r, uc->ud);
    free(uc->copy);
    free(uc);
}

static void reply_view(gw_rpc_reply *r, const up_call *uc)
{
    *r = (gw_rpc_reply){.status = uc->status,
                        .message = uc->message,
                        .n_violations = uc->n_violations,
                        .violation_fields = uc->vf,
                        .violation_descriptions = uc->vd,
                        .body = uc->body,
                        .body_len = uc->body_len};
    if (r->n_violations) {
        r->field = uc->vf[0];
        r->violation = uc->vd[0];
    }
}

/* On the loop that made the call. */
static void run_on_loop(gw_loop_item *it)
{
    up_call *uc = (up_call *)it;
    gw_rpc_reply r;
    reply_view(&r, uc);
    deliver(uc, &r, uc->elapsed_ns);
}

static const char *text(const char *s)
{
    return s ? s : "";
}

/* Keeps what the loop needs of `res` (borrowed only during the nng
 * callback) in one allocation; on failure the call ends
 * RESOURCE_EXHAUSTED. */
static void keep_reply(up_call *uc, const rpc_result *res)
{
    size_t nv = res->n_violations < MAX_VIOLATIONS ? res->n_violations : MAX_VIOLATIONS;
    const char *msg = res->message ? res->message : "";
    size_t need = strlen(msg) + 1 + res->body_len;
    for (size_t i = 0; i < nv; i++)
        need += strlen(text(res->violations[i]->field)) +
                strlen(text(res->violations[i]->description)) + 2;
    uc->elapsed_ns = res->elapsed_ns;
    uc->copy = malloc(need);
    if (uc->copy == NULL) {
        uc->status = ROSTER_STATUS_RESOURCE_EXHAUSTED;
        uc->message = "out of memory";
        return;
    }
    char *p = uc->copy;
    if (res->body_len) {
        memcpy(p, res->body, res->body_len);
        uc->body = (const uint8_t *)p;
        uc->body_len = res->body_len;
        p += res->body_len;
    }
    size_t n = strlen(msg) + 1;
    memcpy(p, msg, n);
    uc->message = p;
    p += n;
    for (size_t i = 0; i < nv; i++) {
        n = strlen(text(res->violations[i]->field)) + 1;
        memcpy(p, text(res->violations[i]->field), n);
        uc->vf[i] = p;
        p += n;
        n = strlen(text(res->violations[i]->description)) + 1;
        memcpy(p, text(res->violations[i]->description), n);
        uc->vd[i] = p;
        p += n;
    }
    uc->n_violations = nv;
    uc->status = res->code;
}

static void reply_cb(void *arg, const rpc_result *res)
{
    up_call *uc = arg;
    if (uc->loop != NULL) {
        keep_reply(uc, res);
        uc->item.fn = run_on_loop;
        gw_loop_post(uc->loop, &uc->item);
        return;
    }
    gw_rpc_reply r = {0};
    const char *vf[MAX_VIOLATIONS];
    const char *vd[MAX_VIOLATIONS];
    r.status = res->code;
    r.message = res->message ? res->message : "";
    r.n_violations = res->n_violations < MAX_VIOLATIONS ? res->n_violations : MAX_VIOLATIONS;
    for (size_t i = 0; i < r.n_violations; i++) {
        vf[i] = res->violations[i]->field;
        vd[i] = res->violations[i]->description;
    }
    r.violation_fields = vf;
    r.violation_descriptions = vd;
    if (r.n_violations) {
        r.field = vf[0];
        r.violation = vd[0];
    }
    r.body = res->body;
    r.body_len = res->body_len;
    deliver(uc, &r, res->elapsed_ns);
}

static void fail_now(rpc_method_id method, int status, const char *msg, gw_rpc_cb cb, void *ud)
{
    gw_rpc_reply r = {.status = status, .message = msg};
    gw_metrics_rpc(method, status, 0);
    cb(&r, ud);
}

/* The call's timeout and record, and the socket to send on; false when
 * the call has already ended (cb called). */
static bool prepare(up_call **ucp, rpc_client **clp, uint32_t *timeout_ms, gw_upstream *u,
                    rpc_method_id method, int64_t deadline_ns, gw_rpc_cb cb, void *ud)
{
    *timeout_ms = 0;
    if (deadline_ns) {
        int64_t left = deadline_ns - roster_mono_ns();
        if (left <= 0) {
            fail_now(method, ROSTER_STATUS_DEADLINE_EXCEEDED, "deadline exceeded", cb, ud);
            return false;
        }
        *timeout_ms = (uint32_t)((left + 999999) / 1000000);
    }
    up_call *uc = calloc(1, sizeof *uc);
    if (uc == NULL) {
        fail_now(method, ROSTER_STATUS_RESOURCE_EXHAUSTED, "out of memory", cb, ud);
        return false;
    }
    uc->method = method;
    uc->cb = cb;
    uc->ud = ud;
    uc->loop = gw_loop_current();
    /* Round robin over the sockets that are connected (while the service
     * restarts, some reconnect before others); any one when none is. */
    unsigned start = atomic_fetch_add_explicit(&u->next, 1, memory_order_relaxed);
    rpc_client *cl = u->clients[start % u->n_clients];
    for (unsigned i = 0; i < u->n_clients; i++) {
        rpc_client *c = u->clients[(start + i) % u->n_clients];
        if (rpc_client_connected(c)) {
            cl = c;
            break;
        }
    }
    *ucp = uc;
    *clp = cl;
    return true;
}

/* After rpc_client_call*: a call that was not accepted ends now. */
static void sent(int rc, up_call *uc)
{
    if (rc == ROSTER_E_OK)
        return;
    rpc_method_id method = uc->method;
    gw_rpc_cb cb = uc->cb;
    void *ud = uc->ud;
    free(uc);
    fail_now(method, roster_err_to_status(rc), roster_strerror(rc), cb, ud);
}

void gw_upstream_call(gw_upstream *u, rpc_method_id method, const ProtobufCMessage *req,
                      int64_t deadline_ns, const char *credential, gw_rpc_cb cb, void *ud)
{
    up_call *uc;
    rpc_client *cl;
    uint32_t timeout_ms;
    if (prepare(&uc, &cl, &timeout_ms, u, method, deadline_ns, cb, ud))
        sent(rpc_client_call(cl, method, req, timeout_ms, credential, reply_cb, uc), uc);
}

void gw_upstream_call_bytes(gw_upstream *u, rpc_method_id method, const uint8_t *body,
                            size_t body_len, int64_t deadline_ns, const char *credential,
                            gw_rpc_cb cb, void *ud)
{
    up_call *uc;
    rpc_client *cl;
    uint32_t timeout_ms;
    if (prepare(&uc, &cl, &timeout_ms, u, method, deadline_ns, cb, ud))
        sent(
            rpc_client_call_bytes(cl, method, body, body_len, timeout_ms, credential, reply_cb, uc),
            uc);
}

void gw_upstream_send(void *u, rpc_method_id method, const ProtobufCMessage *req,
                      int64_t deadline_ns, const char *credential, gw_rpc_cb cb, void *ud)
{
    gw_upstream_call(u, method, req, deadline_ns, credential, cb, ud);
}
