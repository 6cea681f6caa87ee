/* The customData index build thread of roster-users (cdx_builder.h). */
#include "cdx_builder.h"

#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct users_cdx_builder {
    store_index_build *build;
    pthread_t thread;
    atomic_bool stop; /* set by users_cdx_builder_stop; read between steps */
};

static void *builder_main(void *arg)
{
    users_cdx_builder *b = arg;
    bool done = false;
    while (!done && !atomic_load_explicit(&b->stop, memory_order_relaxed)) {
        int err = store_index_build_step(b->build, USERS_CDX_BATCH, &done);
        if (err != ROSTER_E_OK) {
            roster_log(ROSTER_LOG_ERROR, "custom_index_build_failed", "error=%s left=%zu",
                       roster_errname(err), store_index_build_left(b->build));
            return NULL;
        }
        if (!done) {
            struct timespec pause = {0, 1000000}; /* the writer's turn at the lock */
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

int users_cdx_builder_start(users_cdx_builder **out, store *st)
{
    store_index_build *build;
    int err = store_index_build_new(&build, st);
    if (err != ROSTER_E_OK)
        return err;
    if (build == NULL) {
        *out = NULL; /* nothing to build */
        return ROSTER_E_OK;
    }
    users_cdx_builder *b = calloc(1, sizeof *b);
    if (b == NULL) {
        store_index_build_free(build);
        return ROSTER_E_NOMEM;
    }
    b->build = build;
    atomic_init(&b->stop, false);
    if (pthread_create(&b->thread, NULL, builder_main, b) != 0) {
        store_index_build_free(build);
        free(b);
        return ROSTER_E_INTERNAL;
    }
    *out = b;
    return ROSTER_E_OK;
}

void users_cdx_builder_stop(users_cdx_builder *b)
{
    if (b == NULL)
        return;
    atomic_store_explicit(&b->stop, true, memory_order_relaxed);
    pthread_join(b->thread, NULL);
    size_t left = store_index_build_left(b->build);
    if (left > 0)
        roster_log(ROSTER_LOG_INFO, "custom_index_build_stopped",
                   "left=%zu reason=\"stopping; the next start builds it again\"", left);
    store_index_build_free(b->build);
    free(b);
}
