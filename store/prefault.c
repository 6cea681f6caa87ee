#include "prefault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>

/* How far past the writer's page the thread keeps pages made, and how
 * many bytes it makes per call. */
#define PREFAULT_AHEAD ((uintptr_t)16 << 20)
#define PREFAULT_STEP  ((uintptr_t)2 << 20)

struct prefault {
    uintptr_t page_size;
    _Atomic uintptr_t noted; /* the writer's last address; 0: none yet */
    _Atomic uintptr_t made;  /* below this address pages are made (0: none) */
    pthread_mutex_t mu;
    pthread_cond_t wake;
    bool stop, sleeping, failed;
    pthread_t thread;
};

static void *run(void *arg)
{
    prefault *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        uintptr_t noted = atomic_load(&p->noted), made = atomic_load(&p->made);
        if (noted == 0 || p->failed || made >= noted + PREFAULT_AHEAD) {
            p->sleeping = true;
            pthread_cond_wait(&p->wake, &p->mu);
            p->sleeping = false;
            continue;
        }
        /* From the writer's page on, or where the last call ended. */
        uintptr_t from = noted & ~(p->page_size - 1);
        if (made > from)
            from = made;
        uintptr_t end = from + PREFAULT_STEP;
        pthread_mutex_unlock(&p->mu);
        int rc = madvise((void *)from, (size_t)(end - from), MADV_POPULATE_WRITE);
        pthread_mutex_lock(&p->mu);
        /* A failure (past the map's end, no memory, the file system full)
         * is left to the writer, which meets it in its own write if it
         * gets there; making pages stops. */
        if (rc != 0)
            p->failed = true;
        else
            atomic_store(&p->made, end);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void prefault_start(prefault **out, size_t page_size)
{
    *out = NULL;
    prefault *p = calloc(1, sizeof *p);
    if (p == NULL || page_size == 0 || (page_size & (page_size - 1)) != 0)
        goto fail;
    p->page_size = page_size;
    atomic_init(&p->noted, 0);
    atomic_init(&p->made, 0);
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&p->wake, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        goto fail;
    }
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->mu);
        goto fail;
    }
    *out = p;
    return;
fail:
    free(p);
}

void prefault_note(prefault *p, const void *at)
{
    uintptr_t a = (uintptr_t)at;
    if (p == NULL || a <= atomic_load_explicit(&p->noted, memory_order_relaxed))
        return;
    atomic_store(&p->noted, a);
    /* Woken when less than half the distance is made ahead. */
    if (atomic_load(&p->made) < a + PREFAULT_AHEAD / 2) {
        pthread_mutex_lock(&p->mu);
        if (p->sleeping && !p->failed)
            pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
}

void prefault_stop(prefault *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
