/* Both RPC clients (libroster-client and the gateway's rpc_client) are
 * served again after roster-users restarts while nng's reaper thread is
 * stuck for good, as nng 1.5.2's can get (pipe_set.h): their dialers never
 * redial then, so each replaces its dialer (nng_redial.h). The test stops
 * the reaper on purpose: a pipe event callback of a socket of its own
 * blocks, and nng runs it on the reaper thread. */
#include <check.h>
#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "call.h"
#include "daemon.h"
#include "roster_client.h"

static pthread_mutex_t wedge_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wedge_cv = PTHREAD_COND_INITIALIZER;
static bool wedged, released;
static _Atomic uint32_t wedge_pipe;

static void wedge_added(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)ev;
    (void)arg;
    atomic_store(&wedge_pipe, (uint32_t)nng_pipe_id(p));
}

/* Runs on nng's reaper thread and holds it until release_reaper. */
static void wedge_removed(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)ev;
    (void)arg;
    pthread_mutex_lock(&wedge_mu);
    wedged = true;
    pthread_cond_broadcast(&wedge_cv);
    while (!released)
        pthread_cond_wait(&wedge_cv, &wedge_mu);
    pthread_mutex_unlock(&wedge_mu);
}

/* Stops the process's nng reaper: closes one end of a private inproc pair
 * whose REM_POST callback blocks. */
static void stop_reaper(nng_socket *a, nng_socket *b)
{
    ck_assert_int_eq(nng_pair0_open(a), 0);
    ck_assert_int_eq(nng_pair0_open(b), 0);
    nng_pipe_notify(*a, NNG_PIPE_EV_ADD_POST, wedge_added, NULL);
    nng_pipe_notify(*a, NNG_PIPE_EV_REM_POST, wedge_removed, NULL);
    ck_assert_int_eq(nng_listen(*a, "inproc://roster-redial-wedge", NULL, 0), 0);
    ck_assert_int_eq(nng_dial(*b, "inproc://roster-redial-wedge", NULL, 0), 0);
    for (int i = 0; i < 500 && atomic_load(&wedge_pipe) == 0; i++)
        usleep(10000);
    ck_assert_uint_ne(atomic_load(&wedge_pipe), 0);
    nng_pipe p = NNG_PIPE_INITIALIZER;
    p.id = atomic_load(&wedge_pipe);
    ck_assert_int_eq(nng_pipe_close(p), 0);
    pthread_mutex_lock(&wedge_mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    while (!wedged && pthread_cond_timedwait(&wedge_cv, &wedge_mu, &until) == 0)
        ;
    bool ok = wedged;
    pthread_mutex_unlock(&wedge_mu);
    ck_assert_msg(ok, "the reaper did not run the blocking callback");
}

static void release_reaper(void)
{
    pthread_mutex_lock(&wedge_mu);
    released = true;
    pthread_cond_broadcast(&wedge_cv);
    pthread_mutex_unlock(&wedge_mu);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int gw_health(rpc_client *gw)
{
    Roster__V1__HealthRequest h = ROSTER__V1__HEALTH_REQUEST__INIT;
    call_res r;
    int code = call_sync(gw, RPC_HEALTH, &h.base, 1000, NULL, &r);
    call_res_free(&r);
    return code;
}

START_TEST(served_again_with_the_reaper_stopped)
{
    daemon_allow_nng_listener_leak();
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    roster_client *lib = NULL;
    roster_err_detail det = {0};
    ck_assert_int_eq(roster_client_open(&lib, d.url, NULL, &det), ROSTER_E_OK);
    /* More upstream clients than nng has task threads (4), as in the
     * gateway: their replacements all start from completions at once. */
    enum { NGW = 6 };
    rpc_client *gw[NGW];
    for (int i = 0; i < NGW; i++)
        gw[i] = daemon_client(&d);
    roster_v1_HealthResponse h;
    roster_status st;
    roster_call_options o = {.timeout_ms = 1000};
    ck_assert_int_eq(roster_client_health(&h, &st, lib, &o), ROSTER_E_OK);
    for (int i = 0; i < NGW; i++)
        ck_assert_int_eq(gw_health(gw[i]), 0);

    nng_socket a, b;
    stop_reaper(&a, &b);
    /* The restart closes both clients' connections; nng cannot reclaim
     * them, so their dialers wait for good. */
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    /* Not daemon_start: its own client could not be closed now. */
    const char *keyless[] = {"--allow-keyless-ipc", NULL};
    daemon_spawn(&d, NULL, keyless);
    double start = now_s();
    bool lib_back = false, gw_back[NGW] = {false};
    int gw_left = NGW;
    while ((!lib_back || gw_left > 0) && now_s() - start < 30) {
        if (!lib_back)
            lib_back = roster_client_health(&h, &st, lib, &o) == ROSTER_E_OK;
        for (int i = 0; i < NGW; i++)
            if (!gw_back[i] && (gw_back[i] = gw_health(gw[i]) == 0))
                gw_left--;
        if (!lib_back || gw_left > 0)
            usleep(100000);
    }
    double took = now_s() - start;
    ck_assert_msg(lib_back, "libroster-client not served again within 30 s: %s (redials %llu)",
                  st.message, (unsigned long long)roster_call_redials(lib));
    for (int i = 0; i < NGW; i++) {
        ck_assert_msg(gw_back[i], "rpc_client %d not served again within 30 s (redials %llu)", i,
                      (unsigned long long)rpc_client_redials(gw[i]));
        ck_assert_uint_ge(rpc_client_redials(gw[i]), 1);
    }
    ck_assert_uint_ge(roster_call_redials(lib), 1);
    /* Served for good: a run of calls on the new connections. */
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(roster_client_health(&h, &st, lib, &o), ROSTER_E_OK);
        for (int g = 0; g < NGW; g++)
            ck_assert_int_eq(gw_health(gw[g]), 0);
    }
    fprintf(stderr, "redial: served again after %.1f s, redials lib=%llu gw=%llu\n", took,
            (unsigned long long)roster_call_redials(lib),
            (unsigned long long)rpc_client_redials(gw[0]));

    /* With the reaper running again, everything closes as usual. */
    release_reaper();
    nng_close(b);
    nng_close(a);
    roster_client_close(lib);
    for (int i = 0; i < NGW; i++)
        rpc_client_close(gw[i]);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("client_redial");
    TCase *tc = tcase_create("reaper");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, served_again_with_the_reaper_stopped);
    suite_add_tcase(s, tc);
    return daemon_test_main(argc, argv, s);
}
