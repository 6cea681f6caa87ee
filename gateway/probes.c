#include "probes.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "metrics.h"
#include "roster.pb-c.h"

#define READY_TIMEOUT_NS (1000LL * 1000 * 1000)

static int get_only(gw_req *r)
{
    const char *m = gw_req_method(r);
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return 1;
    const char *hdr[] = {"Allow", "GET"};
    gw_req_respond(r, 405, "text/plain; charset=utf-8", "method not allowed: use GET\n", 28, hdr,
                   1);
    return 0;
}

void gw_probe_healthz(gw_req *r, void *ud)
{
    (void)ud;
    if (!get_only(r))
        return;
    static const char body[] = "{\"status\":\"ok\"}";
    gw_req_respond(r, 200, "application/json", body, sizeof body - 1, NULL, 0);
}

typedef struct ready_call {
    gw_req *req;
    gw_probes *p;
} ready_call;

static void ready_done(const gw_rpc_reply *reply, void *ud)
{
    ready_call *rc = ud;
    gw_req *r = rc->req;
    gw_probes *p = rc->p;
    free(rc);
    char body[512];
    int n;
    if (reply->status == ROSTER_STATUS_OK) {
        atomic_store(&p->ready, 1);
        n = snprintf(body, sizeof body, "{\"status\":\"ready\"}");
        gw_req_respond(r, 200, "application/json", body, (size_t)n, NULL, 0);
        return;
    }
    atomic_store(&p->ready, 0);
    gql_buf b;
    gql_jw w;
    gql_buf_init(&b);
    gql_jw_init(&w, &b, 0);
    gql_jw_object_begin(&w);
    gql_jw_keyz(&w, "status");
    gql_jw_stringz(&w, "unavailable");
    gql_jw_keyz(&w, "reason");
    gql_jw_stringz(&w, reply->message[0] ? reply->message : "the user service did not answer");
    gql_jw_object_end(&w);
    gw_req_respond(r, 503, "application/json", b.data ? b.data : "", b.len, NULL, 0);
    gql_buf_free(&b);
}

void gw_probe_readyz(gw_req *r, void *ud)
{
    gw_probes *p = ud;
    if (!get_only(r))
        return;
    ready_call *rc = malloc(sizeof *rc);
    if (rc == NULL) {
        gw_req_respond(r, 503, "application/json", "{\"status\":\"out of memory\"}", 26, NULL, 0);
        return;
    }
    rc->req = r;
    rc->p = p;
    Roster__V1__HealthRequest req = ROSTER__V1__HEALTH_REQUEST__INIT;
    gw_upstream_call(p->up, RPC_HEALTH, &req.base, roster_mono_ns() + READY_TIMEOUT_NS, NULL,
                     ready_done, rc);
}

static void metrics_answer(gw_req *r, gw_probes *p)
{
    gql_cache_stats st = {0};
    if (p->cache)
        gql_cache_get_stats(&st, p->cache);
    gql_buf b;
    gql_buf_init(&b);
    gw_metrics_render(&b, atomic_load(&p->ready), st.hits, st.misses);
    if (gql_buf_status(&b) != 0)
        gw_req_respond(r, 503, "text/plain", "out of memory\n", 14, NULL, 0);
    else
        gw_req_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "",
                       b.len, NULL, 0);
    gql_buf_free(&b);
}

static void text(gw_req *r, uint16_t status, const char *body)
{
    const char *hdr[] = {"WWW-Authenticate", "Bearer realm=\"roster\""};
    gw_req_respond(r, status, "text/plain; charset=utf-8", body, strlen(body), hdr,
                   status == 401 ? 1 : 0);
}

typedef struct metrics_call {
    gw_req *req;
    gw_probes *p;
    gw_key key;
} metrics_call;

static void metrics_authed(int err, bool admin, const char *message, void *ud)
{
    metrics_call *mc = ud;
    gw_req *r = mc->req;
    gw_probes *p = mc->p;
    if (err == ROSTER_E_OK && admin)
        metrics_answer(r, p);
    else if (err == ROSTER_E_OK)
        text(r, 403, "an admin API key is required for /metrics\n");
    else if (err == ROSTER_E_UNAUTHENTICATED) {
        gw_auth_log_failure("rejected", &mc->key, gw_req_uri(r), gw_req_peer(r), message);
        text(r, 401, "the API key is not valid\n");
    } else if (err == ROSTER_E_UNAVAILABLE || err == ROSTER_E_DEADLINE_EXCEEDED)
        text(r, 503, "the user service cannot verify the API key now\n");
    else
        text(r, 500, "internal error\n");
    gw_key_wipe(&mc->key);
    free(mc);
}

void gw_probe_metrics(gw_req *r, void *ud)
{
    gw_probes *p = ud;
    if (!get_only(r))
        return;
    if (p->auth == NULL) {
        metrics_answer(r, p);
        return;
    }
    metrics_call *mc = calloc(1, sizeof *mc);
    if (mc == NULL) {
        text(r, 503, "out of memory\n");
        return;
    }
    mc->req = r;
    mc->p = p;
    roster_err_detail d = {{0}};
    if (gw_key_from_header(&mc->key, gw_req_header(r, "Authorization"), &d) != ROSTER_E_OK) {
        free(mc);
        gw_metrics_auth(GW_AUTH_REJECTED);
        gw_auth_log_failure(d.field, NULL, gw_req_uri(r), gw_req_peer(r), NULL);
        char msg[300];
        snprintf(msg, sizeof msg, "%s\n", d.message);
        text(r, 401, msg);
        return;
    }
    gw_auth_check(p->auth, &mc->key, roster_mono_ns() + READY_TIMEOUT_NS, metrics_authed, mc);
}
