#include "rpc_pipe_set.h"

#include <string.h>

void rpc_pipe_set_init(rpc_pipe_set *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    atomic_init(&s->n_open, 0);
}

void rpc_pipe_set_fini(rpc_pipe_set *s)
{
    pthread_mutex_destroy(&s->mu);
}

/* Index of id in the first n entries of ids, or n when absent. */
static size_t find(const uint32_t *ids, size_t n, uint32_t id)
{
    size_t i = 0;
    while (i < n && ids[i] != id)
        i++;
    return i;
}

size_t rpc_pipe_set_added(rpc_pipe_set *s, uint32_t id)
{
    pthread_mutex_lock(&s->mu);
    size_t g = find(s->gone, RPC_PIPE_SET_GONE, id);
    if (id != 0 && g < RPC_PIPE_SET_GONE) {
        s->gone[g] = 0; /* it is already gone: its late ADD_POST changes nothing */
    } else if (id != 0 && s->n_live < RPC_PIPE_SET_LIVE &&
               find(s->live, s->n_live, id) == s->n_live) {
        s->live[s->n_live++] = id;
    }
    size_t n = s->n_live;
    atomic_store(&s->n_open, n);
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t rpc_pipe_set_removed(rpc_pipe_set *s, uint32_t id)
{
    pthread_mutex_lock(&s->mu);
    size_t i = find(s->live, s->n_live, id);
    if (i < s->n_live) {
        s->live[i] = s->live[--s->n_live];
    } else if (id != 0) {
        /* Removed before (or without) being added. */
        s->gone[s->gone_next] = id;
        s->gone_next = (s->gone_next + 1) % RPC_PIPE_SET_GONE;
    }
    size_t n = s->n_live;
    atomic_store(&s->n_open, n);
    pthread_mutex_unlock(&s->mu);
    return n;
}

size_t rpc_pipe_set_count(rpc_pipe_set *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n_live;
    atomic_store(&s->n_open, n);
    pthread_mutex_unlock(&s->mu);
    return n;
}
