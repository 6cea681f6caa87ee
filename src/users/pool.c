#include "pool.h"

#include "clock.h"
#include "error.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct pool_job pool_job;
struct pool_job {
    pool_job *next;
    rpc_call *call;
    void *job;
};

struct users_pool {
    users_pool_fn fn;
    void *ctx;
    unsigned n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pool_job *head, *tail;
    bool stopping;
    _Atomic int64_t drain_end_ns; /* 0 until users_pool_close */
};

static void answer_unavailable(rpc_call *call)
{
    roster_err_detail d = {{0}};
    roster_fail(&d, ROSTER_E_UNAVAILABLE, "", "service is shutting down");
    rpc_call_reply_error(call, ROSTER_E_UNAVAILABLE, &d);
}

static void *pool_main(void *arg)
{
    users_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
        pool_job *j = p->head;
        if (j == NULL)
            break;
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        int64_t end = atomic_load(&p->drain_end_ns);
        if (end != 0 && roster_mono_ns() >= end)
            answer_unavailable(j->call);
        else
            p->fn(p->ctx, j->call, j->job);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int users_pool_start(users_pool **out, unsigned threads, users_pool_fn fn, void *ctx)
{
    users_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ROSTER_E_NOMEM;
    p->fn = fn;
    p->ctx = ctx;
    atomic_init(&p->drain_end_ns, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = calloc(threads ? threads : 1, sizeof *p->threads);
    if (p->threads == NULL) {
        users_pool_stop(p);
        return ROSTER_E_NOMEM;
    }
    for (unsigned i = 0; i < (threads ? threads : 1); i++) {
        if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0) {
            users_pool_stop(p);
            return ROSTER_E_NOMEM;
        }
        p->n_threads++;
    }
    *out = p;
    return ROSTER_E_OK;
}

void users_pool_submit(users_pool *p, rpc_call *call, void *job)
{
    pool_job *j = roster_arena_alloc(rpc_call_arena(call), sizeof *j);
    if (j == NULL) {
        rpc_call_reply_error(call, ROSTER_E_NOMEM, NULL);
        return;
    }
    j->next = NULL;
    j->call = call;
    j->job = job;
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        pthread_mutex_unlock(&p->mu);
        answer_unavailable(call);
        return;
    }
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void users_pool_close(users_pool *p, int64_t drain_end_ns)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    if (!p->stopping) {
        p->stopping = true;
        atomic_store(&p->drain_end_ns, drain_end_ns != 0 ? drain_end_ns : 1);
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
}

const _Atomic int64_t *users_pool_stop_ns(const users_pool *p)
{
    return &p->drain_end_ns;
}

void users_pool_stop(users_pool *p)
{
    if (p == NULL)
        return;
    users_pool_close(p, roster_mono_ns() + (int64_t)USERS_DRAIN_MS * 1000000);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
