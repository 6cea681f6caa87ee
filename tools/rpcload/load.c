#include "load.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "envelope.h"
#include "roster_client.h"

#define HIST_BUCKETS 200000 /* 1 us each, up to 200 ms; slower lands in the last */

typedef struct load_state load_state;

typedef struct worker {
    load_state *L;
    uint64_t rng;
    uint64_t t0;
    nng_ctx ctx; /* echo mode */
    nng_aio *aio;
    bool recv_phase;
    roster_v1_User out;
} worker;

struct load_state {
    const load_config *cfg;
    roster_client *client;
    nng_socket sock; /* echo mode */
    char **ids;
    unsigned nids;
    char tenant_id[40];
    char run_tag[32];
    atomic_ullong seq;
    atomic_bool stop;
    atomic_bool measuring;
    atomic_uint active;
    atomic_ullong ok, failed;
    atomic_uint *hist;
    atomic_ullong max_ns;
    nng_mtx *mtx;
    nng_cv *cv;
    worker *w;
    nng_msg *echo_template;
    char first_error[300];
    atomic_bool have_error;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void note_error(load_state *L, const char *what, int err, const char *msg)
{
    bool expected = false;
    if (atomic_compare_exchange_strong(&L->have_error, &expected, true))
        snprintf(L->first_error, sizeof L->first_error, "%s: %s: %s", what, roster_errname(err),
                 msg != NULL ? msg : "");
}

static void worker_exit(load_state *L)
{
    if (atomic_fetch_sub(&L->active, 1) == 1) {
        nng_mtx_lock(L->mtx);
        nng_cv_wake(L->cv);
        nng_mtx_unlock(L->mtx);
    }
}

static void record(load_state *L, worker *w, bool ok)
{
    if (!atomic_load_explicit(&L->measuring, memory_order_relaxed))
        return;
    uint64_t ns = now_ns() - w->t0;
    if (!ok) {
        atomic_fetch_add_explicit(&L->failed, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&L->ok, 1, memory_order_relaxed);
    uint64_t us = ns / 1000;
    atomic_fetch_add_explicit(&L->hist[us < HIST_BUCKETS ? us : HIST_BUCKETS - 1], 1,
                              memory_order_relaxed);
    unsigned long long m = atomic_load_explicit(&L->max_ns, memory_order_relaxed);
    while (ns > m && !atomic_compare_exchange_weak(&L->max_ns, &m, ns))
        ;
}

static void issue(worker *w);

static void client_done(void *arg, int err, const roster_status *st)
{
    worker *w = arg;
    record(w->L, w, err == ROSTER_E_OK);
    if (err != ROSTER_E_OK)
        note_error(w->L,
                   roster_client_method_get(w->L->cfg->mode == LOAD_GET_USER ? RPC_GET_USER
                                                                             : RPC_CREATE_USER)
                       ->short_name,
                   err, st->message);
    issue(w);
}

static void echo_cb(void *arg)
{
    worker *w = arg;
    load_state *L = w->L;
    int rv = nng_aio_result(w->aio);
    if (rv != 0) {
        if (!w->recv_phase)
            nng_msg_free(nng_aio_get_msg(w->aio));
        record(L, w, false);
        note_error(L, "echo", ROSTER_E_UNAVAILABLE, nng_strerror(rv));
        if (rv == NNG_ECLOSED) {
            worker_exit(L);
            return;
        }
        issue(w);
        return;
    }
    if (!w->recv_phase) {
        w->recv_phase = true;
        nng_ctx_recv(w->ctx, w->aio);
        return;
    }
    nng_msg_free(nng_aio_get_msg(w->aio));
    record(L, w, true);
    issue(w);
}

static void issue(worker *w)
{
    load_state *L = w->L;
    const load_config *cfg = L->cfg;
    roster_call_options o = {.timeout_ms = cfg->timeout_ms};
    int err = ROSTER_E_OK;

    if (atomic_load(&L->stop)) {
        worker_exit(L);
        return;
    }
    w->t0 = now_ns();
    switch (cfg->mode) {
    case LOAD_GET_USER: {
        const char *id = L->ids[xorshift(&w->rng) % L->nids];
        err = roster_client_get_user_async(&w->out, L->client, &o, id, client_done, w);
        break;
    }
    case LOAD_CREATE_USER: {
        unsigned long long n = atomic_fetch_add(&L->seq, 1);
        char email[96], ref[64];
        snprintf(email, sizeof email, "load-%s-%llu@example.com", L->run_tag, n);
        snprintf(ref, sizeof ref, "load-%s-%llu", L->run_tag, n);
        roster_v1_CreateUserRequest req = roster_v1_CreateUserRequest_init_zero;
        roster_pb_str(&req.email, email);
        roster_pb_str(&req.reference, ref);
        roster_pb_str(&req.first_name, "Load");
        roster_pb_str(&req.last_name, "Generator");
        roster_pb_str(&req.tenant_id, L->tenant_id);
        err = roster_client_create_user_async(&w->out, L->client, &o, &req, client_done, w);
        break;
    }
    case LOAD_ECHO: {
        nng_msg *m = NULL;
        if (nng_msg_dup(&m, L->echo_template) != 0) {
            err = ROSTER_E_NOMEM;
            break;
        }
        w->recv_phase = false;
        nng_aio_set_msg(w->aio, m);
        nng_aio_set_timeout(w->aio, (nng_duration)cfg->timeout_ms);
        nng_ctx_send(w->ctx, w->aio);
        break;
    }
    }
    if (err != ROSTER_E_OK) {
        note_error(L, "start", err, roster_strerror(err));
        worker_exit(L);
    }
}

/* Creates a tenant for this run and, for GetUser, the users it reads. */
static int seed(load_state *L, roster_err_detail *d)
{
    if (L->cfg->mode == LOAD_GET_USER && L->cfg->fixed_id != NULL) {
        L->nids = 1;
        if ((L->ids = calloc(1, sizeof *L->ids)) == NULL ||
            (L->ids[0] = strdup(L->cfg->fixed_id)) == NULL)
            return ROSTER_E_NOMEM;
        return ROSTER_E_OK;
    }
    static roster_v1_Tenant t;
    static roster_v1_User u;
    roster_status st;
    char name[64];
    snprintf(name, sizeof name, "rpcload %s", L->run_tag);
    roster_v1_CreateTenantRequest tr = roster_v1_CreateTenantRequest_init_zero;
    roster_pb_str(&tr.name, name);
    roster_pb_str(&tr.reference, L->run_tag);
    int err = roster_client_create_tenant(&t, &st, L->client, NULL, &tr);
    if (err != ROSTER_E_OK) {
        return roster_fail(d, err, "", "CreateTenant: %s: %s", roster_errname(err), st.message);
    }
    snprintf(L->tenant_id, sizeof L->tenant_id, "%s", t.id);
    if (L->cfg->mode != LOAD_GET_USER)
        return ROSTER_E_OK;
    L->nids = L->cfg->seed_users != 0 ? L->cfg->seed_users : 100;
    if ((L->ids = calloc(L->nids, sizeof *L->ids)) == NULL)
        return ROSTER_E_NOMEM;
    for (unsigned i = 0; i < L->nids; i++) {
        char email[96], ref[64];
        snprintf(email, sizeof email, "seed-%s-%u@example.com", L->run_tag, i);
        snprintf(ref, sizeof ref, "seed-%s-%u", L->run_tag, i);
        roster_v1_CreateUserRequest req = roster_v1_CreateUserRequest_init_zero;
        roster_pb_str(&req.email, email);
        roster_pb_str(&req.reference, ref);
        roster_pb_str(&req.first_name, "Seed");
        roster_pb_str(&req.last_name, "User");
        roster_pb_str(&req.locale, "en-GB");
        roster_pb_str(&req.timezone, "Europe/London");
        roster_pb_str(&req.tenant_id, L->tenant_id);
        if ((err = roster_client_create_user(&u, &st, L->client, NULL, &req)) != ROSTER_E_OK) {
            return roster_fail(d, err, "", "CreateUser (seed): %s: %s", roster_errname(err),
                               st.message);
        }
        if ((L->ids[i] = strdup(u.id)) == NULL)
            return ROSTER_E_NOMEM;
    }
    return ROSTER_E_OK;
}

/* Sizes of one GetUser request envelope and of its reply, by a raw round trip. */
static int probe_get_user(load_result *r, load_state *L, roster_err_detail *d)
{
    nng_socket s;
    nng_msg *m = NULL;
    int rv;
    roster_v1_GetUserRequest g = roster_v1_GetUserRequest_init_zero;
    roster_pb_str(&g.id, L->ids[0]);
    const roster_client_method *get = roster_client_method_get(RPC_GET_USER);
    int err = roster_envelope_encode(&m, get->name, get->request, &g, NULL, L->cfg->timeout_ms);
    if (err != ROSTER_E_OK)
        return err;
    r->req_bytes = nng_msg_len(m);
    if ((rv = nng_req0_open(&s)) != 0) {
        nng_msg_free(m);
        return ROSTER_E_UNAVAILABLE;
    }
    if ((rv = nng_dial(s, L->cfg->url, NULL, 0)) != 0 || (rv = nng_sendmsg(s, m, 0)) != 0) {
        nng_msg_free(m);
        nng_close(s);
        return roster_fail(d, ROSTER_E_UNAVAILABLE, "", "probe: %s", nng_strerror(rv));
    }
    if ((rv = nng_recvmsg(s, &m, 0)) != 0) {
        nng_close(s);
        return roster_fail(d, ROSTER_E_UNAVAILABLE, "", "probe: %s", nng_strerror(rv));
    }
    r->reply_bytes = nng_msg_len(m);
    if (L->cfg->save_reply != NULL) {
        FILE *f = fopen(L->cfg->save_reply, "wb");
        bool ok = f != NULL && fwrite(nng_msg_body(m), 1, nng_msg_len(m), f) == nng_msg_len(m);
        if (f != NULL && fclose(f) != 0)
            ok = false;
        if (!ok) {
            nng_msg_free(m);
            nng_close(s);
            return roster_fail(d, ROSTER_E_IO, "save-reply", "cannot write --save-reply %s",
                               L->cfg->save_reply);
        }
    }
    nng_msg_free(m);
    nng_close(s);
    return ROSTER_E_OK;
}

static int echo_setup(load_result *r, load_state *L, roster_err_detail *d)
{
    int rv;
    size_t n = L->cfg->req_bytes;
    if (n == 0) {
        /* the size of a GetUser envelope for a UUID */
        roster_v1_GetUserRequest g = roster_v1_GetUserRequest_init_zero;
        roster_pb_str(&g.id, "0190f3a2-7c1e-7d2a-9b4e-1a2b3c4d5e6f");
        nng_msg *m = NULL;
        const roster_client_method *get = roster_client_method_get(RPC_GET_USER);
        int err = roster_envelope_encode(&m, get->name, get->request, &g, NULL, L->cfg->timeout_ms);
        if (err != ROSTER_E_OK)
            return err;
        n = nng_msg_len(m);
        nng_msg_free(m);
    }
    r->req_bytes = n;
    if ((rv = nng_msg_alloc(&L->echo_template, n)) != 0)
        return ROSTER_E_NOMEM;
    memset(nng_msg_body(L->echo_template), 0x33, n);
    if ((rv = nng_req0_open(&L->sock)) != 0 ||
        (rv = nng_socket_set_ms(L->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
        (rv = nng_dial(L->sock, L->cfg->url, NULL, 0)) != 0) {
        return roster_fail(d, ROSTER_E_UNAVAILABLE, "", "echo dial %s: %s", L->cfg->url,
                           nng_strerror(rv));
    }
    for (unsigned i = 0; i < L->cfg->inflight; i++) {
        worker *w = &L->w[i];
        if (nng_ctx_open(&w->ctx, L->sock) != 0 || nng_aio_alloc(&w->aio, echo_cb, w) != 0)
            return ROSTER_E_NOMEM;
        nng_ctx_set_ms(w->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    }
    /* one round trip for the reply size */
    nng_msg *m = NULL, *back = NULL;
    nng_socket s;
    if (nng_msg_dup(&m, L->echo_template) != 0 || nng_req0_open(&s) != 0)
        return ROSTER_E_NOMEM;
    if ((rv = nng_dial(s, L->cfg->url, NULL, 0)) != 0 || (rv = nng_sendmsg(s, m, 0)) != 0 ||
        (rv = nng_recvmsg(s, &back, 0)) != 0) {
        if (rv != 0)
            nng_msg_free(m);
        nng_close(s);
        return roster_fail(d, ROSTER_E_UNAVAILABLE, "", "echo probe: %s", nng_strerror(rv));
    }
    r->reply_bytes = nng_msg_len(back);
    nng_msg_free(back);
    nng_close(s);
    return ROSTER_E_OK;
}

static double percentile(const atomic_uint *hist, uint64_t total, double p)
{
    uint64_t want = (uint64_t)(p * (double)total), seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += atomic_load(&hist[i]);
        if (seen > want)
            return (double)i + 0.5;
    }
    return HIST_BUCKETS;
}

static int stats_counts(int64_t *commits, int64_t *writes, roster_client *c)
{
    static roster_v1_StatsResponse s;
    int err = roster_client_stats(&s, NULL, c, NULL);
    if (err == ROSTER_E_OK) {
        *commits = s.commits;
        *writes = s.committed_writes;
    }
    return err;
}

static void sleep_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int load_run(load_result *out, const load_config *cfg, roster_err_detail *d)
{
    load_state L0, *L = &L0;
    load_result r;
    int err = ROSTER_E_OK;
    int64_t c0 = 0, w0 = 0, c1 = 0, w1 = 0;
    roster_err_detail od = {{0}};

    memset(L, 0, sizeof *L);
    memset(&r, 0, sizeof r);
    L->cfg = cfg;
    snprintf(L->run_tag, sizeof L->run_tag, "%ld-%llu", (long)getpid(),
             (unsigned long long)(now_ns() % 1000000000u));
    if ((L->hist = calloc(HIST_BUCKETS, sizeof *L->hist)) == NULL ||
        (L->w = calloc(cfg->inflight, sizeof *L->w)) == NULL || nng_mtx_alloc(&L->mtx) != 0 ||
        nng_cv_alloc(&L->cv, L->mtx) != 0) {
        err = ROSTER_E_NOMEM;
        goto fail;
    }
    for (unsigned i = 0; i < cfg->inflight; i++) {
        L->w[i].L = L;
        L->w[i].rng = 0x9e3779b97f4a7c15ull * (i + 1);
    }
    if (cfg->mode == LOAD_ECHO) {
        if ((err = echo_setup(&r, L, d)) != ROSTER_E_OK)
            goto fail;
    } else {
        if ((err = roster_client_open(&L->client, cfg->url, NULL, &od)) != ROSTER_E_OK) {
            roster_fail(d, err, od.field, "open %s: %s", cfg->url, od.message);
            goto fail;
        }
        if ((err = seed(L, d)) != ROSTER_E_OK)
            goto fail;
        if (cfg->mode == LOAD_GET_USER && (err = probe_get_user(&r, L, d)) != ROSTER_E_OK)
            goto fail;
    }

    atomic_store(&L->active, cfg->inflight);
    for (unsigned i = 0; i < cfg->inflight; i++)
        issue(&L->w[i]);
    sleep_seconds(cfg->warmup);
    if (cfg->mode == LOAD_CREATE_USER)
        stats_counts(&c0, &w0, L->client);
    uint64_t t0 = now_ns();
    atomic_store(&L->measuring, true);
    sleep_seconds(cfg->seconds);
    atomic_store(&L->measuring, false);
    uint64_t t1 = now_ns();
    if (cfg->mode == LOAD_CREATE_USER)
        stats_counts(&c1, &w1, L->client);
    atomic_store(&L->stop, true);
    nng_mtx_lock(L->mtx);
    while (atomic_load(&L->active) != 0)
        nng_cv_wait(L->cv);
    nng_mtx_unlock(L->mtx);

    r.ok = atomic_load(&L->ok);
    r.failed = atomic_load(&L->failed);
    r.seconds = (double)(t1 - t0) / 1e9;
    r.rate = (double)r.ok / r.seconds;
    r.p50_us = percentile(L->hist, r.ok, 0.50);
    r.p90_us = percentile(L->hist, r.ok, 0.90);
    r.p99_us = percentile(L->hist, r.ok, 0.99);
    r.max_us = (double)atomic_load(&L->max_ns) / 1000.0;
    r.commits = c1 - c0;
    r.writes = w1 - w0;
    memcpy(r.first_error, L->first_error, sizeof r.first_error);
    r.first_error[sizeof r.first_error - 1] = '\0';
    *out = r;
fail:
    roster_client_close(L->client);
    if (cfg->mode == LOAD_ECHO) {
        nng_close(L->sock);
        for (unsigned i = 0; L->w != NULL && i < cfg->inflight; i++)
            nng_aio_free(L->w[i].aio);
    }
    nng_msg_free(L->echo_template);
    for (unsigned i = 0; L->ids != NULL && i < L->nids; i++)
        free(L->ids[i]);
    free(L->ids);
    free(L->w);
    free(L->hist);
    nng_cv_free(L->cv);
    nng_mtx_free(L->mtx);
    return err;
}
