#include "nng_close.h"

#include "clock.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* Shared by the waiter and the closing thread; the last of the two to let
 * go frees it, so a waiter that gives up leaves nothing the thread needs. */
typedef struct close_job {
    nng_socket sock;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int refs;
} close_job;

static void job_release(close_job *j)
{
    pthread_mutex_lock(&j->mu);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (last) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
    }
}

static void *close_main(void *arg)
{
    close_job *j = arg;
    nng_close(j->sock);
    pthread_mutex_lock(&j->mu);
    j->done = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    job_release(j);
    return NULL;
}

bool roster_nng_close_bounded(nng_socket sock, uint32_t timeout_ms)
{
    close_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        nng_close(sock);
        return true;
    }
    j->sock = sock;
    j->refs = 2;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, close_main, j) != 0) {
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
        nng_close(sock);
        return true;
    }
    pthread_detach(t);
    int64_t end = roster_mono_ns() + (int64_t)timeout_ms * 1000000LL;
    pthread_mutex_lock(&j->mu);
    while (!j->done && roster_mono_ns() < end) {
        /* Short waits on the default (realtime) clock, checked against the
         * monotonic one, so a clock step neither ends nor stretches it. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    }
    bool done = j->done;
    pthread_mutex_unlock(&j->mu);
    job_release(j);
    return done;
}
