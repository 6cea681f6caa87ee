/* Retries across a dropped connection, against the real roster-users:
 * its ipc listener is broken (a plain connect+close, nng 1.5.2 #1518) and
 * restored by the service, which closes every accepted connection. Reads
 * in flight through libroster-client and through the gateway's upstream
 * client (rpc_client) are retried once on the reset; writes in flight must
 * never be applied twice: each succeeds, or fails UNAVAILABLE saying its
 * outcome is unknown, and none comes back ALREADY_EXISTS (what a second
 * application of the same CreateUser would answer).
 *
 * A call nng never reports a reset for is not retried: req0 can hand it to
 * a pipe that was closed while nng was starting it, or a dial caught by
 * the restore can wait out nng's fixed 10-second handshake timeout, so a
 * client may have no connection for seconds (docs/client.md). Such a call
 * ends with "no connection" or a timeout ("unavailable" below): the test
 * allows that, and a write that ends so counts as one whose outcome is
 * unknown. It allows nothing else: any other failure, or a wrong answer,
 * fails it, and a new client must be served afterwards. */
#include <check.h>
#include <nng/nng.h>
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

/* Long enough for a redial that lands on the listener mid-restore (and may
 * break it again) to be answered by the next restore. */
#define CALL_TIMEOUT_MS 15000

static atomic_bool g_stop;

typedef struct counts {
    int ok;
    int unknown;     /* writes: UNAVAILABLE, outcome unknown */
    int unavailable; /* no connection or timeout, never retried (see above) */
    int failed;      /* anything else */
    char last[256];
} counts;

/* A failure of the kind nng can cause without a reset (see above).
 * `lib_err` for libroster-client (ROSTER_E_*), else a status code. */
static bool unavailable(bool lib, int err)
{
    if (lib)
        return err == ROSTER_E_UNAVAILABLE || err == ROSTER_E_DEADLINE_EXCEEDED;
    return err == ROSTER_STATUS_UNAVAILABLE || err == ROSTER_STATUS_DEADLINE_EXCEEDED;
}

typedef struct reader {
    roster_client *lib; /* one of lib / gw */
    rpc_client *gw;
    const char *user_id;
    counts n;
} reader;

/* One GetUser of `user_id` through `lib` or, when NULL, `gw`, within
 * timeout_ms: 0 or the error (ROSTER_E_* from lib, a status from gw), and
 * the answer's message in msg. */
static int read_once(roster_client *lib, rpc_client *gw, const char *user_id, uint32_t timeout_ms,
                     roster_v1_User *u, char *msg, size_t msg_size)
{
    int err;
    if (lib != NULL) {
        roster_status st;
        roster_call_options o = {.timeout_ms = timeout_ms};
        err = roster_client_get_user(u, &st, lib, &o, user_id);
        snprintf(msg, msg_size, "%s", st.message);
    } else {
        call_res res;
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = (char *)user_id;
        err = call_sync(gw, RPC_GET_USER, &g.base, timeout_ms, NULL, &res);
        snprintf(msg, msg_size, "%s", res.message);
        call_res_free(&res);
    }
    return err;
}

static void *read_loop(void *arg)
{
    reader *r = arg;
    roster_v1_User *u = malloc(sizeof *u);
    while (!atomic_load(&g_stop)) {
        char msg[256];
        int err = read_once(r->lib, r->gw, r->user_id, CALL_TIMEOUT_MS, u, msg, sizeof msg);
        if (err == 0) {
            r->n.ok++;
        } else if (unavailable(r->lib != NULL, err)) {
            r->n.unavailable++;
        } else {
            r->n.failed++;
            snprintf(r->n.last, sizeof r->n.last, "%d: %.150s", err, msg);
        }
    }
    free(u);
    return NULL;
}

typedef struct writer {
    roster_client *lib; /* one of lib / gw */
    rpc_client *gw;
    const char *tenant_id;
    const char *prefix;
    counts n;
} writer;

static void *write_loop(void *arg)
{
    writer *w = arg;
    roster_v1_User *u = malloc(sizeof *u);
    roster_call_options o = {.timeout_ms = CALL_TIMEOUT_MS};
    for (int i = 0; !atomic_load(&g_stop); i++) {
        char ref[64], email[96];
        snprintf(ref, sizeof ref, "%s-%d", w->prefix, i);
        snprintf(email, sizeof email, "%s-%d@example.com", w->prefix, i);
        char msg[256] = "";
        bool lost; /* UNAVAILABLE */
        int err;
        if (w->lib != NULL) {
            roster_status st;
            roster_v1_CreateUserRequest req = roster_v1_CreateUserRequest_init_zero;
            roster_pb_str(&req.tenant_id, w->tenant_id);
            roster_pb_str(&req.reference, ref);
            roster_pb_str(&req.email, email);
            err = roster_client_create_user(u, &st, w->lib, &o, &req);
            lost = err == ROSTER_E_UNAVAILABLE;
            snprintf(msg, sizeof msg, "%s", st.message);
        } else {
            call_res res;
            Roster__V1__CreateUserRequest req = ROSTER__V1__CREATE_USER_REQUEST__INIT;
            req.tenant_id = (char *)w->tenant_id;
            req.reference = ref;
            req.email = email;
            err = call_sync(w->gw, RPC_CREATE_USER, &req.base, CALL_TIMEOUT_MS, NULL, &res);
            lost = err == ROSTER_STATUS_UNAVAILABLE;
            snprintf(msg, sizeof msg, "%s", res.message);
            call_res_free(&res);
        }
        if (err == 0) {
            w->n.ok++;
        } else if (lost && strstr(msg, "outcome") != NULL) {
            w->n.unknown++;
        } else if (unavailable(w->lib != NULL, err)) {
            w->n.unavailable++;
        } else {
            w->n.failed++;
            snprintf(w->n.last, sizeof w->n.last, "%.40s: %d: %.150s", ref, err, msg);
        }
    }
    free(u);
    return NULL;
}

/* True once a read of `user_id` through `lib` (or, when NULL, `gw`)
 * succeeds, trying for up to `seconds`; `last` gets the last answer. */
static bool served_again(roster_client *lib, rpc_client *gw, const char *user_id, int seconds,
                         char *last, size_t last_size)
{
    roster_v1_User *u = malloc(sizeof *u);
    bool ok = false;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (now = start; !ok && now.tv_sec - start.tv_sec < seconds;
         clock_gettime(CLOCK_MONOTONIC, &now)) {
        ok = read_once(lib, gw, user_id, 500, u, last, last_size) == 0;
        if (!ok)
            usleep(100000);
    }
    free(u);
    return ok;
}

/* nng's counters for every socket, dialer and pipe of this process, on
 * stdout: what a client that was not served again was doing. */
static void dump_nng_stats(void)
{
    nng_stat *st = NULL;
    if (nng_stats_get(&st) == 0) {
        nng_stats_dump(st);
        nng_stats_free(st);
    }
    fflush(stdout);
}

/* Users in `tenant`, by count only. */
static int64_t users_in(roster_client *c, const char *tenant)
{
    roster_status st;
    size_t n = 0;
    int64_t total = -1;
    roster_v1_ListUsersRequest lr = roster_v1_ListUsersRequest_init_zero;
    lr.has_filter = true;
    lr.filter.has_tenant_id = true;
    roster_pb_str(&lr.filter.tenant_id.equal_to, tenant);
    lr.has_limit = true;
    lr.limit = 0;
    ck_assert_int_eq(roster_client_list_users(NULL, &n, &total, NULL, &st, c, NULL, &lr, 0),
                     ROSTER_E_OK);
    return total;
}

/* Creates the tenant and the user the readers read. The service's
 * listener check runs every 100 ms here and, under load, can find the
 * listener broken and re-create it before the test breaks it on purpose,
 * so a setup write may end UNAVAILABLE with its outcome unknown: it is
 * sent again, and ALREADY_EXISTS then means the first one landed. */
static void setup_records(roster_client *lib, roster_v1_Tenant *t, roster_v1_User *u)
{
    roster_status st;
    int err = ROSTER_E_UNAVAILABLE;
    roster_v1_CreateTenantRequest tr = roster_v1_CreateTenantRequest_init_zero;
    roster_pb_str(&tr.name, "Retry Ltd");
    roster_pb_str(&tr.reference, "retry");
    for (int i = 0; i < 10 && err == ROSTER_E_UNAVAILABLE; i++)
        err = roster_client_create_tenant(t, &st, lib, NULL, &tr);
    if (err == ROSTER_E_ALREADY_EXISTS) {
        roster_v1_ListTenantsRequest lr = roster_v1_ListTenantsRequest_init_zero;
        lr.has_filter = true;
        lr.filter.has_reference = true;
        roster_pb_str(&lr.filter.reference.equal_to, "retry");
        size_t n = 0;
        err = roster_client_list_tenants(t, &n, NULL, NULL, &st, lib, NULL, &lr, 1);
        ck_assert_uint_eq(n, 1);
    }
    ck_assert_msg(err == ROSTER_E_OK, "create tenant: %s", st.message);

    err = ROSTER_E_UNAVAILABLE;
    roster_v1_CreateUserRequest ur = roster_v1_CreateUserRequest_init_zero;
    roster_pb_str(&ur.tenant_id, t->id);
    roster_pb_str(&ur.reference, "reader");
    roster_pb_str(&ur.email, "reader@example.com");
    for (int i = 0; i < 10 && err == ROSTER_E_UNAVAILABLE; i++)
        err = roster_client_create_user(u, &st, lib, NULL, &ur);
    if (err == ROSTER_E_ALREADY_EXISTS) {
        roster_v1_ListUsersRequest lr = roster_v1_ListUsersRequest_init_zero;
        lr.has_filter = true;
        lr.filter.has_reference = true;
        roster_pb_str(&lr.filter.reference.equal_to, "reader");
        size_t n = 0;
        err = roster_client_list_users(u, &n, NULL, NULL, &st, lib, NULL, &lr, 1);
        ck_assert_uint_eq(n, 1);
    }
    ck_assert_msg(err == ROSTER_E_OK, "create user: %s", st.message);
}

START_TEST(reads_retried_writes_never_twice)
{
    daemon_allow_nng_listener_leak();
    test_daemon d;
    daemon_mkdir(&d);
    const char *extra[] = {"--listener-check-ms", "100", NULL};
    daemon_start(&d, NULL, extra);
    roster_client *lib = NULL;
    roster_err_detail det = {0};
    ck_assert_int_eq(roster_client_open(&lib, d.url, NULL, &det), ROSTER_E_OK);
    rpc_client *gw = daemon_client(&d);

    static roster_v1_Tenant t;
    static roster_v1_User u;
    setup_records(lib, &t, &u);

    enum { NR = 6, NWR = 2 };
    reader r[NR] = {
        {.lib = lib, .user_id = u.id}, {.lib = lib, .user_id = u.id}, {.lib = lib, .user_id = u.id},
        {.gw = gw, .user_id = u.id},   {.gw = gw, .user_id = u.id},   {.gw = gw, .user_id = u.id},
    };
    writer w[NWR] = {
        {.lib = lib, .tenant_id = t.id, .prefix = "lib"},
        {.gw = gw, .tenant_id = t.id, .prefix = "gw"},
    };
    pthread_t tr_[NR], tw[NWR];
    atomic_store(&g_stop, false);
    for (int i = 0; i < NR; i++)
        pthread_create(&tr_[i], NULL, read_loop, &r[i]);
    for (int i = 0; i < NWR; i++)
        pthread_create(&tw[i], NULL, write_loop, &w[i]);

    /* Break the listener, wait for its restore and for both clients to be
     * served again; repeat until both clients have retried (a restore
     * that finds nothing in flight does not count), for at most 60 s: on
     * a loaded machine a break may not take, or its restore may come
     * late, and a fixed number of rounds then ran out. */
    struct timespec t0, tn;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &tn);
        if (tn.tv_sec - t0.tv_sec >= 60)
            break;
        if (roster_call_retries(lib) > 0 && rpc_client_retries(gw) > 0)
            break;
        int before = daemon_log_count(&d, "event=listener_restored");
        daemon_ipc_connect_close(&d);
        for (int i = 0; i < 100 && daemon_log_count(&d, "event=listener_restored") == before; i++)
            usleep(50000);
        int lib_ok = r[0].n.ok, gw_ok = r[NR - 1].n.ok;
        for (int i = 0; i < 100 && (r[0].n.ok == lib_ok || r[NR - 1].n.ok == gw_ok); i++)
            usleep(50000);
    }
    usleep(300000);
    atomic_store(&g_stop, true);
    for (int i = 0; i < NR; i++)
        pthread_join(tr_[i], NULL);
    for (int i = 0; i < NWR; i++)
        pthread_join(tw[i], NULL);

    ck_assert_msg(daemon_log_has(&d, "event=listener_restored"), "no restore (see %s)", d.log);
    int restores = daemon_log_count(&d, "event=listener_restored");
    ck_assert_msg(roster_call_retries(lib) > 0,
                  "libroster-client never retried (%d restores; reader 0: %d ok, %d unavailable)",
                  restores, r[0].n.ok, r[0].n.unavailable);
    ck_assert_msg(rpc_client_retries(gw) > 0,
                  "rpc_client never retried (%d restores; reader %d: %d ok, %d unavailable)",
                  restores, NR - 1, r[NR - 1].n.ok, r[NR - 1].n.unavailable);
    for (int i = 0; i < NR; i++) {
        ck_assert_msg(r[i].n.failed == 0, "reader %d: %d of %d reads failed, last %s", i,
                      r[i].n.failed, r[i].n.failed + r[i].n.ok, r[i].n.last);
        ck_assert_int_gt(r[i].n.ok, 0);
    }
    int ok = 0, unknown = 0, n_unavailable = 0;
    for (int i = 0; i < NR; i++)
        n_unavailable += r[i].n.unavailable;
    for (int i = 0; i < NWR; i++) {
        ck_assert_msg(w[i].n.failed == 0, "writer %d: %d failed, last %s", i, w[i].n.failed,
                      w[i].n.last);
        ok += w[i].n.ok;
        unknown += w[i].n.unknown + w[i].n.unavailable;
        n_unavailable += w[i].n.unavailable;
    }
    /* Both clients are served again, whatever nng went through. */
    /* The service serves new clients again: a fresh client must get in. */
    roster_client *fresh = NULL;
    ck_assert_int_eq(roster_client_open(&fresh, d.url, NULL, &det), ROSTER_E_OK);
    char last[256] = "";
    ck_assert_msg(served_again(fresh, NULL, u.id, 30, last, sizeof last),
                  "a new client was not served after the restores: %s", last);
    /* The clients that lived through the restores are served again too.
     * nng 1.5.2 can leave one with a connection nothing answers on
     * (docs/client.md): the client closes it after a few unanswered calls
     * and dials again. nng's counters are printed before failing. */
    bool lib_back = served_again(lib, NULL, u.id, 15, last, sizeof last);
    if (!lib_back)
        dump_nng_stats();
    ck_assert_msg(lib_back,
                  "libroster-client not served again within 15 s: %s (open connections %zu, "
                  "silent ones closed %llu, dialers replaced %llu)",
                  last, roster_pipe_set_count(&lib->pipes),
                  (unsigned long long)roster_call_silent_closes(lib),
                  (unsigned long long)roster_call_redials(lib));
    bool gw_back = served_again(NULL, gw, u.id, 15, last, sizeof last);
    if (!gw_back)
        dump_nng_stats();
    ck_assert_msg(gw_back,
                  "rpc_client not served again within 15 s: %s (silent ones closed %llu, dialers "
                  "replaced %llu)",
                  last, (unsigned long long)rpc_client_silent_closes(gw),
                  (unsigned long long)rpc_client_redials(gw));
    /* Every write that succeeded is there once; one whose outcome was
     * unknown may or may not be. */
    int64_t total = users_in(fresh, t.id) - 1; /* less the reader's user */
    ck_assert_int_ge(total, ok);
    ck_assert_int_le(total, ok + unknown);
    fprintf(stderr,
            "retry: %d restores, retries lib=%llu gw=%llu, silent connections closed "
            "lib=%llu gw=%llu, dialers replaced lib=%llu gw=%llu, writes ok=%d unknown=%d, "
            "unavailable %d\n",
            restores, (unsigned long long)roster_call_retries(lib),
            (unsigned long long)rpc_client_retries(gw),
            (unsigned long long)roster_call_silent_closes(lib),
            (unsigned long long)rpc_client_silent_closes(gw),
            (unsigned long long)roster_call_redials(lib),
            (unsigned long long)rpc_client_redials(gw), ok, unknown, n_unavailable);

    roster_client_close(fresh);
    roster_client_close(lib);
    rpc_client_close(gw);
    ck_assert_int_eq(daemon_stop(&d, SIGTERM), 0);
    daemon_rmdir(&d);
}
END_TEST

static Suite *retry_suite(void)
{
    Suite *s = suite_create("client_retry");
    TCase *tc = tcase_create("listener");
    tcase_set_timeout(tc, 110);
    tcase_add_test(tc, reads_retried_writes_never_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    return daemon_test_main(argc, argv, retry_suite());
}
