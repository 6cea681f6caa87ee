/* Benchmark helper (not a test): keeps K calls in flight against a running
 * roster-users for S seconds through the protobuf-c async client and
 * prints calls/s. Usage: roster-users-rate URL create|get K S
 * ("get" first creates one user and then reads it repeatedly). */
#include "rpc_client.h"

#include "clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct run {
    rpc_client *c;
    int create;
    char id[64];
    atomic_long seq, ok, failed;
    atomic_int in_flight;
    atomic_bool stop;
} run;

static void issue(run *r);

static void done_cb(void *arg, const rpc_result *res)
{
    run *r = arg;
    if (res->code == 0)
        atomic_fetch_add(&r->ok, 1);
    else
        atomic_fetch_add(&r->failed, 1);
    if (atomic_load(&r->stop))
        atomic_fetch_sub(&r->in_flight, 1);
    else
        issue(r);
}

static void issue(run *r)
{
    int err;
    if (r->create) {
        char email[64], ref[40];
        long n = atomic_fetch_add(&r->seq, 1);
        snprintf(email, sizeof email, "rate%ld-%d@example.com", n, (int)getpid());
        snprintf(ref, sizeof ref, "rate-%d-%ld", (int)getpid(), n);
        Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        u.email = email;
        u.reference = ref;
        u.first_name = "Rate";
        err = rpc_client_call(r->c, RPC_CREATE_USER, &u.base, 10000, NULL, done_cb, r);
    } else {
        Roster__V1__GetUserRequest g = ROSTER__V1__GET_USER_REQUEST__INIT;
        g.id = r->id;
        err = rpc_client_call(r->c, RPC_GET_USER, &g.base, 10000, NULL, done_cb, r);
    }
    if (err) {
        atomic_fetch_add(&r->failed, 1);
        atomic_fetch_sub(&r->in_flight, 1);
    }
}

static void stats_cb(void *arg, const rpc_result *res)
{
    (void)arg;
    if (res->code != 0)
        return;
    const Roster__V1__StatsResponse *s = (const void *)res->reply;
    printf("service: commits=%lld committed_writes=%lld writes/commit=%.1f", (long long)s->commits,
           (long long)s->committed_writes,
           s->commits ? (double)s->committed_writes / (double)s->commits : 0.0);
    for (size_t i = 0; i < s->n_methods; i++)
        printf(" %s:p50=%lldus,p99=%lldus", s->methods[i]->method, (long long)s->methods[i]->p50_us,
               (long long)s->methods[i]->p99_us);
    printf("\n");
}

static void id_cb(void *arg, const rpc_result *res)
{
    run *r = arg;
    if (res->code == 0)
        snprintf(r->id, sizeof r->id, "%s", ((Roster__V1__User *)res->reply)->id);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s URL create|get K SECONDS\n", argv[0]);
        return 2;
    }
    static run r;
    int k = atoi(argv[3]);
    int secs = atoi(argv[4]);
    r.create = strcmp(argv[2], "create") == 0;
    rpc_client_options o = {.contexts = (unsigned)k};
    if (rpc_client_open(&r.c, argv[1], &o, NULL) != 0)
        return 1;
    if (!r.create) {
        Roster__V1__CreateUserRequest u = ROSTER__V1__CREATE_USER_REQUEST__INIT;
        char ref[40];
        snprintf(ref, sizeof ref, "rate-get-%d", (int)getpid());
        char email[64];
        snprintf(email, sizeof email, "rate-get-%d@example.com", (int)getpid());
        u.email = email;
        u.reference = ref;
        u.first_name = "Rate";
        u.last_name = "Reader";
        if (rpc_client_call_sync(r.c, RPC_CREATE_USER, &u.base, 5000, NULL, id_cb, &r) != 0) {
            fprintf(stderr, "setup create failed\n");
            return 1;
        }
    }
    int64_t t0 = roster_mono_ns();
    atomic_store(&r.in_flight, k);
    for (int i = 0; i < k; i++)
        issue(&r);
    sleep((unsigned)secs);
    atomic_store(&r.stop, true);
    int64_t t1 = roster_mono_ns();
    long ok_at_stop = atomic_load(&r.ok);
    while (atomic_load(&r.in_flight) > 0)
        usleep(1000);
    printf("%s k=%d seconds=%.2f ok=%ld failed=%ld rate=%.0f/s\n", argv[2], k,
           (double)(t1 - t0) / 1e9, ok_at_stop, atomic_load(&r.failed),
           (double)ok_at_stop / ((double)(t1 - t0) / 1e9));
    Roster__V1__StatsRequest sr = ROSTER__V1__STATS_REQUEST__INIT;
    rpc_client_call_sync(r.c, RPC_STATS, &sr.base, 5000, NULL, stats_cb, NULL);
    rpc_client_close(r.c);
    return 0;
}
