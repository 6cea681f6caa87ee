#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "error.h"

#define MAX_LOOPS 64
#define MAX_TURNS 8

struct gw_loop {
    gw_loops *set;
    unsigned index;
    int epfd;
    int efd; /* the inbox's wake-up */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards head, tail, stopped */
    gw_loop_item *head, *tail;
    bool stopped;
};

struct gw_loops {
    unsigned n;
    atomic_bool stop;
    struct {
        gw_loop_turn_fn fn;
        void *ud;
    } turns[MAX_TURNS];
    unsigned n_turns;
    gw_loop loops[];
};

static _Thread_local gw_loop *tl_loop;
static atomic_uint_fast64_t inbox_wakeups, inbox_items;

static unsigned cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > MAX_LOOPS ? MAX_LOOPS : (unsigned)n;
}

int gw_loops_new(gw_loops **out, unsigned n)
{
    if (n == 0)
        n = cpus();
    if (n > MAX_LOOPS)
        n = MAX_LOOPS;
    gw_loops *ls = calloc(1, sizeof *ls + n * sizeof ls->loops[0]);
    if (ls == NULL)
        return ROSTER_E_NOMEM;
    ls->n = n;
    int rc = ROSTER_E_OK;
    for (unsigned i = 0; i < n; i++) {
        gw_loop *l = &ls->loops[i];
        l->set = ls;
        l->index = i;
        l->epfd = l->efd = -1;
        pthread_mutex_init(&l->mu, NULL);
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->efd};
        if (l->epfd < 0 || l->efd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->efd, &ev) != 0)
            rc = ROSTER_E_IO;
    }
    if (rc != ROSTER_E_OK) {
        gw_loops_free(ls);
        return rc;
    }
    *out = ls;
    return ROSTER_E_OK;
}

unsigned gw_loops_count(const gw_loops *ls)
{
    return ls->n;
}

int gw_loops_watch(gw_loops *ls, unsigned index, int fd)
{
    if (index >= ls->n)
        return ROSTER_E_INVALID_ARGUMENT;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(ls->loops[index].epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? ROSTER_E_OK
                                                                         : ROSTER_E_IO;
}

int gw_loops_add_turn(gw_loops *ls, gw_loop_turn_fn fn, void *ud)
{
    if (fn == NULL || ls->n_turns == MAX_TURNS)
        return ROSTER_E_INVALID_ARGUMENT;
    ls->turns[ls->n_turns].fn = fn;
    ls->turns[ls->n_turns].ud = ud;
    ls->n_turns++;
    return ROSTER_E_OK;
}

/* Runs every item in l's inbox, including those posted while it runs. */
static void run_inbox(gw_loop *l)
{
    for (;;) {
        pthread_mutex_lock(&l->mu);
        gw_loop_item *it = l->head;
        l->head = l->tail = NULL;
        pthread_mutex_unlock(&l->mu);
        if (it == NULL)
            return;
        uint64_t n = 0;
        while (it != NULL) {
            gw_loop_item *next = it->next;
            it->fn(it);
            it = next;
            n++;
        }
        atomic_fetch_add_explicit(&inbox_items, n, memory_order_relaxed);
    }
}

static void *loop_main(void *arg)
{
    gw_loop *l = arg;
    gw_loops *ls = l->set;
    tl_loop = l;
    int wait_ms = 0;
    while (!atomic_load_explicit(&ls->stop, memory_order_acquire)) {
        struct epoll_event evs[8];
        int n = epoll_wait(l->epfd, evs, 8, wait_ms);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == l->efd) {
                uint64_t v;
                if (read(l->efd, &v, sizeof v) == (ssize_t)sizeof v)
                    atomic_fetch_add_explicit(&inbox_wakeups, 1, memory_order_relaxed);
            }
        }
        run_inbox(l);
        int64_t wait = -1;
        for (unsigned t = 0; t < ls->n_turns; t++) {
            int64_t w = ls->turns[t].fn(ls->turns[t].ud, l->index);
            if (w >= 0 && (wait < 0 || w < wait))
                wait = w;
        }
        /* Items posted by the hooks' own work (an RPC that failed at
         * once) run before the loop sleeps. */
        pthread_mutex_lock(&l->mu);
        bool more = l->head != NULL;
        pthread_mutex_unlock(&l->mu);
        wait_ms = more ? 0 : wait < 0 || wait > 1000 ? 1000 : (int)wait;
    }
    tl_loop = NULL;
    return NULL;
}

int gw_loops_start(gw_loops *ls)
{
    for (unsigned i = 0; i < ls->n; i++) {
        gw_loop *l = &ls->loops[i];
        if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
            gw_loops_stop(ls);
            return ROSTER_E_IO;
        }
        l->started = true;
    }
    return ROSTER_E_OK;
}

static void wake(gw_loop *l)
{
    uint64_t one = 1;
    ssize_t w;
    do
        w = write(l->efd, &one, sizeof one);
    while (w < 0 && errno == EINTR);
    /* EAGAIN: the counter is full, so the loop is awake anyway. */
}

void gw_loops_stop(gw_loops *ls)
{
    atomic_store_explicit(&ls->stop, true, memory_order_release);
    for (unsigned i = 0; i < ls->n; i++) {
        gw_loop *l = &ls->loops[i];
        if (!l->started)
            continue;
        wake(l);
        pthread_join(l->thread, NULL);
        l->started = false;
    }
    /* From here on posts run at once; what was posted last runs now. */
    for (unsigned i = 0; i < ls->n; i++) {
        gw_loop *l = &ls->loops[i];
        pthread_mutex_lock(&l->mu);
        bool was = l->stopped;
        l->stopped = true;
        pthread_mutex_unlock(&l->mu);
        if (!was)
            run_inbox(l);
    }
}

void gw_loops_free(gw_loops *ls)
{
    if (ls == NULL)
        return;
    gw_loops_stop(ls);
    for (unsigned i = 0; i < ls->n; i++) {
        gw_loop *l = &ls->loops[i];
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->efd >= 0)
            close(l->efd);
        pthread_mutex_destroy(&l->mu);
    }
    free(ls);
}

gw_loop *gw_loop_current(void)
{
    return tl_loop;
}

unsigned gw_loop_index(const gw_loop *l)
{
    return l->index;
}

void gw_loop_post(gw_loop *l, gw_loop_item *it)
{
    it->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->stopped) {
        pthread_mutex_unlock(&l->mu);
        it->fn(it);
        return;
    }
    bool was_empty = l->head == NULL;
    if (l->tail)
        l->tail->next = it;
    else
        l->head = it;
    l->tail = it;
    pthread_mutex_unlock(&l->mu);
    if (was_empty && tl_loop != l)
        wake(l);
}

uint64_t gw_loop_inbox_wakeups(void)
{
    return atomic_load_explicit(&inbox_wakeups, memory_order_relaxed);
}

uint64_t gw_loop_inbox_items(void)
{
    return atomic_load_explicit(&inbox_items, memory_order_relaxed);
}
