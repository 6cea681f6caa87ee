#include "rpc_listener_guard.h"

#include "clock.h"
#include "log.h"
#include "nng_close.h"
#include "rpc_tls.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rpc_listener_guard {
    rpc_listener_guard_options opts;
    char url[512]; /* what a check dials */
    nng_socket sock;
    bool sock_open;
    nng_tls_config *tls; /* tls+tcp:// only */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping; /* guarded by mu */
    atomic_ulong restored;
    atomic_bool reaper_stuck;
};

int rpc_listener_guard_dial_url(char *out, size_t cap, const char *url)
{
    static const char *const schemes[] = {"tcp://", "tls+tcp://", "tcp4://", "tcp6://"};
    static const char *const wild[][2] = {
        {":", "127.0.0.1:"}, {"*:", "127.0.0.1:"}, {"0.0.0.0:", "127.0.0.1:"}, {"[::]:", "[::1]:"}};
    size_t slen = 0; /* length of a tcp scheme, 0 for any other address */
    for (size_t i = 0; i < sizeof schemes / sizeof *schemes && slen == 0; i++) {
        if (strncmp(url, schemes[i], strlen(schemes[i])) == 0)
            slen = strlen(schemes[i]);
    }
    const char *sub = NULL;  /* loopback host replacing a wildcard */
    const char *rest = NULL; /* what follows the wildcard host */
    for (size_t i = 0; slen > 0 && i < sizeof wild / sizeof *wild && sub == NULL; i++) {
        size_t wl = strlen(wild[i][0]);
        if (strncmp(url + slen, wild[i][0], wl) == 0) {
            sub = wild[i][1];
            rest = url + slen + wl;
        }
    }
    int n = sub ? snprintf(NULL, 0, "%.*s%s%s", (int)slen, url, sub, rest)
                : snprintf(NULL, 0, "%s", url);
    if (n < 0 || (size_t)n >= cap)
        return ROSTER_E_TOO_LARGE;
    if (sub)
        snprintf(out, cap, "%.*s%s%s", (int)slen, url, sub, rest);
    else
        snprintf(out, cap, "%s", url);
    return ROSTER_E_OK;
}

/* How long a check's closed connection may take to be removed before nng's
 * reaper is judged stuck (upstream #1813). */
#define REAPER_VERDICT_MS 10000u

static struct timespec deadline_in(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Waits on g->cv (mu held) until `ts`; false when the time is up. */
static bool wait_until(rpc_listener_guard *g, const struct timespec *ts)
{
    return pthread_cond_timedwait(&g->cv, &g->mu, ts) == 0;
}

static bool stopping(rpc_listener_guard *g)
{
    pthread_mutex_lock(&g->mu);
    bool st = g->stopping;
    pthread_mutex_unlock(&g->mu);
    return st;
}

/* Waits up to timeout_ms for count(arg) to differ from `before`; true
 * when it did or the guard is stopping. */
static bool wait_change(rpc_listener_guard *g, rpc_listener_count_fn count, uint64_t before,
                        unsigned timeout_ms)
{
    int64_t end = roster_mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        if (count(g->opts.arg) != before || stopping(g))
            return true;
        if (roster_mono_ns() >= end)
            return false;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

/* One check: true when the server's socket added a pipe in time after a
 * new connection, or when the guard is stopping. Sets g->reaper_stuck
 * when the closed pipe is then not removed in time. */
static bool check_once(rpc_listener_guard *g, unsigned timeout_ms)
{
    nng_dialer d;
    if (nng_dialer_create(&d, g->sock, g->url) != 0)
        return true; /* cannot even try (no memory): not the listener's fault */
    if (g->tls != NULL)
        nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, g->tls);
    uint64_t before = g->opts.accepted(g->opts.arg);
    bool ok = false;
    if (nng_dialer_start(d, NNG_FLAG_NONBLOCK) == 0)
        ok = wait_change(g, g->opts.accepted, before, timeout_ms);
    uint64_t removed = g->opts.removed(g->opts.arg);
    nng_dialer_close(d);
    /* A stuck reaper never recovers, so the verdict can wait: a removal
     * that is only late on a loaded machine must not stop the checks for
     * good (one came 1.1 s after startup under a test's load). */
    if (ok && !wait_change(g, g->opts.removed, removed, REAPER_VERDICT_MS))
        atomic_store(&g->reaper_stuck, true);
    return ok;
}

/* The check loop. One check is one fresh connection from the guard's
 * private socket, closed again at once, so the cost is one handshake per
 * period. It takes two failed checks in a row to restore: a single check
 * can miss its timeout on a loaded machine, and a restore is not free (it
 * closes every connection the listener had accepted, see
 * listener_restore in rpc_server.c). A failed restore is logged and tried
 * again after the next two failures. */
static void *guard_main(void *arg)
{
    rpc_listener_guard *g = arg;
    unsigned failed = 0;
    for (;;) {
        struct timespec next = deadline_in(g->opts.period_ms);
        pthread_mutex_lock(&g->mu);
        while (!g->stopping && wait_until(g, &next))
            ;
        bool stop = g->stopping;
        pthread_mutex_unlock(&g->mu);
        if (stop)
            break;
        /* The check after a failed one waits twice as long: a handshake
         * slow on a loaded machine must not be taken for a stopped
         * listener, since a restore closes every connection (a test's
         * write in flight was lost to such a restore under load). */
        bool ok = check_once(g, failed == 0 ? g->opts.timeout_ms : 2 * g->opts.timeout_ms);
        if (atomic_load(&g->reaper_stuck)) {
            roster_log(ROSTER_LOG_ERROR, "nng_reaper_stuck",
                       "listen=%s reason=\"nng no longer reclaims closed connections (nng 1.5.2, "
                       "upstream #1813); restart the service\" listener_check=stopped",
                       g->url);
            break;
        }
        if (ok) {
            failed = 0;
            continue;
        }
        if (++failed < 2)
            continue;
        failed = 0;
        int64_t t0 = roster_mono_ns();
        int err = g->opts.restore(g->opts.arg);
        if (err == ROSTER_E_OK) {
            unsigned long n = atomic_fetch_add(&g->restored, 1) + 1;
            roster_log(ROSTER_LOG_WARN, "listener_restored", "listen=%s restores=%lu ms=%.1f",
                       g->url, n, (double)(roster_mono_ns() - t0) / 1e6);
        } else {
            roster_log(ROSTER_LOG_ERROR, "listener_restore_failed", "listen=%s error=%s", g->url,
                       roster_errname(err));
        }
    }
    return NULL;
}

int rpc_listener_guard_start(rpc_listener_guard **out, const rpc_listener_guard_options *opts,
                             roster_err_detail *detail)
{
    int err;
    int rv;
    if (opts == NULL || opts->url == NULL || opts->period_ms == 0 || opts->restore == NULL ||
        opts->accepted == NULL || opts->removed == NULL)
        return roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "listenerCheckMs",
                           "listener check needs an address, a period and its callbacks");
    rpc_listener_guard *g = calloc(1, sizeof *g);
    if (g == NULL)
        return ROSTER_E_NOMEM;
    g->opts = *opts;
    g->opts.url = NULL;
    if (g->opts.timeout_ms == 0)
        g->opts.timeout_ms = 1000;
    atomic_init(&g->restored, 0);
    atomic_init(&g->reaper_stuck, false);
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rpc_listener_guard_dial_url(g->url, sizeof g->url, opts->url) != ROSTER_E_OK) {
        err = roster_fail(detail, ROSTER_E_INVALID_ARGUMENT, "listen",
                          "listen address too long for the listener check");
        goto fail;
    }
    if ((rv = nng_req0_open(&g->sock)) != 0) {
        err = roster_fail(detail, ROSTER_E_INTERNAL, "", "cannot open the check socket: %s",
                          nng_strerror(rv));
        goto fail;
    }
    g->sock_open = true;
    /* Redial quickly within one check (the listener may be coming back). */
    nng_socket_set_ms(g->sock, NNG_OPT_RECONNMINT, 50);
    nng_socket_set_ms(g->sock, NNG_OPT_RECONNMAXT, 200);
    if (strncmp(g->url, "tls+", 4) == 0 &&
        (err = rpc_tls_client_config(&g->tls, NULL, NULL, detail)) != ROSTER_E_OK)
        goto fail;
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
        err = roster_fail(detail, ROSTER_E_INTERNAL, "", "cannot start the listener check");
        goto fail;
    }
    g->thread_started = true;
    *out = g;
    return ROSTER_E_OK;
fail:
    rpc_listener_guard_free(g);
    return err;
}

bool rpc_listener_guard_reaper_stuck(const rpc_listener_guard *g)
{
    return g != NULL && atomic_load(&((rpc_listener_guard *)g)->reaper_stuck);
}

uint64_t rpc_listener_guard_restored(const rpc_listener_guard *g)
{
    return g == NULL ? 0 : atomic_load(&((rpc_listener_guard *)g)->restored);
}

/* A guard whose socket could not be closed; kept for the rest of the
 * process (nng may still use its memory). */
static rpc_listener_guard *abandoned;

void rpc_listener_guard_free(rpc_listener_guard *g)
{
    if (g == NULL)
        return;
    if (g->thread_started) {
        pthread_mutex_lock(&g->mu);
        g->stopping = true;
        pthread_cond_broadcast(&g->cv);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->thread, NULL);
    }
    /* The check dials the service like any client, so its close can hang
     * the same way the service's does; given up on, what nng may still
     * reach stays allocated. */
    if (g->sock_open && !roster_nng_close_bounded(g->sock, 2000)) {
        roster_log(ROSTER_LOG_ERROR, "listener_check_close_stuck",
                   "reason=\"nng_close did not return within 2 s (nng 1.5.2, upstream #1813)\"");
        abandoned = g; /* still reachable: not reported as a leak at exit */
        return;
    }
    if (g->tls != NULL)
        nng_tls_config_free(g->tls);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}
