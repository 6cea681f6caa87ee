/* Stress: libroster-client against the real roster-users under CPU load.
 * Burner threads spin on every core while threads make calls: rounds of
 * open / call / close (synchronous and asynchronous, closing the moment
 * the last call is answered, with libroster-client and with the gateway's
 * upstream client) beside threads sharing one client. nng 1.5.2
 * panics ("pthread_mutex_lock: Invalid argument") when a client is closed
 * while a thread is still inside nng_ctx_recv for it (see
 * src/common/nng_gate.h); this is the load that made it happen. Every call
 * must succeed; the sanitizers check the rest (LeakSanitizer at exit). */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "roster_client.h"

#define ASYNC_BATCH 8

/* Rounds per round thread: ROSTER_STRESS_ROUNDS, default 1000. */
static int rounds(void)
{
    const char *e = getenv("ROSTER_STRESS_ROUNDS");
    int n = e != NULL ? atoi(e) : 0;
    return n > 0 ? n : 1000;
}

static atomic_bool g_stop;

static void *burner(void *arg)
{
    (void)arg;
    volatile unsigned long spin = 0;
    while (!atomic_load(&g_stop))
        spin++;
    return NULL;
}

typedef struct worker {
    const test_daemon *d;
    const char *url;
    const char *user_id;
    roster_client *shared; /* NULL for the open/call/close rounds */
    int rounds;
    int done;
    int failures;
    char last[256]; /* the last failure's message */
} worker;

static void failed(worker *w, int err, const roster_status *st)
{
    w->failures++;
    snprintf(w->last, sizeof w->last, "%s: %.200s", roster_errname(err),
             st != NULL ? st->message : "");
}

static roster_client *open_client(worker *w)
{
    roster_client *c = NULL;
    roster_err_detail d = {0};
    /* Lazy: a dial that meets the listener while the service re-creates it
     * (its listener check) is retried by nng within the call's timeout. */
    roster_client_options o = {.lazy_connect = true};
    int err = roster_client_open(&c, w->url, &o, &d);
    if (err != ROSTER_E_OK) {
        w->failures++;
        snprintf(w->last, sizeof w->last, "open: %.200s", d.message);
    }
    return c;
}

/* Open, one synchronous GetUser, close at once. */
static void *sync_rounds(void *arg)
{
    worker *w = arg;
    roster_v1_User *u = malloc(sizeof *u);
    for (int i = 0; i < w->rounds; i++, w->done++) {
        roster_client *c = w->shared != NULL ? w->shared : open_client(w);
        if (c == NULL)
            continue;
        roster_status st;
        int err = roster_client_get_user(u, &st, c, NULL, w->user_id);
        if (err != ROSTER_E_OK)
            failed(w, err, &st);
        if (w->shared == NULL)
            roster_client_close(c);
    }
    free(u);
    return NULL;
}

/* The same through the gateway's upstream client (rpc_client): open, one
 * GetUser (its callback wakes the caller), close at once. */
static void *gw_rounds(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->rounds; i++, w->done++) {
        rpc_client *c = daemon_client(w->d);
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = (char *)w->user_id;
        call_res res;
        int code = call_sync(c, RPC_GET_USER, &g.base, 10000, NULL, &res);
        if (code != 0) {
            w->failures++;
            snprintf(w->last, sizeof w->last, "%d: %.200s", code, res.message);
        }
        call_res_free(&res);
        rpc_client_close(c);
    }
    return NULL;
}

typedef struct batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int left;
    worker *w;
    roster_v1_User users[ASYNC_BATCH];
} batch;

static void batch_done(void *arg, int err, const roster_status *st)
{
    batch *b = arg;
    pthread_mutex_lock(&b->mu);
    if (err != ROSTER_E_OK)
        failed(b->w, err, st);
    if (--b->left == 0)
        pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* Open, ASYNC_BATCH asynchronous GetUser calls, close when the last one is
 * answered. (Not at once with calls in flight: that meets nng 1.5.2's
 * stuck reaper, upstream #1813, and every later nng_close hangs.) */
static void *async_rounds(void *arg)
{
    worker *w = arg;
    batch *b = calloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->w = w;
    for (int i = 0; i < w->rounds; i++, w->done++) {
        roster_client *c = w->shared != NULL ? w->shared : open_client(w);
        if (c == NULL)
            continue;
        pthread_mutex_lock(&b->mu);
        b->left = ASYNC_BATCH;
        pthread_mutex_unlock(&b->mu);
        for (int j = 0; j < ASYNC_BATCH; j++) {
            int err =
                roster_client_get_user_async(&b->users[j], c, NULL, w->user_id, batch_done, b);
            if (err != ROSTER_E_OK) {
                roster_status st = {.message = "not started"};
                batch_done(b, err, &st);
            }
        }
        pthread_mutex_lock(&b->mu);
        while (b->left > 0)
            pthread_cond_wait(&b->cv, &b->mu);
        pthread_mutex_unlock(&b->mu);
        if (w->shared == NULL)
            roster_client_close(c);
    }
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
    return NULL;
}

/* A tenant and a user to read, made through `c`; the user's id in `id`. */
static void make_user(char id[40], roster_client *c)
{
    static roster_v1_Tenant t;
    static roster_v1_User u;
    roster_status st;
    roster_v1_CreateTenantRequest tr = roster_v1_CreateTenantRequest_init_zero;
    roster_pb_str(&tr.name, "Stress Ltd");
    roster_pb_str(&tr.reference, "stress");
    ck_assert_int_eq(roster_client_create_tenant(&t, &st, c, NULL, &tr), ROSTER_E_OK);
    roster_v1_CreateUserRequest ur = roster_v1_CreateUserRequest_init_zero;
    roster_pb_str(&ur.tenant_id, t.id);
    roster_pb_str(&ur.reference, "stress-1");
    roster_pb_str(&ur.email, "stress@example.com");
    roster_pb_str(&ur.first_name, "Ada");
    ck_assert_int_eq(roster_client_create_user(&u, &st, c, NULL, &ur), ROSTER_E_OK);
    snprintf(id, 40, "%s", u.id);
}

START_TEST(calls_and_rounds_under_load)
{
    /* Rounds of open/close under load can stop nng 1.5.2's ipc accept loop
     * (#1518) like a bare connect+close; the service then re-creates its
     * listener, and nng leaves the old one behind. */
    daemon_allow_nng_listener_leak();
    test_daemon d;
    daemon_mkdir(&d);
    daemon_start(&d, NULL, NULL);
    roster_client *shared = NULL;
    roster_err_detail det = {0};
    ck_assert_int_eq(roster_client_open(&shared, d.url, NULL, &det), ROSTER_E_OK);
    char id[40];
    make_user(id, shared);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nburn = ncpu > 0 && ncpu < 8 ? (int)ncpu : 2;
    pthread_t burners[8];
    atomic_store(&g_stop, false);
    for (int i = 0; i < nburn; i++)
        pthread_create(&burners[i], NULL, burner, NULL);

    int n = rounds();
    /* Open/call/close rounds, synchronous and asynchronous, the same calls
     * on one shared client, and rounds through the gateway's client. */
    enum { NW = 7 };
    worker w[NW] = {
        {.url = d.url, .user_id = id, .rounds = n},
        {.url = d.url, .user_id = id, .rounds = n},
        {.url = d.url, .user_id = id, .rounds = n},
        {.url = d.url, .user_id = id, .rounds = n},
        {.url = d.url, .user_id = id, .shared = shared, .rounds = 4 * n},
        {.url = d.url, .user_id = id, .shared = shared, .rounds = n},
        {.d = &d, .user_id = id, .rounds = n},
    };
    void *(*fn[NW])(void *) = {sync_rounds, sync_rounds,  async_rounds, async_rounds,
                               sync_rounds, async_rounds, gw_rounds};
    pthread_t t[NW];
    for (int i = 0; i < NW; i++)
        pthread_create(&t[i], NULL, fn[i], &w[i]);
    for (int i = 0; i < NW; i++)
        pthread_join(t[i], NULL);
    atomic_store(&g_stop, true);
    for (int i = 0; i < nburn; i++)
        pthread_join(burners[i], NULL);

    for (int i = 0; i < NW; i++) {
        ck_assert_int_eq(w[i].done, w[i].rounds);
        ck_assert_msg(w[i].failures == 0, "worker %d: %d failed calls, last %s", i, w[i].failures,
                      w[i].last);
    }
    roster_client_close(shared);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

static Suite *stress_suite(void)
{
    Suite *s = suite_create("client_stress");
    TCase *tc = tcase_create("load");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, calls_and_rounds_under_load);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    return daemon_test_main(argc, argv, stress_suite());
}
